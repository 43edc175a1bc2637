import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  applyColumnDiff,
  decodeAtom,
  decodeColumn,
  decodeMap,
  decodeSet,
  namedUuid,
  optional,
  ovsMap,
  ovsSet,
  OvsdbProtocolError,
  uuidRef,
  type ColumnType,
} from '../../../src/plugins/openvswitch/ovsdb/datum.js';
import { Replica } from '../../../src/plugins/openvswitch/ovsdb/replica.js';

const U1 = '11111111-1111-4111-8111-111111111111';
const U2 = '22222222-2222-4222-8222-222222222222';
const optionalInteger: ColumnType = { kind: 'optional', type: 'integer' };
const integerSet: ColumnType = { kind: 'set', type: 'integer' };
const stringMap: ColumnType = { kind: 'map', key: 'string', value: 'string' };

describe('OVSDB datum decoding', () => {
  it('decodes atoms of each type and refuses the wrong type', () => {
    assert.equal(decodeAtom('x', 'string', 'w'), 'x');
    assert.equal(decodeAtom(-1, 'integer', 'w'), -1);
    assert.equal(decodeAtom(true, 'boolean', 'w'), true);
    assert.equal(decodeAtom(['uuid', U1], 'uuid', 'w'), U1);
    assert.throws(() => decodeAtom(1.5, 'integer', 'w'), OvsdbProtocolError);
    assert.throws(() => decodeAtom('1', 'integer', 'w'), OvsdbProtocolError);
    assert.throws(() => decodeAtom(['uuid', 'not-a-uuid'], 'uuid', 'w'), OvsdbProtocolError);
    assert.throws(() => decodeAtom(['named-uuid', 'x'], 'uuid', 'w'), OvsdbProtocolError);
    assert.throws(() => decodeAtom(2 ** 60, 'integer', 'w'), OvsdbProtocolError);
  });

  it('decodes a set given as ["set", [...]] or as its one bare element', () => {
    assert.deepEqual(decodeSet(['set', []], 'integer', 'w'), []);
    assert.deepEqual(decodeSet(['set', [1, 2]], 'integer', 'w'), [1, 2]);
    assert.deepEqual(decodeSet(7, 'integer', 'w'), [7]);
    assert.deepEqual(decodeSet(['uuid', U1], 'uuid', 'w'), [U1]);
    assert.throws(() => decodeSet(['set', [1, 1]], 'integer', 'w'), /without duplicates/);
    assert.throws(() => decodeSet(['set', 1], 'integer', 'w'), OvsdbProtocolError);
  });

  it('decodes a map and refuses duplicate keys or malformed pairs', () => {
    assert.deepEqual(
      decodeMap(['map', [['a', 'b']]], 'string', 'string', 'w'),
      new Map([['a', 'b']]),
    );
    assert.throws(
      () =>
        decodeMap(
          [
            'map',
            [
              ['a', 'b'],
              ['a', 'c'],
            ],
          ],
          'string',
          'string',
          'w',
        ),
      /duplicate keys/,
    );
    assert.throws(() => decodeMap(['map', [['a']]], 'string', 'string', 'w'), OvsdbProtocolError);
    assert.throws(() => decodeMap({ a: 'b' }, 'string', 'string', 'w'), OvsdbProtocolError);
  });

  it('names where a bad value was found', () => {
    assert.throws(
      () => decodeColumn('x', optionalInteger, 'Port 1234 tag'),
      /^OvsdbProtocolError: Port 1234 tag: expected an integer, got "x"$/,
    );
  });

  it('applies update2 modifies: optional values and atoms are replaced, sets toggle, maps merge', () => {
    // As ovsdb-server 3.1 sends them: a tag 10 -> 20 is `20`, a cleared tag `["set", []]`.
    assert.deepEqual(applyColumnDiff([10], 20, optionalInteger, 'w'), [20]);
    assert.deepEqual(applyColumnDiff([10], ['set', []], optionalInteger, 'w'), []);
    assert.deepEqual(applyColumnDiff([], 5, optionalInteger, 'w'), [5]);
    assert.throws(() => applyColumnDiff([], ['set', [1, 2]], optionalInteger, 'w'), /at most one/);
    // Trunks [1, 2] -> [2, 3] arrives as the elements that flip: {1, 3}.
    assert.deepEqual(applyColumnDiff([1, 2], ['set', [1, 3]], integerSet, 'w'), [2, 3]);
    const old = new Map([
      ['keep', '1'],
      ['drop', '2'],
      ['change', '3'],
    ]);
    const diff = [
      'map',
      [
        ['drop', '2'],
        ['change', '4'],
        ['add', '5'],
      ],
    ];
    assert.deepEqual(
      applyColumnDiff(old, diff, stringMap, 'w'),
      new Map([
        ['keep', '1'],
        ['change', '4'],
        ['add', '5'],
      ]),
    );
    assert.equal(applyColumnDiff('a', 'b', { kind: 'atom', type: 'string' }, 'w'), 'b');
  });
});

describe('OVSDB datum encoding', () => {
  it('encodes references, sets, optional values and maps as RFC 7047 says', () => {
    assert.deepEqual(uuidRef(U1), ['uuid', U1]);
    assert.deepEqual(namedUuid('port0'), ['named-uuid', 'port0']);
    assert.deepEqual(ovsSet([1, 2]), ['set', [1, 2]]);
    assert.deepEqual(optional(null), ['set', []]);
    assert.deepEqual(optional(10), ['set', [10]]);
    assert.deepEqual(ovsMap([['k', 'v']]), ['map', [['k', 'v']]]);
  });

  it('refuses to encode what is not a uuid or a uuid-name', () => {
    assert.throws(() => uuidRef('x'), /not a uuid/);
    assert.throws(() => namedUuid('0bad'), /uuid-name/);
    assert.throws(() => namedUuid('with-dash'), /uuid-name/);
  });
});

describe('OVSDB replica', () => {
  const specs = {
    Port: {
      name: { kind: 'atom', type: 'string' },
      tag: optionalInteger,
      interfaces: { kind: 'set', type: 'uuid' },
      external_ids: stringMap,
    },
  } as const;

  it('fills defaults for columns a row leaves out, then follows insert, modify, delete', () => {
    const replica = new Replica(specs);
    replica.reset({ Port: { [U1]: { initial: { name: 'p1' } } } });
    assert.deepEqual(replica.row('Port', U1), {
      name: 'p1',
      tag: [],
      interfaces: [],
      external_ids: new Map(),
    });
    const touched = replica.apply({
      Port: {
        [U1]: { modify: { tag: 10, external_ids: ['map', [['a', 'b']]] } },
        [U2]: { insert: { name: 'p2', interfaces: ['uuid', U1] } },
      },
    });
    assert.deepEqual([...(touched.get('Port') ?? [])].sort(), [U1, U2]);
    assert.deepEqual(replica.row('Port', U1)?.tag, [10]);
    assert.deepEqual(replica.row('Port', U1)?.external_ids, new Map([['a', 'b']]));
    assert.deepEqual(replica.row('Port', U2)?.interfaces, [U1]);
    replica.apply({ Port: { [U1]: { delete: null } } });
    assert.equal(replica.row('Port', U1), undefined);
  });

  it('reset replaces everything and reports the rows that went away as touched', () => {
    const replica = new Replica(specs);
    replica.reset({ Port: { [U1]: { initial: { name: 'p1' } } } });
    const touched = replica.reset({ Port: { [U2]: { initial: { name: 'p2' } } } });
    assert.deepEqual([...replica.rows('Port').keys()], [U2]);
    assert.deepEqual([...(touched.get('Port') ?? [])].sort(), [U1, U2]);
  });

  it('leaves the replica as it was when any part of an update is invalid', () => {
    const replica = new Replica(specs);
    replica.reset({ Port: { [U1]: { initial: { name: 'p1' } } } });
    assert.throws(
      () =>
        replica.apply({
          Port: {
            [U1]: { modify: { name: 'renamed' } },
            [U2]: { insert: { name: 42 } },
          },
        }),
      OvsdbProtocolError,
    );
    assert.equal(replica.row('Port', U1)?.name, 'p1');
    assert.equal(replica.row('Port', U2), undefined);
  });

  it('refuses a modify of a row it never saw, a bad uuid key and an unknown operation', () => {
    const replica = new Replica(specs);
    assert.throws(() => replica.apply({ Port: { [U1]: { modify: {} } } }), /unknown row/);
    assert.throws(() => replica.apply({ Port: { nope: { insert: {} } } }), /not a uuid/);
    assert.throws(() => replica.apply({ Port: { [U1]: { upsert: {} } } }), /unknown row operation/);
    assert.throws(() => replica.apply([]), /expected an object/);
  });

  it('ignores tables and columns it did not ask for', () => {
    const replica = new Replica(specs);
    replica.apply({
      Bridge: { [U2]: { insert: { name: 'b' } } },
      Port: { [U1]: { insert: { name: 'p', statistics: ['map', []] } } },
    });
    assert.deepEqual(Object.keys(replica.row('Port', U1) ?? {}).sort(), [
      'external_ids',
      'interfaces',
      'name',
      'tag',
    ]);
    assert.equal(replica.rows('Bridge').size, 0);
  });
});

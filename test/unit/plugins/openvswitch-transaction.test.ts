import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PluginFailure } from '../../../src/errors.js';
import { readTransactResults } from '../../../src/plugins/openvswitch/apply.js';
import { planOpenvswitch } from '../../../src/plugins/openvswitch/plan.js';
import type { OpenvswitchSection } from '../../../src/plugins/openvswitch/schema.js';
import type { OvsState } from '../../../src/plugins/openvswitch/state.js';
import { buildTransaction, isActionable } from '../../../src/plugins/openvswitch/transaction.js';
import { buildState, EMPTY_STATE } from '../../helpers/openvswitch.js';

type Op = Record<string, unknown>;

function transaction(desired: OpenvswitchSection, state: OvsState) {
  const changes = planOpenvswitch(desired, state).filter(isActionable);
  const tx = buildTransaction(changes, desired, state);
  return { ...tx, ops: tx.operations as Op[] };
}

function opsOf(ops: Op[], op: string, table?: string): Op[] {
  return ops.filter((o) => o.op === op && (table === undefined || o.table === table));
}

const MANAGED = ['map', [['op-dbus-managed', 'true']]];

describe('openvswitch transaction building (pure)', () => {
  it('creates a bridge with its local port and named ports in one guarded transaction', () => {
    const desired: OpenvswitchSection = {
      bridges: {
        br0: {
          datapath_type: 'netdev',
          external_ids: { owner: 'op-dbus' },
          ports: {
            mgmt: { interface: { type: 'internal' }, tag: 10 },
            'patch-a': { interface: { type: 'patch', options: { peer: 'patch-b' } } },
          },
        },
      },
    };
    const { ops, guards } = transaction(desired, EMPTY_STATE);
    const waits = opsOf(ops, 'wait');
    // No bridge br0, no port or interface mgmt / patch-a: each guarded.
    assert.deepEqual(
      waits.map((w) => `${String(w.table)} ${JSON.stringify(w.where)} ${JSON.stringify(w.rows)}`),
      [
        'Bridge [["name","==","br0"]] []',
        'Port [["name","==","mgmt"]] []',
        'Interface [["name","==","mgmt"]] []',
        'Port [["name","==","patch-a"]] []',
        'Interface [["name","==","patch-a"]] []',
      ],
    );
    for (const index of guards.keys()) assert.equal(ops[index]?.op, 'wait');
    assert.equal(guards.size, waits.length);

    const interfaces = opsOf(ops, 'insert', 'Interface').map((o) => o.row as Op);
    assert.deepEqual(
      interfaces.map((row) => [row.name, row.type, row.options, row.external_ids]),
      [
        ['mgmt', 'internal', ['map', []], MANAGED],
        ['patch-a', 'patch', ['map', [['peer', 'patch-b']]], MANAGED],
        ['br0', 'internal', ['map', []], MANAGED],
      ],
    );
    const ports = opsOf(ops, 'insert', 'Port');
    assert.deepEqual(
      ports.map((o) => (o.row as Op).tag),
      [10, undefined, undefined],
    );
    const [bridge] = opsOf(ops, 'insert', 'Bridge');
    const bridgeRow = bridge?.row as Op;
    assert.equal(bridgeRow.datapath_type, 'netdev');
    assert.deepEqual(bridgeRow.external_ids, [
      'map',
      [
        ['owner', 'op-dbus'],
        ['op-dbus-managed', 'true'],
      ],
    ]);
    assert.deepEqual(bridgeRow.ports, ['set', ports.map((o) => ['named-uuid', o['uuid-name']])]);
    const [addBridge] = opsOf(ops, 'mutate', 'Open_vSwitch');
    assert.deepEqual(addBridge?.mutations, [
      ['bridges', 'insert', ['set', [['named-uuid', bridge?.['uuid-name']]]]],
    ]);
  });

  it('ends with next_cfg += 1 and reads it back, as ovs-vsctl does', () => {
    const { ops, nextCfgIndex } = transaction({ bridges: { br0: {} } }, EMPTY_STATE);
    assert.equal(nextCfgIndex, ops.length - 1);
    assert.deepEqual(ops.at(-2), {
      op: 'mutate',
      table: 'Open_vSwitch',
      where: [],
      mutations: [['next_cfg', '+=', 1]],
    });
    assert.deepEqual(ops.at(-1), {
      op: 'select',
      table: 'Open_vSwitch',
      where: [],
      columns: ['next_cfg'],
    });
  });

  it('changes a tag under guards on the port, its interface and its bridge', () => {
    const state = buildState({ br0: { ports: { p1: { tag: 10 } } } });
    const port = state.ports.get('p1');
    const { ops } = transaction({ bridges: { br0: { ports: { p1: { tag: 20 } } } } }, state);
    assert.deepEqual(
      opsOf(ops, 'wait').map((w) => [w.table, w.columns]),
      [
        ['Port', ['name', 'interfaces', 'tag']],
        ['Interface', ['name', 'type', 'options']],
        ['Bridge', ['name']],
      ],
    );
    const [portGuard] = opsOf(ops, 'wait', 'Port');
    assert.deepEqual(portGuard?.rows, [
      {
        name: 'p1',
        interfaces: ['set', [['uuid', port?.interfaces[0]?.uuid]]],
        tag: ['set', [10]],
      },
    ]);
    assert.deepEqual(opsOf(ops, 'update'), [
      {
        op: 'update',
        table: 'Port',
        where: [['_uuid', '==', ['uuid', port?.uuid]]],
        row: { tag: ['set', [20]] },
      },
    ]);
    assert.equal(opsOf(ops, 'insert').length, 0);
  });

  it('removes a port by dropping the reference from its bridge', () => {
    const state = buildState({ br0: { ports: { p1: {} } } });
    const { ops } = transaction(
      { bridges: { br0: { ports: { p1: { ensure: 'absent' } } } } },
      state,
    );
    assert.deepEqual(opsOf(ops, 'mutate', 'Bridge'), [
      {
        op: 'mutate',
        table: 'Bridge',
        where: [['_uuid', '==', ['uuid', state.bridges.get('br0')?.uuid]]],
        mutations: [['ports', 'delete', ['set', [['uuid', state.ports.get('p1')?.uuid]]]]],
      },
    ]);
  });

  it('removes a bridge by dropping it from Open_vSwitch, guarded on its whole row', () => {
    const state = buildState({ br0: { externalIds: { a: 'b' } } });
    const { ops } = transaction({ bridges: { br0: { ensure: 'absent' } } }, state);
    const [bridgeGuard] = opsOf(ops, 'wait', 'Bridge');
    assert.deepEqual(bridgeGuard?.columns, [
      'name',
      'ports',
      'datapath_type',
      'fail_mode',
      'stp_enable',
      'external_ids',
    ]);
    const [drop] = opsOf(ops, 'mutate', 'Open_vSwitch');
    assert.deepEqual(drop?.mutations, [
      ['bridges', 'delete', ['set', [['uuid', state.bridges.get('br0')?.uuid]]]],
    ]);
  });

  it('merges external_ids: keys set by others stay, as read under the guard', () => {
    const state = buildState({ br0: { externalIds: { theirs: '1', owner: 'old' } } });
    const { ops } = transaction({ bridges: { br0: { external_ids: { owner: 'new' } } } }, state);
    const [update] = opsOf(ops, 'update', 'Bridge');
    assert.deepEqual((update?.row as Op).external_ids, [
      'map',
      [
        ['theirs', '1'],
        ['owner', 'new'],
      ],
    ]);
  });

  it('moves a port: out of one bridge, into the other, same row', () => {
    const state = buildState({ br0: {}, br1: { ports: { p1: {} } } });
    const { ops } = transaction({ bridges: { br0: { ports: { p1: {} } }, br1: {} } }, state);
    const portRef = ['uuid', state.ports.get('p1')?.uuid];
    assert.deepEqual(
      opsOf(ops, 'mutate', 'Bridge').map((o) => o.mutations),
      [[['ports', 'delete', ['set', [portRef]]]], [['ports', 'insert', ['set', [portRef]]]]],
    );
  });

  it('leaves changes out that cannot be made', () => {
    const state = buildState({ br1: { ports: { p1: {} } } });
    const desired: OpenvswitchSection = { bridges: { br0: { ports: { p1: {} } } } };
    const changes = planOpenvswitch(desired, state);
    assert.equal(changes[1]?.action, 'unresolvable');
    const ops = buildTransaction(changes, desired, state).operations as Op[];
    // Only the new bridge's own local port is inserted; p1 stays on br1.
    assert.deepEqual(
      opsOf(ops, 'insert', 'Port').map((o) => (o.row as Op).name),
      ['br0'],
    );
    assert.deepEqual(opsOf(ops, 'mutate', 'Bridge'), []);
  });
});

describe('openvswitch transact results', () => {
  const state = buildState({ br0: { ports: { p1: { tag: 10 } } } });
  const tx = transaction({ bridges: { br0: { ports: { p1: { tag: 20 } } } } }, state);

  it('reads next_cfg from a committed transaction', () => {
    const results = tx.ops.map((op, index) =>
      index === tx.nextCfgIndex
        ? { rows: [{ next_cfg: 42 }] }
        : op.op === 'update'
          ? { count: 1 }
          : {},
    );
    assert.equal(readTransactResults(results, tx), 42);
  });

  it('turns a failed guard into a retryable "changed since it was read" naming the row', () => {
    const [index, what] = [...tx.guards][0] ?? [];
    const results: unknown[] = [
      ...(Array(index).fill({}) as object[]),
      { error: 'timed out' },
      null,
    ];
    assert.throws(
      () => readTransactResults(results, tx),
      (err: unknown) =>
        err instanceof PluginFailure &&
        err.kind === 'retryable' &&
        err.message.includes(`changed since it was read (${what})`) &&
        err.message.includes('nothing was changed'),
    );
  });

  it("reports other refusals with the server's words, retryable", () => {
    const results = [
      ...tx.ops.map(() => ({})),
      { error: 'referential integrity violation', details: 'x' },
    ];
    assert.throws(
      () => readTransactResults(results, tx),
      (err: unknown) =>
        err instanceof PluginFailure &&
        /refused the transaction: referential integrity violation: x/.test(err.message),
    );
  });

  it('says so when the database has no Open_vSwitch row', () => {
    const results = tx.ops.map((_, index) => (index === tx.nextCfgIndex ? { rows: [] } : {}));
    assert.throws(() => readTransactResults(results, tx), /never initialised/);
  });

  it('refuses a reply without a next_cfg', () => {
    assert.throws(
      () =>
        readTransactResults(
          tx.ops.map(() => ({})),
          tx,
        ),
      /no next_cfg/,
    );
  });
});

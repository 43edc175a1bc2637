import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Backoff } from '../../../src/fleet/etcd-client.js';
import { checkFleetSemantics, resolveFleetSettings } from '../../../src/fleet/config.js';
import { FleetKeys, FleetNameError, prefixRangeEnd } from '../../../src/fleet/keys.js';
import { decodeLayerValue, problemsOf } from '../../../src/fleet/layer-value.js';
import { conditionsForReport, parseReport } from '../../../src/fleet/report.js';
import { chooseSlot, type SlotEntry } from '../../../src/fleet/rollout.js';
import { nodeGrants, publisherGrants } from '../../../src/fleet/roles.js';

describe('fleet key layout', () => {
  const keys = new FleetKeys('/opdbus');

  it('names every key under the prefix', () => {
    assert.equal(keys.groupDesired('web'), '/opdbus/groups/web/desired');
    assert.equal(keys.nodeDesired('n1'), '/opdbus/nodes/n1/desired');
    assert.equal(keys.nodeReport('n1'), '/opdbus/nodes/n1/report');
    assert.equal(keys.nodeAlive('n1'), '/opdbus/nodes/n1/alive');
    assert.equal(keys.rolloutSlot('web', 2), '/opdbus/rollouts/web/slots/2');
    assert.deepEqual(
      keys.layerSources('n1', ['base', 'web']).map((s) => [s.layer, s.key, s.kind]),
      [
        ['group:base', '/opdbus/groups/base/desired', 'group'],
        ['group:web', '/opdbus/groups/web/desired', 'group'],
        ['node:n1', '/opdbus/nodes/n1/desired', 'node'],
      ],
    );
  });

  it('refuses names that could reach another key', () => {
    for (const bad of [
      '',
      '../n2',
      'a/b',
      'n1/report',
      '.hidden',
      '-x',
      'a b',
      'x'.repeat(65),
      'é',
    ]) {
      assert.throws(() => keys.nodeReport(bad), FleetNameError, bad);
      assert.throws(() => keys.groupDesired(bad), FleetNameError, bad);
    }
    for (const bad of ['', '/', 'opdbus', '/opdbus/', '/a//b', '/a b']) {
      assert.throws(() => new FleetKeys(bad), FleetNameError, bad);
    }
    assert.throws(() => keys.rolloutSlot('web', -1), FleetNameError);
    assert.equal(
      keys.nodeReport('0123456789abcdef0123456789abcdef'),
      '/opdbus/nodes/0123456789abcdef0123456789abcdef/report',
    );
  });

  it('parses only well-formed node and group keys', () => {
    assert.deepEqual(keys.parseNodeKey('/opdbus/nodes/n1/report'), { node: 'n1', entry: 'report' });
    assert.deepEqual(keys.parseNodeKey('/opdbus/nodes/n1/alive'), { node: 'n1', entry: 'alive' });
    for (const other of [
      '/opdbus/nodes/n1/other',
      '/opdbus/nodes/n1/report/x',
      '/opdbus/nodes/../report',
      '/other/nodes/n1/report',
    ]) {
      assert.equal(keys.parseNodeKey(other), undefined, other);
    }
    assert.equal(keys.parseGroupKey('/opdbus/groups/web/desired'), 'web');
    assert.equal(keys.parseGroupKey('/opdbus/groups/web/rollout'), undefined);
  });

  it('computes the end of a prefix range', () => {
    assert.deepEqual(prefixRangeEnd('/a/'), Buffer.from('/a0'));
    assert.deepEqual(prefixRangeEnd('ab'), Buffer.from('ac'));
  });
});

describe('published values', () => {
  it('strips rollout settings from a group document', () => {
    const decoded = decodeLayerValue(
      JSON.stringify({ version: 1, plugins: {}, rollout: { max_unavailable: 2 } }),
      'group',
    );
    assert.deepEqual(decoded, {
      ok: true,
      document: { version: 1, plugins: {} },
      rollout: { max_unavailable: 2 },
    });
  });

  it('refuses what is not a document envelope, with paths', () => {
    const cases: [Buffer | string, 'group' | 'node', RegExp][] = [
      ['{', 'group', /^\/: not valid UTF-8 JSON/],
      [Buffer.from([0x7b, 0xff, 0x7d]), 'group', /^\/: not valid UTF-8 JSON/],
      ['[1]', 'group', /^\/: must be an object/],
      ['null', 'node', /^\/: must be an object/],
      [
        JSON.stringify({ version: 1, plugins: {}, rollout: { max_unavailable: 0 } }),
        'group',
        /^\/rollout\/max_unavailable/,
      ],
      [
        JSON.stringify({ version: 1, plugins: {}, rollout: { surge: 1 } }),
        'group',
        /^\/rollout: unknown field 'surge'/,
      ],
      [
        JSON.stringify({ version: 1, plugins: {}, rollout: {} }),
        'node',
        /^\/rollout: only a group/,
      ],
      ['x'.repeat(1024 * 1024 + 1), 'group', /limit is 1048576/],
    ];
    for (const [value, kind, expected] of cases) {
      const decoded = decodeLayerValue(value, kind);
      assert.equal(decoded.ok, false);
      if (!decoded.ok) assert.match(decoded.problems[0] ?? '', expected);
    }
  });

  it('splits an InvalidDocument message into its problems', () => {
    assert.deepEqual(problemsOf(new Error('invalid document (2 problems):\n  /a: x\n  /b: y')), [
      '/a: x',
      '/b: y',
    ]);
    assert.deepEqual(problemsOf(new Error('plain')), ['plain']);
  });
});

describe('rollout slots', () => {
  const held = (index: number, node: string | undefined): SlotEntry => ({
    index,
    modRevision: 10 + index,
    holder: node === undefined ? undefined : { node, revision: 5, state: 'applying', since: '' },
  });

  it('reuses the slot this node holds, whatever the limit', () => {
    assert.deepEqual(chooseSlot([held(0, 'a'), held(3, 'me')], 'me', 1), {
      kind: 'mine',
      index: 3,
      modRevision: 13,
    });
  });

  it('tries the free slots below the limit', () => {
    assert.deepEqual(chooseSlot([], 'me', 3), { kind: 'try', indexes: [0, 1, 2] });
    assert.deepEqual(chooseSlot([held(1, 'a')], 'me', 3), { kind: 'try', indexes: [0, 2] });
  });

  it('counts every held slot, also unreadable ones and ones above a lowered limit', () => {
    assert.deepEqual(chooseSlot([held(0, 'a')], 'me', 1), { kind: 'full' });
    assert.deepEqual(chooseSlot([held(0, undefined)], 'me', 1), { kind: 'full' });
    assert.deepEqual(chooseSlot([held(4, 'a'), held(5, 'b')], 'me', 2), { kind: 'full' });
  });
});

describe('reports', () => {
  const report = {
    node: 'n1',
    time: '2026-01-01T00:00:00.000Z',
    generation: 3,
    layers: { 'group:web': { revision: 7, published: 7, outcome: 'done' } },
    conditions: { Ready: { status: 'True', reason: 'Idle', message: '' } },
    lastResult: null,
    ledgerHead: 'abc',
  };

  it('accepts a well-formed report for the node it is filed under', () => {
    assert.deepEqual(parseReport(Buffer.from(JSON.stringify(report)), 'n1'), { ok: true, report });
  });

  it('refuses a report under another node, of the wrong shape, or too large', () => {
    assert.match(
      String(
        (parseReport(Buffer.from(JSON.stringify(report)), 'n2') as { problem: string }).problem,
      ),
      /claims node n1/,
    );
    const shapes = [
      { ...report, generation: -1 },
      { ...report, layers: { '../x': {} } },
      { ...report, extra: 1 },
      'text',
    ];
    for (const shape of shapes)
      assert.equal(parseReport(Buffer.from(JSON.stringify(shape)), 'n1').ok, false);
    assert.equal(parseReport(Buffer.alloc(300 * 1024, 0x20), 'n1').ok, false);
  });

  it("keeps only condition-shaped entries of the engine's conditions, bounded", () => {
    const conditions = conditionsForReport({
      Ready: { status: 'True', reason: 'Idle', message: 'm\u0000x', lastTransitionTime: 't' },
      Bad: { status: 'maybe' },
      'no spaces': { status: 'True' },
      Drifted: 'nope',
    });
    assert.deepEqual(conditions, { Ready: { status: 'True', reason: 'Idle', message: 'm x' } });
    assert.deepEqual(
      conditionsForReport([{ type: 'Degraded', status: 'False', reason: 'R', message: '' }]),
      {
        Degraded: { status: 'False', reason: 'R', message: '' },
      },
    );
  });
});

describe('fleet settings and roles', () => {
  it('fills defaults and takes the machine id as node id', async () => {
    const settings = await resolveFleetSettings({ endpoints: ['http://127.0.0.1:2379'] }, () =>
      Promise.resolve('0123456789abcdef0123456789abcdef'),
    );
    assert.equal(settings.nodeId, '0123456789abcdef0123456789abcdef');
    assert.equal(settings.prefix, '/opdbus');
    assert.deepEqual(settings.groups, []);
  });

  it('refuses mixed schemes, half a client certificate, TLS over http', () => {
    assert.throws(() => checkFleetSemantics({ endpoints: ['http://a:1', 'https://b:1'] }), /mix/);
    assert.throws(
      () => checkFleetSemantics({ endpoints: ['https://a:1'], tls: { ca: '/ca', cert: '/c' } }),
      /go together/,
    );
    assert.throws(
      () => checkFleetSemantics({ endpoints: ['http://a:1'], tls: { ca: '/ca' } }),
      /http/,
    );
  });

  it('grants a node only its own report and alive keys, and the publisher no report', () => {
    const keys = new FleetKeys('/opdbus');
    const writable = nodeGrants(keys, 'n1', ['web']).filter((g) => g.access !== 'read');
    assert.deepEqual(
      writable.map((g) => [g.key, g.prefix]),
      [
        ['/opdbus/nodes/n1/report', false],
        ['/opdbus/nodes/n1/alive', false],
        ['/opdbus/rollouts/web/slots/', true],
      ],
    );
    const publisher = publisherGrants(keys, ['n1']);
    assert.ok(
      !publisher.some(
        (g) =>
          g.access !== 'read' &&
          '/opdbus/nodes/n1/report'.startsWith(g.key) &&
          (g.prefix || g.key === '/opdbus/nodes/n1/report'),
      ),
    );
  });

  it('backs off doubling with jitter, capped, and starts over after reset', () => {
    const backoff = new Backoff(100, 1_000, () => 1);
    assert.deepEqual(
      [1, 2, 3, 4, 5, 6].map(() => backoff.next()),
      [100, 200, 400, 800, 1000, 1000],
    );
    backoff.reset();
    assert.equal(backoff.next(), 100);
    assert.equal(new Backoff(100, 1_000, () => 0).next(), 50);
  });
});

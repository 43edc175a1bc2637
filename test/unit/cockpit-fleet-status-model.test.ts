import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Etcd3 } from 'etcd3';
import { FleetKeys } from '../../src/fleet/keys.js';
import type { NodeReport } from '../../src/fleet/report.js';
import { fleetStatus, formatStatusLine, type FleetStatus } from '../../src/fleet/status.js';

// The Fleet tab's reading of `op-dbus fleet status --json` (cockpit/op-dbus/js/
// fleet-model.js), checked against what the CLI's own fleetStatus() makes of a
// fleet in etcd (a fake client answering its one transaction), so that a change
// of the CLI's output shape breaks this test rather than the page.
interface NodeLayer {
  layer: string;
  applied: number | null;
  published: number | null;
  outcome?: string;
  waiting: boolean;
}
interface NodeRow {
  node: string;
  alive: boolean;
  generation?: number;
  result: string;
  reportAgeSeconds?: number;
  layers: NodeLayer[];
  behind: NodeLayer[];
  problems: string[];
}
interface Run {
  exitStatus: number | null;
  problem?: string | null;
  message?: string;
  stdout?: string;
}
interface StatusModel {
  STATUS_COMMAND: string[];
  parseFleetStatus(
    stdout: unknown,
    now?: number,
  ): { revision: number | null; nodes: NodeRow[] } | undefined;
  statusFromRun(
    run: Run,
    now?: number,
  ): { status?: { revision: number | null; nodes: NodeRow[] }; error?: string };
  nodeLayerText(layer: NodeLayer): string;
  lagText(node: NodeRow): string;
  resultText(lastResult: unknown): string;
}

const MODEL_URL = new URL('../../cockpit/op-dbus/js/fleet-model.js', import.meta.url).href;
const model = (await import(MODEL_URL)) as StatusModel;

const NOW = Date.parse('2026-11-30T12:00:00.000Z');
const keys = new FleetKeys('/fleet');
const kv = (key: string, value: unknown, modRevision: number) => ({
  key: Buffer.from(key),
  value: Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)),
  mod_revision: String(modRevision),
});
const report = (node: string, secondsOld: number, extra: Partial<NodeReport>): NodeReport => ({
  node,
  time: new Date(NOW - secondsOld * 1000).toISOString(),
  generation: 4,
  layers: {},
  conditions: { Ready: { status: 'True', reason: 'Serving', message: '' } },
  lastResult: null,
  ledgerHead: 'abc',
  ...extra,
});

/** What the CLI computes for: web published at 12, a node at 12, one behind at 9 and dead, one waiting. */
async function cliStatus(): Promise<FleetStatus> {
  const nodes = [
    kv(keys.nodeAlive('n1'), '', 20),
    kv(
      keys.nodeReport('n1'),
      report('n1', 2, {
        generation: 7,
        layers: { 'group:web': { revision: 12, published: 12, outcome: 'done' } },
        lastResult: {
          job: 5,
          kind: 'apply',
          state: 'done',
          summary: { changed: 1, unchanged: 3, failed: 0 },
        },
      }),
      21,
    ),
    kv(
      keys.nodeReport('n2'),
      report('n2', 300, {
        layers: { 'group:web': { revision: 9, published: 9, outcome: 'failed' } },
      }),
      15,
    ),
    kv(keys.nodeAlive('n3'), '', 22),
    kv(
      keys.nodeReport('n3'),
      report('n3', 1, {
        layers: { 'group:web': { revision: 9, published: 12, waiting: { revision: 12 } } },
      }),
      23,
    ),
  ];
  const groups = [kv(keys.groupDesired('web'), { version: 1, plugins: {} }, 12)];
  const client = {
    kv: {
      txn: () =>
        Promise.resolve({
          header: { revision: '23' },
          responses: [{ response_range: { kvs: nodes } }, { response_range: { kvs: groups } }],
        }),
    },
  } as unknown as Etcd3;
  return fleetStatus(client, keys, { lagMs: 60_000, now: new Date(NOW) });
}

describe("the fleet tab's reading of op-dbus fleet status --json", () => {
  it('shows every node as the CLI sees it: alive, layers applied/published, generation, result, lag', async () => {
    const status = await cliStatus();
    // What runFleetCommand prints for --json (exit 1: n2 is dead and failed).
    const stdout = `${JSON.stringify(status)}\n`;
    assert.equal(status.exitCode, 1);
    const outcome = model.statusFromRun({ exitStatus: 1, message: '', stdout }, NOW);
    assert.equal(outcome.error, undefined);
    const rows = outcome.status?.nodes ?? [];
    assert.equal(outcome.status?.revision, 23);
    assert.deepEqual(
      rows.map((n) => [n.node, n.alive, n.generation, n.problems]),
      status.nodes.map((n) => [n.node, n.alive, n.report?.generation, n.problems]),
    );
    assert.deepEqual(
      rows.map((n) => n.alive),
      [true, false, true],
    );
    // Each layer worded as the CLI's own line has it.
    for (const [index, row] of rows.entries()) {
      const line = formatStatusLine(status.nodes[index] as FleetStatus['nodes'][number]);
      for (const layer of row.layers) assert.ok(line.includes(model.nodeLayerText(layer)), line);
    }
    assert.deepEqual(
      rows.map((n) => n.layers.map((l) => model.nodeLayerText(l))),
      [['group:web 12/12 done'], ['group:web 9/12 failed'], ['group:web 9/12 waiting']],
    );
    assert.deepEqual(
      rows.map((n) => n.result),
      ['job 5 (apply) done: 1 changed, 3 unchanged, 0 failed', '—', '—'],
    );
    assert.deepEqual(
      rows.map((n) => model.lagText(n)),
      [
        'in step · report 2 s old',
        'group:web at 9, published 12 · report 300 s old',
        'group:web at 9, published 12 · report 1 s old',
      ],
    );
  });

  it('shows a failed run in the words the CLI or cockpit gave, never as an empty table', () => {
    const noEndpoints =
      'op-dbus: no etcd endpoints: give --endpoints or a "fleet" section in the configuration';
    assert.equal(
      model.statusFromRun({ exitStatus: 2, message: `${noEndpoints}\n`, stdout: '' }).error,
      `op-dbus fleet status failed (exit status 2): ${noEndpoints}`,
    );
    const unreadable =
      "op-dbus: cannot read configuration /etc/op-dbus/op-dbus.json: EACCES: permission denied, open '/etc/op-dbus/op-dbus.json'";
    assert.equal(
      model.statusFromRun({ exitStatus: 2, message: unreadable }).error,
      `op-dbus fleet status failed (exit status 2): ${unreadable} Reading the daemon's configuration needs administrative access: turn it on in Cockpit.`,
    );
    // etcd's own refusal (a node's role may not read nodes/) gets no such hint.
    const refused = 'op-dbus: etcdserver: permission denied';
    assert.equal(
      model.statusFromRun({ exitStatus: 2, message: refused }).error,
      `op-dbus fleet status failed (exit status 2): ${refused}`,
    );
    assert.match(
      model.statusFromRun({ exitStatus: null, problem: 'not-found', message: 'not found' }).error ??
        '',
      /op-dbus command is not installed .*\/usr\/bin.* not found$/,
    );
    assert.equal(
      model.statusFromRun({ exitStatus: null, problem: 'access-denied', message: '' }).error,
      'op-dbus fleet status could not run: access-denied',
    );
    assert.equal(
      model.statusFromRun({ exitStatus: 2, message: '', stdout: '' }).error,
      'op-dbus fleet status failed (exit status 2): it printed no reason.',
    );
    assert.match(
      model.statusFromRun({ exitStatus: null, message: 'op-dbus killed with signal TERM' }).error ??
        '',
      /stopped\): op-dbus killed with signal TERM/,
    );
    // Exit 0 or 1 must still print a status: anything else is said, not shown as no nodes.
    for (const stdout of ['', 'op-dbus: oops', '{"nodes": 3}', 'null'])
      assert.equal(
        model.statusFromRun({ exitStatus: 1, stdout }).error,
        'op-dbus fleet status printed something that is not a fleet status.',
        stdout,
      );
    const empty = model.statusFromRun({ exitStatus: 0, stdout: '{"revision":5,"nodes":[]}' });
    assert.deepEqual(empty.status, { revision: 5, nodes: [] });
    assert.deepEqual(model.STATUS_COMMAND, ['op-dbus', 'fleet', 'status', '--json']);
  });

  it('treats the output as untrusted: drops malformed nodes, bounds texts, checks every number', () => {
    const long = 'x'.repeat(5000);
    const parsed = model.parseFleetStatus(
      JSON.stringify({
        revision: -4,
        nodes: [
          null,
          'n0',
          { alive: true },
          { node: '' },
          {
            node: long,
            alive: 'yes',
            report: { generation: 1.5, time: 'yesterday', lastResult: { summary: 'lots' } },
            layers: [
              { layer: 'group:web', applied: -1, published: 2 ** 60, outcome: 7, waiting: 'no' },
              { applied: 3 },
              'junk',
            ],
            problems: [long, 5, null],
          },
        ],
      }),
      NOW,
    );
    assert.equal(parsed?.revision, null);
    assert.equal(parsed?.nodes.length, 1);
    const [node] = parsed?.nodes ?? [];
    assert.ok(node);
    assert.equal(node.node.length, 301, 'bounded to 300 characters and an ellipsis');
    assert.equal(node.alive, false, 'only true is alive');
    assert.equal(node.generation, undefined);
    assert.equal(node.reportAgeSeconds, undefined);
    assert.equal(node.result, 'job ended: 0 changed, 0 unchanged, 0 failed');
    assert.deepEqual(node.layers, [
      {
        layer: 'group:web',
        applied: null,
        published: null,
        outcome: undefined,
        waiting: false,
        refused: undefined,
      },
    ]);
    assert.deepEqual(
      node.problems.map((p) => p.length),
      [301],
    );
    assert.equal(model.lagText(node), 'in step · no report');
    assert.equal(model.resultText('done'), '—');
  });
});

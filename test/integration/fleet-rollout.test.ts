import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import type { Etcd3 } from 'etcd3';
import { FleetKeys } from '../../src/fleet/keys.js';
import { PublishError, publishLayer } from '../../src/fleet/publish.js';
import { fleetStatus, formatStatusLine } from '../../src/fleet/status.js';
import { watchReports, type ReportNotice } from '../../src/fleet/watch-reports.js';
import { startEtcdCluster, type EtcdCluster } from '../harness/etcd.js';
import { waitFor } from '../harness/processes.js';
import { FakeFleetLayers, motd, validateDocument } from '../helpers/fake-fleet-layers.js';
import {
  freshPrefix,
  rootClient,
  settingsFor,
  startAgent,
  waitForReport,
  type RunningAgent,
} from '../helpers/fleet.js';

/** Staged rollouts, etcd away at start, liveness, and the CLI's publish and status. */
describe('fleet rollouts, liveness and the CLI functions on a real etcd cluster', () => {
  let cluster: EtcdCluster;
  let admin: Etcd3;
  const running: RunningAgent[] = [];

  before(async () => {
    cluster = await startEtcdCluster();
    admin = rootClient(cluster);
  });

  after(async () => {
    for (const { agent } of running.splice(0)) await agent.stop();
    admin?.close();
    await cluster?.stop();
  });

  const publish = (
    keys: FleetKeys,
    target: { group: string } | { node: string },
    text: string,
    expectRevision?: number,
  ) =>
    publishLayer({
      client: admin,
      keys,
      target,
      text,
      validate: validateDocument,
      ...(expectRevision === undefined ? {} : { expectRevision }),
    });

  async function agentsFor(
    prefix: string,
    nodes: string[],
    shared = { running: 0, most: 0 },
  ): Promise<RunningAgent[]> {
    const agents: RunningAgent[] = [];
    for (const node of nodes) {
      const fake = new FakeFleetLayers([], shared);
      fake.jobMs = 300;
      agents.push(await startAgent(settingsFor(cluster, prefix, node, ['web']), fake));
    }
    running.push(...agents);
    return agents;
  }

  async function stopAll(agents: RunningAgent[]): Promise<void> {
    for (const a of agents) {
      await a.agent.stop();
      running.splice(running.indexOf(a), 1);
    }
  }

  it('max_unavailable 1: the nodes apply one at a time and all end done', async () => {
    await cluster.restartAll();
    const prefix = freshPrefix();
    const keys = new FleetKeys(prefix);
    const shared = { running: 0, most: 0 };
    const agents = await agentsFor(prefix, ['n1', 'n2', 'n3'], shared);
    const { revision } = await publish(
      keys,
      { group: 'web' },
      motd('staged', { rollout: { max_unavailable: 1 } }),
    );
    for (const { node } of agents) {
      await waitForReport(
        admin,
        keys,
        node,
        'done',
        (r) =>
          r.layers['group:web']?.revision === revision && r.layers['group:web']?.outcome === 'done',
      );
    }
    assert.equal(shared.most, 1, 'never more than one job at once');
    // The rollout field is not part of the layer.
    assert.deepEqual(agents[0]?.fake.current('group:web')?.document, {
      version: 1,
      plugins: { motd: { text: 'staged' } },
    });
    const slots = await admin.getAll().prefix(keys.rolloutSlotsDir('web')).keys();
    assert.deepEqual(slots, [], 'every slot released');
    await stopAll(agents);
  });

  it('max_unavailable 1 with a node whose apply fails halts the rollout until its slot is freed', async () => {
    await cluster.restartAll();
    const prefix = freshPrefix();
    const keys = new FleetKeys(prefix);
    const [failing] = await agentsFor(prefix, ['bad']);
    assert.ok(failing);
    failing.fake.outcome = () => 'failed';
    const { revision } = await publish(
      keys,
      { group: 'web' },
      motd('breaks bad', { rollout: { max_unavailable: 1 } }),
    );
    await waitForReport(
      admin,
      keys,
      'bad',
      'failed',
      (r) => r.layers['group:web']?.outcome === 'failed',
    );
    const slot = await admin.get(keys.rolloutSlot('web', 0)).json();
    assert.deepEqual(
      { ...(slot as object), since: undefined },
      { node: 'bad', revision, state: 'failed', since: undefined },
    );
    const others = await agentsFor(prefix, ['n2', 'n3']);
    for (const { node } of others) {
      await waitForReport(
        admin,
        keys,
        node,
        'waiting for a slot',
        (r) => r.layers['group:web']?.waiting?.revision === revision,
      );
    }
    await sleep(1_500); // a halted rollout stays halted
    for (const { fake } of others) assert.equal(fake.applied.length, 0);
    const status = await fleetStatus(admin, keys, { lagMs: 60_000 });
    assert.equal(status.exitCode, 1);
    assert.ok(
      status.nodes.find((n) => n.node === 'bad')?.problems.some((p) => p.includes('failed')),
    );
    // An administrator frees the slot: the rollout goes on, one at a time.
    await admin.delete().key(keys.rolloutSlot('web', 0)).exec();
    for (const { node } of others) {
      await waitForReport(
        admin,
        keys,
        node,
        'done',
        (r) => r.layers['group:web']?.outcome === 'done',
      );
    }
    await stopAll([failing, ...others]);
  });

  it('an agent started while etcd is down keeps its persisted layers, then catches up', async () => {
    await cluster.restartAll();
    const prefix = freshPrefix();
    const keys = new FleetKeys(prefix);
    const old = await publish(keys, { group: 'web' }, motd('old'));
    await cluster.killAll();
    const fake = new FakeFleetLayers([{ name: 'group:web', revision: old.revision, document: {} }]);
    const n1 = await startAgent(settingsFor(cluster, prefix, 'n1', ['web']), fake);
    running.push(n1);
    await waitFor(
      'a disconnected state with a reason',
      () => n1.agent.connection().reason !== 'NotStarted',
    );
    assert.equal(n1.agent.connection().connected, false);
    assert.match(n1.agent.connection().reason, /UNAVAILABLE|ECONNREFUSED|circuit|deadline/i);
    assert.equal(n1.agent.layerReports()['group:web']?.revision, old.revision);
    assert.equal(fake.applied.length, 0);
    await cluster.restartAll();
    const next = await publish(keys, { group: 'web' }, motd('new'));
    await waitForReport(
      admin,
      keys,
      'n1',
      'caught up',
      (r) =>
        r.layers['group:web']?.revision === next.revision &&
        r.layers['group:web']?.outcome === 'done',
      40_000,
    );
    assert.equal(n1.agent.connection().connected, true);
    assert.deepEqual(
      fake.applied.map((a) => a.revision),
      [next.revision],
    );
    await stopAll([n1]);
  });

  it('the alive key disappears by itself when an agent dies (SIGKILL)', async () => {
    await cluster.restartAll();
    const prefix = freshPrefix();
    const keys = new FleetKeys(prefix);
    const settings = settingsFor(cluster, prefix, 'mortal', ['web']);
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'test/helpers/fleet-agent-process.ts', JSON.stringify(settings)],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    try {
      await waitFor('child agent connected', () => child.stdout.read() !== null, 20_000);
      await waitFor(
        'alive key',
        async () => (await admin.get(keys.nodeAlive('mortal')).string()) !== null,
      );
      child.kill('SIGKILL');
      await once(child, 'exit');
      const killedAt = Date.now();
      await waitFor(
        'alive key gone',
        async () => (await admin.get(keys.nodeAlive('mortal')).string()) === null,
        15_000,
      );
      console.log(
        `alive key gone ${Date.now() - killedAt} ms after SIGKILL (lease TTL ${settings.leaseTtlSeconds} s)`,
      );
      const status = await fleetStatus(admin, keys, { lagMs: 60_000 });
      assert.ok(
        status.nodes.find((n) => n.node === 'mortal')?.problems.includes('dead (no alive key)'),
      );
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('publish validates first, refuses a stale --expect-revision, and status is 0 when all is well', async () => {
    await cluster.restartAll();
    const prefix = freshPrefix();
    const keys = new FleetKeys(prefix);
    await assert.rejects(
      publish(keys, { group: 'web' }, motd('x', { plugins: { nope: {} } })),
      /InvalidDocument|unknown plugin|nope/,
    );
    await assert.rejects(
      publish(keys, { node: 'n1' }, motd('x', { rollout: { max_unavailable: 1 } })),
      /only a group/,
    );
    assert.equal(await admin.get(keys.groupDesired('web')).string(), null, 'nothing written');
    const first = await publish(keys, { group: 'web' }, motd('a'), 0);
    const second = await publish(keys, { group: 'web' }, motd('b'), first.revision);
    await assert.rejects(
      publish(keys, { group: 'web' }, motd('c'), first.revision),
      (err: unknown) =>
        err instanceof PublishError &&
        err.kind === 'stale' &&
        err.message.includes(`revision ${second.revision}`),
    );
    assert.equal(await admin.get(keys.groupDesired('web')).string(), motd('b'));
    const agents = await agentsFor(prefix, ['n1', 'n2']);
    for (const { node } of agents)
      await waitForReport(
        admin,
        keys,
        node,
        'done',
        (r) => r.layers['group:web']?.outcome === 'done',
      );
    const healthy = await fleetStatus(admin, keys, { lagMs: 60_000 });
    const [firstNode] = healthy.nodes;
    assert.ok(firstNode);
    assert.match(
      formatStatusLine(firstNode),
      /^n1 {2}alive {2}group:web \d+\/\d+ done .*FleetConnected=True/,
    );
    assert.deepEqual(
      healthy.nodes.map((n) => [n.node, n.problems]),
      [
        ['n1', []],
        ['n2', []],
      ],
    );
    assert.equal(healthy.exitCode, 0);
    // `fleet watch`: a new report, then the alive key going when the node stops.
    const notices: ReportNotice[] = [];
    const stopWatching = await watchReports(
      admin,
      keys,
      (n) => notices.push(n),
      () => undefined,
    );
    const third = await publish(keys, { group: 'web' }, motd('c'));
    await waitFor('n1 report with the new revision', () =>
      notices.some(
        (n) =>
          n.node === 'n1' &&
          typeof n.report === 'object' &&
          n.report.ok &&
          n.report.report.layers['group:web']?.revision === third.revision,
      ),
    );
    await stopAll(agents);
    await waitFor('alive keys gone', () => notices.filter((n) => n.report === 'gone').length === 2);
    stopWatching();
  });
});

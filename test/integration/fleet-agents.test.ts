import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Etcd3 } from 'etcd3';
import { FleetKeys } from '../../src/fleet/keys.js';
import { publishLayer } from '../../src/fleet/publish.js';
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

/**
 * Fleet agents (with a fake engine) against a real three-member etcd cluster:
 * publish, override, refusal, loss of the leader, compaction.
 */
describe('fleet agents on a three-member etcd cluster', () => {
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

  async function fleetOf(
    prefix: string,
    nodes: string[],
    groups: string[],
  ): Promise<RunningAgent[]> {
    const agents: RunningAgent[] = [];
    for (const node of nodes)
      agents.push(await startAgent(settingsFor(cluster, prefix, node, groups)));
    running.push(...agents);
    return agents;
  }

  async function stopAll(agents: RunningAgent[]): Promise<void> {
    for (const a of agents) {
      await a.agent.stop();
      running.splice(running.indexOf(a), 1);
    }
  }

  const publish = (keys: FleetKeys, target: { group: string } | { node: string }, text: string) =>
    publishLayer({ client: admin, keys, target, text, validate: validateDocument });

  it('a published group document reaches three agents, which apply and report it', async () => {
    await cluster.restartAll();
    const prefix = freshPrefix();
    const keys = new FleetKeys(prefix);
    const agents = await fleetOf(prefix, ['n1', 'n2', 'n3'], ['web']);
    const { revision } = await publish(keys, { group: 'web' }, motd('hello fleet'));
    for (const { node, fake } of agents) {
      const report = await waitForReport(
        admin,
        keys,
        node,
        `group:web at ${revision} done`,
        (r) =>
          r.layers['group:web']?.revision === revision && r.layers['group:web']?.outcome === 'done',
      );
      assert.equal(report.conditions.FleetConnected?.status, 'True');
      assert.equal(report.ledgerHead, 'f'.repeat(64));
      assert.deepEqual(fake.current('group:web'), {
        name: 'group:web',
        revision,
        document: { version: 1, plugins: { motd: { text: 'hello fleet' } } },
      });
    }
    await stopAll(agents);
  });

  it('a node document is passed as its own layer beside the group layer', async () => {
    await cluster.restartAll();
    const prefix = freshPrefix();
    const keys = new FleetKeys(prefix);
    const group = await publish(keys, { group: 'web' }, motd('from the group'));
    const own = await publish(keys, { node: 'n2' }, motd('only n2'));
    const agents = await fleetOf(prefix, ['n1', 'n2'], ['web']);
    const [n1, n2] = agents as [RunningAgent, RunningAgent];
    await waitForReport(
      admin,
      keys,
      'n2',
      'both layers done',
      (r) => r.layers['node:n2']?.outcome === 'done' && r.layers['group:web']?.outcome === 'done',
    );
    assert.equal(n2.fake.current('node:n2')?.revision, own.revision);
    assert.deepEqual(n2.fake.current('node:n2')?.document, {
      version: 1,
      plugins: { motd: { text: 'only n2' } },
    });
    assert.equal(n2.fake.current('group:web')?.revision, group.revision);
    await waitForReport(
      admin,
      keys,
      'n1',
      'group layer done',
      (r) => r.layers['group:web']?.outcome === 'done',
    );
    assert.equal(n1.fake.current('node:n2'), undefined, 'n1 must not take n2 document');
    await stopAll(agents);
  });

  it('an invalid document is refused and reported with its paths; the last valid layer stays', async () => {
    await cluster.restartAll();
    const prefix = freshPrefix();
    const keys = new FleetKeys(prefix);
    const agents = await fleetOf(prefix, ['n1'], ['web']);
    const [n1] = agents as [RunningAgent];
    const good = await publish(keys, { group: 'web' }, motd('good'));
    await waitForReport(
      admin,
      keys,
      'n1',
      'good applied',
      (r) => r.layers['group:web']?.outcome === 'done',
    );
    // Someone writes behind the CLI's back: a document the schema refuses.
    const bad = await admin
      .put(keys.groupDesired('web'))
      .value(JSON.stringify({ version: 1, plugins: { motd: { text: 5 } } }))
      .exec();
    const badRevision = Number(bad.header.revision);
    const report = await waitForReport(
      admin,
      keys,
      'n1',
      'refusal reported',
      (r) => r.layers['group:web']?.refused?.revision === badRevision,
    );
    const problems = report.layers['group:web']?.refused?.problems ?? [];
    assert.ok(
      problems.some((p) => p.includes('/plugins/motd/text')),
      `paths in ${JSON.stringify(problems)}`,
    );
    assert.equal(report.layers['group:web']?.revision, good.revision);
    assert.equal(n1.fake.current('group:web')?.revision, good.revision);
    assert.equal(n1.fake.applied.length, 1);
    await stopAll(agents);
  });

  it('after SIGKILL of the etcd leader the next publish still reaches every agent', async () => {
    await cluster.restartAll();
    const prefix = freshPrefix();
    const keys = new FleetKeys(prefix);
    const agents = await fleetOf(prefix, ['n1', 'n2', 'n3'], ['web']);
    const first = await publish(keys, { group: 'web' }, motd('before'));
    for (const { node } of agents) {
      await waitForReport(
        admin,
        keys,
        node,
        'first',
        (r) => r.layers['group:web']?.revision === first.revision,
      );
    }
    const killed = await cluster.killLeader();
    const second = await publish(keys, { group: 'web' }, motd('after the leader died'));
    for (const { node, fake } of agents) {
      await waitForReport(
        admin,
        keys,
        node,
        'second',
        (r) =>
          r.layers['group:web']?.outcome === 'done' &&
          r.layers['group:web']?.revision === second.revision,
      );
      assert.equal(fake.current('group:web')?.revision, second.revision);
    }
    await stopAll(agents);
    await cluster.restartMember(killed);
  });

  it('an agent cut off from etcd resumes its watch from the last revision it saw', async () => {
    await cluster.restartAll();
    const prefix = freshPrefix();
    const keys = new FleetKeys(prefix);
    const first = await publish(keys, { group: 'web' }, motd('one'));
    const only = settingsFor(cluster, prefix, 'n1', ['web'], {
      endpoints: [cluster.endpoints[1] as string],
    });
    const n1 = await startAgent(only, new FakeFleetLayers());
    running.push(n1);
    await waitForReport(
      admin,
      keys,
      'n1',
      'first',
      (r) => r.layers['group:web']?.revision === first.revision,
    );
    await cluster.killMember(1);
    await waitFor('agent to notice', () => !n1.agent.connection().connected);
    const missed = await publish(keys, { group: 'web' }, motd('published while cut off'));
    await cluster.restartMember(1);
    // No compaction: the resumed watch (not a fresh read) must deliver what was missed.
    await waitForReport(
      admin,
      keys,
      'n1',
      `revision ${missed.revision}`,
      (r) => r.layers['group:web']?.revision === missed.revision,
    );
    assert.deepEqual(
      n1.fake.applied.map((a) => a.revision),
      [first.revision, missed.revision],
    );
    await stopAll([n1]);
  });

  it('a watch that must resume at a compacted revision reads every layer again', async () => {
    await cluster.restartAll();
    const prefix = freshPrefix();
    const keys = new FleetKeys(prefix);
    const first = await publish(keys, { group: 'web' }, motd('one'));
    // The agent talks to one member only, so that member's death cuts it off.
    const only = settingsFor(cluster, prefix, 'n1', ['web'], {
      endpoints: [cluster.endpoints[0] as string],
    });
    const n1 = await startAgent(only, new FakeFleetLayers());
    running.push(n1);
    await waitForReport(
      admin,
      keys,
      'n1',
      'first',
      (r) => r.layers['group:web']?.revision === first.revision,
    );
    await cluster.killMember(0);
    await waitFor('agent to notice', () => !n1.agent.connection().connected);
    let last = first.revision;
    for (let i = 0; i < 5; i++)
      last = (await publish(keys, { group: 'web' }, motd(`v${i}`))).revision;
    await cluster.compact(); // the agent's resume revision is now compacted away
    await cluster.restartMember(0);
    await waitForReport(
      admin,
      keys,
      'n1',
      `revision ${last}`,
      (r) => r.layers['group:web']?.revision === last,
    );
    assert.equal(n1.fake.current('group:web')?.revision, last);
    // Only the newest was applied: the events in between were compacted, the re-read has one value.
    assert.deepEqual(
      n1.fake.applied.map((a) => a.revision),
      [first.revision, last],
    );
    await stopAll([n1]);
  });
});

import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Etcd3 } from 'etcd3';
import { getProperty } from '../../src/dbus/bus.js';
import { FleetKeys } from '../../src/fleet/keys.js';
import { startEtcdCluster, type EtcdCluster } from '../harness/etcd.js';
import { startHostService } from '../harness/host-services.js';
import { waitFor } from '../harness/processes.js';
import { startStack, type Stack } from '../harness/stack.js';
import { freshPrefix, readReport, rootClient, waitForReport } from '../helpers/fleet.js';

const NODES = ['n1', 'n2', 'n3'];
const doc = (pretty: string) => JSON.stringify({ version: 1, plugins: { hostname: { pretty } } });

/**
 * Three real daemons, each on its own private bus with its own hostnamed, as three
 * nodes of one fleet on a real three-member etcd cluster.
 */
describe('a fleet of three real daemons on a real etcd cluster', () => {
  let cluster: EtcdCluster;
  let etcd: Etcd3;
  let keys: FleetKeys;
  const stacks = new Map<string, Stack>();

  before(async () => {
    cluster = await startEtcdCluster();
    etcd = rootClient(cluster);
    const prefix = freshPrefix();
    keys = new FleetKeys(prefix);
    for (const node of NODES) {
      const stack = await startStack({
        backend: 'none',
        services: async (bus) => {
          const config = join(bus.dir, 'fleet.json');
          const fleet = {
            endpoints: cluster.endpoints,
            prefix,
            nodeId: node,
            groups: ['web'],
            leaseTtlSeconds: 2,
            reconnectMinMs: 100,
            reconnectMaxMs: 1000,
            requestTimeoutMs: 2000,
          };
          await writeFile(config, JSON.stringify({ fleet }));
          return {
            daemonArgs: ['--config', config],
            stoppables: [await startHostService(bus, 'hostnamed')],
          };
        },
      });
      stacks.set(node, stack);
    }
  });
  after(async () => {
    for (const stack of stacks.values()) await stack.stop();
    etcd?.close();
    await cluster?.stop();
  });

  const stackOf = (node: string): Stack => stacks.get(node) as Stack;
  const pretty = async (node: string): Promise<unknown> =>
    getProperty(
      stackOf(node).clientBus,
      'org.freedesktop.hostname1',
      '/org/freedesktop/hostname1',
      'org.freedesktop.hostname1',
      'PrettyHostname',
    );
  const publish = async (key: string, text: string): Promise<number> => {
    await etcd.put(key).value(text);
    return Number((await etcd.get(key).exec()).kvs[0]?.mod_revision);
  };

  it('a group document reaches every node, which applies it and reports it', async () => {
    const revision = await publish(keys.groupDesired('web'), doc('Fleet web'));
    for (const node of NODES) {
      await waitFor(`${node} to apply`, async () => (await pretty(node)) === 'Fleet web', 20_000);
      await waitForReport(etcd, keys, node, 'group:web applied', (report) => {
        const layer = report.layers['group:web'];
        return layer?.revision === revision && layer.outcome === 'done';
      });
    }
    const layers = JSON.parse(
      String(
        await getProperty(
          stackOf('n1').clientBus,
          'org.opdbus.StateManager',
          '/org/opdbus/StateManager',
          'org.opdbus.StateManager',
          'Conditions',
        ),
      ),
    ) as { FleetConnected?: { status: string } };
    assert.equal(layers.FleetConnected?.status, 'True');
  });

  it("a node's own document overrides the group's for that resource, and Plan names the layer", async () => {
    await publish(keys.groupDesired('web'), doc('Fleet web'));
    const revision = await publish(keys.nodeDesired('n2'), doc('Special n2'));
    await waitFor('n2 to apply its own', async () => (await pretty('n2')) === 'Special n2', 20_000);
    assert.equal(await pretty('n1'), 'Fleet web');
    const layers = JSON.parse(await stackOf('n2').client.desiredLayers()) as {
      layers: { name: string; revision: number }[];
    };
    assert.deepEqual(
      layers.layers.map((l) => [l.name, l.revision]),
      [
        ['local', 0],
        ['group:web', layers.layers[1]?.revision],
        ['node:n2', revision],
      ],
    );
    const verify = JSON.parse(await stackOf('n2').client.verify()) as { inSync: boolean };
    assert.equal(verify.inSync, true);
    const plan = JSON.parse(
      await stackOf('n2').client.plan(JSON.stringify({ version: 1, plugins: {} })),
    ) as {
      resource: string;
      layer?: string;
    }[];
    assert.deepEqual(
      plan.map((row) => [row.resource, row.layer]),
      [['pretty', 'node:n2']],
    );
    // The node's key deleted: its layer goes, and the group's value is back.
    await etcd.delete().key(keys.nodeDesired('n2'));
    await waitFor('n2 back to the group', async () => (await pretty('n2')) === 'Fleet web', 20_000);
  });

  it('an invalid document is refused and reported; the nodes keep their last valid layer', async () => {
    await publish(keys.groupDesired('web'), doc('Fleet web'));
    for (const node of NODES)
      await waitFor(`${node}`, async () => (await pretty(node)) === 'Fleet web', 20_000);
    const bad = await publish(
      keys.groupDesired('web'),
      JSON.stringify({ version: 1, plugins: { hostname: { pretty: 'x', bogus: true } } }),
    );
    for (const node of NODES) {
      const report = await waitForReport(
        etcd,
        keys,
        node,
        'the refusal',
        (r) => r.layers['group:web']?.refused?.revision === bad,
      );
      assert.match(
        report.layers['group:web']?.refused?.problems.join(' ') ?? '',
        /\/plugins\/hostname: unknown field 'bogus'/,
      );
      assert.equal(await pretty(node), 'Fleet web');
    }
  });

  it('the etcd leader killed: the next publish still converges', async () => {
    await cluster.killLeader();
    await publish(keys.groupDesired('web'), doc('After the leader'));
    for (const node of NODES)
      await waitFor(
        `${node} after the leader died`,
        async () => (await pretty(node)) === 'After the leader',
        30_000,
      );
  });

  it('a daemon restarted while etcd is down converges from its persisted layers, then catches up', async () => {
    await publish(keys.groupDesired('web'), doc('Before the outage'));
    await waitFor(
      'n1 before the outage',
      async () => (await pretty('n1')) === 'Before the outage',
      30_000,
    );
    await cluster.killAll();
    await stackOf('n1').restartDaemon();
    const conditions = async () =>
      JSON.parse(String(await stackOf('n1').client.managerProperty('Conditions'))) as {
        FleetConnected?: { status: string };
      };
    await waitFor(
      'FleetConnected False',
      async () => (await conditions()).FleetConnected?.status === 'False',
    );
    const layers = JSON.parse(await stackOf('n1').client.desiredLayers()) as {
      layers: { name: string }[];
    };
    assert.ok(
      layers.layers.some((l) => l.name === 'group:web'),
      'the group layer came back from disk',
    );
    assert.equal(await pretty('n1'), 'Before the outage');
    await cluster.restartAll();
    await waitFor(
      'FleetConnected True again',
      async () => (await conditions()).FleetConnected?.status === 'True',
      30_000,
    );
    await publish(keys.groupDesired('web'), doc('After the outage'));
    await waitFor('n1 catches up', async () => (await pretty('n1')) === 'After the outage', 30_000);
  });

  it("a node's alive key disappears when its daemon dies", async () => {
    const alive = async () => (await etcd.get(keys.nodeAlive('n3')).string()) !== null;
    await waitFor('n3 alive', alive);
    stackOf('n3').daemon.child.kill('SIGKILL');
    await waitFor('n3 gone', async () => !(await alive()), 15_000);
    assert.ok((await readReport(etcd, keys, 'n3')) !== undefined, 'its last report stays');
    await sleep(10);
  });
});

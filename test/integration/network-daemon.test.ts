import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { NetworkInterface, NetworkSection } from '../../src/plugins/network/schema.js';
import { SignalRecorder } from '../helpers/bus-client.js';
import { waitFor } from '../harness/processes.js';
import {
  applyThroughDaemon,
  ipv4Of,
  pending,
  planThroughDaemon,
  startNetworkStack,
  type NetworkStack,
} from '../helpers/network-stack.js';

// The daemon drives NetworkManager over the same private system bus, the way it
// would on a host: every Apply, Plan and Query below goes through D-Bus.

const BRIDGE: NetworkInterface = {
  name: 'br0',
  type: 'linux-bridge',
  state: 'up',
  ipv4: { enabled: true, dhcp: false, address: [{ ip: '192.0.2.10', 'prefix-length': 24 }] },
  ipv6: { enabled: false },
  bridge: { options: { stp: { enabled: false } }, port: [{ name: 'veth-a' }] },
};

/** The document: a bridge, its veth port (made by NetworkManager), a route and DNS. */
const HOST: NetworkSection = {
  interfaces: [BRIDGE, { name: 'veth-a', type: 'veth', state: 'up', veth: { peer: 'veth-b' } }],
  routes: {
    config: [
      {
        destination: '198.51.100.0/24',
        'next-hop-address': '192.0.2.1',
        'next-hop-interface': 'br0',
      },
    ],
  },
  'dns-resolver': { config: { server: ['192.0.2.53'], search: ['example.org'] } },
};

describe('network through the daemon: NetworkManager on the same bus', () => {
  let net: NetworkStack;

  beforeEach(async () => {
    net = await startNetworkStack();
  });
  afterEach(async () => {
    await net?.stop();
  });

  it('converges a bridge, its veth port, an address, a route and DNS in ONE Apply; Plan and Query re-plan empty', async () => {
    const job = await applyThroughDaemon(net.stack, HOST);
    assert.equal(job.state, 'done', JSON.stringify(job.resources));
    assert.deepEqual(
      job.resources.map((row) => [row.resource, row.outcome]),
      [
        ['br0', 'changed'],
        ['veth-a', 'changed'],
        ['route 198.51.100.0/24 via 192.0.2.1 dev br0', 'changed'],
        ['dns-resolver/config/server', 'changed'],
        ['dns-resolver/config/search', 'changed'],
      ],
    );
    assert.match(await ipv4Of(net.nm, 'br0'), /inet 192\.0\.2\.10\/24 /);
    assert.match(await net.nm.ip('-o', 'link', 'show', 'veth-a'), /veth-a@veth-b.* master br0 /);
    assert.match(await net.nm.ip('-4', 'route', 'show', '198.51.100.0/24'), /via 192\.0\.2\.1/);
    assert.deepEqual(pending(await planThroughDaemon(net.stack, HOST)), [], 'Plan re-plans empty');

    const query = JSON.parse(await net.stack.client.query(['network'])) as {
      plugins: { network: NetworkSection };
      unreadable?: Record<string, string>;
    };
    assert.equal(query.unreadable, undefined);
    const queried = query.plugins.network;
    assert.deepEqual(
      queried.interfaces?.map((iface) => iface.name),
      ['br0', 'veth-a'],
    );
    assert.deepEqual(queried['dns-resolver']?.config?.server, ['192.0.2.53']);
    assert.deepEqual(
      pending(await planThroughDaemon(net.stack, queried)),
      [],
      "Query's section re-plans empty",
    );
  });

  it('drift: an address deleted with `ip addr del` and a profile taken down with `nmcli con down` are corrected by the daemon', async (t) => {
    assert.equal((await applyThroughDaemon(net.stack, HOST)).state, 'done');
    const recorder = await SignalRecorder.start(net.stack.clientBus);
    try {
      let start = Date.now();
      await net.nm.ip('addr', 'del', '192.0.2.10/24', 'dev', 'br0');
      await waitFor(
        'the daemon to put the address back',
        async () => /192\.0\.2\.10\/24/.test(await ipv4Of(net.nm, 'br0')),
        30_000,
      );
      t.diagnostic(`address back ${Date.now() - start} ms after ip addr del`);

      start = Date.now();
      await net.nm.exec('nmcli', ['connection', 'down', 'br0']);
      const down = Date.now();
      await waitFor(
        'the daemon to bring br0 up again',
        async () => /192\.0\.2\.10\/24/.test(await ipv4Of(net.nm, 'br0')),
        30_000,
      );
      t.diagnostic(
        `br0 up with its address ${Date.now() - down} ms after nmcli con down returned (${Date.now() - start} ms after it started)`,
      );

      const drifts = recorder.named('DriftDetected').map((signal) => signal.body.slice(0, 2));
      assert.ok(
        drifts.filter(([plugin, resource]) => plugin === 'network' && resource === 'br0').length >=
          2,
        `the daemon saw both drifts of br0: ${JSON.stringify(drifts)}`,
      );
      const kinds = recorder.named('JobNew').map((signal) => signal.body[2]);
      assert.ok(
        kinds.filter((kind) => kind === 'drift').length >= 2,
        `job kinds: ${JSON.stringify(kinds)}`,
      );
      await waitFor(
        'the last drift job to end',
        async () => pending(await planThroughDaemon(net.stack, HOST)).length === 0,
        30_000,
      );
    } finally {
      recorder.stop();
    }
  });

  it('refuses in Plan a document that would take down the default-route interface without naming it down', async () => {
    // Someone else's uplink: a veth carrying the default route.
    await net.nm.addVethPair('uplink', 'uplink-peer');
    await net.nm.exec('nmcli', [
      'connection',
      'add',
      'type',
      'ethernet',
      'ifname',
      'uplink',
      'con-name',
      'uplink',
      'ipv4.method',
      'manual',
      'ipv4.addresses',
      '203.0.113.2/24',
      'ipv4.gateway',
      '203.0.113.1',
      'ipv6.method',
      'disabled',
    ]);
    await net.nm.exec('nmcli', ['connection', 'up', 'uplink']);
    assert.match(await net.nm.ip('-4', 'route', 'show', 'default'), /dev uplink/);

    // The uplink as a bridge port (it would lose its address), and IPv4 disabled on it.
    const asPort: NetworkSection = {
      interfaces: [
        { ...BRIDGE, bridge: { options: { stp: { enabled: false } }, port: [{ name: 'uplink' }] } },
      ],
    };
    const disabled: NetworkSection = {
      interfaces: [{ name: 'uplink', type: 'ethernet', state: 'up', ipv4: { enabled: false } }],
    };
    const [portRow] = await planThroughDaemon(net.stack, asPort);
    assert.equal(portRow?.action, 'refused');
    assert.match(portRow?.reason ?? '', /port uplink carries the default route/);
    const [disabledRow] = await planThroughDaemon(net.stack, disabled);
    assert.equal(disabledRow?.action, 'refused');
    assert.match(disabledRow?.reason ?? '', /uplink carries the ipv4 default route/);

    // Applied anyway: refused, terminal, and the default route is still there.
    const job = await applyThroughDaemon(net.stack, disabled);
    assert.equal(job.state, 'failed');
    assert.deepEqual(
      job.resources.map((row) => [row.resource, row.outcome, row.failure]),
      [['uplink', 'failed', 'terminal']],
    );
    assert.match(job.resources[0]?.error ?? '', /default route/);
    assert.match(await net.nm.ip('-4', 'route', 'show', 'default'), /dev uplink/);

    // Named down explicitly, it is planned as asked.
    const [downRow] = await planThroughDaemon(net.stack, {
      interfaces: [{ name: 'uplink', type: 'ethernet', state: 'down' }],
    });
    assert.equal(downRow?.action, 'deactivate');
  });
});

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { NetworkSection } from '../../src/plugins/network/schema.js';
import {
  applyOnce,
  assertAllChanged,
  pendingChanges,
  startNetworkFixture,
  type NetworkFixture,
  type PluginHandle,
} from '../helpers/network.js';

// The keys of the subset beyond addresses and ports, on a real NetworkManager:
// each is written, reaches the kernel, and re-plans empty.
describe('network keys: MTU, MAC address, static IPv6, route metric and table', () => {
  let fx: NetworkFixture;
  let handle: PluginHandle;

  before(async () => {
    fx = await startNetworkFixture();
    handle = await fx.open();
  });
  after(async () => {
    await fx?.stop();
  });

  it('writes them, the kernel has them, and the document re-plans empty', async () => {
    const doc: NetworkSection = {
      interfaces: [
        {
          name: 'veth-k',
          type: 'veth',
          veth: { peer: 'veth-l' },
          mtu: 1400,
          'mac-address': '02:00:5e:00:53:01',
          ipv4: {
            enabled: true,
            dhcp: false,
            address: [{ ip: '192.0.2.70', 'prefix-length': 24 }],
          },
          ipv6: {
            enabled: true,
            dhcp: false,
            autoconf: false,
            address: [{ ip: '2001:DB8::70', 'prefix-length': 64 }],
          },
        },
      ],
      routes: {
        config: [
          {
            destination: '198.51.100.0/24',
            'next-hop-address': '192.0.2.1',
            'next-hop-interface': 'veth-k',
            metric: 50,
            'table-id': 100,
          },
        ],
      },
    };
    const { outcomes } = await applyOnce(handle.plugin, doc, fx.log);
    assertAllChanged(outcomes);
    const link = await fx.nm.ip('-o', 'link', 'show', 'veth-k');
    assert.match(link, /mtu 1400 /);
    assert.match(link, /link\/ether 02:00:5e:00:53:01 /);
    assert.match(await fx.nm.ip('-6', '-o', 'addr', 'show', 'dev', 'veth-k'), /2001:db8::70\/64/);
    assert.match(
      await fx.nm.ip('-4', 'route', 'show', 'table', '100'),
      /198\.51\.100\.0\/24 via 192\.0\.2\.1 dev veth-k .*metric 50/,
    );
    assert.deepEqual(await pendingChanges(handle.plugin, doc, fx.log), []);
  });
});

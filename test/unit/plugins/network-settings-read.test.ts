import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  connectionSettings,
  type SettingsInput,
} from '../../../src/plugins/network/nm-settings.js';
import { profileView } from '../../../src/plugins/network/nm-settings-read.js';
import type { SettingsIn, SettingsOut } from '../../../src/plugins/network/nm-types.js';
import { toWire, unwrapDeep } from '../../../src/plugins/network/nm-variants.js';
import type { NetworkInterface } from '../../../src/plugins/network/schema.js';

const UUID = '5f0c2f5e-59b8-4d2e-9a39-2d1b0d6c1a11';

/** What NetworkManager would get on the wire, read back as GetSettings' plain values. */
function roundTrip(settings: SettingsOut): SettingsIn {
  return unwrapDeep(toWire(settings)) as SettingsIn;
}

function write(iface: NetworkInterface, extra: Partial<SettingsInput> = {}): SettingsIn {
  return roundTrip(connectionSettings({ iface, base: undefined, uuid: UUID, ...extra }));
}

const v4 = (ip: string, prefix = 24) => ({ ip, 'prefix-length': prefix });

describe('NetworkManager settings -> nmstate', () => {
  const interfaces: NetworkInterface[] = [
    {
      name: 'br0',
      type: 'linux-bridge',
      mtu: 9000,
      'mac-address': '02:AA:BB:CC:DD:EE',
      ipv4: { enabled: true, dhcp: false, address: [v4('192.0.2.10')] },
      ipv6: { enabled: true, dhcp: false, autoconf: false, address: [v4('2001:db8::1', 64)] },
      bridge: { options: { stp: { enabled: true } } },
    },
    {
      name: 'eth0',
      type: 'ethernet',
      ipv4: { enabled: true, dhcp: true, address: [], 'auto-dns': false, 'auto-routes': true },
      ipv6: {
        enabled: true,
        dhcp: true,
        autoconf: true,
        address: [],
        'auto-dns': true,
        'auto-routes': true,
      },
    },
    {
      name: 'veth-a',
      type: 'veth',
      veth: { peer: 'veth-b' },
      ipv4: { enabled: false },
      ipv6: { enabled: false },
    },
    {
      name: 'e.7',
      type: 'vlan',
      vlan: { 'base-iface': 'e', id: 7 },
      ipv4: { enabled: false },
      ipv6: { enabled: false },
    },
    {
      name: 'b',
      type: 'bond',
      'link-aggregation': { mode: '802.3ad' },
      ipv4: { enabled: false },
      ipv6: { enabled: false },
    },
    {
      name: 'm',
      type: 'mac-vlan',
      'mac-vlan': { 'base-iface': 'e', mode: 'vepa' },
      ipv4: { enabled: false },
      ipv6: { enabled: false },
    },
    {
      name: 'x',
      type: 'vxlan',
      vxlan: { id: 10, remote: '192.0.2.99', 'base-iface': 'e', 'destination-port': 4789 },
      ipv4: { enabled: false },
      ipv6: { enabled: false },
    },
    { name: 'd', type: 'dummy', ipv4: { enabled: false }, ipv6: { enabled: false } },
  ];
  for (const iface of interfaces) {
    it(`reads back what it writes for a ${iface.type}`, () => {
      const view = profileView(write(iface));
      const { name, type, ...rest } = iface;
      assert.equal(view.name, name);
      assert.equal(view.type, type);
      assert.deepEqual(view.iface, rest);
    });
  }

  it('reads a port as one without IP configuration, with its controller', () => {
    const view = profileView(
      write({ name: 'veth-a', type: 'ethernet' }, { controller: { name: 'br0', kind: 'bridge' } }),
    );
    assert.deepEqual(view.controller, { ref: 'br0', kind: 'bridge' });
    assert.deepEqual(view.iface, { ipv4: { enabled: false }, ipv6: { enabled: false } });
  });

  it('reads routes from route-data, canonical, without the on-link next hop', () => {
    const view = profileView({
      connection: { type: 'bridge', 'interface-name': 'br0', id: 'br0', uuid: UUID },
      ipv4: {
        method: 'manual',
        'route-data': [
          { dest: '198.51.100.0', prefix: 24, 'next-hop': '0.0.0.0' },
          { dest: '0.0.0.0', prefix: 0, 'next-hop': '192.0.2.1', metric: 10, table: 254 },
        ],
      },
      ipv6: { method: 'manual', 'route-data': [{ dest: '2001:DB8:1::', prefix: 48 }] },
    });
    assert.deepEqual(view.routes, [
      { destination: '198.51.100.0/24', 'next-hop-interface': 'br0' },
      {
        destination: '0.0.0.0/0',
        'next-hop-interface': 'br0',
        'next-hop-address': '192.0.2.1',
        metric: 10,
        'table-id': 254,
      },
      { destination: '2001:db8:1::/48', 'next-hop-interface': 'br0' },
    ]);
  });

  it('treats values of the wrong type as absent, and unknown types as outside the subset', () => {
    const view = profileView({
      connection: { type: 'wireguard', 'interface-name': 42, id: 'wg0', uuid: UUID },
      ipv4: { method: 'manual', 'address-data': [{ address: 7, prefix: '24' }, 'junk', null] },
    });
    assert.equal(view.name, undefined);
    assert.equal(view.type, undefined);
    assert.deepEqual(view.iface.ipv4, { enabled: true, dhcp: false, address: [] });
  });
});

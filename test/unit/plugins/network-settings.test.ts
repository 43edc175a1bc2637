import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Variant } from '../../../src/dbus/bus.js';
import {
  connectionSettings,
  type SettingsInput,
} from '../../../src/plugins/network/nm-settings.js';
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

describe('nmstate -> NetworkManager settings', () => {
  it('writes a bridge with a static address as address-data only', () => {
    const settings = write({
      name: 'br0',
      type: 'linux-bridge',
      state: 'up',
      ipv4: { enabled: true, dhcp: false, address: [v4('192.0.2.10')] },
      ipv6: { enabled: false },
      bridge: { options: { stp: { enabled: false } } },
    });
    assert.deepEqual(settings, {
      connection: {
        id: 'br0',
        uuid: UUID,
        type: 'bridge',
        'interface-name': 'br0',
        autoconnect: true,
      },
      bridge: { stp: false },
      ipv4: { method: 'manual', 'address-data': [{ address: '192.0.2.10', prefix: 24 }] },
      ipv6: { method: 'disabled', 'address-data': [] },
    });
  });

  it('overlays an existing profile: keeps what it does not manage, drops the deprecated keys', () => {
    const base: SettingsOut = {
      connection: {
        id: { signature: 's', value: 'My bridge' },
        type: { signature: 's', value: 'bridge' },
        'interface-name': { signature: 's', value: 'br0' },
        'autoconnect-priority': { signature: 'i', value: 5 },
      },
      ipv4: {
        method: { signature: 's', value: 'manual' },
        addresses: new Variant('aau', [[167903424, 24, 0]]),
        'address-data': {
          signature: 'aa{sv}',
          value: [{ address: new Variant('s', '192.0.2.10'), prefix: new Variant('u', 24) }],
        },
        routes: new Variant('aau', []),
        dns: new Variant('au', [16843009]),
      },
    };
    const settings = roundTrip(
      connectionSettings({
        iface: {
          name: 'br0',
          type: 'linux-bridge',
          ipv4: { enabled: true, address: [v4('192.0.2.20')] },
        },
        base,
        uuid: UUID,
      }),
    );
    assert.equal(settings.connection?.id, 'My bridge');
    assert.equal(settings.connection?.['autoconnect-priority'], 5);
    assert.deepEqual(settings.ipv4, {
      method: 'manual',
      'address-data': [{ address: '192.0.2.20', prefix: 24 }],
      dns: [16843009],
    });
    assert.equal('addresses' in (settings.ipv4 ?? {}), false);
    assert.equal('routes' in (settings.ipv4 ?? {}), false);
  });

  it('leaves out every key the document leaves out', () => {
    const settings = write({ name: 'br0', type: 'linux-bridge' });
    assert.deepEqual(
      settings.ipv4,
      { method: 'disabled' },
      'a new profile starts disabled (nmstate)',
    );
    assert.deepEqual(settings.bridge, {}, "the type's own setting, empty");
    assert.equal(settings['802-3-ethernet'], undefined);
  });

  it('makes a port: master and slave-type, no IP settings; null detaches it', () => {
    const port = write(
      { name: 'veth-a', type: 'ethernet', ipv4: { enabled: true } },
      {
        controller: { name: 'br0', kind: 'bridge' },
      },
    );
    assert.equal(port.connection?.master, 'br0');
    assert.equal(port.connection?.['slave-type'], 'bridge');
    assert.equal(port.ipv4, undefined);
    assert.equal(port.ipv6, undefined);
    const detached = roundTrip(
      connectionSettings({
        iface: { name: 'veth-a', type: 'ethernet' },
        base: connectionSettings({
          iface: { name: 'veth-a', type: 'ethernet' },
          base: undefined,
          uuid: UUID,
          controller: { name: 'br0', kind: 'bridge' },
        }),
        uuid: UUID,
        controller: null,
      }),
    );
    assert.equal(detached.connection?.master, undefined);
    assert.equal(detached.ipv4?.method, 'disabled');
  });

  it('state down turns autoconnect off (or the profile comes back up by itself)', () => {
    assert.equal(write({ name: 'x', type: 'dummy', state: 'down' }).connection?.autoconnect, false);
  });

  const ipv6Methods: [NetworkInterface['ipv6'], string][] = [
    [{ enabled: false }, 'disabled'],
    [{ enabled: true, dhcp: true, autoconf: true }, 'auto'],
    [{ enabled: true, dhcp: true, autoconf: false }, 'dhcp'],
    [{ enabled: true, address: [v4('2001:db8::1', 64)] }, 'manual'],
    [{ enabled: true }, 'link-local'],
  ];
  for (const [ipv6, method] of ipv6Methods) {
    it(`maps ipv6 ${JSON.stringify(ipv6)} to method ${method}`, () => {
      assert.equal(write({ name: 'x', type: 'dummy', ipv6 }).ipv6?.method, method);
    });
  }

  it("keeps the profile's DHCP and autoconf when the document leaves them out", () => {
    const base = connectionSettings({
      iface: {
        name: 'e',
        type: 'ethernet',
        ipv4: { enabled: true, dhcp: true },
        ipv6: { enabled: true, dhcp: true, autoconf: true },
      },
      base: undefined,
      uuid: UUID,
    });
    const settings = roundTrip(
      connectionSettings({
        iface: {
          name: 'e',
          type: 'ethernet',
          ipv4: { enabled: true, address: [v4('192.0.2.5')] },
          ipv6: { enabled: true },
        },
        base,
        uuid: UUID,
      }),
    );
    assert.equal(settings.ipv4?.method, 'auto');
    assert.deepEqual(settings.ipv4?.['address-data'], [{ address: '192.0.2.5', prefix: 24 }]);
    assert.equal(settings.ipv6?.method, 'auto');
  });

  it('maps auto-dns and auto-routes to the ignore-auto-* flags', () => {
    const ipv4 = write({
      name: 'x',
      type: 'ethernet',
      ipv4: { enabled: true, dhcp: true, 'auto-dns': false, 'auto-routes': true },
    }).ipv4;
    assert.deepEqual(ipv4, {
      method: 'auto',
      'ignore-auto-dns': true,
      'ignore-auto-routes': false,
    });
  });

  it('writes MTU and MAC address in the wired setting, routes as route-data per family', () => {
    const settings = write(
      {
        name: 'br0',
        type: 'linux-bridge',
        mtu: 9000,
        'mac-address': '02:aa:bb:cc:dd:ee',
        ipv4: { enabled: true, address: [v4('192.0.2.10')] },
        ipv6: { enabled: true, address: [v4('2001:db8::1', 64)] },
      },
      {
        routes: [
          {
            destination: '198.51.100.0/24',
            'next-hop-address': '192.0.2.1',
            'next-hop-interface': 'br0',
            metric: 50,
          },
          { destination: '2001:db8:1::/48', 'next-hop-interface': 'br0', 'table-id': 100 },
        ],
      },
    );
    assert.deepEqual(settings['802-3-ethernet'], {
      mtu: 9000,
      'assigned-mac-address': '02:AA:BB:CC:DD:EE',
    });
    assert.deepEqual(settings.ipv4?.['route-data'], [
      { dest: '198.51.100.0', prefix: 24, 'next-hop': '192.0.2.1', metric: 50 },
    ]);
    assert.deepEqual(settings.ipv6?.['route-data'], [
      { dest: '2001:db8:1::', prefix: 48, table: 100 },
    ]);
  });

  it("writes each type's own setting", () => {
    assert.deepEqual(write({ name: 'v', type: 'veth', veth: { peer: 'w' } }).veth, { peer: 'w' });
    assert.deepEqual(
      write({ name: 'e.7', type: 'vlan', vlan: { 'base-iface': 'e', id: 7 } }).vlan,
      { parent: 'e', id: 7 },
    );
    assert.deepEqual(
      write({ name: 'm', type: 'mac-vlan', 'mac-vlan': { 'base-iface': 'e', mode: 'passthru' } })
        .macvlan,
      { parent: 'e', mode: 4 },
    );
    assert.deepEqual(
      write({
        name: 'x',
        type: 'vxlan',
        vxlan: { id: 10, remote: '2001:DB8::1', 'base-iface': 'e', 'destination-port': 4789 },
      }).vxlan,
      { id: 10, remote: '2001:db8::1', parent: 'e', 'destination-port': 4789 },
    );
    assert.equal(write({ name: 'd', type: 'dummy' }).connection?.type, 'dummy');
    assert.equal(write({ name: 'e', type: 'ethernet' }).connection?.type, '802-3-ethernet');
  });

  it('keeps the other bond options when it sets the mode', () => {
    const base = connectionSettings({
      iface: { name: 'b', type: 'bond', 'link-aggregation': { mode: 'balance-rr' } },
      base: undefined,
      uuid: UUID,
    });
    (base.bond as NonNullable<SettingsOut['bond']>).options = {
      signature: 'a{ss}',
      value: { mode: 'balance-rr', miimon: '100' },
    };
    const settings = roundTrip(
      connectionSettings({
        iface: { name: 'b', type: 'bond', 'link-aggregation': { mode: 'active-backup' } },
        base,
        uuid: UUID,
      }),
    );
    assert.deepEqual(settings.bond?.options, { mode: 'active-backup', miimon: '100' });
  });

  it('keeps an existing ethernet profile of a veth device ethernet (NetworkManager cannot change a type)', () => {
    const base = connectionSettings({
      iface: { name: 'veth-a', type: 'ethernet' },
      base: undefined,
      uuid: UUID,
    });
    const settings = roundTrip(
      connectionSettings({
        iface: { name: 'veth-a', type: 'veth', veth: { peer: 'veth-b' } },
        base,
        uuid: UUID,
      }),
    );
    assert.equal(settings.connection?.type, '802-3-ethernet');
  });
});

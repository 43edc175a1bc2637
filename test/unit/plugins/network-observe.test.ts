import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  connectionSettings,
  type ControllerRef,
} from '../../../src/plugins/network/nm-settings.js';
import { profileView } from '../../../src/plugins/network/nm-settings-read.js';
import type {
  ConnectionSnapshot,
  DeviceSnapshot,
  NmSnapshot,
  RuntimeIp,
} from '../../../src/plugins/network/nm-snapshot.js';
import type { SettingsIn } from '../../../src/plugins/network/nm-types.js';
import { toWire, unwrapDeep } from '../../../src/plugins/network/nm-variants.js';
import { observeNetwork, querySection } from '../../../src/plugins/network/observe.js';
import { planNetwork } from '../../../src/plugins/network/plan.js';
import type { NetworkInterface, RouteEntry } from '../../../src/plugins/network/schema.js';
import { planWork } from '../../../src/plugins/network/work.js';

const v4 = (ip: string, prefix = 24) => ({ ip, 'prefix-length': prefix });

function profile(
  path: string,
  iface: NetworkInterface,
  options: { controller?: ControllerRef; routes?: RouteEntry[]; flags?: number } = {},
): ConnectionSnapshot {
  const typed = connectionSettings({
    iface,
    base: undefined,
    uuid: `uuid-${iface.name}`,
    ...(options.controller ? { controller: options.controller } : {}),
    ...(options.routes ? { routes: options.routes } : {}),
  });
  const plain = unwrapDeep(toWire(typed)) as SettingsIn;
  return { path, flags: options.flags ?? 0, typed, view: profileView(plain) };
}

function device(path: string, name: string, patch: Partial<DeviceSnapshot> = {}): DeviceSnapshot {
  return {
    path,
    name,
    deviceType: 13,
    state: 100,
    managed: true,
    real: true,
    mtu: 1500,
    hwAddress: '02:00:00:00:00:0A',
    activeConnection: `/AC/${name}`,
    activeProfile: '/',
    ports: [],
    vethPeer: undefined,
    ip4Config: `/IP4/${name}`,
    ip6Config: `/IP6/${name}`,
    ipv4: undefined,
    ipv6: undefined,
    ...patch,
  };
}

const runtime = (patch: Partial<RuntimeIp>): RuntimeIp => ({
  addresses: [],
  routes: [],
  gateway: '',
  ...patch,
});

const ROUTE: RouteEntry = {
  destination: '198.51.100.0/24',
  'next-hop-address': '192.0.2.1',
  'next-hop-interface': 'br0',
};
const BR0: NetworkInterface = {
  name: 'br0',
  type: 'linux-bridge',
  ipv4: { enabled: true, dhcp: false, address: [v4('192.0.2.10')] },
  ipv6: { enabled: true, address: [v4('2001:db8::10', 64)] },
  bridge: { options: { stp: { enabled: false } } },
};

/** br0 (active, a veth port), its port veth-a, the peer veth-b without a profile. */
function machine(br0Runtime: Partial<DeviceSnapshot> = {}): NmSnapshot {
  return {
    devices: [
      device('/D/1', 'br0', {
        activeProfile: '/S/1',
        ports: ['/D/2'],
        ipv4: runtime({ addresses: [v4('192.0.2.10')], routes: [{ ...ROUTE, metric: 425 }] }),
        ipv6: runtime({ addresses: [v4('fe80::1', 64), v4('2001:db8::10', 64)] }),
        ...br0Runtime,
      }),
      device('/D/2', 'veth-a', { deviceType: 20, activeProfile: '/S/2', vethPeer: '/D/3' }),
      device('/D/3', 'veth-b', {
        deviceType: 20,
        state: 30,
        activeConnection: '/',
        vethPeer: '/D/2',
      }),
    ],
    connections: [
      profile('/S/1', BR0, { routes: [ROUTE] }),
      profile(
        '/S/2',
        { name: 'veth-a', type: 'ethernet' },
        { controller: { name: 'br0', kind: 'bridge' } },
      ),
      // NetworkManager's own profile for a device configured by someone else.
      profile('/S/3', { name: 'veth-b', type: 'ethernet' }, { flags: 0x8 }),
    ],
    dns: { server: ['192.0.2.53'], search: [] },
  };
}

describe('observe: NetworkManager snapshot -> nmstate', () => {
  it('takes static addresses from the kernel (drift shows), without IPv6 link-local ones', () => {
    const observed = observeNetwork(machine({ ipv4: runtime({ addresses: [] }) }));
    const br0 = observed.interfaces.get('br0')?.current;
    assert.deepEqual(br0?.ipv4, { enabled: true, dhcp: false, address: [] });
    assert.deepEqual(br0?.ipv6?.address, [v4('2001:db8::10', 64)]);
  });

  it('takes the profile addresses when the interface is down', () => {
    const observed = observeNetwork(
      machine({ state: 30, activeConnection: '/', activeProfile: '/', ipv4: undefined }),
    );
    const br0 = observed.interfaces.get('br0')?.current;
    assert.equal(br0?.state, 'down');
    assert.deepEqual(br0?.ipv4?.address, [v4('192.0.2.10')]);
  });

  it('reads ports from the running bridge, the veth peer from its device, types from devices', () => {
    const observed = observeNetwork(machine());
    assert.deepEqual(observed.interfaces.get('br0')?.current.bridge?.port, [{ name: 'veth-a' }]);
    const vethA = observed.interfaces.get('veth-a')?.current;
    assert.equal(vethA?.type, 'veth', 'a veth device with an ethernet profile is a veth');
    assert.deepEqual(vethA?.veth, { peer: 'veth-b' });
  });

  it('counts a profile NetworkManager generated for an external device as no profile', () => {
    const observed = observeNetwork(machine());
    assert.equal(observed.interfaces.get('veth-b')?.profile, false);
    assert.equal(observed.interfaces.get('veth-b')?.device, true);
  });

  it('sees the default route by gateway or by a 0.0.0.0/0 route', () => {
    const byGateway = observeNetwork(
      machine({ ipv4: runtime({ addresses: [v4('192.0.2.10')], gateway: '192.0.2.1' }) }),
    );
    assert.deepEqual(byGateway.interfaces.get('br0')?.defaultRoute, ['ipv4']);
    const byRoute = observeNetwork(
      machine({
        ipv6: runtime({
          routes: [{ destination: '::/0', 'next-hop-interface': 'br0', metric: 1 }],
        }),
      }),
    );
    assert.deepEqual(byRoute.interfaces.get('br0')?.defaultRoute, ['ipv6']);
  });

  it('lists a configured route only while the kernel has it, if the interface is up', () => {
    assert.deepEqual(observeNetwork(machine()).routes, [ROUTE]);
    assert.deepEqual(
      observeNetwork(machine({ ipv4: runtime({ addresses: [v4('192.0.2.10')] }) })).routes,
      [],
    );
  });

  it('queries a section of the profiled interfaces that plans nothing', () => {
    const observed = observeNetwork(machine());
    const section = querySection(observed);
    assert.deepEqual(
      section.interfaces?.map((iface) => iface.name),
      ['br0', 'veth-a'],
    );
    assert.deepEqual(section['dns-resolver'], { config: { server: ['192.0.2.53'], search: [] } });
    assert.deepEqual(
      planNetwork(section, observed).filter((change) => change.action !== 'none'),
      [],
    );
  });
});

describe('apply work: plan -> NetworkManager operations', () => {
  it('gives a new port without a profile an ethernet profile under its bridge, checkpointing only touched devices', () => {
    const snapshot = machine();
    const desired = {
      interfaces: [{ ...BR0, bridge: { port: [{ name: 'veth-a' }, { name: 'veth-b' }] } }],
    };
    const changes = planNetwork(desired, observeNetwork(snapshot));
    assert.deepEqual(
      changes.map((c) => c.action),
      ['update'],
    );
    const work = planWork(changes, desired, snapshot);
    const port = work.writes.find((op) => op.name === 'veth-b');
    assert.deepEqual(port?.iface, { name: 'veth-b', type: 'ethernet', state: 'up' });
    assert.deepEqual(port?.controller, { name: 'br0', kind: 'bridge' });
    assert.deepEqual(
      work.writes.map((op) => op.name),
      ['br0', 'veth-a', 'veth-b'],
      'the bridge before its ports',
    );
    assert.deepEqual(work.devices.sort(), ['/D/1', '/D/2', '/D/3']);
  });

  it('detaches a port the bridge no longer lists', () => {
    const snapshot = machine();
    const desired = { interfaces: [{ ...BR0, bridge: { port: [] } }] };
    const work = planWork(planNetwork(desired, observeNetwork(snapshot)), desired, snapshot);
    assert.equal(work.writes.find((op) => op.name === 'veth-a')?.controller, null);
  });

  it("adds and removes routes in the interface's profile, keeping the others", () => {
    const snapshot = machine();
    const extra: RouteEntry = {
      destination: '203.0.113.0/24',
      'next-hop-address': '192.0.2.2',
      'next-hop-interface': 'br0',
    };
    const desired = { routes: { config: [extra, { ...ROUTE, state: 'absent' as const }] } };
    const work = planWork(planNetwork(desired, observeNetwork(snapshot)), desired, snapshot);
    assert.deepEqual(
      work.writes.map((op) => [op.name, op.routes]),
      [['br0', [extra]]],
    );
    assert.equal(work.writes[0]?.iface.state, 'up', 'a route change keeps the state');
  });
});

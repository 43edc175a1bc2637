import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ObservedInterface, ObservedNetwork } from '../../src/plugins/network/model.js';
import { narrowNetwork, planNetwork } from '../../src/plugins/network/plan.js';
import type { NetworkInterface, NetworkSection } from '../../src/plugins/network/schema.js';

type Current = ObservedInterface['current'];

function observedIface(
  current: Current,
  extra: Partial<ObservedInterface> = {},
): ObservedInterface {
  return { current, profile: true, device: true, defaultRoute: [], ...extra };
}

function network(
  interfaces: ObservedInterface[],
  rest: Partial<Omit<ObservedNetwork, 'interfaces'>> = {},
): ObservedNetwork {
  return {
    interfaces: new Map(interfaces.map((entry) => [entry.current.name, entry])),
    routes: rest.routes ?? [],
    dns: rest.dns ?? { server: [], search: [] },
  };
}

const v4 = (ip: string, prefix = 24) => ({ ip, 'prefix-length': prefix });
const BR0: Current = {
  name: 'br0',
  type: 'linux-bridge',
  state: 'up',
  mtu: 1500,
  'mac-address': '02:AA:00:00:00:01',
  ipv4: { enabled: true, dhcp: false, address: [v4('192.0.2.10')] },
  ipv6: { enabled: false },
  bridge: { options: { stp: { enabled: false } }, port: [{ name: 'veth-a' }] },
};
const VETH_A: Current = {
  name: 'veth-a',
  type: 'veth',
  state: 'up',
  mtu: 1500,
  veth: { peer: 'veth-b' },
  ipv4: { enabled: false },
  ipv6: { enabled: false },
};
const ETH0: Current = {
  name: 'eth0',
  type: 'ethernet',
  state: 'up',
  ipv4: { enabled: true, dhcp: true, address: [], 'auto-dns': true, 'auto-routes': true },
  ipv6: { enabled: false },
};
const MACHINE = network([
  observedIface(BR0),
  observedIface(VETH_A),
  observedIface({ name: 'veth-b', type: 'veth', state: 'down' }, { profile: false }),
  observedIface(ETH0, { defaultRoute: ['ipv4'] }),
]);

function actions(desired: NetworkSection, observed = MACHINE): [string, string][] {
  return planNetwork(desired, observed).map((change) => [change.resource, change.action]);
}

function only(desired: NetworkSection, observed = MACHINE) {
  const changes = planNetwork(desired, observed);
  assert.equal(changes.length, 1);
  return changes[0] as NonNullable<(typeof changes)[0]>;
}

const br0 = (patch: Partial<NetworkInterface> = {}): NetworkInterface => ({
  name: 'br0',
  type: 'linux-bridge',
  ...patch,
});

describe('network plan: interfaces', () => {
  const table: [string, NetworkInterface, string][] = [
    ['as desired', br0({ ipv4: { enabled: true, address: [v4('192.0.2.10')] } }), 'none'],
    ['the MAC address in lower case', br0({ 'mac-address': '02:aa:00:00:00:01' }), 'none'],
    ['another address', br0({ ipv4: { enabled: true, address: [v4('192.0.2.20')] } }), 'update'],
    [
      'an extra address',
      br0({ ipv4: { enabled: true, address: [v4('192.0.2.10'), v4('192.0.2.11')] } }),
      'update',
    ],
    ['another MTU', br0({ mtu: 9000 }), 'update'],
    ['STP on', br0({ bridge: { options: { stp: { enabled: true } } } }), 'update'],
    ['another port list', br0({ bridge: { port: [] } }), 'update'],
    ['state down', br0({ state: 'down' }), 'deactivate'],
    ['state absent', br0({ state: 'absent' }), 'remove'],
    ['a new bridge', { name: 'br1', type: 'linux-bridge' }, 'create'],
    ['absent and already gone', { name: 'br9', state: 'absent' }, 'none'],
    [
      'a device without a profile, to be configured',
      { name: 'veth-b', type: 'veth', veth: { peer: 'veth-a' } },
      'create',
    ],
    [
      'another type',
      { name: 'br0', type: 'bond', 'link-aggregation': { mode: 'active-backup' } },
      'refused',
    ],
  ];
  for (const [what, desired, expected] of table) {
    it(`${what}: ${expected}`, () => {
      assert.equal(only({ interfaces: [desired] }).action, expected);
    });
  }

  it('activates when only the state differs, and compares the profile otherwise', () => {
    const down = network([observedIface({ ...BR0, state: 'down' })]);
    assert.equal(only({ interfaces: [br0()] }, down).action, 'activate');
    assert.equal(only({ interfaces: [br0({ mtu: 1400 })] }, down).action, 'update');
  });

  it('shows from/to in nmstate keys, only the keys the document gives', () => {
    const change = only({
      interfaces: [br0({ ipv4: { enabled: true, address: [v4('192.0.2.20')] } })],
    });
    assert.deepEqual(change.from, {
      name: 'br0',
      type: 'linux-bridge',
      ipv4: { enabled: true, address: [v4('192.0.2.10')] },
      state: 'up',
    });
    assert.deepEqual(change.to, {
      name: 'br0',
      type: 'linux-bridge',
      ipv4: { enabled: true, address: [v4('192.0.2.20')] },
      state: 'up',
    });
  });

  it('compares IPv6 addresses in canonical form and ignores their order', () => {
    const observed = network([
      observedIface({
        ...BR0,
        ipv6: {
          enabled: true,
          dhcp: false,
          autoconf: false,
          address: [v4('2001:db8::1', 64), v4('2001:db8::2', 64)],
        },
      }),
    ]);
    const desired = br0({
      ipv6: { enabled: true, address: [v4('2001:DB8:0:0::2', 64), v4('2001:0db8::1', 64)] },
    });
    assert.equal(only({ interfaces: [desired] }, observed).action, 'none');
  });

  it('disabled means disabled, whatever else the current side has', () => {
    assert.equal(only({ interfaces: [br0({ ipv6: { enabled: false } })] }).action, 'none');
    assert.equal(only({ interfaces: [br0({ ipv4: { enabled: false } })] }).action, 'update');
  });

  it('plans nothing for interfaces the document does not name', () => {
    assert.deepEqual(actions({ interfaces: [br0()] }), [['br0', 'none']]);
    assert.deepEqual(actions({}), []);
    assert.deepEqual(actions({ interfaces: [] }), []);
  });

  it('plans one change for an interface named twice, and refuses it', () => {
    const change = only({ interfaces: [br0(), br0({ mtu: 9000 })] });
    assert.equal(change.action, 'refused');
    assert.match(change.reason ?? '', /named 2 times/);
  });

  it('takes ethernet for an existing veth, as older nmstate wrote it', () => {
    const change = only({ interfaces: [{ name: 'veth-a', type: 'ethernet', mtu: 1500 }] });
    assert.equal(change.action, 'none');
  });

  it('refuses IP addresses on an interface the document makes a port', () => {
    const changes = planNetwork(
      {
        interfaces: [
          br0({ bridge: { port: [{ name: 'veth-a' }] } }),
          { name: 'veth-a', type: 'veth', ipv4: { enabled: true, address: [v4('192.0.2.5')] } },
        ],
      },
      MACHINE,
    );
    assert.equal(changes[1]?.action, 'refused');
    assert.match(changes[1]?.reason ?? '', /veth-a is a port of br0/);
  });

  it('refuses IPv4 without DHCP and without any address', () => {
    const change = only({
      interfaces: [{ name: 'br1', type: 'linux-bridge', ipv4: { enabled: true } }],
    });
    assert.equal(change.action, 'refused');
    assert.match(change.reason ?? '', /needs an address/);
    const dhcpKept = only({
      interfaces: [{ name: 'eth0', type: 'ethernet', ipv4: { enabled: true } }],
    });
    assert.equal(dhcpKept.action, 'none', "eth0's profile has DHCP: the document leaves it so");
  });

  it('refuses IPv6 autoconf without DHCP (NetworkManager has no such method)', () => {
    const change = only({
      interfaces: [br0({ ipv6: { enabled: true, autoconf: true, dhcp: false } })],
    });
    assert.equal(change.action, 'refused');
    assert.match(change.reason ?? '', /autoconf without DHCPv6/);
  });

  it('refuses a port or a parent that neither exists nor is described', () => {
    const port = only({
      interfaces: [{ name: 'br1', type: 'linux-bridge', bridge: { port: [{ name: 'ghost' }] } }],
    });
    assert.equal(port.action, 'refused');
    assert.match(port.reason ?? '', /port ghost does not exist/);
    const parent = only({
      interfaces: [{ name: 'v.7', type: 'vlan', vlan: { 'base-iface': 'ghost', id: 7 } }],
    });
    assert.match(parent.reason ?? '', /base interface ghost does not exist/);
    assert.deepEqual(
      actions({
        interfaces: [
          { name: 'br1', type: 'linux-bridge', bridge: { port: [{ name: 'veth-c' }] } },
          { name: 'veth-c', type: 'veth', veth: { peer: 'veth-d' } },
        ],
      }),
      [
        ['br1', 'create'],
        ['veth-c', 'create'],
      ],
    );
  });
});

describe('network plan: the interface carrying the default route', () => {
  it('refuses to disable its IPv4 while it stays up', () => {
    const change = only({
      interfaces: [{ name: 'eth0', type: 'ethernet', ipv4: { enabled: false } }],
    });
    assert.equal(change.action, 'refused');
    assert.match(change.reason ?? '', /eth0 carries the ipv4 default route/);
  });

  it('refuses to make it a port of a bridge the document creates', () => {
    const change = only({
      interfaces: [{ name: 'br1', type: 'linux-bridge', bridge: { port: [{ name: 'eth0' }] } }],
    });
    assert.equal(change.action, 'refused');
    assert.match(change.reason ?? '', /port eth0 carries the default route/);
  });

  it('takes it down when the document says so explicitly', () => {
    assert.equal(
      only({ interfaces: [{ name: 'eth0', type: 'ethernet', state: 'down' }] }).action,
      'deactivate',
    );
    assert.equal(only({ interfaces: [{ name: 'eth0', state: 'absent' }] }).action, 'remove');
    assert.deepEqual(
      actions({
        interfaces: [
          { name: 'br1', type: 'linux-bridge', bridge: { port: [{ name: 'eth0' }] } },
          { name: 'eth0', type: 'ethernet', state: 'down' },
        ],
      }),
      [
        ['br1', 'create'],
        ['eth0', 'deactivate'],
      ],
    );
  });

  it('lets other changes to it through', () => {
    assert.equal(
      only({ interfaces: [{ name: 'eth0', type: 'ethernet', mtu: 1400 }] }).action,
      'update',
    );
  });
});

describe('network plan: routes and DNS', () => {
  const route = {
    destination: '198.51.100.0/24',
    'next-hop-address': '192.0.2.1',
    'next-hop-interface': 'br0',
  };
  const withRoute = network([observedIface(BR0)], { routes: [{ ...route, metric: 425 }] });

  it('adds a missing route and names it as ip route would', () => {
    const change = only({ routes: { config: [route] } }, network([observedIface(BR0)]));
    assert.equal(change.resource, 'route 198.51.100.0/24 via 192.0.2.1 dev br0');
    assert.equal(change.action, 'add');
    assert.equal(change.from, null);
  });

  it('matches on the keys given: a metric the document leaves out is any metric', () => {
    assert.equal(only({ routes: { config: [route] } }, withRoute).action, 'none');
    assert.equal(
      only({ routes: { config: [{ ...route, metric: 100 }] } }, withRoute).action,
      'add',
    );
  });

  it('removes a route with state absent, and plans none when it is gone already', () => {
    assert.equal(
      only({ routes: { config: [{ ...route, state: 'absent' }] } }, withRoute).action,
      'remove',
    );
    assert.equal(
      only({ routes: { config: [{ ...route, state: 'absent' }] } }, network([observedIface(BR0)]))
        .action,
      'none',
    );
  });

  it('refuses a route through an interface without a profile or one to be removed', () => {
    assert.equal(
      only({ routes: { config: [{ ...route, 'next-hop-interface': 'veth-b' }] } }).action,
      'refused',
    );
    const changes = planNetwork(
      { interfaces: [{ name: 'br0', state: 'absent' }], routes: { config: [route] } },
      withRoute,
    );
    assert.equal(changes[1]?.action, 'refused');
    assert.match(changes[1]?.reason ?? '', /is to be absent/);
  });

  it('plans each DNS key the document gives, order significant', () => {
    const observed = network([], {
      dns: { server: ['192.0.2.53', '192.0.2.54'], search: ['example.org'] },
    });
    assert.deepEqual(
      actions({ 'dns-resolver': { config: { server: ['192.0.2.53', '192.0.2.54'] } } }, observed),
      [['dns-resolver/config/server', 'none']],
    );
    assert.deepEqual(
      actions(
        { 'dns-resolver': { config: { server: ['192.0.2.54', '192.0.2.53'], search: [] } } },
        observed,
      ),
      [
        ['dns-resolver/config/server', 'set'],
        ['dns-resolver/config/search', 'set'],
      ],
    );
  });

  it('narrows to interfaces and the routes through them', () => {
    const desired: NetworkSection = {
      interfaces: [br0(), { name: 'eth0', type: 'ethernet' }],
      routes: { config: [route, { ...route, 'next-hop-interface': 'eth0' }] },
      'dns-resolver': { config: { server: ['192.0.2.53'], search: ['example.org'] } },
    };
    const narrowed = narrowNetwork(desired, ['br0', 'dns-resolver/config/search']);
    assert.deepEqual(
      narrowed.interfaces?.map((iface) => iface.name),
      ['br0'],
    );
    assert.deepEqual(narrowed.routes?.config, [route]);
    assert.deepEqual(narrowed['dns-resolver'], { config: { search: ['example.org'] } });
  });
});

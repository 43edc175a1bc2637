import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { planNetwork } from '../../../src/plugins/network/plan.js';
import type { NetworkInterface } from '../../../src/plugins/network/schema.js';
import {
  MACHINE,
  BR0,
  actions,
  br0,
  network,
  observedIface,
  only,
  v4,
} from '../../helpers/network-observed.js';

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

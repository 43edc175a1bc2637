import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { narrowNetwork, planNetwork } from '../../../src/plugins/network/plan.js';
import type { NetworkSection } from '../../../src/plugins/network/schema.js';
import { BR0, actions, br0, network, observedIface, only } from '../../helpers/network-observed.js';

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

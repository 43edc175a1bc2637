/** Observed networks and helpers for the network plan tests. */
import assert from 'node:assert/strict';
import type { ObservedInterface, ObservedNetwork } from '../../src/plugins/network/model.js';
import { planNetwork } from '../../src/plugins/network/plan.js';
import type { NetworkInterface, NetworkSection } from '../../src/plugins/network/schema.js';

export type Current = ObservedInterface['current'];

export function observedIface(
  current: Current,
  extra: Partial<ObservedInterface> = {},
): ObservedInterface {
  return { current, profile: true, device: true, defaultRoute: [], ...extra };
}

export function network(
  interfaces: ObservedInterface[],
  rest: Partial<Omit<ObservedNetwork, 'interfaces'>> = {},
): ObservedNetwork {
  return {
    interfaces: new Map(interfaces.map((entry) => [entry.current.name, entry])),
    routes: rest.routes ?? [],
    dns: rest.dns ?? { server: [], search: [] },
  };
}

export const v4 = (ip: string, prefix = 24) => ({ ip, 'prefix-length': prefix });
export const BR0: Current = {
  name: 'br0',
  type: 'linux-bridge',
  state: 'up',
  mtu: 1500,
  'mac-address': '02:AA:00:00:00:01',
  ipv4: { enabled: true, dhcp: false, address: [v4('192.0.2.10')] },
  ipv6: { enabled: false },
  bridge: { options: { stp: { enabled: false } }, port: [{ name: 'veth-a' }] },
};
export const VETH_A: Current = {
  name: 'veth-a',
  type: 'veth',
  state: 'up',
  mtu: 1500,
  veth: { peer: 'veth-b' },
  ipv4: { enabled: false },
  ipv6: { enabled: false },
};
export const ETH0: Current = {
  name: 'eth0',
  type: 'ethernet',
  state: 'up',
  ipv4: { enabled: true, dhcp: true, address: [], 'auto-dns': true, 'auto-routes': true },
  ipv6: { enabled: false },
};
export const MACHINE = network([
  observedIface(BR0),
  observedIface(VETH_A),
  observedIface({ name: 'veth-b', type: 'veth', state: 'down' }, { profile: false }),
  observedIface(ETH0, { defaultRoute: ['ipv4'] }),
]);

export function actions(desired: NetworkSection, observed = MACHINE): [string, string][] {
  return planNetwork(desired, observed).map((change) => [change.resource, change.action]);
}

export function only(desired: NetworkSection, observed = MACHINE) {
  const changes = planNetwork(desired, observed);
  assert.equal(changes.length, 1);
  return changes[0] as NonNullable<(typeof changes)[0]>;
}

export const br0 = (patch: Partial<NetworkInterface> = {}): NetworkInterface => ({
  name: 'br0',
  type: 'linux-bridge',
  ...patch,
});

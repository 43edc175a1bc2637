import type { NetworkInterface, NetworkSection } from '../../src/plugins/network/schema.js';

/** br0 with one IPv4 address and veth-a as its port (the network tests' base shape). */
export function bridge(ip: string): NetworkInterface {
  return {
    name: 'br0',
    type: 'linux-bridge',
    state: 'up',
    ipv4: { enabled: true, dhcp: false, address: [{ ip, 'prefix-length': 24 }] },
    ipv6: { enabled: false },
    bridge: { options: { stp: { enabled: false } }, port: [{ name: 'veth-a' }] },
  };
}

/**
 * br0 moved to `ip` beside a MAC-VLAN that cannot verify: NetworkManager takes the
 * profile, but the kernel refuses an MTU above its parent's (veth-b: 1500).
 */
export function unverifiableMacVlan(ip: string): NetworkSection {
  return {
    interfaces: [
      bridge(ip),
      {
        name: 'mv0',
        type: 'mac-vlan',
        'mac-vlan': { 'base-iface': 'veth-b', mode: 'bridge' },
        mtu: 9000,
        ipv4: { enabled: false },
        ipv6: { enabled: false },
      },
    ],
  };
}

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildDocumentSchema } from '../../../src/document/document.js';
import { DocumentValidator } from '../../../src/document/validator.js';
import { ErrorName, OpdbusError } from '../../../src/errors.js';
import { NetworkSection } from '../../../src/plugins/network/schema.js';

const validator = new DocumentValidator(
  buildDocumentSchema([{ name: 'network', schema: NetworkSection }]),
);

const parse = (network: unknown) =>
  validator.parse(JSON.stringify({ version: 1, plugins: { network } }));

function problemsOf(network: unknown): string {
  try {
    parse(network);
  } catch (err) {
    assert.ok(err instanceof OpdbusError);
    assert.equal(err.dbusName, ErrorName.InvalidDocument);
    return err.message;
  }
  assert.fail(`accepted: ${JSON.stringify(network)}`);
}

/** The example, as nmstate writes it. */
const EXAMPLE = {
  interfaces: [
    {
      name: 'br0',
      type: 'linux-bridge',
      state: 'up',
      ipv4: { enabled: true, dhcp: false, address: [{ ip: '192.0.2.10', 'prefix-length': 24 }] },
      ipv6: { enabled: false },
      bridge: { options: { stp: { enabled: false } }, port: [{ name: 'veth-a' }] },
    },
    { name: 'veth-a', type: 'veth', state: 'up', veth: { peer: 'veth-b' } },
  ],
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

const P = '/plugins/network';

describe('network schema (nmstate subset)', () => {
  it("accepts the issue's example and every type of the subset with its section", () => {
    parse(EXAMPLE);
    parse({
      interfaces: [
        { name: 'eth0', type: 'ethernet', mtu: 9000, 'mac-address': '02:00:00:00:00:01' },
        {
          name: 'bond0',
          type: 'bond',
          'link-aggregation': { mode: '802.3ad', port: ['eth1', 'eth2'] },
        },
        { name: 'eth0.7', type: 'vlan', vlan: { 'base-iface': 'eth0', id: 7 } },
        { name: 'dummy0', type: 'dummy' },
        { name: 'mv0', type: 'mac-vlan', 'mac-vlan': { 'base-iface': 'eth0', mode: 'bridge' } },
        {
          name: 'vx0',
          type: 'vxlan',
          vxlan: { id: 10, remote: '2001:db8::1', 'destination-port': 4789 },
        },
        { name: 'old', state: 'absent' },
        {
          name: 'v6',
          type: 'dummy',
          ipv6: {
            enabled: true,
            dhcp: true,
            autoconf: true,
            'auto-dns': false,
            'auto-routes': true,
          },
          ipv4: { enabled: true, dhcp: true, 'auto-dns': true },
        },
      ],
      routes: { config: [{ destination: '::/0', 'next-hop-interface': 'v6', state: 'absent' }] },
      'dns-resolver': { config: { server: [], search: [] } },
    });
  });

  const cases: [string, unknown, RegExp][] = [
    ['an unknown top-level key', { ovs: {} }, /\/plugins\/network: unknown field 'ovs'/],
    [
      'a key outside the subset inside an interface',
      { interfaces: [{ name: 'x', type: 'ethernet', ethtool: {} }] },
      new RegExp(`${P}/interfaces/0: unknown field 'ethtool'`),
    ],
    [
      "nmstate's bond key under another name",
      { interfaces: [{ name: 'b', type: 'bond', bond: { mode: 'active-backup' } }] },
      new RegExp(`${P}/interfaces/0: unknown field 'bond'`),
    ],
    [
      'an unknown type',
      { interfaces: [{ name: 't', type: 'team' }] },
      new RegExp(`${P}/interfaces/0/type: must be one of "ethernet"`),
    ],
    [
      'a section of another type',
      { interfaces: [{ name: 'x', type: 'veth', veth: { peer: 'y' }, bridge: {} }] },
      new RegExp(`${P}/interfaces/0/type: must be "linux-bridge"`),
    ],
    [
      'a VLAN without its section',
      { interfaces: [{ name: 'x.1', type: 'vlan' }] },
      new RegExp(`${P}/interfaces/0: missing required field 'vlan'`),
    ],
    [
      'no type on an interface that is not absent',
      { interfaces: [{ name: 'x', state: 'up' }] },
      new RegExp(`${P}/interfaces/0: missing required field 'type'`),
    ],
    [
      'an interface name the kernel refuses',
      { interfaces: [{ name: 'a/b', type: 'dummy' }] },
      new RegExp(`${P}/interfaces/0/name: must match pattern`),
    ],
    [
      'a name longer than 15 bytes',
      { interfaces: [{ name: 'x'.repeat(16), type: 'dummy' }] },
      new RegExp(`${P}/interfaces/0/name: must match pattern`),
    ],
    [
      'an IPv4 address that is not one',
      {
        interfaces: [
          {
            name: 'x',
            type: 'dummy',
            ipv4: { enabled: true, address: [{ ip: '192.0.2', 'prefix-length': 24 }] },
          },
        ],
      },
      new RegExp(`${P}/interfaces/0/ipv4/address/0/ip: must match format "ipv4"`),
    ],
    [
      'a prefix too long',
      {
        interfaces: [
          {
            name: 'x',
            type: 'dummy',
            ipv4: { enabled: true, address: [{ ip: '192.0.2.1', 'prefix-length': 33 }] },
          },
        ],
      },
      new RegExp(`${P}/interfaces/0/ipv4/address/0/prefix-length: must be <= 32`),
    ],
    [
      'ipv4 without enabled',
      { interfaces: [{ name: 'x', type: 'dummy', ipv4: { dhcp: true } }] },
      new RegExp(`${P}/interfaces/0/ipv4: missing required field 'enabled'`),
    ],
    [
      'autoconf on IPv4',
      { interfaces: [{ name: 'x', type: 'dummy', ipv4: { enabled: true, autoconf: true } }] },
      new RegExp(`${P}/interfaces/0/ipv4: unknown field 'autoconf'`),
    ],
    [
      'a bad state',
      { interfaces: [{ name: 'x', type: 'dummy', state: 'ignore' }] },
      new RegExp(`${P}/interfaces/0/state: must be one of "up", "down", "absent"`),
    ],
    [
      'a MAC address in another notation',
      { interfaces: [{ name: 'x', type: 'dummy', 'mac-address': '0200.0000.0001' }] },
      new RegExp(`${P}/interfaces/0/mac-address: must match pattern`),
    ],
    [
      'a route destination without a prefix',
      { routes: { config: [{ destination: '198.51.100.0', 'next-hop-interface': 'x' }] } },
      new RegExp(`${P}/routes/config/0/destination: must match a schema in anyOf`),
    ],
    [
      'a route without its interface',
      { routes: { config: [{ destination: '198.51.100.0/24' }] } },
      new RegExp(`${P}/routes/config/0: missing required field 'next-hop-interface'`),
    ],
    [
      'a route state other than absent',
      {
        routes: {
          config: [{ destination: '198.51.100.0/24', 'next-hop-interface': 'x', state: 'up' }],
        },
      },
      new RegExp(`${P}/routes/config/0/state: must be one of "absent"`),
    ],
    [
      'routes.running (read-only in nmstate)',
      { routes: { running: [] } },
      new RegExp(`${P}/routes: unknown field 'running'`),
    ],
    [
      'a DNS server that is a name',
      { 'dns-resolver': { config: { server: ['dns.example.org'] } } },
      new RegExp(`${P}/dns-resolver/config/server/0: must match a schema in anyOf`),
    ],
    [
      'a DNS option outside the subset',
      { 'dns-resolver': { config: { options: ['rotate'] } } },
      new RegExp(`${P}/dns-resolver/config: unknown field 'options'`),
    ],
    [
      'a search domain with a space',
      { 'dns-resolver': { config: { search: ['example .org'] } } },
      new RegExp(`${P}/dns-resolver/config/search/0: must match pattern`),
    ],
  ];
  for (const [what, network, expected] of cases) {
    it(`refuses ${what}, naming the path`, () => {
      assert.match(problemsOf(network), expected);
    });
  }
});

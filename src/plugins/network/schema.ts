import { Type, type Static } from '@sinclair/typebox';
import { SCHEMA_BASE_URL } from '../../document/document.js';

/**
 * The subset of nmstate's state format (https://nmstate.io/devel/yaml_api.html)
 * this plugin applies, with nmstate's own key names, so that an nmstate state
 * file converted to JSON applies unchanged. Every object is closed: a key
 * outside the subset is an InvalidDocument naming its path, never ignored.
 */

/**
 * Linux interface names (dev_valid_name): 1 to 15 bytes, no '/', no whitespace,
 * not '.' or '..'. A name therefore never contains a space or a slash, which the
 * route and DNS resource names always do: the three never collide.
 */
export const INTERFACE_NAME_PATTERN = '^(?!\\.\\.?$)[^\\s/]{1,15}$';
const MAC_PATTERN = '^[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){5}$';
const IPV4_CIDR_PATTERN =
  '^((25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\\.){3}(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])/(3[0-2]|[12]?[0-9])$';
/** Loose on purpose: the address part is checked with node's isIPv6 when planning. */
const IPV6_CIDR_PATTERN = '^[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*/(12[0-8]|1[01][0-9]|[1-9]?[0-9])$';
const DOMAIN_PATTERN =
  '^(?=.{1,253}$)[A-Za-z0-9_]([A-Za-z0-9_-]*[A-Za-z0-9_])?(\\.[A-Za-z0-9_]([A-Za-z0-9_-]*[A-Za-z0-9_])?)*\\.?$';

export const INTERFACE_TYPES = [
  'ethernet',
  'linux-bridge',
  'veth',
  'vlan',
  'bond',
  'dummy',
  'mac-vlan',
  'vxlan',
] as const;
export type InterfaceType = (typeof INTERFACE_TYPES)[number];

export const BOND_MODES = [
  'balance-rr',
  'active-backup',
  'balance-xor',
  'broadcast',
  '802.3ad',
  'balance-tlb',
  'balance-alb',
] as const;
export const MAC_VLAN_MODES = ['vepa', 'bridge', 'private', 'passthru', 'source'] as const;

const closed = { additionalProperties: false } as const;
const interfaceName = (description: string) =>
  Type.String({ pattern: INTERFACE_NAME_PATTERN, description });
const anyIp = (description: string) =>
  Type.String({ anyOf: [{ format: 'ipv4' }, { format: 'ipv6' }], description });
const enumOf = <T extends string>(values: readonly T[], description: string) =>
  Type.Unsafe<T>({ type: 'string', enum: [...values], description });

function addressList(format: 'ipv4' | 'ipv6', maxPrefix: number) {
  return Type.Array(
    Type.Object(
      {
        ip: Type.String({ format }),
        'prefix-length': Type.Integer({ minimum: 0, maximum: maxPrefix }),
      },
      closed,
    ),
    { description: 'Static addresses; the list is the whole set (others are removed).' },
  );
}

const autoFlags = {
  'auto-dns': Type.Optional(Type.Boolean({ description: 'Use DNS servers learned by DHCP/RA.' })),
  'auto-routes': Type.Optional(Type.Boolean({ description: 'Use routes learned by DHCP/RA.' })),
};

export const Ipv4 = Type.Object(
  {
    enabled: Type.Boolean(),
    dhcp: Type.Optional(Type.Boolean()),
    address: Type.Optional(addressList('ipv4', 32)),
    ...autoFlags,
  },
  closed,
);

export const Ipv6 = Type.Object(
  {
    enabled: Type.Boolean(),
    dhcp: Type.Optional(Type.Boolean()),
    autoconf: Type.Optional(Type.Boolean({ description: 'Router advertisements (SLAAC).' })),
    address: Type.Optional(addressList('ipv6', 128)),
    ...autoFlags,
  },
  closed,
);

export const BridgeConfig = Type.Object(
  {
    options: Type.Optional(
      Type.Object({ stp: Type.Optional(Type.Object({ enabled: Type.Boolean() }, closed)) }, closed),
    ),
    port: Type.Optional(
      Type.Array(Type.Object({ name: interfaceName('A port of the bridge.') }, closed), {
        description: 'The whole list of ports; ports left out are detached.',
      }),
    ),
  },
  closed,
);

export const BondConfig = Type.Object(
  {
    mode: enumOf(BOND_MODES, 'The bonding mode.'),
    port: Type.Optional(Type.Array(interfaceName('A port of the bond.'))),
  },
  closed,
);

const typeSections = {
  bridge: Type.Optional(BridgeConfig),
  veth: Type.Optional(Type.Object({ peer: interfaceName('The other end.') }, closed)),
  vlan: Type.Optional(
    Type.Object(
      {
        'base-iface': interfaceName('The parent interface.'),
        id: Type.Integer({ minimum: 0, maximum: 4094 }),
      },
      closed,
    ),
  ),
  'link-aggregation': Type.Optional(BondConfig),
  'mac-vlan': Type.Optional(
    Type.Object(
      {
        'base-iface': interfaceName('The parent interface.'),
        mode: enumOf(MAC_VLAN_MODES, 'The MAC-VLAN mode.'),
      },
      closed,
    ),
  ),
  vxlan: Type.Optional(
    Type.Object(
      {
        id: Type.Integer({ minimum: 0, maximum: 16777215 }),
        remote: Type.Optional(anyIp('The remote VTEP.')),
        'base-iface': Type.Optional(interfaceName('The parent interface.')),
        'destination-port': Type.Optional(Type.Integer({ minimum: 0, maximum: 65535 })),
      },
      closed,
    ),
  ),
};

/** Which section belongs to which type: a section with another type is an error at its path. */
const SECTION_TYPES: Record<keyof typeof typeSections, InterfaceType> = {
  bridge: 'linux-bridge',
  veth: 'veth',
  vlan: 'vlan',
  'link-aggregation': 'bond',
  'mac-vlan': 'mac-vlan',
  vxlan: 'vxlan',
};
/** Sections nmstate requires when it creates an interface of the type. */
const REQUIRED_SECTIONS: Partial<Record<InterfaceType, string>> = {
  veth: 'veth',
  vlan: 'vlan',
  bond: 'link-aggregation',
  'mac-vlan': 'mac-vlan',
  vxlan: 'vxlan',
};

/** A type-specific section fixes the type: the error names the type's path. */
const sectionTypeRules = Object.fromEntries(
  Object.entries(SECTION_TYPES).map(([section, type]) => [
    section,
    { properties: { type: { const: type } } },
  ]),
);

const sectionRules = [
  ...Object.entries(REQUIRED_SECTIONS).map(([type, section]) => ({
    if: {
      type: 'object',
      properties: { type: { const: type }, state: { enum: ['up', 'down'] } },
      required: ['type'],
    },
    then: { properties: { [section]: {} }, required: [section] },
  })),
  // Only an interface being removed may leave its type out.
  {
    if: { type: 'object', properties: { state: { const: 'absent' } }, required: ['state'] },
    else: { properties: { type: {} }, required: ['type'] },
  },
];

export const NetworkInterface = Type.Object(
  {
    name: interfaceName('The kernel interface name; the resource name.'),
    type: Type.Optional(enumOf(INTERFACE_TYPES, 'nmstate interface type.')),
    state: Type.Optional(
      enumOf(
        ['up', 'down', 'absent'] as const,
        'up (default): configured and active; down: configured, not active; absent: no profile and no software device.',
      ),
    ),
    mtu: Type.Optional(Type.Integer({ minimum: 68, maximum: 65535 })),
    'mac-address': Type.Optional(Type.String({ pattern: MAC_PATTERN })),
    ipv4: Type.Optional(Ipv4),
    ipv6: Type.Optional(Ipv6),
    ...typeSections,
  },
  { ...closed, allOf: sectionRules, dependentSchemas: sectionTypeRules },
);

export const RouteEntry = Type.Object(
  {
    destination: Type.String({
      anyOf: [{ pattern: IPV4_CIDR_PATTERN }, { pattern: IPV6_CIDR_PATTERN }],
      description: 'Network in CIDR form, e.g. 198.51.100.0/24 or 0.0.0.0/0.',
    }),
    'next-hop-interface': interfaceName('The interface whose profile holds the route.'),
    'next-hop-address': Type.Optional(anyIp('The gateway; left out for an on-link route.')),
    metric: Type.Optional(Type.Integer({ minimum: 0, maximum: 4294967295 })),
    'table-id': Type.Optional(Type.Integer({ minimum: 0, maximum: 4294967295 })),
    state: Type.Optional(
      enumOf(['absent'] as const, 'absent: remove every route matching the given keys.'),
    ),
  },
  closed,
);

export const DnsConfig = Type.Object(
  {
    server: Type.Optional(Type.Array(anyIp('A name server.'), { maxItems: 16 })),
    search: Type.Optional(Type.Array(Type.String({ pattern: DOMAIN_PATTERN }), { maxItems: 32 })),
  },
  closed,
);

export const NetworkSection = Type.Object(
  {
    interfaces: Type.Optional(
      Type.Array(NetworkInterface, {
        description: 'Interfaces by name; interfaces left out are left alone.',
      }),
    ),
    routes: Type.Optional(Type.Object({ config: Type.Optional(Type.Array(RouteEntry)) }, closed)),
    'dns-resolver': Type.Optional(
      Type.Object(
        {
          config: Type.Optional(
            Type.Object(DnsConfig.properties, {
              ...closed,
              description:
                "NetworkManager's global DNS configuration; a key left out is left alone, [] clears it.",
            }),
          ),
        },
        closed,
      ),
    ),
  },
  {
    $id: `${SCHEMA_BASE_URL}/network.schema.json`,
    title: 'op-dbus network plugin (nmstate state format)',
    ...closed,
  },
);

export type NetworkSection = Static<typeof NetworkSection>;
export type NetworkInterface = Static<typeof NetworkInterface>;
export type Ipv4 = Static<typeof Ipv4>;
export type Ipv6 = Static<typeof Ipv6>;
export type RouteEntry = Static<typeof RouteEntry>;
export type DnsConfig = Static<typeof DnsConfig>;
export type BridgeConfig = Static<typeof BridgeConfig>;
export type BondConfig = Static<typeof BondConfig>;
export type InterfaceState = 'up' | 'down' | 'absent';

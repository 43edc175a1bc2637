import { Type, type Static, type TUnsafe } from '@sinclair/typebox';
import { SCHEMA_BASE_URL } from '../../document/document.js';
import { MANAGED_KEY } from './tables.js';

/**
 * Bridge and port names. A bridge's name is also the name of its local kernel
 * device, and most ports are kernel devices: at most 15 bytes (IFNAMSIZ), no
 * '/', no whitespace, not '.' or '..'. ':' is left out (it marks IP aliases).
 */
export const OVS_NAME_PATTERN = '^[A-Za-z0-9_][A-Za-z0-9_.-]{0,14}$';
/** Keys of external_ids and options: what ovs-vsctl users write, nothing a shell reads specially. */
export const MAP_KEY_PATTERN = '^[A-Za-z0-9_][A-Za-z0-9_.:-]{0,63}$';
/** external_ids keys: the same, except op-dbus's own marker. */
const EXTERNAL_ID_KEY_PATTERN = `^(?!${MANAGED_KEY}$)${MAP_KEY_PATTERN.slice(1)}`;
/** Interface types as ovs-vswitchd names them (internal, patch, vxlan, ...); '' is written "system". */
export const INTERFACE_TYPE_PATTERN = '^[a-z][a-z0-9-]{0,31}$';
export const MAX_VALUE_LENGTH = 1024;
const MAX_BRIDGES = 256;
const MAX_PORTS_PER_BRIDGE = 4096;

function stringEnum<T extends string>(values: readonly T[], description: string): TUnsafe<T> {
  return Type.Unsafe<T>({ type: 'string', enum: [...values], description });
}

const Ensure = stringEnum(
  ['present', 'absent'] as const,
  'present (the default): exists as described; absent: removed.',
);

function stringMap(keyPattern: string, description: string) {
  return Type.Record(
    Type.String({ pattern: keyPattern }),
    Type.String({ maxLength: MAX_VALUE_LENGTH }),
    { additionalProperties: false, description },
  );
}

export const InterfaceSpec = Type.Object(
  {
    type: Type.Optional(
      Type.String({
        pattern: INTERFACE_TYPE_PATTERN,
        description:
          'system (an existing device, the default), internal (a device Open vSwitch creates), ' +
          'patch (options.peer names the other end), tap, vxlan, geneve, ... ' +
          'A type ovs-vswitchd does not know fails at apply, with its words.',
      }),
    ),
    options: Type.Optional(
      stringMap(
        MAP_KEY_PATTERN,
        "The interface's options (peer, remote_ip, ...), all of them: options not listed are removed.",
      ),
    ),
  },
  { additionalProperties: false, description: "The port's one interface, named like the port." },
);

export const PortSpec = Type.Object(
  {
    ensure: Type.Optional(Ensure),
    interface: Type.Optional(InterfaceSpec),
    tag: Type.Optional(
      Type.Union([Type.Integer({ minimum: 0, maximum: 4095 }), Type.Null()], {
        description: 'Access VLAN: 0-4095, or null for none (a trunk). Left out: left alone.',
      }),
    ),
  },
  { additionalProperties: false, description: 'A port; fields left out are left alone.' },
);

export const BridgeSpec = Type.Object(
  {
    ensure: Type.Optional(Ensure),
    datapath_type: Type.Optional(
      stringEnum(
        ['system', 'netdev'] as const,
        'system: the kernel datapath (needs the openvswitch module); netdev: the userspace one.',
      ),
    ),
    fail_mode: Type.Optional(
      stringEnum(['standalone', 'secure'] as const, 'What the bridge does without a controller.'),
    ),
    stp_enable: Type.Optional(Type.Boolean({ description: 'Spanning tree on this bridge.' })),
    external_ids: Type.Optional(
      stringMap(
        EXTERNAL_ID_KEY_PATTERN,
        `Keys to set on the bridge; other keys are left alone. '${MANAGED_KEY}' is op-dbus's own.`,
      ),
    ),
    exclusive_ports: Type.Optional(
      Type.Boolean({
        description:
          'true: ports on this bridge that the document does not name are removed ' +
          "(never the bridge's own local port). Default false: they are left alone.",
      }),
    ),
    ports: Type.Optional(
      Type.Record(Type.String({ pattern: OVS_NAME_PATTERN }), PortSpec, {
        additionalProperties: false,
        maxProperties: MAX_PORTS_PER_BRIDGE,
        description: 'Ports by name; a port named like the bridge is its local port.',
      }),
    ),
  },
  {
    additionalProperties: false,
    description: 'A bridge; fields left out are left alone (and take OVS defaults when created).',
  },
);

export const OpenvswitchSection = Type.Object(
  {
    bridges: Type.Record(Type.String({ pattern: OVS_NAME_PATTERN }), BridgeSpec, {
      additionalProperties: false,
      maxProperties: MAX_BRIDGES,
      description: 'Bridges by name. Bridges the document does not name are left alone.',
    }),
  },
  {
    $id: `${SCHEMA_BASE_URL}/openvswitch.schema.json`,
    title: 'op-dbus openvswitch plugin',
    additionalProperties: false,
  },
);

export type InterfaceSpec = Static<typeof InterfaceSpec>;
export type PortSpec = Static<typeof PortSpec>;
export type BridgeSpec = Static<typeof BridgeSpec>;
export type OpenvswitchSection = Static<typeof OpenvswitchSection>;

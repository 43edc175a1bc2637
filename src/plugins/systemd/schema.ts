import { Type, type Static } from '@sinclair/typebox';
import { SCHEMA_BASE_URL } from '../../document/document.js';

/**
 * Unit names as systemd writes them (unit-name.h): letters, digits and : _ . -,
 * an optional @instance, and a known unit type. Templates (`foo@.service`) cannot
 * be started or observed, and escaped names (`\x2d`) are left out on purpose: no
 * backslash, no space, nothing a shell would read specially.
 */
export const UNIT_NAME_PATTERN =
  '^[A-Za-z0-9:_.-]+(@[A-Za-z0-9:_.-]+)?\\.(service|socket|target|timer|path|mount|automount|swap|slice|scope|device)$';
/** systemd's UNIT_NAME_MAX is 256 bytes including the terminating NUL. */
export const UNIT_NAME_MAX_LENGTH = 255;

/**
 * Units the daemon itself needs: stopping or masking one would cut the branch it
 * sits on (no bus, no daemon, no logs). dbus-broker.service is listed because on
 * distributions that use it, dbus.service is only its alias.
 */
export const PROTECTED_UNITS = [
  'dbus.service',
  'dbus.socket',
  'dbus-broker.service',
  'op-dbus.service',
  'systemd-journald.service',
  'systemd-journald.socket',
] as const;

const unitNameRegExp = new RegExp(UNIT_NAME_PATTERN, 'u');

/** True when the schema accepts `name` as a unit name. */
export function isDescribableUnitName(name: string): boolean {
  return name.length <= UNIT_NAME_MAX_LENGTH && unitNameRegExp.test(name);
}

export function isProtectedUnit(name: string): boolean {
  return (PROTECTED_UNITS as readonly string[]).includes(name);
}

export const ActiveState = Type.Unsafe<'active' | 'inactive'>({
  type: 'string',
  enum: ['active', 'inactive'],
  description:
    'active: running (ActiveState active or reloading); inactive: not running (inactive or failed).',
});

export const UnitSpec = Type.Object(
  {
    active_state: Type.Optional(ActiveState),
    enabled: Type.Optional(
      Type.Boolean({
        description:
          'true: enabled at boot (unit file state "enabled"; a runtime-only enablement is made persistent). ' +
          'false: not enabled. Units without an [Install] section (static, generated, transient, alias, indirect) cannot be enabled.',
      }),
    ),
    masked: Type.Optional(
      Type.Boolean({
        description:
          'true: masked persistently (linked to /dev/null); false: not masked, at runtime or persistently.',
      }),
    ),
  },
  {
    additionalProperties: false,
    minProperties: 1,
    description: 'The state of one unit; fields left out are left alone.',
    // A masked unit can neither run nor be enabled: say so at validation, not at apply.
    if: { type: 'object', properties: { masked: { const: true } }, required: ['masked'] },
    then: {
      type: 'object',
      properties: { active_state: { const: 'inactive' }, enabled: { const: false } },
    },
  },
);

/** Layered over UnitSpec for the protected names: they may never be stopped or masked. */
const ProtectedUnitSpec = Type.Object({
  active_state: Type.Optional(
    Type.Literal('active', { description: 'op-dbus needs this unit running.' }),
  ),
  masked: Type.Optional(Type.Literal(false, { description: 'op-dbus needs this unit.' })),
});

export const SystemdSection = Type.Object(
  {
    units: Type.Record(Type.String({ pattern: UNIT_NAME_PATTERN }), UnitSpec, {
      description: 'Units by full name (nginx.service, getty@tty1.service, ...).',
      additionalProperties: false,
      propertyNames: { maxLength: UNIT_NAME_MAX_LENGTH },
      // In allOf rather than beside patternProperties: ajv's strict mode refuses a
      // property that its own schema object also matches by pattern.
      allOf: [
        Type.Object(
          Object.fromEntries(
            PROTECTED_UNITS.map((name) => [name, Type.Optional(ProtectedUnitSpec)]),
          ),
        ),
      ],
    }),
  },
  {
    $id: `${SCHEMA_BASE_URL}/systemd.schema.json`,
    title: 'op-dbus systemd plugin',
    additionalProperties: false,
  },
);

export type UnitSpec = Static<typeof UnitSpec>;
export type SystemdSection = Static<typeof SystemdSection>;

/** The plugin's daemon settings (`plugins.systemd` in the configuration file). */
export const SystemdConfig = Type.Object(
  {
    bus: Type.String({
      minLength: 1,
      description:
        "The systemd manager to drive: 'system' (default), 'user' ($XDG_RUNTIME_DIR/bus) or a D-Bus address.",
    }),
  },
  { additionalProperties: false },
);
export type SystemdConfig = Static<typeof SystemdConfig>;

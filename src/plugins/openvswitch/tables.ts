import type { ColumnType } from './ovsdb/datum.js';
import type { TableSpecs } from './ovsdb/replica.js';

/** The database ovs-vswitchd reads (vswitch.ovsschema). */
export const DATABASE = 'Open_vSwitch';

const string: ColumnType = { kind: 'atom', type: 'string' };
const integer: ColumnType = { kind: 'atom', type: 'integer' };
const boolean: ColumnType = { kind: 'atom', type: 'boolean' };
const uuidSet: ColumnType = { kind: 'set', type: 'uuid' };
const stringMap: ColumnType = { kind: 'map', key: 'string', value: 'string' };
/** A set of at most one element: how OVSDB writes an optional value (see ColumnType). */
const optionalString: ColumnType = { kind: 'optional', type: 'string' };
const optionalInteger: ColumnType = { kind: 'optional', type: 'integer' };

/**
 * The columns the plugin monitors: what it plans from, guards with, and verifies
 * with. Statistics, status and link state are left out on purpose: they change
 * all the time and would only wake the change feed.
 */
export const OVS_TABLES = {
  Open_vSwitch: {
    bridges: uuidSet,
    // ovs-vswitchd copies next_cfg to cur_cfg once it has applied a configuration.
    next_cfg: integer,
    cur_cfg: integer,
  },
  Bridge: {
    name: string,
    ports: uuidSet,
    datapath_type: string,
    fail_mode: optionalString,
    stp_enable: boolean,
    external_ids: stringMap,
  },
  Port: {
    name: string,
    interfaces: uuidSet,
    tag: optionalInteger,
    external_ids: stringMap,
  },
  Interface: {
    name: string,
    type: string,
    options: stringMap,
    // Set by ovs-vswitchd: -1 or empty when it could not add the interface.
    ofport: optionalInteger,
    error: optionalString,
    external_ids: stringMap,
  },
} as const satisfies TableSpecs;

/** Columns compared by a `wait` guard on a row op-dbus read before changing it. */
export const GUARDED_COLUMNS = {
  Bridge: ['name', 'ports', 'datapath_type', 'fail_mode', 'stp_enable', 'external_ids'],
  Port: ['name', 'interfaces', 'tag'],
  Interface: ['name', 'type', 'options'],
} as const;

/** The external_ids key on every row op-dbus creates. */
export const MANAGED_KEY = 'op-dbus-managed';

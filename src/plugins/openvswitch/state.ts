import type { Atom, ColumnValue } from './ovsdb/datum.js';
import type { Replica, Row, TouchedRows } from './ovsdb/replica.js';

/**
 * What the plugin knows of Open vSwitch: a plain, immutable snapshot of the
 * replica's Bridge, Port and Interface rows, taken by observe and handed to the
 * pure planner (and the transaction builder, which guards on exactly these values).
 */
export interface ObservedInterface {
  uuid: string;
  name: string;
  /** As stored: '' is an ordinary ("system") device. */
  type: string;
  options: Readonly<Record<string, string>>;
  /** null while ovs-vswitchd has not assigned one; -1 when it failed to. */
  ofport: number | null;
  error: string | null;
  externalIds: Readonly<Record<string, string>>;
}

export interface ObservedPort {
  uuid: string;
  name: string;
  /** The bridge whose `ports` refer to this port (null: none; ovsdb collects it). */
  bridge: string | null;
  tag: number | null;
  /** The uuids in the port's `interfaces` column, as stored. */
  interfaceUuids: readonly string[];
  interfaces: readonly ObservedInterface[];
  externalIds: Readonly<Record<string, string>>;
}

export interface ObservedBridge {
  uuid: string;
  name: string;
  /** As stored: '' means the default, "system". */
  datapathType: string;
  failMode: string | null;
  stpEnable: boolean;
  externalIds: Readonly<Record<string, string>>;
  /** The uuids in the bridge's `ports` column, as stored. */
  portUuids: readonly string[];
  /** The names of those ports. */
  ports: readonly string[];
}

export interface OvsState {
  bridges: ReadonlyMap<string, ObservedBridge>;
  /** Every port by name, whichever bridge holds it. */
  ports: ReadonlyMap<string, ObservedPort>;
  curCfg: number;
  nextCfg: number;
}

// The replica checked every value's type when it arrived; these only narrow.
function text(row: Row, column: string): string {
  const value = row[column];
  return typeof value === 'string' ? value : '';
}

function atoms(row: Row, column: string): readonly Atom[] {
  const value: ColumnValue | undefined = row[column];
  return Array.isArray(value) ? (value as readonly Atom[]) : [];
}

function strings(row: Row, column: string): string[] {
  return atoms(row, column).filter((atom): atom is string => typeof atom === 'string');
}

function firstNumber(row: Row, column: string): number | null {
  const [first] = atoms(row, column);
  return typeof first === 'number' ? first : null;
}

function firstString(row: Row, column: string): string | null {
  const [first] = atoms(row, column);
  return typeof first === 'string' ? first : null;
}

function stringMap(row: Row, column: string): Record<string, string> {
  const value = row[column];
  if (!(value instanceof Map)) return {};
  return Object.fromEntries([...value].map(([key, val]) => [String(key), String(val)]));
}

function integer(row: Row, column: string): number {
  const value = row[column];
  return typeof value === 'number' ? value : 0;
}

function observeInterface(uuid: string, row: Row): ObservedInterface {
  return {
    uuid,
    name: text(row, 'name'),
    type: text(row, 'type'),
    options: stringMap(row, 'options'),
    ofport: firstNumber(row, 'ofport'),
    error: firstString(row, 'error'),
    externalIds: stringMap(row, 'external_ids'),
  };
}

/** A snapshot of the replica (the caller has synced it). */
export function snapshot(replica: Replica): OvsState {
  const portBridge = new Map<string, string>();
  const bridges = new Map<string, ObservedBridge>();
  for (const [uuid, row] of replica.rows('Bridge')) {
    const portUuids = strings(row, 'ports');
    const name = text(row, 'name');
    for (const port of portUuids) portBridge.set(port, name);
    bridges.set(name, {
      uuid,
      name,
      datapathType: text(row, 'datapath_type'),
      failMode: firstString(row, 'fail_mode'),
      stpEnable: row.stp_enable === true,
      externalIds: stringMap(row, 'external_ids'),
      portUuids,
      ports: portUuids.map((port) => text(replica.row('Port', port) ?? {}, 'name')),
    });
  }
  const ports = new Map<string, ObservedPort>();
  for (const [uuid, row] of replica.rows('Port')) {
    const name = text(row, 'name');
    // Two ports of one name: ovs-vswitchd refuses the second; plan against the bridged one.
    if (ports.has(name) && !portBridge.has(uuid)) continue;
    const interfaceUuids = strings(row, 'interfaces');
    ports.set(name, {
      uuid,
      name,
      bridge: portBridge.get(uuid) ?? null,
      tag: firstNumber(row, 'tag'),
      interfaceUuids,
      interfaces: interfaceUuids.flatMap((iface) => {
        const ifaceRow = replica.row('Interface', iface);
        return ifaceRow === undefined ? [] : [observeInterface(iface, ifaceRow)];
      }),
      externalIds: stringMap(row, 'external_ids'),
    });
  }
  const [root] = replica.rows('Open_vSwitch').values();
  return {
    bridges,
    ports,
    curCfg: root === undefined ? 0 : integer(root, 'cur_cfg'),
    nextCfg: root === undefined ? 0 : integer(root, 'next_cfg'),
  };
}

/** Bridge names each Bridge, Port and Interface row belongs to, for the change feed. */
export function bridgeIndex(replica: Replica): Map<string, Set<string>> {
  const index = new Map<string, Set<string>>();
  const add = (uuid: string, bridge: string): void => {
    const set = index.get(uuid) ?? new Set<string>();
    set.add(bridge);
    index.set(uuid, set);
  };
  for (const [uuid, row] of replica.rows('Bridge')) {
    const name = text(row, 'name');
    add(uuid, name);
    for (const port of strings(row, 'ports')) {
      add(port, name);
      for (const iface of strings(replica.row('Port', port) ?? {}, 'interfaces')) add(iface, name);
    }
  }
  return index;
}

/** The bridges `touched` rows belonged to before or belong to now. */
export function bridgesTouched(
  touched: TouchedRows,
  before: ReadonlyMap<string, ReadonlySet<string>>,
  after: ReadonlyMap<string, ReadonlySet<string>>,
): string[] {
  const names = new Set<string>();
  for (const [table, uuids] of touched) {
    if (table === 'Open_vSwitch') continue;
    for (const uuid of uuids) {
      for (const name of before.get(uuid) ?? []) names.add(name);
      for (const name of after.get(uuid) ?? []) names.add(name);
    }
  }
  return [...names].sort();
}

/** cur_cfg of the Open_vSwitch row: the last next_cfg ovs-vswitchd has applied. */
export function appliedConfiguration(replica: Replica): number {
  const [root] = replica.rows('Open_vSwitch').values();
  return root === undefined ? 0 : integer(root, 'cur_cfg');
}

import { optional, ovsMap, ovsSet, uuidRef, type Json } from './ovsdb/datum.js';
import type { ObservedBridge, ObservedInterface, ObservedPort } from './state.js';
import { GUARDED_COLUMNS } from './tables.js';

/**
 * `wait` operations (RFC 7047 5.2.6) that make a transaction depend on what
 * observe read: with `timeout: 0` a guard whose rows differ fails at once and
 * ovsdb-server aborts the whole transaction, so a change someone else made in
 * the meantime is never overwritten (optimistic concurrency, like the IDL's).
 */

function waitOp(
  table: string,
  where: Json[],
  columns: readonly string[],
  rows: Record<string, Json>[],
): Json {
  return { op: 'wait', table, where, columns: [...columns], until: '==', rows, timeout: 0 };
}

function byUuid(uuid: string): Json[] {
  return [['_uuid', '==', uuidRef(uuid)]];
}

function byName(name: string): Json[] {
  return [['name', '==', name]];
}

/** The bridge row exactly as observed, in every column a plan depends on. */
export function bridgeUnchanged(bridge: ObservedBridge): Json {
  return waitOp('Bridge', byUuid(bridge.uuid), GUARDED_COLUMNS.Bridge, [
    {
      name: bridge.name,
      ports: ovsSet(bridge.portUuids.map(uuidRef)),
      datapath_type: bridge.datapathType,
      fail_mode: optional(bridge.failMode),
      stp_enable: bridge.stpEnable,
      external_ids: ovsMap(Object.entries(bridge.externalIds)),
    },
  ]);
}

/** The bridge still exists under its name (its ports may change meanwhile). */
export function bridgeStillThere(bridge: ObservedBridge): Json {
  return waitOp('Bridge', byUuid(bridge.uuid), ['name'], [{ name: bridge.name }]);
}

/** No bridge of this name exists (it is about to be created). */
export function bridgeStillAbsent(name: string): Json {
  return waitOp('Bridge', byName(name), ['name'], []);
}

export function portUnchanged(port: ObservedPort): Json {
  return waitOp('Port', byUuid(port.uuid), GUARDED_COLUMNS.Port, [
    {
      name: port.name,
      interfaces: ovsSet(port.interfaceUuids.map(uuidRef)),
      tag: optional(port.tag),
    },
  ]);
}

export function interfaceUnchanged(iface: ObservedInterface): Json {
  return waitOp('Interface', byUuid(iface.uuid), GUARDED_COLUMNS.Interface, [
    { name: iface.name, type: iface.type, options: ovsMap(Object.entries(iface.options)) },
  ]);
}

/** Neither a port nor an interface of this name exists (one is about to be created). */
export function portStillAbsent(name: string): Json[] {
  return [
    waitOp('Port', byName(name), ['name'], []),
    waitOp('Interface', byName(name), ['name'], []),
  ];
}

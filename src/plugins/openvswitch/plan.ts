import { boundedText } from '../../errors.js';
import type { PlannedChange } from '../../engine/plugin.js';
import type { BridgeSpec, OpenvswitchSection, PortSpec } from './schema.js';
import type { ObservedBridge, ObservedPort, OvsState } from './state.js';
import { MANAGED_KEY } from './tables.js';

export type BridgeAction = 'create' | 'update' | 'remove' | 'none';
/** move: the port is on another bridge the document names, and goes to this one. */
export type PortAction = 'create' | 'update' | 'move' | 'remove' | 'none' | 'unresolvable';

export interface BridgeChange extends PlannedChange {
  kind: 'bridge';
  action: BridgeAction;
  bridge: string;
}

export interface PortChange extends PlannedChange {
  kind: 'port';
  action: PortAction;
  bridge: string;
  port: string;
}

export type OvsChange = BridgeChange | PortChange;

/** A port's resource name: bridge and port, which no name can contain a '/' of. */
export function portResource(bridge: string, port: string): string {
  return `${bridge}/${port}`;
}

/** OVSDB writes the defaults as ''; the document says "system". */
export function documentType(stored: string): string {
  return stored === '' ? 'system' : stored;
}

export function storedType(documented: string): string {
  return documented === 'system' ? '' : documented;
}

function sameMap(
  a: Readonly<Record<string, string>>,
  b: Readonly<Record<string, string>>,
): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((key) => a[key] === b[key]);
}

/** The bridge's fields the document names, as they are now. */
function bridgeFieldsNow(spec: BridgeSpec, bridge: ObservedBridge): Record<string, unknown> {
  const now: Record<string, unknown> = {};
  if (spec.datapath_type !== undefined) now.datapath_type = documentType(bridge.datapathType);
  if (spec.fail_mode !== undefined) now.fail_mode = bridge.failMode;
  if (spec.stp_enable !== undefined) now.stp_enable = bridge.stpEnable;
  if (spec.external_ids !== undefined) {
    now.external_ids = Object.fromEntries(
      Object.keys(spec.external_ids).flatMap((key) =>
        bridge.externalIds[key] === undefined ? [] : [[key, bridge.externalIds[key]]],
      ),
    );
  }
  now.managed = bridge.externalIds[MANAGED_KEY] !== undefined;
  return now;
}

function bridgeFieldsWanted(spec: BridgeSpec): Record<string, unknown> {
  const { ports: _ports, ensure: _ensure, exclusive_ports: _exclusive, ...fields } = spec;
  return fields;
}

function bridgeMatches(spec: BridgeSpec, bridge: ObservedBridge): boolean {
  const ids = spec.external_ids ?? {};
  return (
    (spec.datapath_type === undefined ||
      spec.datapath_type === documentType(bridge.datapathType)) &&
    (spec.fail_mode === undefined || spec.fail_mode === bridge.failMode) &&
    (spec.stp_enable === undefined || spec.stp_enable === bridge.stpEnable) &&
    Object.entries(ids).every(([key, value]) => bridge.externalIds[key] === value)
  );
}

/** A port as the document would describe it. */
export function portNow(port: ObservedPort): Record<string, unknown> {
  const [iface] = port.interfaces;
  return {
    interface: { type: documentType(iface?.type ?? ''), options: { ...iface?.options } },
    tag: port.tag,
  };
}

function portMatches(spec: PortSpec, port: ObservedPort): boolean {
  const [iface] = port.interfaces;
  if (iface === undefined) return false;
  const wanted = spec.interface;
  return (
    (spec.tag === undefined || spec.tag === port.tag) &&
    (wanted?.type === undefined || wanted.type === documentType(iface.type)) &&
    (wanted?.options === undefined || sameMap(wanted.options, iface.options))
  );
}

/** What ovs-vswitchd says is wrong with a port that is otherwise as desired. */
function healthReason(port: ObservedPort): string | undefined {
  const broken = port.interfaces.find((iface) => iface.error !== null);
  return broken ? boundedText(`ovs-vswitchd reports: ${broken.error}`) : undefined;
}

interface PlanInput {
  desired: OpenvswitchSection;
  observed: OvsState;
  /** Port name -> the present bridges in the document that name it present. */
  claims: Map<string, string[]>;
}

function planPort(input: PlanInput, bridge: string, name: string, spec: PortSpec): PortChange {
  const base = { kind: 'port' as const, bridge, port: name, resource: portResource(bridge, name) };
  const port = input.observed.ports.get(name);
  const from = port === undefined ? null : portNow(port);
  const bridgeWanted = input.desired.bridges[bridge]?.ensure !== 'absent';
  if (spec.ensure === 'absent' || !bridgeWanted) {
    const here = port !== undefined && port.bridge === bridge;
    if (spec.ensure !== 'absent') {
      return {
        ...base,
        action: 'unresolvable',
        from,
        to: spec,
        reason: 'its bridge is to be absent',
      };
    }
    return { ...base, action: here ? 'remove' : 'none', from: here ? from : null, to: null };
  }
  const claimants = input.claims.get(name) ?? [];
  if (claimants.length > 1) {
    const reason = `the document names port ${name} on bridges ${claimants.join(', ')}`;
    return { ...base, action: 'unresolvable', from, to: spec, reason };
  }
  if (port === undefined || port.bridge === null)
    return { ...base, action: 'create', from, to: spec };
  if (port.interfaces.length !== 1) {
    const reason = `port ${name} has ${port.interfaces.length} interfaces (a bond); only single-interface ports are managed`;
    return { ...base, action: 'unresolvable', from, to: spec, reason };
  }
  if (port.bridge !== bridge) {
    if (input.desired.bridges[port.bridge] === undefined) {
      const reason = `port ${name} is on bridge ${port.bridge}, which the document does not name`;
      return { ...base, action: 'unresolvable', from, to: spec, reason };
    }
    return { ...base, action: 'move', from: { bridge: port.bridge, ...from }, to: spec };
  }
  const action = portMatches(spec, port) ? 'none' : 'update';
  const reason = action === 'none' ? healthReason(port) : undefined;
  return { ...base, action, from, to: spec, ...(reason === undefined ? {} : { reason }) };
}

function planBridge(input: PlanInput, name: string, spec: BridgeSpec): OvsChange[] {
  const bridge = input.observed.bridges.get(name);
  const from = bridge === undefined ? null : bridgeFieldsNow(spec, bridge);
  const base = { kind: 'bridge' as const, bridge: name, resource: name, from };
  let head: BridgeChange;
  if (spec.ensure === 'absent') {
    head = { ...base, action: bridge === undefined ? 'none' : 'remove', to: null };
  } else {
    const to = bridgeFieldsWanted(spec);
    const action =
      bridge === undefined ? 'create' : bridgeMatches(spec, bridge) ? 'none' : 'update';
    head = { ...base, action, to };
  }
  const named = spec.ports ?? {};
  const ports = Object.entries(named).map(([port, portSpec]) =>
    planPort(input, name, port, portSpec),
  );
  if (spec.ensure !== 'absent' && spec.exclusive_ports === true && bridge !== undefined) {
    for (const port of bridge.ports) {
      // The local port is the bridge itself: never "unnamed".
      // A port another bridge of the document claims moves there: not a removal.
      if (port === name || named[port] !== undefined || input.claims.has(port)) continue;
      const observed = input.observed.ports.get(port);
      const managed = observed?.externalIds[MANAGED_KEY] !== undefined;
      ports.push({
        kind: 'port',
        bridge: name,
        port,
        resource: portResource(name, port),
        action: 'remove',
        from: observed === undefined ? null : portNow(observed),
        to: null,
        reason: `not named in the document and the bridge has exclusive_ports (${managed ? 'created by op-dbus' : 'not created by op-dbus'})`,
      });
    }
  }
  return [head, ...ports];
}

/**
 * Pure: one change per bridge and per port the document names, in document
 * order (each bridge before its ports), plus the removal of ports the document
 * does not name on a bridge with exclusive_ports. Bridges the document does not
 * name are never in the plan.
 */
export function planOpenvswitch(desired: OpenvswitchSection, observed: OvsState): OvsChange[] {
  const claims = new Map<string, string[]>();
  for (const [bridge, spec] of Object.entries(desired.bridges)) {
    if (spec.ensure === 'absent') continue;
    for (const [port, portSpec] of Object.entries(spec.ports ?? {})) {
      if (portSpec.ensure === 'absent') continue;
      claims.set(port, [...(claims.get(port) ?? []), bridge]);
    }
  }
  const input: PlanInput = { desired, observed, claims };
  return Object.entries(desired.bridges).flatMap(([name, spec]) => planBridge(input, name, spec));
}

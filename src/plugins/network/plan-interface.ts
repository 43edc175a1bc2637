import { compareInterface, canonicalInterface } from './compare.js';
import {
  declaredPorts,
  desiredState,
  isSoftwareType,
  parentOf,
  type ObservedInterface,
  type ObservedNetwork,
  type PlannedChange,
} from './model.js';
import type { InterfaceType, NetworkInterface, NetworkSection } from './schema.js';

/**
 * Actions on an interface:
 * - create: no profile yet (the device may exist, unconfigured);
 * - update: the profile changes (and the device follows: reapply or activate);
 * - activate / deactivate: only the state differs;
 * - remove: profiles deleted, and a software device with them;
 * - refused: not done as the document stands; `reason` says why.
 */
export type InterfaceAction =
  'none' | 'create' | 'update' | 'activate' | 'deactivate' | 'remove' | 'refused';

/** What the rest of the document says about interfaces, for the checks one interface needs. */
export interface DocumentIndex {
  /** Interfaces by name, the first entry for a name that appears more than once. */
  byName: ReadonlyMap<string, NetworkInterface>;
  /** How many entries name each interface. */
  counts: ReadonlyMap<string, number>;
  /** For each interface some bridge or bond lists as a port, that controller. */
  controllerOf: ReadonlyMap<string, string>;
}

export function indexDocument(section: NetworkSection): DocumentIndex {
  const byName = new Map<string, NetworkInterface>();
  const counts = new Map<string, number>();
  const controllerOf = new Map<string, string>();
  for (const iface of section.interfaces ?? []) {
    counts.set(iface.name, (counts.get(iface.name) ?? 0) + 1);
    if (!byName.has(iface.name)) byName.set(iface.name, iface);
    if (desiredState(iface) === 'absent') continue;
    for (const port of declaredPorts(iface) ?? []) controllerOf.set(port, iface.name);
  }
  return { byName, counts, controllerOf };
}

/** Whether an interface will exist after the apply: named up/down, or there now and not named absent. */
function willExist(name: string, index: DocumentIndex, observed: ObservedNetwork): boolean {
  const named = index.byName.get(name);
  if (named) return desiredState(named) !== 'absent';
  const now = observed.interfaces.get(name);
  return now !== undefined && (now.device || now.profile);
}

/** Whether the interface counts as existing now (a physical device without a profile does not). */
export function existsNow(observed: ObservedInterface | undefined): boolean {
  if (!observed) return false;
  return observed.profile || (observed.device && isSoftwareType(observed.current.type));
}

/**
 * Whether a document's type fits the interface's: a veth is also an ethernet
 * interface (older nmstate reported veths as ethernet, and NetworkManager runs
 * ethernet profiles on them).
 */
function sameType(desired: InterfaceType, current: InterfaceType): boolean {
  return desired === current || (desired === 'ethernet' && current === 'veth');
}

/** The default-route families this change would take away from a named interface, if any. */
function familiesLost(desired: NetworkInterface, now: ObservedInterface): string[] {
  return now.defaultRoute.filter((family) => desired[family]?.enabled === false);
}

/** Why an up/down interface cannot be planned as the document and the machine stand, if so. */
function refusal(
  desired: NetworkInterface,
  now: ObservedInterface | undefined,
  index: DocumentIndex,
  observed: ObservedNetwork,
): string | undefined {
  const name = desired.name;
  if ((index.counts.get(name) ?? 0) > 1) {
    return `${name} is named ${index.counts.get(name)} times in interfaces`;
  }
  if (
    now &&
    existsNow(now) &&
    desired.type !== undefined &&
    !sameType(desired.type, now.current.type)
  ) {
    return `${name} is a ${now.current.type}, not a ${desired.type}: remove it (state absent) first`;
  }
  const controller = index.controllerOf.get(name);
  if (
    controller !== undefined &&
    (desired.ipv4?.enabled === true || desired.ipv6?.enabled === true)
  ) {
    return `${name} is a port of ${controller}: a port has no IP configuration of its own`;
  }
  if (controller === undefined && desired.ipv4?.enabled === true) {
    // What the document leaves out stays as the profile has it.
    const current = now?.profile ? now.current.ipv4 : undefined;
    const dhcp = desired.ipv4.dhcp ?? current?.dhcp === true;
    const addresses = desired.ipv4.address ?? current?.address ?? [];
    if (!dhcp && addresses.length === 0) {
      return 'IPv4 enabled without DHCP needs an address (NetworkManager refuses method manual without one)';
    }
  }
  if (desired.ipv6?.autoconf === true && desired.ipv6.dhcp === false) {
    return 'NetworkManager has no IPv6 autoconf without DHCPv6 (set dhcp true, or autoconf false)';
  }
  if (now && desiredState(desired) === 'up') {
    const lost = familiesLost(desired, now);
    if (lost.length > 0) {
      return `${name} carries the ${lost.join(' and ')} default route: disabling it takes the interface down; name it with state down or absent to do that`;
    }
  }
  for (const port of declaredPorts(desired) ?? []) {
    if (port === name) return `${name} cannot be its own port`;
    if (!willExist(port, index, observed)) {
      return `port ${port} does not exist and the document does not describe it`;
    }
    const portNow = observed.interfaces.get(port);
    const portNamed = index.byName.get(port);
    const explicitlyDown = portNamed !== undefined && desiredState(portNamed) !== 'up';
    if (portNow && portNow.defaultRoute.length > 0 && !explicitlyDown) {
      return `port ${port} carries the default route and would lose its addresses; name it with state down or absent to do that`;
    }
  }
  const parent = parentOf(desired);
  if (parent !== undefined && !willExist(parent, index, observed)) {
    return `base interface ${parent} does not exist and the document does not describe it`;
  }
  return undefined;
}

/** One interface's change: exactly one, whatever the document and the machine say. */
export function planInterface(
  desired: NetworkInterface,
  observed: ObservedNetwork,
  index: DocumentIndex,
): PlannedChange {
  const name = desired.name;
  const now = observed.interfaces.get(name);
  const state = desiredState(desired);
  const to = canonicalInterface(desired);
  if (state === 'absent') {
    if ((index.counts.get(name) ?? 0) > 1) {
      return {
        resource: name,
        action: 'refused',
        from: now?.current ?? null,
        to,
        reason: `${name} is named ${index.counts.get(name)} times in interfaces`,
      };
    }
    return existsNow(now)
      ? { resource: name, action: 'remove', from: now?.current ?? null, to: null }
      : { resource: name, action: 'none', from: null, to: null };
  }
  const reason = refusal(desired, now, index, observed);
  if (reason !== undefined) {
    return { resource: name, action: 'refused', from: now?.current ?? null, to, reason };
  }
  if (!now || !now.profile) {
    const from = now ? compareInterface(desired, now.current).from : null;
    return { resource: name, action: 'create', from, to };
  }
  const { differing, from } = compareInterface(desired, now.current);
  const action: InterfaceAction =
    differing.length === 0
      ? 'none'
      : differing.length === 1 && differing[0] === 'state'
        ? state === 'up'
          ? 'activate'
          : 'deactivate'
        : 'update';
  return { resource: name, action, from, to };
}

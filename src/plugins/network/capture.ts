import type { Capture } from '../../engine/plugin.js';
import { compareInterface } from './compare.js';
import {
  DNS_SEARCH_RESOURCE,
  DNS_SERVER_RESOURCE,
  canonicalRoute,
  declaredPorts,
  desiredState,
  routeMatches,
  routeResource,
  type ObservedInterface,
  type ObservedNetwork,
} from './model.js';
import { existsNow } from './plan-interface.js';
import type { NetworkInterface, NetworkSection, RouteEntry } from './schema.js';

/** Type sections the schema requires when an interface of the type is up or down. */
const REQUIRED_SECTION: Partial<Record<string, keyof NetworkInterface>> = {
  veth: 'veth',
  vlan: 'vlan',
  bond: 'link-aggregation',
  'mac-vlan': 'mac-vlan',
  vxlan: 'vxlan',
};

/** Drops the nulls a projection leaves for keys the current side lacks. */
function withoutNulls(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutNulls);
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([, inner]) => inner !== null && inner !== undefined)
      .map(([key, inner]) => [key, withoutNulls(inner)]),
  );
}

/**
 * The interface as it is now, cut to the keys the document gives (a rollback
 * then writes back exactly what the apply wrote), with its type, its state and
 * the type section the schema asks for. A veth whose peer NetworkManager does
 * not know is described as ethernet, which a veth also is.
 */
function interfaceBefore(desired: NetworkInterface, now: ObservedInterface): NetworkInterface {
  const current = now.current;
  const removing = desiredState(desired) === 'absent';
  const before = removing
    ? { ...current }
    : (withoutNulls(compareInterface(desired, current).from) as NetworkInterface);
  before.name = current.name;
  before.state = current.state;
  before.type = current.type;
  const section = REQUIRED_SECTION[current.type];
  if (section !== undefined && before[section] === undefined) {
    if (current[section] !== undefined) Object.assign(before, { [section]: current[section] });
    else if (current.type === 'veth') before.type = 'ethernet';
  }
  return before;
}

/**
 * Pure: the section that puts back what `desired` names as `observed` shows it
 * now, for an apply on probation. Exact for interfaces that did not exist (they
 * are made absent again), for profiled interfaces the document changes, for
 * routes and for DNS. Approximate when the document removes a profiled
 * interface (what the profile held outside the subset is lost), names a device
 * that has no profile of its own (the profile made on probation stays), or
 * attaches ports it does not describe (their profiles stay changed, detached).
 */
export function captureNetwork(
  desired: NetworkSection,
  observed: ObservedNetwork,
): Capture<NetworkSection> {
  let exact = true;
  const interfaces: NetworkInterface[] = [];
  const named = new Set((desired.interfaces ?? []).map((iface) => iface.name));
  const seen = new Set<string>();
  for (const iface of desired.interfaces ?? []) {
    if (seen.has(iface.name)) continue;
    seen.add(iface.name);
    const now = observed.interfaces.get(iface.name);
    if (!existsNow(now)) {
      interfaces.push({ name: iface.name, state: 'absent' });
      continue;
    }
    if (!now?.profile) {
      exact = false;
      continue;
    }
    if (desiredState(iface) === 'absent') exact = false;
    // A port it does not describe and that is not its port yet gets (or loses)
    // settings on probation that the rollback's detaching does not give back.
    const portsNow = declaredPorts(now.current) ?? [];
    const newPorts = (declaredPorts(iface) ?? []).filter((port) => !portsNow.includes(port));
    if (newPorts.some((port) => !named.has(port))) exact = false;
    interfaces.push(interfaceBefore(iface, now));
  }

  const routes: RouteEntry[] = [];
  const seenRoutes = new Set<string>();
  for (const route of desired.routes?.config ?? []) {
    const resource = routeResource(route);
    if (seenRoutes.has(resource)) continue;
    seenRoutes.add(resource);
    const matching = observed.routes.filter((present) => routeMatches(route, present));
    if (matching.length === 0) routes.push({ ...canonicalRoute(route), state: 'absent' });
    else routes.push(...matching.map(canonicalRoute));
  }

  const section: NetworkSection = {};
  if (interfaces.length > 0) section.interfaces = interfaces;
  if (routes.length > 0) section.routes = { config: routes };
  const dns = desired['dns-resolver']?.config;
  if (dns && (dns.server !== undefined || dns.search !== undefined)) {
    section['dns-resolver'] = {
      config: {
        ...(dns.server !== undefined ? { server: [...observed.dns.server] } : {}),
        ...(dns.search !== undefined ? { search: [...observed.dns.search] } : {}),
      },
    };
  }
  return { section, restore: exact ? 'exact' : 'approximate' };
}

/** The resources a section names: interfaces, routes (as `ip route` says them), DNS keys. */
export function networkResources(section: NetworkSection): string[] {
  const names = (section.interfaces ?? []).map((iface) => iface.name);
  for (const route of section.routes?.config ?? []) names.push(routeResource(route));
  const dns = section['dns-resolver']?.config;
  if (dns?.server !== undefined) names.push(DNS_SERVER_RESOURCE);
  if (dns?.search !== undefined) names.push(DNS_SEARCH_RESOURCE);
  return [...new Set(names)];
}

/**
 * `higher` laid over `lower` per resource: an interface by name and a route by
 * its resource name replace the lower layer's whole; each DNS key likewise.
 */
export function mergeNetwork(lower: NetworkSection, higher: NetworkSection): NetworkSection {
  const byName = new Map((lower.interfaces ?? []).map((iface) => [iface.name, iface]));
  for (const iface of higher.interfaces ?? []) byName.set(iface.name, iface);
  const routes = new Map(
    (lower.routes?.config ?? []).map((route) => [routeResource(route), route]),
  );
  for (const route of higher.routes?.config ?? []) routes.set(routeResource(route), route);
  const dns = { ...lower['dns-resolver']?.config, ...higher['dns-resolver']?.config };
  const merged: NetworkSection = {};
  if (byName.size > 0) merged.interfaces = [...byName.values()];
  if (routes.size > 0) merged.routes = { config: [...routes.values()] };
  if (Object.keys(dns).length > 0) merged['dns-resolver'] = { config: dns };
  return merged;
}

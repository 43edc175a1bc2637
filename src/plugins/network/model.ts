import { isIPv4, isIPv6 } from 'node:net';
import type { DnsConfig, InterfaceType, NetworkInterface, RouteEntry } from './schema.js';

/**
 * The network as this plugin sees it, in nmstate's shape: the same model
 * serves the desired state (the document) and the current state (observed
 * through NetworkManager), as in nmstate itself.
 */

export type { PlannedChange, ResourceOutcome } from '../../engine/plugin.js';

/** One interface as it is now. */
export interface ObservedInterface {
  /** In nmstate's shape, every field this plugin knows filled in; state 'up' or 'down'. */
  current: NetworkInterface & { type: InterfaceType };
  /**
   * NetworkManager has a profile for it of its own (not one it generated for a
   * device somebody else configured). Without one the interface counts as
   * unconfigured: a physical device without a profile is "absent".
   */
  profile: boolean;
  /** A kernel device exists. */
  device: boolean;
  /** Address families whose default route goes through this interface now. */
  defaultRoute: readonly ('ipv4' | 'ipv6')[];
}

export interface ObservedDns {
  server: string[];
  search: string[];
}

/** Everything NetworkManager manages, not only what a document names: ports and parents are checked too. */
export interface ObservedNetwork {
  interfaces: ReadonlyMap<string, ObservedInterface>;
  /** Routes configured in profiles and, where the interface is up, present in the kernel. */
  routes: readonly RouteEntry[];
  dns: ObservedDns;
}

export const DNS_SERVER_RESOURCE = 'dns-resolver/config/server';
export const DNS_SEARCH_RESOURCE = 'dns-resolver/config/search';
export const DNS_RESOURCES = [DNS_SERVER_RESOURCE, DNS_SEARCH_RESOURCE] as const;

/** Types whose device NetworkManager creates (and deletes); an ethernet device is the hardware's. */
export function isSoftwareType(type: InterfaceType): boolean {
  return type !== 'ethernet';
}

/** The state a document means when it leaves `state` out. */
export function desiredState(iface: NetworkInterface): 'up' | 'down' | 'absent' {
  return iface.state ?? 'up';
}

/**
 * An address as the kernel (and NetworkManager) prints it: IPv6 lower case and
 * compressed (the URL parser compresses as RFC 5952 does), IPv4 unchanged.
 */
export function canonicalIp(ip: string): string {
  if (isIPv4(ip)) return ip;
  if (!isIPv6(ip)) return ip;
  return new URL(`http://[${ip}]/`).hostname.slice(1, -1);
}

export function canonicalCidr(cidr: string): string {
  const slash = cidr.lastIndexOf('/');
  if (slash < 0) return cidr;
  return `${canonicalIp(cidr.slice(0, slash))}/${cidr.slice(slash + 1)}`;
}

export function isIpv6Cidr(cidr: string): boolean {
  return cidr.includes(':');
}

/** Whether a CIDR's address part is a real address (the schema checks IPv6 only loosely). */
export function isValidCidr(cidr: string): boolean {
  const address = cidr.slice(0, cidr.lastIndexOf('/'));
  return isIPv4(address) || isIPv6(address);
}

export function canonicalMac(mac: string): string {
  return mac.toUpperCase();
}

export function isDefaultDestination(destination: string): boolean {
  return destination === '0.0.0.0/0' || destination === '::/0';
}

/** A route's resource name, as `ip route` would say it: never a valid interface name (it has spaces). */
export function routeResource(route: RouteEntry): string {
  const parts = [`route ${canonicalCidr(route.destination)}`];
  if (route['next-hop-address'] !== undefined) {
    parts.push(`via ${canonicalIp(route['next-hop-address'])}`);
  }
  parts.push(`dev ${route['next-hop-interface']}`);
  if (route.metric !== undefined) parts.push(`metric ${route.metric}`);
  if (route['table-id'] !== undefined) parts.push(`table ${route['table-id']}`);
  return parts.join(' ');
}

/** A route without `state`, its addresses canonical: what is stored and compared. */
export function canonicalRoute(route: RouteEntry): RouteEntry {
  const { state: _state, ...rest } = route;
  const result: RouteEntry = {
    ...rest,
    destination: canonicalCidr(route.destination),
  };
  if (route['next-hop-address'] !== undefined) {
    result['next-hop-address'] = canonicalIp(route['next-hop-address']);
  }
  return result;
}

/**
 * Whether `current` is a route `wanted` speaks of: every key `wanted` gives is
 * equal (nmstate's matching, which also makes `state: absent` a wildcard). A
 * missing next hop means an on-link route, never "any".
 */
export function routeMatches(wanted: RouteEntry, current: RouteEntry): boolean {
  const a = canonicalRoute(wanted);
  const b = canonicalRoute(current);
  if (a.destination !== b.destination) return false;
  if (a['next-hop-interface'] !== b['next-hop-interface']) return false;
  if ((a['next-hop-address'] ?? '') !== (b['next-hop-address'] ?? '')) return false;
  if (a.metric !== undefined && a.metric !== b.metric) return false;
  if (a['table-id'] !== undefined && (a['table-id'] ?? 0) !== (b['table-id'] ?? 0)) return false;
  return true;
}

/** Port names an interface's section lists, for bridges and bonds; undefined when it lists none. */
export function declaredPorts(iface: NetworkInterface): string[] | undefined {
  if (iface.bridge?.port !== undefined) return iface.bridge.port.map((port) => port.name);
  if (iface['link-aggregation']?.port !== undefined) return [...iface['link-aggregation'].port];
  return undefined;
}

/** The interface another depends on to exist: its VLAN, MAC-VLAN or VXLAN parent. */
export function parentOf(iface: NetworkInterface): string | undefined {
  return (
    iface.vlan?.['base-iface'] ?? iface['mac-vlan']?.['base-iface'] ?? iface.vxlan?.['base-iface']
  );
}

export function sortedUnique(values: readonly string[]): string[] {
  return [...new Set(values)].sort();
}

export function sameSet(a: readonly string[], b: readonly string[]): boolean {
  const x = sortedUnique(a);
  const y = sortedUnique(b);
  return x.length === y.length && x.every((value, index) => value === y[index]);
}

export type { DnsConfig };

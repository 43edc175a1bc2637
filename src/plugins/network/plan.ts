import {
  DNS_SEARCH_RESOURCE,
  DNS_SERVER_RESOURCE,
  canonicalIp,
  canonicalRoute,
  isValidCidr,
  routeMatches,
  routeResource,
  type ObservedNetwork,
  type PlannedChange,
} from './model.js';
import { indexDocument, planInterface, type DocumentIndex } from './plan-interface.js';
import type { NetworkSection, RouteEntry } from './schema.js';

/**
 * Pure: the changes from `observed` to `desired`, one per interface, route and
 * DNS key the document names, in that order, 'none' where nothing is to be
 * done. Nothing is planned for what the document does not name.
 */
export function planNetwork(desired: NetworkSection, observed: ObservedNetwork): PlannedChange[] {
  const index = indexDocument(desired);
  const changes: PlannedChange[] = [];
  const seen = new Set<string>();
  for (const iface of desired.interfaces ?? []) {
    if (seen.has(iface.name)) continue;
    seen.add(iface.name);
    changes.push(planInterface(iface, observed, index));
  }
  const routes = desired.routes?.config ?? [];
  const routeCounts = new Map<string, number>();
  for (const route of routes) {
    const resource = routeResource(route);
    routeCounts.set(resource, (routeCounts.get(resource) ?? 0) + 1);
  }
  for (const route of routes) {
    const resource = routeResource(route);
    if (seen.has(resource)) continue;
    seen.add(resource);
    changes.push(planRoute(route, resource, routeCounts.get(resource) ?? 1, observed, index));
  }
  changes.push(...planDns(desired, observed));
  return changes;
}

function planRoute(
  route: RouteEntry,
  resource: string,
  count: number,
  observed: ObservedNetwork,
  index: DocumentIndex,
): PlannedChange {
  const wanted = canonicalRoute(route);
  const absent = route.state === 'absent';
  const matching = observed.routes.filter((current) => routeMatches(route, current));
  const from = matching.length === 0 ? null : matching.length === 1 ? matching[0] : matching;
  const refuse = (reason: string): PlannedChange => ({
    resource,
    action: 'refused',
    from,
    to: absent ? null : wanted,
    reason,
  });
  if (count > 1) return refuse(`the route is listed ${count} times`);
  if (!isValidCidr(wanted.destination))
    return refuse(`${route.destination} is not an address/prefix`);
  if (absent) {
    return matching.length === 0
      ? { resource, action: 'none', from: null, to: null }
      : { resource, action: 'remove', from, to: null };
  }
  const hop = route['next-hop-interface'];
  const named = index.byName.get(hop);
  if (named?.state === 'absent') return refuse(`its interface ${hop} is to be absent`);
  if (!named && !observed.interfaces.get(hop)?.profile) {
    return refuse(`its interface ${hop} has no profile and the document does not describe it`);
  }
  if (named?.ipv4?.enabled === false && !wanted.destination.includes(':')) {
    return refuse(`its interface ${hop} is to have IPv4 disabled`);
  }
  if (named?.ipv6?.enabled === false && wanted.destination.includes(':')) {
    return refuse(`its interface ${hop} is to have IPv6 disabled`);
  }
  return matching.length > 0
    ? { resource, action: 'none', from, to: wanted }
    : { resource, action: 'add', from: null, to: wanted };
}

function planDnsKey(
  resource: string,
  desired: string[] | undefined,
  current: string[],
): PlannedChange[] {
  if (desired === undefined) return [];
  const to = desired.map(canonicalIp);
  const same = to.length === current.length && to.every((value, i) => value === current[i]);
  return [{ resource, action: same ? 'none' : 'set', from: current, to }];
}

/** NetworkManager's global DNS: the order of servers and search domains matters. */
function planDns(desired: NetworkSection, observed: ObservedNetwork): PlannedChange[] {
  const config = desired['dns-resolver']?.config;
  if (!config) return [];
  return [
    ...planDnsKey(DNS_SERVER_RESOURCE, config.server, observed.dns.server),
    // Search domains are names, compared as written (a trailing dot is kept).
    ...planDnsKey(
      DNS_SEARCH_RESOURCE,
      config.search?.map((domain) => domain.toLowerCase()),
      observed.dns.search.map((domain) => domain.toLowerCase()),
    ),
  ];
}

/** The part of `desired` about `resources`; an interface's name also brings the routes through it. */
export function narrowNetwork(
  desired: NetworkSection,
  resources: readonly string[],
): NetworkSection {
  const wanted = new Set(resources);
  const result: NetworkSection = {};
  if (desired.interfaces) {
    result.interfaces = desired.interfaces.filter((iface) => wanted.has(iface.name));
  }
  if (desired.routes?.config) {
    result.routes = {
      config: desired.routes.config.filter(
        (route) => wanted.has(routeResource(route)) || wanted.has(route['next-hop-interface']),
      ),
    };
  }
  const dns = desired['dns-resolver']?.config;
  if (dns) {
    const config: NonNullable<typeof dns> = {};
    if (dns.server && wanted.has(DNS_SERVER_RESOURCE)) config.server = dns.server;
    if (dns.search && wanted.has(DNS_SEARCH_RESOURCE)) config.search = dns.search;
    if (Object.keys(config).length > 0) result['dns-resolver'] = { config };
  }
  return result;
}

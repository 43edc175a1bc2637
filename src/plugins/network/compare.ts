import { canonicalIp, canonicalMac, desiredState } from './model.js';
import type { NetworkInterface } from './schema.js';

/**
 * Comparison of one interface, desired against current, on the keys the
 * document gives (nmstate's rule: what the document leaves out is left alone).
 * Both sides are first put in one canonical form, so that "the same" never
 * depends on letter case, address notation or list order where order has no
 * meaning (addresses, ports).
 */

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

interface AddressLike {
  ip: string;
  'prefix-length': number;
}

function canonicalAddresses(list: readonly AddressLike[]): AddressLike[] {
  return list
    .map((entry) => ({ ip: canonicalIp(entry.ip), 'prefix-length': entry['prefix-length'] }))
    .sort((a, b) => `${a.ip}/${a['prefix-length']}`.localeCompare(`${b.ip}/${b['prefix-length']}`));
}

function canonicalIpConfig(config: Record<string, unknown>): Record<string, unknown> {
  // A disabled family has nothing else to compare: its other keys mean nothing.
  if (config.enabled === false) return { enabled: false };
  const result = { ...config };
  if (Array.isArray(config.address)) {
    result.address = canonicalAddresses(config.address as AddressLike[]);
  }
  return result;
}

/** The canonical form of an interface: defaults filled in, notation and order normalized. */
export function canonicalInterface(iface: NetworkInterface): NetworkInterface {
  const result: NetworkInterface = { ...iface, state: desiredState(iface) };
  if (iface['mac-address'] !== undefined)
    result['mac-address'] = canonicalMac(iface['mac-address']);
  if (iface.ipv4) result.ipv4 = canonicalIpConfig(iface.ipv4) as NetworkInterface['ipv4'];
  if (iface.ipv6) result.ipv6 = canonicalIpConfig(iface.ipv6) as NetworkInterface['ipv6'];
  if (iface.bridge?.port) {
    result.bridge = {
      ...iface.bridge,
      port: [...iface.bridge.port].sort((a, b) => a.name.localeCompare(b.name)),
    };
  }
  if (iface['link-aggregation']?.port) {
    result['link-aggregation'] = {
      ...iface['link-aggregation'],
      port: [...iface['link-aggregation'].port].sort(),
    };
  }
  if (iface.vxlan?.remote !== undefined) {
    result.vxlan = { ...iface.vxlan, remote: canonicalIp(iface.vxlan.remote) };
  }
  return result;
}

/**
 * `current` cut down to the shape of `desired`: the same keys, recursively into
 * objects; lists and scalars whole. A key `current` lacks is null, so that a
 * difference shows as one.
 */
function project(desired: Json, current: Json | undefined): Json {
  if (!isObject(desired)) return current ?? null;
  if (!isObject(current)) return current ?? null;
  const result: JsonObject = {};
  for (const key of Object.keys(desired)) {
    result[key] = project(desired[key] as Json, current[key]);
  }
  return result;
}

function sameJson(a: Json, b: Json): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

export interface InterfaceComparison {
  /** The keys (top level, nmstate names) whose values differ. */
  differing: string[];
  /** `current` in the shape of `desired` (the plan's `from`). */
  from: NetworkInterface;
  /** `desired` in canonical form (the plan's `to`). */
  to: NetworkInterface;
}

/** Compares the keys `desired` gives, except `name` and `type` (the caller checks the type). */
export function compareInterface(
  desired: NetworkInterface,
  current: NetworkInterface,
): InterfaceComparison {
  const to = canonicalInterface(desired);
  const canonicalCurrent = canonicalInterface(current) as unknown as JsonObject;
  const from = project(to, canonicalCurrent) as JsonObject;
  const differing = Object.keys(to).filter(
    (key) =>
      key !== 'name' &&
      key !== 'type' &&
      !sameJson(from[key] ?? null, (to as unknown as JsonObject)[key] as Json),
  );
  return { differing, from: from as unknown as NetworkInterface, to };
}

import {
  isDefaultDestination,
  routeMatches,
  type ObservedInterface,
  type ObservedNetwork,
} from './model.js';
import { NO_OBJECT } from './nm-client.js';
import type { ConnectionSnapshot, DeviceSnapshot, NmSnapshot, RuntimeIp } from './nm-snapshot.js';
import {
  CONNECTION_FLAG_EXTERNAL,
  CONNECTION_FLAG_NM_GENERATED,
  DEVICE_TYPE,
  DeviceState,
} from './nm-types.js';
import type { NetworkInterface, NetworkSection, RouteEntry } from './schema.js';

/**
 * A snapshot of NetworkManager -> the network in nmstate's shape. Pure.
 *
 * The profile says what is configured; the device says what is so: runtime MTU,
 * MAC address, ports, and (where the addresses are static) the addresses in the
 * kernel, so that one removed behind NetworkManager's back shows as a change.
 */

/** A profile NetworkManager made up for a device somebody else configured is not a profile of ours. */
function ownProfile(connection: ConnectionSnapshot): boolean {
  return (connection.flags & (CONNECTION_FLAG_EXTERNAL | CONNECTION_FLAG_NM_GENERATED)) === 0;
}

function isLinkLocal6(ip: string): boolean {
  return /^fe[89ab][0-9a-f]:/i.test(ip);
}

function defaultFamilies(device: DeviceSnapshot): ('ipv4' | 'ipv6')[] {
  const carries = (ip: RuntimeIp | undefined) =>
    ip !== undefined &&
    (ip.gateway !== '' || ip.routes.some((route) => isDefaultDestination(route.destination)));
  return [
    ...(carries(device.ipv4) ? (['ipv4'] as const) : []),
    ...(carries(device.ipv6) ? (['ipv6'] as const) : []),
  ];
}

export interface Entry {
  device: DeviceSnapshot | undefined;
  profile: ConnectionSnapshot | undefined;
}

/** Each name's device and the profile that speaks for it: the active one, else the first. */
export function entriesByName(snapshot: NmSnapshot): Map<string, Entry> {
  const entries = new Map<string, Entry>();
  for (const device of snapshot.devices) {
    if (DEVICE_TYPE[device.deviceType] === undefined) continue;
    if (device.state === DeviceState.Unmanaged || device.name === '') continue;
    entries.set(device.name, { device, profile: undefined });
  }
  for (const connection of snapshot.connections) {
    const { name, type } = connection.view;
    if (!name || !type || !ownProfile(connection)) continue;
    const entry = entries.get(name) ?? { device: undefined, profile: undefined };
    const active = entry.device?.activeProfile === connection.path;
    if (!entry.profile || active) entry.profile = connection;
    entries.set(name, entry);
  }
  return entries;
}

function runtimeAddresses(ip: RuntimeIp | undefined, family: 'ipv4' | 'ipv6') {
  return (ip?.addresses ?? []).filter((address) => family === 'ipv4' || !isLinkLocal6(address.ip));
}

function portNames(
  name: string,
  entry: Entry,
  up: boolean,
  snapshot: NmSnapshot,
  byPath: Map<string, DeviceSnapshot>,
): string[] {
  if (up && entry.device) {
    return entry.device.ports.flatMap((path) => byPath.get(path)?.name ?? []).sort();
  }
  const refs = new Set([name, entry.profile?.view.uuid]);
  return snapshot.connections
    .filter((c) => ownProfile(c) && c.view.controller && refs.has(c.view.controller.ref))
    .flatMap((c) => c.view.name ?? [])
    .sort();
}

function currentInterface(
  name: string,
  entry: Entry,
  snapshot: NmSnapshot,
  byPath: Map<string, DeviceSnapshot>,
): ObservedInterface['current'] {
  const { device, profile } = entry;
  const type = (device ? DEVICE_TYPE[device.deviceType] : profile?.view.type) ?? 'ethernet';
  const up =
    device !== undefined &&
    device.state === DeviceState.Activated &&
    (profile === undefined || device.activeProfile === profile.path);
  const current: ObservedInterface['current'] = {
    name,
    type,
    state: up ? 'up' : 'down',
    ...(profile?.view.iface ?? { ipv4: { enabled: false }, ipv6: { enabled: false } }),
  };
  if (device?.real) {
    current.mtu = device.mtu;
    if (/^[0-9A-F]{2}(:[0-9A-F]{2}){5}$/.test(device.hwAddress))
      current['mac-address'] = device.hwAddress;
  }
  if (up && current.ipv4?.enabled && !current.ipv4.dhcp) {
    current.ipv4 = { ...current.ipv4, address: runtimeAddresses(device?.ipv4, 'ipv4') };
  }
  if (up && current.ipv6?.enabled && !current.ipv6.dhcp && !current.ipv6.autoconf) {
    current.ipv6 = { ...current.ipv6, address: runtimeAddresses(device?.ipv6, 'ipv6') };
  }
  if (type === 'linux-bridge') {
    current.bridge = {
      ...current.bridge,
      port: portNames(name, entry, up, snapshot, byPath).map((p) => ({ name: p })),
    };
  }
  if (type === 'bond' && current['link-aggregation']) {
    current['link-aggregation'] = {
      ...current['link-aggregation'],
      port: portNames(name, entry, up, snapshot, byPath),
    };
  }
  if (type === 'veth' && device?.vethPeer && device.vethPeer !== NO_OBJECT) {
    const peer = byPath.get(device.vethPeer)?.name;
    if (peer) current.veth = { peer };
  }
  return current;
}

/** Routes of profiles; where the interface is up, only those the kernel has too. */
function observedRoutes(entry: Entry, up: boolean): RouteEntry[] {
  const configured = entry.profile?.view.routes ?? [];
  if (!up || !entry.device) return configured;
  const runtime = [...(entry.device.ipv4?.routes ?? []), ...(entry.device.ipv6?.routes ?? [])];
  return configured.filter((route) => runtime.some((present) => routeMatches(route, present)));
}

export function observeNetwork(snapshot: NmSnapshot): ObservedNetwork {
  const byPath = new Map(snapshot.devices.map((device) => [device.path, device]));
  const interfaces = new Map<string, ObservedInterface>();
  const routes: RouteEntry[] = [];
  for (const [name, entry] of entriesByName(snapshot)) {
    const current = currentInterface(name, entry, snapshot, byPath);
    interfaces.set(name, {
      current,
      profile: entry.profile !== undefined,
      device: entry.device?.real === true,
      defaultRoute: entry.device ? defaultFamilies(entry.device) : [],
    });
    routes.push(...observedRoutes(entry, current.state === 'up'));
  }
  return { interfaces, routes, dns: snapshot.dns };
}

/**
 * The network as a section Apply accepts and that plans nothing: every
 * interface NetworkManager has a profile for, the routes of those profiles,
 * the global DNS.
 */
export function querySection(observed: ObservedNetwork): NetworkSection {
  const interfaces: NetworkInterface[] = [...observed.interfaces.values()]
    .filter((iface) => iface.profile)
    .map((iface) => iface.current)
    .sort((a, b) => a.name.localeCompare(b.name));
  const routes = [...observed.routes].sort((a, b) =>
    `${a['next-hop-interface']} ${a.destination}`.localeCompare(
      `${b['next-hop-interface']} ${b.destination}`,
    ),
  );
  return {
    interfaces,
    routes: { config: routes },
    'dns-resolver': {
      config: { server: [...observed.dns.server], search: [...observed.dns.search] },
    },
  };
}

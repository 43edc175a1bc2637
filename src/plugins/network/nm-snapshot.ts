import { setMaxListeners } from 'node:events';
import { canonicalIp, type ObservedDns } from './model.js';
import { NO_OBJECT, type NmCallOptions, type NmClient } from './nm-client.js';
import { unwrapDeep } from './nm-variants.js';
import { addressesOf, profileView, routesOf, type ProfileView } from './nm-settings-read.js';
import type { RouteEntry } from './schema.js';
import type { SettingsOut } from './nm-types.js';

/**
 * One read of everything NetworkManager knows that this plugin needs: devices
 * with their runtime IP configuration, profiles, the global DNS. Read fresh for
 * every observe and verify (a few dozen calls on a typical host); nothing cached.
 */

export interface RuntimeIp {
  addresses: { ip: string; 'prefix-length': number }[];
  routes: RouteEntry[];
  /** The default gateway, '' when none. */
  gateway: string;
}

export interface DeviceSnapshot {
  path: string;
  name: string;
  deviceType: number;
  state: number;
  managed: boolean;
  /** False for a device NetworkManager only plans to create (no kernel link yet). */
  real: boolean;
  mtu: number;
  hwAddress: string;
  /** The active connection object, '/' when none. */
  activeConnection: string;
  /** The profile that active connection runs, '/' when none. */
  activeProfile: string;
  /** Port device paths (bridges, bonds). */
  ports: string[];
  /** The peer device's path, for a veth. */
  vethPeer: string | undefined;
  /** Object paths of its IP configurations (for the change feed). */
  ip4Config: string;
  ip6Config: string;
  ipv4: RuntimeIp | undefined;
  ipv6: RuntimeIp | undefined;
}

export interface ConnectionSnapshot {
  path: string;
  /** NMSettingsConnectionFlags. */
  flags: number;
  typed: SettingsOut;
  view: ProfileView;
}

export interface NmSnapshot {
  devices: DeviceSnapshot[];
  connections: ConnectionSnapshot[];
  dns: ObservedDns;
}

const str = (value: unknown): string => (typeof value === 'string' ? value : '');
const num = (value: unknown): number => (typeof value === 'number' ? value : Number(value ?? 0));
const paths = (value: unknown): string[] =>
  Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : [];

async function runtimeIp(
  client: NmClient,
  path: string,
  family: 'ipv4' | 'ipv6',
  name: string,
  options: NmCallOptions,
): Promise<RuntimeIp | undefined> {
  if (path === NO_OBJECT || path === '') return undefined;
  // AddressData and RouteData are lists of a{sv}: their inner variants need unwrapping too.
  const properties = unwrapDeep(await client.ipConfig(path, family, options)) as Record<
    string,
    unknown
  >;
  return {
    addresses: addressesOf(properties.AddressData),
    routes: routesOf(properties.RouteData, name, family),
    gateway: str(properties.Gateway),
  };
}

async function readDevice(
  client: NmClient,
  path: string,
  options: NmCallOptions,
): Promise<DeviceSnapshot> {
  const properties = await client.deviceProperties(path, options);
  const name = str(properties.Interface);
  const deviceType = num(properties.DeviceType);
  const activeConnection = str(properties.ActiveConnection) || NO_OBJECT;
  const ip4Config = str(properties.Ip4Config) || NO_OBJECT;
  const ip6Config = str(properties.Ip6Config) || NO_OBJECT;
  const [ipv4, ipv6, activeProfile, vethPeer] = await Promise.all([
    runtimeIp(client, ip4Config, 'ipv4', name, options),
    runtimeIp(client, ip6Config, 'ipv6', name, options),
    activeConnection === NO_OBJECT
      ? NO_OBJECT
      : client
          .activeConnectionProperties(activeConnection, options)
          .then((active) => str(active.Connection) || NO_OBJECT),
    deviceType === 20 ? client.vethPeer(path, options) : undefined,
  ]);
  return {
    path,
    name,
    deviceType,
    state: num(properties.State),
    managed: properties.Managed === true,
    real: properties.Real !== false,
    mtu: num(properties.Mtu),
    hwAddress: str(properties.HwAddress).toUpperCase(),
    activeConnection,
    activeProfile,
    ports: paths(properties.Ports),
    vethPeer,
    ip4Config,
    ip6Config,
    ipv4,
    ipv6,
  };
}

async function readConnection(
  client: NmClient,
  path: string,
  options: NmCallOptions,
): Promise<ConnectionSnapshot> {
  const [{ typed, plain }, properties] = await Promise.all([
    client.getSettings(path, options),
    client.connectionProperties(path, options),
  ]);
  return { path, flags: num(properties.Flags), typed, view: profileView(plain) };
}

/** NetworkManager's global DNS ({searches, domains: {'*': {servers}}}) as nmstate's server/search. */
export function dnsFromGlobal(config: Record<string, unknown>): ObservedDns {
  const strings = (value: unknown): string[] =>
    Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : [];
  const domains = config.domains as Record<string, Record<string, unknown>> | undefined;
  const wildcard = typeof domains === 'object' && domains !== null ? domains['*'] : undefined;
  return {
    server: strings(wildcard?.servers).map(canonicalIp),
    search: strings(config.searches),
  };
}

/**
 * Reads devices, profiles and DNS. A device or profile that disappears while it
 * is read (UnknownMethod / UnknownObject) is left out: it is gone, which is what
 * the next read would say too.
 */
export async function readSnapshot(client: NmClient, outer: NmCallOptions): Promise<NmSnapshot> {
  // Dozens of calls (each waiting for one of the client's slots) share the
  // operation's signal: one listener on it, and any number on this local one.
  const local = new AbortController();
  setMaxListeners(0, local.signal);
  const forward = (): void => local.abort(outer.signal.reason);
  outer.signal.throwIfAborted();
  outer.signal.addEventListener('abort', forward, { once: true });
  try {
    return await readAll(client, { ...outer, signal: local.signal });
  } finally {
    outer.signal.removeEventListener('abort', forward);
    // After a failure, calls still waiting for a slot give up instead of running.
    local.abort(new Error('the NetworkManager read ended'));
  }
}

async function readAll(client: NmClient, options: NmCallOptions): Promise<NmSnapshot> {
  const [devicePaths, connectionPaths, dns] = await Promise.all([
    client.getAllDevices(options),
    client.listConnections(options),
    client.globalDns(options),
  ]);
  const gone = <T>(read: Promise<T>): Promise<T | undefined> =>
    read.catch((err: unknown) => {
      if (isVanished(err)) return undefined;
      throw err;
    });
  // No fan-out limit here: the client's slots bound the calls in flight.
  const [devices, connections] = await Promise.all([
    Promise.all(devicePaths.map((path) => gone(readDevice(client, path, options)))),
    Promise.all(connectionPaths.map((path) => gone(readConnection(client, path, options)))),
  ]);
  return {
    devices: devices.filter((device): device is DeviceSnapshot => device !== undefined),
    connections: connections.filter(
      (connection): connection is ConnectionSnapshot => connection !== undefined,
    ),
    dns: dnsFromGlobal(dns),
  };
}

/** The errors a vanished NetworkManager object answers with. */
function isVanished(err: unknown): boolean {
  const type = (err as { type?: unknown } | null)?.type;
  return (
    type === 'org.freedesktop.DBus.Error.UnknownMethod' ||
    type === 'org.freedesktop.DBus.Error.UnknownObject' ||
    type === 'org.freedesktop.DBus.Error.UnknownInterface'
  );
}

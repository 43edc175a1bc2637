import { canonicalIp, canonicalMac } from './model.js';
import type { InterfaceType, Ipv4, Ipv6, NetworkInterface, RouteEntry } from './schema.js';
import { MAC_VLAN_MODE_NUMBER, interfaceTypeOfConnection, type SettingsIn } from './nm-types.js';
import { BOND_MODES } from './schema.js';

/**
 * NetworkManager connection settings -> nmstate. Pure. The settings come from
 * the service and are checked like any other input: a value of the wrong type
 * counts as absent, never as trusted.
 */

const asString = (value: unknown): string | undefined =>
  typeof value === 'string' ? value : undefined;
const asNumber = (value: unknown): number | undefined =>
  typeof value === 'number' && Number.isFinite(value)
    ? value
    : typeof value === 'bigint'
      ? Number(value)
      : undefined;
const asBoolean = (value: unknown): boolean | undefined =>
  typeof value === 'boolean' ? value : undefined;
const asRecords = (value: unknown): Record<string, unknown>[] =>
  Array.isArray(value)
    ? value.filter(
        (item): item is Record<string, unknown> => typeof item === 'object' && item !== null,
      )
    : [];

/** What a profile says about its interface, in nmstate's shape. */
export interface ProfileView {
  id: string;
  uuid: string;
  /** connection.interface-name; undefined for a profile not bound to a name. */
  name: string | undefined;
  /** connection.type as NetworkManager writes it. */
  connectionType: string;
  /** The nmstate type, undefined for a type outside this plugin's subset. */
  type: InterfaceType | undefined;
  autoconnect: boolean;
  /** connection.master (an interface name or a profile uuid) and its kind. */
  controller: { ref: string; kind: string } | undefined;
  /** Keys of the nmstate interface the profile determines (not runtime facts). */
  iface: Omit<NetworkInterface, 'name' | 'type' | 'state'>;
  /** Routes configured in the profile (route-data), next-hop-interface = name. */
  routes: RouteEntry[];
}

interface AddressView {
  ip: string;
  'prefix-length': number;
}

export function addressesOf(value: unknown): AddressView[] {
  return asRecords(value).flatMap((entry) => {
    const ip = asString(entry.address);
    const prefix = asNumber(entry.prefix);
    return ip !== undefined && prefix !== undefined
      ? [{ ip: canonicalIp(ip), 'prefix-length': prefix }]
      : [];
  });
}

/** route-data entries as nmstate routes through `iface`. */
export function routesOf(value: unknown, iface: string, family: 'ipv4' | 'ipv6'): RouteEntry[] {
  return asRecords(value).flatMap((entry) => {
    const dest = asString(entry.dest);
    const prefix = asNumber(entry.prefix);
    if (dest === undefined || prefix === undefined) return [];
    const route: RouteEntry = {
      destination: `${canonicalIp(dest)}/${prefix}`,
      'next-hop-interface': iface,
    };
    const hop = asString(entry['next-hop']);
    const unspecified = family === 'ipv4' ? '0.0.0.0' : '::';
    if (hop !== undefined && hop !== '' && hop !== unspecified) {
      route['next-hop-address'] = canonicalIp(hop);
    }
    const metric = asNumber(entry.metric);
    if (metric !== undefined) route.metric = metric;
    const table = asNumber(entry.table);
    if (table !== undefined && table !== 0) route['table-id'] = table;
    return [route];
  });
}

function ipv4Of(setting: Record<string, unknown> | undefined): Ipv4 {
  const method = asString(setting?.method) ?? 'disabled';
  if (method === 'disabled' || setting === undefined) return { enabled: false };
  const result: Ipv4 = { enabled: true, dhcp: method === 'auto' };
  result.address = addressesOf(setting['address-data']);
  if (result.dhcp) {
    result['auto-dns'] = asBoolean(setting['ignore-auto-dns']) !== true;
    result['auto-routes'] = asBoolean(setting['ignore-auto-routes']) !== true;
  }
  return result;
}

function ipv6Of(setting: Record<string, unknown> | undefined): Ipv6 {
  const method = asString(setting?.method) ?? 'disabled';
  if (method === 'disabled' || method === 'ignore' || setting === undefined) {
    return { enabled: false };
  }
  const result: Ipv6 = {
    enabled: true,
    dhcp: method === 'auto' || method === 'dhcp',
    autoconf: method === 'auto',
  };
  result.address = addressesOf(setting['address-data']);
  if (result.dhcp || result.autoconf) {
    result['auto-dns'] = asBoolean(setting['ignore-auto-dns']) !== true;
    result['auto-routes'] = asBoolean(setting['ignore-auto-routes']) !== true;
  }
  return result;
}

const macVlanModeOf = (mode: number | undefined) =>
  Object.entries(MAC_VLAN_MODE_NUMBER).find(([, number]) => number === mode)?.[0] as
    keyof typeof MAC_VLAN_MODE_NUMBER | undefined;

function typeSections(settings: SettingsIn, type: InterfaceType | undefined): ProfileView['iface'] {
  const result: ProfileView['iface'] = {};
  switch (type) {
    case 'linux-bridge':
      result.bridge = { options: { stp: { enabled: asBoolean(settings.bridge?.stp) ?? true } } };
      break;
    case 'veth': {
      const peer = asString(settings.veth?.peer);
      if (peer !== undefined) result.veth = { peer };
      break;
    }
    case 'vlan': {
      const parent = asString(settings.vlan?.parent);
      const id = asNumber(settings.vlan?.id);
      if (parent !== undefined && id !== undefined) result.vlan = { 'base-iface': parent, id };
      break;
    }
    case 'bond': {
      const options = settings.bond?.options as Record<string, unknown> | undefined;
      const mode = asString(options?.mode) ?? 'balance-rr';
      const known = BOND_MODES.find((candidate) => candidate === mode);
      if (known) result['link-aggregation'] = { mode: known };
      break;
    }
    case 'mac-vlan': {
      const parent = asString(settings.macvlan?.parent);
      const mode = macVlanModeOf(asNumber(settings.macvlan?.mode));
      if (parent !== undefined && mode) result['mac-vlan'] = { 'base-iface': parent, mode };
      break;
    }
    case 'vxlan': {
      const id = asNumber(settings.vxlan?.id);
      if (id === undefined) break;
      const vxlan: NonNullable<NetworkInterface['vxlan']> = { id };
      const remote = asString(settings.vxlan?.remote);
      if (remote) vxlan.remote = canonicalIp(remote);
      const parent = asString(settings.vxlan?.parent);
      if (parent) vxlan['base-iface'] = parent;
      const port = asNumber(settings.vxlan?.['destination-port']);
      if (port !== undefined) vxlan['destination-port'] = port;
      result.vxlan = vxlan;
      break;
    }
    case 'ethernet':
    case 'dummy':
    case undefined:
      break;
  }
  return result;
}

export function profileView(settings: SettingsIn): ProfileView {
  const connection = settings.connection ?? {};
  const connectionType = asString(connection.type) ?? '';
  const type = interfaceTypeOfConnection(connectionType);
  const name = asString(connection['interface-name']) || undefined;
  const master = asString(connection.master);
  const iface: ProfileView['iface'] = {
    ...(master ? {} : { ipv4: ipv4Of(settings.ipv4), ipv6: ipv6Of(settings.ipv6) }),
    ...typeSections(settings, type),
  };
  if (master) {
    // A port has no IP configuration of its own; nmstate shows both disabled.
    iface.ipv4 = { enabled: false };
    iface.ipv6 = { enabled: false };
  }
  const wired = settings['802-3-ethernet'];
  const mtu = asNumber(wired?.mtu);
  if (mtu !== undefined && mtu !== 0) iface.mtu = mtu;
  const mac = asString(wired?.['assigned-mac-address']);
  if (mac !== undefined && /^[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){5}$/.test(mac)) {
    iface['mac-address'] = canonicalMac(mac);
  }
  const routes = name
    ? [
        ...routesOf(settings.ipv4?.['route-data'], name, 'ipv4'),
        ...routesOf(settings.ipv6?.['route-data'], name, 'ipv6'),
      ]
    : [];
  return {
    id: asString(connection.id) ?? '',
    uuid: asString(connection.uuid) ?? '',
    name,
    connectionType,
    type,
    autoconnect: asBoolean(connection.autoconnect) ?? true,
    controller: master
      ? { ref: master, kind: asString(connection['slave-type']) ?? '' }
      : undefined,
    iface,
    routes,
  };
}

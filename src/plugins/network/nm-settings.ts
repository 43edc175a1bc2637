import { canonicalIp, canonicalMac, desiredState } from './model.js';
import type { Ipv4, Ipv6, NetworkInterface, RouteEntry } from './schema.js';
import { CONNECTION_TYPE, MAC_VLAN_MODE_NUMBER, type SettingsOut, type Typed } from './nm-types.js';

/**
 * nmstate interface -> NetworkManager connection settings (a{sa{sv}}). Pure.
 *
 * The settings are an overlay: keys the document gives are written, every other
 * key of the existing profile is kept as it is (ethtool, DNS per interface,
 * whatever another tool set), as nmstate does. Addresses and routes go only in
 * `address-data`/`route-data`: the deprecated `addresses`/`routes` keys are
 * dropped from the base, because NetworkManager lets the old key win when both
 * are sent (GetSettings returns both).
 */

const str = (value: string): Typed => ({ signature: 's', value });
const u32 = (value: number): Typed => ({ signature: 'u', value });
const bool = (value: boolean): Typed => ({ signature: 'b', value });
const dictList = (value: Record<string, Typed>[]): Typed => ({ signature: 'aa{sv}', value });

const DEPRECATED_KEYS = ['addresses', 'routes'];

export interface ControllerRef {
  name: string;
  kind: 'bridge' | 'bond';
}

export interface SettingsInput {
  /** The document's entry: only the keys it gives are written. */
  iface: NetworkInterface;
  /** The existing profile's settings (as read, typed), or undefined for a new profile. */
  base: SettingsOut | undefined;
  /** The profile's uuid (kept from the base, or a new one). */
  uuid: string;
  /** The bridge or bond this interface is a port of; null: none; undefined: leave as is. */
  controller?: ControllerRef | null;
  /** The whole list of configured routes through this interface; undefined: leave as is. */
  routes?: readonly RouteEntry[];
}

function copy(base: SettingsOut | undefined): SettingsOut {
  const result: SettingsOut = {};
  for (const [setting, properties] of Object.entries(base ?? {})) {
    const kept = Object.entries(properties).filter(([key]) => !DEPRECATED_KEYS.includes(key));
    result[setting] = Object.fromEntries(kept);
  }
  return result;
}

function addressData(list: readonly { ip: string; 'prefix-length': number }[]): Typed {
  return dictList(
    list.map((entry) => ({
      address: str(canonicalIp(entry.ip)),
      prefix: u32(entry['prefix-length']),
    })),
  );
}

export function routeData(routes: readonly RouteEntry[]): Typed {
  return dictList(
    routes.map((route) => {
      const slash = route.destination.lastIndexOf('/');
      const entry: Record<string, Typed> = {
        dest: str(canonicalIp(route.destination.slice(0, slash))),
        prefix: u32(Number(route.destination.slice(slash + 1))),
      };
      if (route['next-hop-address'] !== undefined) {
        entry['next-hop'] = str(canonicalIp(route['next-hop-address']));
      }
      if (route.metric !== undefined) entry.metric = u32(route.metric);
      if (route['table-id'] !== undefined) entry.table = u32(route['table-id']);
      return entry;
    }),
  );
}

/**
 * The method for a family. A flag the document leaves out keeps what the
 * existing profile's method says (nmstate's merge with the current state), so
 * `{enabled: true, address: [...]}` does not turn DHCP off by accident.
 */
function ipv4Method(config: Ipv4, base: Record<string, Typed>): string {
  if (!config.enabled) return 'disabled';
  const dhcp = config.dhcp ?? base.method?.value === 'auto';
  return dhcp ? 'auto' : 'manual';
}

function ipv6Method(config: Ipv6, base: Record<string, Typed>): string {
  if (!config.enabled) return 'disabled';
  const was = base.method?.value;
  const autoconf = config.autoconf ?? was === 'auto';
  const dhcp = config.dhcp ?? (was === 'auto' || was === 'dhcp');
  if (autoconf) return 'auto';
  if (dhcp) return 'dhcp';
  const kept = base['address-data']?.value;
  const count = config.address?.length ?? (Array.isArray(kept) ? kept.length : 0);
  // Enabled with nothing to configure: the link-local address only.
  return count === 0 ? 'link-local' : 'manual';
}

function overlayIp(
  setting: Record<string, Typed>,
  config: Ipv4 | Ipv6 | undefined,
  method: string | undefined,
  routes: readonly RouteEntry[] | undefined,
): void {
  if (config && method) {
    setting.method = str(method);
    if (config.address !== undefined || !config.enabled) {
      setting['address-data'] = addressData(config.enabled ? (config.address ?? []) : []);
    }
    if (config['auto-dns'] !== undefined) setting['ignore-auto-dns'] = bool(!config['auto-dns']);
    if (config['auto-routes'] !== undefined) {
      setting['ignore-auto-routes'] = bool(!config['auto-routes']);
    }
    // A gateway without static addresses fails NetworkManager's checks.
    if (method !== 'manual') delete setting.gateway;
  }
  if (routes !== undefined) setting['route-data'] = routeData(routes);
}

function overlayTypeSettings(settings: SettingsOut, iface: NetworkInterface): void {
  const section = (name: string): Record<string, Typed> => (settings[name] ??= {});
  if (iface.bridge?.options?.stp !== undefined) {
    section('bridge').stp = bool(iface.bridge.options.stp.enabled);
  }
  if (iface.veth) section('veth').peer = str(iface.veth.peer);
  if (iface.vlan) {
    section('vlan').parent = str(iface.vlan['base-iface']);
    section('vlan').id = u32(iface.vlan.id);
  }
  if (iface['link-aggregation']) {
    const bond = section('bond');
    const options = (bond.options?.value ?? {}) as Record<string, string>;
    bond.options = {
      signature: 'a{ss}',
      value: { ...options, mode: iface['link-aggregation'].mode },
    };
  }
  if (iface['mac-vlan']) {
    section('macvlan').parent = str(iface['mac-vlan']['base-iface']);
    section('macvlan').mode = u32(MAC_VLAN_MODE_NUMBER[iface['mac-vlan'].mode]);
  }
  if (iface.vxlan) {
    const vxlan = section('vxlan');
    vxlan.id = u32(iface.vxlan.id);
    if (iface.vxlan.remote !== undefined) vxlan.remote = str(canonicalIp(iface.vxlan.remote));
    if (iface.vxlan['base-iface'] !== undefined) vxlan.parent = str(iface.vxlan['base-iface']);
    if (iface.vxlan['destination-port'] !== undefined) {
      vxlan['destination-port'] = u32(iface.vxlan['destination-port']);
    }
  }
}

/**
 * The connection type to write. An existing ethernet profile on a veth device
 * stays ethernet (NetworkManager refuses to change a profile's type, and a veth
 * takes ethernet profiles); otherwise the nmstate type's.
 */
function connectionType(iface: NetworkInterface, base: SettingsOut | undefined): string {
  const existing = base?.connection?.type?.value;
  if (typeof existing === 'string' && existing.length > 0) return existing;
  return CONNECTION_TYPE[iface.type ?? 'ethernet'];
}

/** The settings of the profile for `input.iface` (state up or down; absent deletes instead). */
export function connectionSettings(input: SettingsInput): SettingsOut {
  const { iface } = input;
  const settings = copy(input.base);
  const type = connectionType(iface, input.base);
  const connection = (settings.connection ??= {});
  if (connection.id === undefined) connection.id = str(iface.name);
  connection.uuid = str(input.uuid);
  connection.type = str(type);
  connection['interface-name'] = str(iface.name);
  // A profile left to autoconnect comes back up by itself: "down" must stay down.
  connection.autoconnect = bool(desiredState(iface) === 'up');
  if (input.controller === null) {
    delete connection.master;
    delete connection['slave-type'];
  } else if (input.controller !== undefined) {
    connection.master = str(input.controller.name);
    connection['slave-type'] = str(input.controller.kind);
  }
  settings[type] ??= {};
  const isPort = connection.master !== undefined;
  if (isPort) {
    // A port has no IP configuration of its own.
    delete settings.ipv4;
    delete settings.ipv6;
  } else {
    const ipv4 = (settings.ipv4 ??= { method: str('disabled') });
    const ipv6 = (settings.ipv6 ??= { method: str('disabled') });
    const v4Routes = input.routes?.filter((route) => !route.destination.includes(':'));
    const v6Routes = input.routes?.filter((route) => route.destination.includes(':'));
    overlayIp(ipv4, iface.ipv4, iface.ipv4 && ipv4Method(iface.ipv4, ipv4), v4Routes);
    overlayIp(ipv6, iface.ipv6, iface.ipv6 && ipv6Method(iface.ipv6, ipv6), v6Routes);
  }
  if (iface.mtu !== undefined) (settings['802-3-ethernet'] ??= {}).mtu = u32(iface.mtu);
  if (iface['mac-address'] !== undefined) {
    (settings['802-3-ethernet'] ??= {})['assigned-mac-address'] = str(
      canonicalMac(iface['mac-address']),
    );
  }
  overlayTypeSettings(settings, iface);
  return settings;
}

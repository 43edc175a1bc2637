import type { MessageBus } from '../../dbus/bus.js';
import { NmCalls, type NmCallOptions } from './nm-calls.js';
import {
  saveFlags,
  type Persistence,
  type SettingsIn,
  type SettingsOut,
  type Typed,
} from './nm-types.js';
import { toVariant, toWire, unwrapDeep } from './nm-variants.js';

export { NM_NAME, type NmCallOptions } from './nm-calls.js';

export const NM_PATH = '/org/freedesktop/NetworkManager';
export const NM_INTERFACE = 'org.freedesktop.NetworkManager';
export const SETTINGS_PATH = '/org/freedesktop/NetworkManager/Settings';
export const SETTINGS_INTERFACE = 'org.freedesktop.NetworkManager.Settings';
export const CONNECTION_INTERFACE = 'org.freedesktop.NetworkManager.Settings.Connection';
export const DEVICE_INTERFACE = 'org.freedesktop.NetworkManager.Device';
export const ACTIVE_INTERFACE = 'org.freedesktop.NetworkManager.Connection.Active';
export const CHECKPOINT_INTERFACE = 'org.freedesktop.NetworkManager.Checkpoint';
export const IP4_CONFIG_INTERFACE = 'org.freedesktop.NetworkManager.IP4Config';
export const IP6_CONFIG_INTERFACE = 'org.freedesktop.NetworkManager.IP6Config';
const VETH_INTERFACE = 'org.freedesktop.NetworkManager.Device.Veth';

/** NetworkManager's "no object". */
export const NO_OBJECT = '/';

function asDict(value: unknown, what: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new Error(`NetworkManager returned no dictionary for ${what}`);
  }
  return value as Record<string, unknown>;
}

function asPaths(value: unknown): string[] {
  return Array.isArray(value)
    ? value.filter((item): item is string => typeof item === 'string')
    : [];
}

function asPath(value: unknown, what: string): string {
  if (typeof value !== 'string' || !value.startsWith('/')) {
    throw new Error(`NetworkManager returned no object path for ${what}`);
  }
  return value;
}

/**
 * A thin client for NetworkManager's D-Bus API (1.42): one method per call the
 * plugin makes, nothing cached, nothing retried. Every call has a timeout,
 * gives up when the operation's signal aborts, and waits for a slot (NmCalls:
 * a bounded number of calls open, job work first).
 */
export class NmClient {
  private readonly calls: NmCalls;

  constructor(bus: MessageBus, defaultTimeoutMs = 10_000, slots?: number) {
    this.calls = new NmCalls(bus, defaultTimeoutMs, slots);
  }

  /** The client's slots (for tests and logs). */
  get slots() {
    return this.calls.slots;
  }

  private call(
    path: string,
    iface: string,
    member: string,
    signature: string,
    body: unknown[],
    options: NmCallOptions,
  ): Promise<unknown[]> {
    return this.calls.call(path, iface, member, signature, body, options);
  }

  private properties(path: string, iface: string, options: NmCallOptions) {
    return this.calls.properties(path, iface, options);
  }

  private property(path: string, iface: string, name: string, options: NmCallOptions) {
    return this.calls.property(path, iface, name, options);
  }

  async getAllDevices(options: NmCallOptions): Promise<string[]> {
    const [paths] = await this.call(NM_PATH, NM_INTERFACE, 'GetAllDevices', '', [], options);
    return asPaths(paths);
  }

  deviceProperties(device: string, options: NmCallOptions): Promise<Record<string, unknown>> {
    return this.properties(device, DEVICE_INTERFACE, options);
  }

  /** A veth device's peer device path ('/' when NetworkManager does not know it). */
  async vethPeer(device: string, options: NmCallOptions): Promise<string> {
    return String(await this.property(device, VETH_INTERFACE, 'Peer', options));
  }

  /** An IP4Config / IP6Config object's properties (AddressData, RouteData, Gateway, ...). */
  ipConfig(path: string, family: 'ipv4' | 'ipv6', options: NmCallOptions) {
    return this.properties(
      path,
      family === 'ipv4' ? IP4_CONFIG_INTERFACE : IP6_CONFIG_INTERFACE,
      options,
    );
  }

  activeConnectionProperties(path: string, options: NmCallOptions) {
    return this.properties(path, ACTIVE_INTERFACE, options);
  }

  async listConnections(options: NmCallOptions): Promise<string[]> {
    const [paths] = await this.call(
      SETTINGS_PATH,
      SETTINGS_INTERFACE,
      'ListConnections',
      '',
      [],
      options,
    );
    return asPaths(paths);
  }

  /** A profile's settings, variants kept (to send back unchanged) and unwrapped (to read). */
  async getSettings(
    connection: string,
    options: NmCallOptions,
  ): Promise<{ typed: SettingsOut; plain: SettingsIn }> {
    const [raw] = await this.call(connection, CONNECTION_INTERFACE, 'GetSettings', '', [], options);
    const typed = asDict(raw, 'GetSettings') as SettingsOut;
    return { typed, plain: unwrapDeep(typed) as SettingsIn };
  }

  /** Settings.Connection properties: Flags (NM-generated, external, ...), Filename, Unsaved. */
  connectionProperties(connection: string, options: NmCallOptions) {
    return this.properties(connection, CONNECTION_INTERFACE, options);
  }

  async addConnection(
    settings: SettingsOut,
    persistence: Persistence,
    options: NmCallOptions,
  ): Promise<string> {
    const [path] = await this.call(
      SETTINGS_PATH,
      SETTINGS_INTERFACE,
      'AddConnection2',
      'a{sa{sv}}ua{sv}',
      [toWire(settings), saveFlags(persistence), {}],
      options,
    );
    return asPath(path, 'AddConnection2');
  }

  async updateConnection(
    connection: string,
    settings: SettingsOut,
    persistence: Persistence,
    options: NmCallOptions,
  ): Promise<void> {
    await this.call(
      connection,
      CONNECTION_INTERFACE,
      'Update2',
      'a{sa{sv}}ua{sv}',
      [toWire(settings), saveFlags(persistence), {}],
      options,
    );
  }

  async deleteConnection(connection: string, options: NmCallOptions): Promise<void> {
    await this.call(connection, CONNECTION_INTERFACE, 'Delete', '', [], options);
  }

  /** Activates a profile on a device ('/' lets NetworkManager pick or create it); returns the active connection. */
  async activateConnection(
    connection: string,
    device: string,
    options: NmCallOptions,
  ): Promise<string> {
    const [active] = await this.call(
      NM_PATH,
      NM_INTERFACE,
      'ActivateConnection',
      'ooo',
      [connection, device, NO_OBJECT],
      options,
    );
    return asPath(active, 'ActivateConnection');
  }

  async deactivateConnection(active: string, options: NmCallOptions): Promise<void> {
    await this.call(NM_PATH, NM_INTERFACE, 'DeactivateConnection', 'o', [active], options);
  }

  /** Applies the device's profile as it is now (empty settings, any version) without taking the link down. */
  async reapply(device: string, options: NmCallOptions): Promise<void> {
    await this.call(device, DEVICE_INTERFACE, 'Reapply', 'a{sa{sv}}tu', [{}, 0n, 0], options);
  }

  /** Deletes a software device (bridge, veth, ...) from the kernel. */
  async deleteDevice(device: string, options: NmCallOptions): Promise<void> {
    await this.call(device, DEVICE_INTERFACE, 'Delete', '', [], options);
  }

  async checkpointCreate(
    devices: readonly string[],
    rollbackTimeoutS: number,
    flags: number,
    options: NmCallOptions,
  ): Promise<string> {
    const [path] = await this.call(
      NM_PATH,
      NM_INTERFACE,
      'CheckpointCreate',
      'aouu',
      [[...devices], rollbackTimeoutS, flags],
      options,
    );
    return asPath(path, 'CheckpointCreate');
  }

  /** Rolls back; returns each device's NMRollbackResult by device path. */
  async checkpointRollback(
    checkpoint: string,
    options: NmCallOptions,
  ): Promise<Record<string, number>> {
    const [results] = await this.call(
      NM_PATH,
      NM_INTERFACE,
      'CheckpointRollback',
      'o',
      [checkpoint],
      options,
    );
    const dict = asDict(results, 'CheckpointRollback');
    return Object.fromEntries(
      Object.entries(dict).map(([device, result]) => [device, Number(result)]),
    );
  }

  async checkpointDestroy(checkpoint: string, options: NmCallOptions): Promise<void> {
    await this.call(NM_PATH, NM_INTERFACE, 'CheckpointDestroy', 'o', [checkpoint], options);
  }

  /** Sets the time left before NetworkManager rolls back by itself, counted from now (0: never). */
  async checkpointAdjustRollbackTimeout(
    checkpoint: string,
    addTimeoutS: number,
    options: NmCallOptions,
  ): Promise<void> {
    await this.call(
      NM_PATH,
      NM_INTERFACE,
      'CheckpointAdjustRollbackTimeout',
      'ou',
      [checkpoint, addTimeoutS],
      options,
    );
  }

  /** The checkpoints that exist now. */
  async checkpoints(options: NmCallOptions): Promise<string[]> {
    return asPaths(await this.property(NM_PATH, NM_INTERFACE, 'Checkpoints', options));
  }

  checkpointProperties(checkpoint: string, options: NmCallOptions) {
    return this.properties(checkpoint, CHECKPOINT_INTERFACE, options);
  }

  /** The global DNS configuration, variants unwrapped ({} when none). */
  async globalDns(options: NmCallOptions): Promise<Record<string, unknown>> {
    const value = await this.property(NM_PATH, NM_INTERFACE, 'GlobalDnsConfiguration', options);
    return asDict(unwrapDeep(value), 'GlobalDnsConfiguration');
  }

  async setGlobalDns(config: Record<string, Typed>, options: NmCallOptions): Promise<void> {
    await this.call(
      NM_PATH,
      'org.freedesktop.DBus.Properties',
      'Set',
      'ssv',
      [NM_INTERFACE, 'GlobalDnsConfiguration', toVariant({ signature: 'a{sv}', value: config })],
      options,
    );
  }
}

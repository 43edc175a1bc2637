import {
  callMethod,
  DEFAULT_CALL_TIMEOUT_MS,
  getProperty,
  type Message,
  type MessageBus,
} from '../../dbus/bus.js';
import type { BusConnection } from '../../dbus/bus-connection.js';
import type { ServicePeer } from '../../dbus/service-peer.js';
import type { WorkPriority } from '../../engine/plugin.js';
import { ServiceSlots } from './service-slots.js';
import { boundedText, errorMessage, PluginFailure, type FailureKind } from '../../errors.js';

/** Where one of systemd's small settings services (hostname1, timedate1, locale1) lives. */
export interface ServiceAddress {
  busName: string;
  path: string;
  interface: string;
}

/** One property as read: its value, or the service's reason it could not be read. */
export type Reading = { value: unknown } | { error: string };

const PROPERTIES_INTERFACE = 'org.freedesktop.DBus.Properties';

/** The service's own words for a failed call: D-Bus error text first, then its name. */
export function serviceMessage(err: unknown): string {
  if (typeof err === 'object' && err !== null) {
    const { type, text } = err as { type?: unknown; text?: unknown };
    if (typeof type === 'string')
      return boundedText(typeof text === 'string' && text ? `${text} (${type})` : type);
  }
  return boundedText(errorMessage(err));
}

/**
 * Errors of the settings services after which a retry cannot help until the
 * machine changes: a value the service refuses (an unknown time zone), a
 * feature this machine lacks (NTP without systemd-timesyncd).
 */
const TERMINAL_ERRORS = new Set([
  'org.freedesktop.DBus.Error.InvalidArgs',
  'org.freedesktop.timedate1.NoNTPSupport',
]);

function kindOf(err: unknown): FailureKind {
  const type = (err as { type?: unknown } | null)?.type;
  return typeof type === 'string' && TERMINAL_ERRORS.has(type) ? 'terminal' : 'retryable';
}

/** A failed Set* call, carrying the service's own message and whether a retry can help. */
export class SettingRefused extends PluginFailure {
  constructor(member: string, err: unknown) {
    super(kindOf(err), `${member} failed: ${serviceMessage(err)}`);
    this.name = 'SettingRefused';
  }
}

/**
 * A thin client for one settings service: read properties, call its Set* methods,
 * hear its PropertiesChanged. Every call has a timeout (callMethod), and every
 * setter is called non-interactive: a daemon has nobody to answer a polkit prompt.
 */
export class SettingsService {
  private readonly listeners = new Set<() => void>();
  /** Reads in flight at once: a flood of Plans must not flood the service. */
  private readonly slots = new ServiceSlots(4);

  constructor(
    private readonly bus: MessageBus,
    private readonly peer: ServicePeer,
    readonly address: ServiceAddress,
  ) {}

  /**
   * Reads each property with its own Get, not GetAll: timedate1's GetAll fails
   * whole when it cannot ask systemd about NTP, and one unreadable property must
   * not hide the others.
   */
  async read(
    properties: readonly string[],
    signal: AbortSignal,
    priority: WorkPriority,
  ): Promise<Record<string, Reading>> {
    return this.slots.run(priority, signal, () => this.readNow(properties, signal));
  }

  private async readNow(
    properties: readonly string[],
    signal: AbortSignal,
  ): Promise<Record<string, Reading>> {
    const { busName, path } = this.address;
    const readings = await Promise.all(
      properties.map(async (property): Promise<[string, Reading]> => {
        try {
          const value = await getProperty(
            this.bus,
            busName,
            path,
            this.address.interface,
            property,
            { signal },
          );
          return [property, { value }];
        } catch (err) {
          signal.throwIfAborted();
          return [property, { error: serviceMessage(err) }];
        }
      }),
    );
    return Object.fromEntries(readings);
  }

  /** Calls a method of the service's interface; a refusal throws SettingRefused. */
  async call(
    member: string,
    signature: string,
    body: unknown[],
    options: { signal?: AbortSignal; timeoutMs?: number } = {},
  ): Promise<void> {
    const { busName, path } = this.address;
    try {
      await callMethod(
        this.bus,
        { destination: busName, path, interface: this.address.interface, member, signature, body },
        { timeoutMs: DEFAULT_CALL_TIMEOUT_MS, ...options },
      );
    } catch (err) {
      options.signal?.throwIfAborted();
      throw new SettingRefused(member, err);
    }
  }

  /** Starts following the service's owner; its signals are believed only from the owner. */
  listen(): Promise<void> {
    return this.peer.start();
  }

  /**
   * Calls `handler` with the names of the properties the service says changed,
   * until the returned function or stop() is called.
   */
  onPropertiesChanged(handler: (properties: string[]) => void): () => void {
    const unsubscribe = this.peer.subscribe(
      { path: this.address.path, interface: PROPERTIES_INTERFACE, member: 'PropertiesChanged' },
      (message: Message) => {
        const [iface, changed, invalidated] = message.body as [
          string,
          Record<string, unknown> | undefined,
          string[] | undefined,
        ];
        if (iface !== this.address.interface) return;
        handler([...Object.keys(changed ?? {}), ...(invalidated ?? [])]);
      },
    );
    const stopListening = (): void => {
      unsubscribe();
      this.listeners.delete(stopListening);
    };
    this.listeners.add(stopListening);
    return stopListening;
  }

  /** Drops every handler (the bus match rule stays for the connection's life). */
  stop(): void {
    for (const stopListening of [...this.listeners]) stopListening();
  }
}

/** A settings service on the daemon's system bus, its signals believed only from its owner. */
export async function connectSettingsService(
  host: { connect(address: string): Promise<BusConnection> },
  address: ServiceAddress,
): Promise<SettingsService> {
  const connection = await host.connect('system');
  const service = new SettingsService(connection.bus, connection.peer(address.busName), address);
  await service.listen();
  return service;
}

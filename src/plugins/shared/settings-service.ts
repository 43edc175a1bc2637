import {
  callMethod,
  DEFAULT_CALL_TIMEOUT_MS,
  getProperty,
  type Message,
  type MessageBus,
} from '../../dbus/bus.js';
import type { Logger } from 'pino';
import type { SignalRouter } from '../../dbus/signal-router.js';
import { errorMessage } from '../../errors.js';

/** The connections a host-settings plugin needs: the daemon's own system bus. */
export interface HostSettingsDependencies {
  bus: MessageBus;
  router: SignalRouter;
  log: Logger;
}

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
      return typeof text === 'string' && text ? `${text} (${type})` : type;
  }
  return errorMessage(err);
}

/** A failed Set* call, carrying the service's own message. */
export class SettingRefused extends Error {
  constructor(member: string, err: unknown) {
    super(`${member} failed: ${serviceMessage(err)}`);
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

  constructor(
    private readonly bus: MessageBus,
    private readonly router: SignalRouter,
    readonly address: ServiceAddress,
  ) {}

  /**
   * Reads each property with its own Get, not GetAll: timedate1's GetAll fails
   * whole when it cannot ask systemd about NTP, and one unreadable property must
   * not hide the others.
   */
  async read(properties: readonly string[]): Promise<Record<string, Reading>> {
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
          );
          return [property, { value }];
        } catch (err) {
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
    timeoutMs: number = DEFAULT_CALL_TIMEOUT_MS,
  ): Promise<void> {
    const { busName, path } = this.address;
    try {
      await callMethod(
        this.bus,
        { destination: busName, path, interface: this.address.interface, member, signature, body },
        timeoutMs,
      );
    } catch (err) {
      throw new SettingRefused(member, err);
    }
  }

  /**
   * Adds the one bus match rule for this service's PropertiesChanged. The router
   * adds a rule once per connection (dbus-next never removes rules), so calling
   * this again is harmless.
   */
  listen(): Promise<void> {
    const { busName, path } = this.address;
    return this.router.addMatch(
      `type='signal',sender='${busName}',path='${path}',interface='${PROPERTIES_INTERFACE}',member='PropertiesChanged'`,
    );
  }

  /**
   * Calls `handler` with the names of the properties the service says changed,
   * until the returned function or stop() is called.
   */
  onPropertiesChanged(handler: (properties: string[]) => void): () => void {
    const unsubscribe = this.router.subscribe(
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

  /** Drops every handler (the bus match rule stays: dbus-next cannot remove it). */
  stop(): void {
    for (const stopListening of [...this.listeners]) stopListening();
  }
}

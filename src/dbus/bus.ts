import dbus from 'dbus-next';
import { ErrorName, OpdbusError } from '../errors.js';

export type MessageBus = dbus.MessageBus;
export type Message = dbus.Message;
export const { Message: MessageClass, MessageType, Variant } = dbus;

/**
 * Connects to a bus and resolves once the Hello handshake is done, so the caller
 * knows its unique name. `address` selects the bus: 'system' (honours
 * DBUS_SYSTEM_BUS_ADDRESS, as every D-Bus tool does) or a D-Bus address.
 */
export async function connectBus(address: string = 'system'): Promise<MessageBus> {
  const bus =
    address === 'system'
      ? dbus.systemBus()
      : address === 'session'
        ? dbus.sessionBus()
        : dbus.sessionBus({ busAddress: address });
  await new Promise<void>((resolve, reject) => {
    const onError = (err: unknown): void => {
      reject(new OpdbusError(ErrorName.PluginUnavailable, `cannot connect to bus: ${String(err)}`));
    };
    bus.once('error', onError);
    bus.once('connect', () => {
      bus.off('error', onError);
      resolve();
    });
  });
  return bus;
}

/** dbus-next has no public disconnect event: this reaches into the connection it wraps. */
export function onBusClosed(bus: MessageBus, handler: () => void): void {
  const connection = (bus as unknown as { _connection: NodeJS.EventEmitter })._connection;
  let fired = false;
  const fireOnce = (): void => {
    if (fired) return;
    fired = true;
    handler();
  };
  connection.on('end', fireOnce);
  connection.on('close', fireOnce);
  (connection as unknown as { stream: NodeJS.EventEmitter }).stream.on('close', fireOnce);
}

/** The unique bus name of this connection (set by Hello). */
export function uniqueName(bus: MessageBus): string {
  return (bus as unknown as { name: string }).name;
}

export interface MethodCall {
  destination: string;
  path: string;
  interface: string;
  member: string;
  signature?: string;
  body?: unknown[];
}

export const DEFAULT_CALL_TIMEOUT_MS = 30_000;

/** How long a call may take, and the operation's abort signal (cancel, stop, deadline). */
export interface CallOptions {
  timeoutMs?: number;
  signal?: AbortSignal;
}

function callOptions(options: number | CallOptions | undefined): CallOptions {
  return typeof options === 'number' ? { timeoutMs: options } : (options ?? {});
}

/**
 * Calls a method and returns the reply body. dbus-next has no call timeouts, so
 * this adds one (a service that hangs must not hang the daemon), and gives up
 * at once when the operation's signal aborts (its reason is thrown).
 */
export async function callMethod(
  bus: MessageBus,
  call: MethodCall,
  options?: number | CallOptions,
): Promise<unknown[]> {
  const { timeoutMs = DEFAULT_CALL_TIMEOUT_MS, signal } = callOptions(options);
  signal?.throwIfAborted();
  const message = new MessageClass({
    destination: call.destination,
    path: call.path,
    interface: call.interface,
    member: call.member,
    signature: call.signature ?? '',
    body: call.body ?? [],
  });
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  const giveUp = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(
        new OpdbusError(
          ErrorName.Timeout,
          `${call.destination} did not answer ${call.interface}.${call.member} within ${timeoutMs} ms`,
        ),
      );
    }, timeoutMs);
    onAbort = () => reject(abortReason(signal));
    signal?.addEventListener('abort', onAbort, { once: true });
  });
  try {
    const reply = await Promise.race([bus.call(message), giveUp]);
    return (reply?.body ?? []) as unknown[];
  } finally {
    clearTimeout(timer);
    if (onAbort) signal?.removeEventListener('abort', onAbort);
  }
}

/** The reason an aborted signal carries, as an Error. */
export function abortReason(signal: AbortSignal | undefined): Error {
  const reason: unknown = signal?.reason;
  if (reason instanceof Error) return reason;
  return new Error(typeof reason === 'string' ? reason : 'aborted');
}

/** Reads a property through org.freedesktop.DBus.Properties.Get and unwraps the variant. */
export async function getProperty(
  bus: MessageBus,
  destination: string,
  path: string,
  iface: string,
  name: string,
  options?: number | CallOptions,
): Promise<unknown> {
  const [variant] = await callMethod(
    bus,
    {
      destination,
      path,
      interface: 'org.freedesktop.DBus.Properties',
      member: 'Get',
      signature: 'ss',
      body: [iface, name],
    },
    options,
  );
  return (variant as { value: unknown }).value;
}

/** Reads all properties of an interface, unwrapping the variants. */
export async function getAllProperties(
  bus: MessageBus,
  destination: string,
  path: string,
  iface: string,
  options?: number | CallOptions,
): Promise<Record<string, unknown>> {
  const [dict] = await callMethod(
    bus,
    {
      destination,
      path,
      interface: 'org.freedesktop.DBus.Properties',
      member: 'GetAll',
      signature: 's',
      body: [iface],
    },
    options,
  );
  return unwrapVariants(dict as Record<string, { value: unknown }>);
}

export function unwrapVariants(dict: Record<string, { value: unknown }>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(dict).map(([key, variant]) => [key, variant.value]));
}

/** True when the error is a D-Bus error reply with this name. */
export function isDBusError(err: unknown, name: string): boolean {
  return typeof err === 'object' && err !== null && (err as { type?: unknown }).type === name;
}

/** The text of a D-Bus error reply or any other error. */
export function dbusErrorText(err: unknown): string {
  if (typeof err === 'object' && err !== null) {
    const { type, text } = err as { type?: unknown; text?: unknown };
    if (typeof type === 'string') return `${type}: ${typeof text === 'string' ? text : ''}`;
  }
  return err instanceof Error ? err.message : String(err);
}

import type { Logger } from 'pino';
import { abortReason } from '../../../dbus/bus.js';
import { errorMessage, PluginFailure, retryableFailure } from '../../../errors.js';
import type { Json } from './datum.js';
import { JsonRpcConnection } from './json-rpc.js';
import { DEFAULT_MAX_MESSAGE_BYTES } from './json-stream.js';
import { Replica, type TableSpecs, type TouchedRows } from './replica.js';

export interface OvsdbClientOptions {
  /** ovsdb-server's unix socket, e.g. /run/openvswitch/db.sock. */
  socketPath: string;
  database: string;
  /** The tables and columns to keep a replica of (one monitor for all). */
  tables: TableSpecs;
  log: Logger;
  /** How long one request may take (default 10 s). */
  callTimeoutMs?: number;
  maxMessageBytes?: number;
  /** Reconnect back-off: first delay and ceiling (defaults 100 ms and 3 s). */
  backoff?: { initialMs: number; maxMs: number };
}

/** What happened to the replica: rebuilt after a (re)connect, or changed by an update. */
export type ReplicaEvent =
  | { kind: 'reset'; touched: TouchedRows }
  | { kind: 'update'; touched: TouchedRows }
  | { kind: 'lost' };

const MONITOR_ID = 'op-dbus';
export const DEFAULT_CALL_TIMEOUT_MS = 10_000;

/**
 * A robust OVSDB client: connects on demand and reconnects in the background
 * with back-off; keeps ONE `monitor_cond` over the configured tables and a
 * replica of them, rebuilt from scratch on every connection (whatever happened
 * while disconnected is in the new initial rows). Reads come from the replica
 * after a round trip (`sync`), writes go out as one `transact`.
 */
export class OvsdbClient {
  readonly replica: Replica;
  private connection: JsonRpcConnection | undefined;
  private connecting: Promise<JsonRpcConnection> | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private backoffMs: number;
  private started = false;
  private lastError = 'not connected yet';
  private readonly listeners = new Set<(event: ReplicaEvent) => void>();
  private readonly callTimeoutMs: number;
  private readonly backoff: { initialMs: number; maxMs: number };

  constructor(private readonly options: OvsdbClientOptions) {
    this.replica = new Replica(options.tables);
    this.callTimeoutMs = options.callTimeoutMs ?? DEFAULT_CALL_TIMEOUT_MS;
    this.backoff = options.backoff ?? { initialMs: 100, maxMs: 3_000 };
    this.backoffMs = this.backoff.initialMs;
  }

  /** Starts connecting in the background; never fails (ovsdb-server may come later). */
  start(): void {
    if (this.started) return;
    this.started = true;
    this.attempt().catch(() => undefined);
  }

  stop(): void {
    this.started = false;
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    const connection = this.connection;
    // Forgotten first: a close we asked for is not a lost connection.
    this.connection = undefined;
    connection?.close();
  }

  get connected(): boolean {
    return this.connection?.isOpen === true;
  }

  /** Calls `listener` on every replica change until the returned function is called. */
  subscribe(listener: (event: ReplicaEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * The replica, once every change ovsdb-server committed before this call is
   * in it: ovsdb-server flushes a session's monitor updates before it reads
   * the session's next request, so the answer to an `echo` sent now comes after
   * them. Throws a retryable failure when ovsdb-server cannot be reached.
   */
  async sync(signal?: AbortSignal): Promise<Replica> {
    const connection = await this.ensureConnected(signal);
    await connection.request('echo', ['op-dbus sync'], { timeoutMs: this.callTimeoutMs, signal });
    return this.replica;
  }

  /** One `transact`: the per-operation results as ovsdb-server returned them. */
  async transact(operations: Json[], signal?: AbortSignal): Promise<unknown[]> {
    const connection = await this.ensureConnected(signal);
    const result = await connection.request('transact', [this.options.database, ...operations], {
      timeoutMs: this.callTimeoutMs,
      signal,
    });
    if (!Array.isArray(result))
      throw retryableFailure('ovsdb-server sent a malformed transact reply');
    return result as unknown[];
  }

  /**
   * Resolves once `predicate` holds on the replica (checked now and after every
   * change); fails when the time is up, the signal aborts or the connection is lost.
   */
  waitFor(
    what: string,
    predicate: (replica: Replica) => boolean,
    options: { timeoutMs: number; signal?: AbortSignal },
  ): Promise<void> {
    if (this.connected && predicate(this.replica)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const finish = (err?: Error): void => {
        clearTimeout(timer);
        unsubscribe();
        options.signal?.removeEventListener('abort', onAbort);
        if (err === undefined) resolve();
        else reject(err);
      };
      const onAbort = (): void => finish(abortReason(options.signal));
      const timer = setTimeout(
        () => finish(retryableFailure(`${what}: not within ${options.timeoutMs} ms`)),
        options.timeoutMs,
      );
      const unsubscribe = this.subscribe((event) => {
        if (event.kind === 'lost')
          finish(retryableFailure(`${what}: ovsdb-server connection lost`));
        else if (predicate(this.replica)) finish();
      });
      if (options.signal?.aborted) onAbort();
      else options.signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  private async ensureConnected(signal?: AbortSignal): Promise<JsonRpcConnection> {
    signal?.throwIfAborted();
    if (this.connection?.isOpen) return this.connection;
    if (!this.started) throw retryableFailure('the OVSDB client is stopped');
    // Connect on demand: the engine's own back-off paces these calls.
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    const attempt = this.attempt();
    if (signal === undefined) return attempt;
    return new Promise((resolve, reject) => {
      const onAbort = (): void => reject(abortReason(signal));
      signal.addEventListener('abort', onAbort, { once: true });
      attempt.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
    });
  }

  private attempt(): Promise<JsonRpcConnection> {
    this.connecting ??= this.connectOnce().finally(() => {
      this.connecting = undefined;
    });
    return this.connecting;
  }

  private async connectOnce(): Promise<JsonRpcConnection> {
    try {
      const connection = await this.connectAndMonitor();
      if (!this.started) {
        connection.close();
        throw new Error('the OVSDB client is stopped');
      }
      // Lost between the monitor's reply and here: onClosed ignored it.
      if (!connection.isOpen) throw new Error('the connection closed while it was set up');
      this.connection = connection;
      this.backoffMs = this.backoff.initialMs;
      this.options.log.info({ socket: this.options.socketPath }, 'ovsdb connected');
      return connection;
    } catch (err) {
      this.lastError = errorMessage(err);
      this.options.log.debug({ err: this.lastError }, 'ovsdb connect failed');
      this.scheduleRetry();
      throw err instanceof PluginFailure ? err : retryableFailure(this.lastError);
    }
  }

  /** Opens a session and sets up the monitor; the replica is rebuilt from its reply. */
  private async connectAndMonitor(): Promise<JsonRpcConnection> {
    let monitored = false;
    const early: unknown[] = [];
    const connection: JsonRpcConnection = await JsonRpcConnection.open(
      this.options.socketPath,
      {
        onNotification: (method, params) => {
          if (method !== 'update2' || params[0] !== MONITOR_ID) return;
          if (monitored) this.applyUpdate(connection, params[1]);
          else early.push(params[1]);
        },
        onClose: (reason) => this.onClosed(connection, reason),
      },
      {
        timeoutMs: this.callTimeoutMs,
        maxMessageBytes: this.options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES,
      },
    );
    const requests = Object.fromEntries(
      Object.entries(this.options.tables).map(([table, columns]) => [
        table,
        [{ columns: Object.keys(columns) }],
      ]),
    );
    try {
      await connection.request('monitor_cond', [this.options.database, MONITOR_ID, requests], {
        timeoutMs: this.callTimeoutMs,
        // Synchronously, before any update2 that follows the reply is read.
        onResult: (initial) => {
          const touched = this.replica.reset(initial);
          monitored = true;
          this.emit({ kind: 'reset', touched });
          for (const update of early.splice(0)) this.applyUpdate(connection, update);
        },
      });
    } catch (err) {
      connection.close(new Error(`monitor_cond failed: ${errorMessage(err)}`));
      throw err;
    }
    return connection;
  }

  private applyUpdate(connection: JsonRpcConnection, update: unknown): void {
    try {
      this.emit({ kind: 'update', touched: this.replica.apply(update) });
    } catch (err) {
      // The replica no longer matches the server: a fresh monitor rebuilds it.
      this.options.log.error({ err: errorMessage(err) }, 'ovsdb sent an invalid update');
      connection.close(new Error(`invalid update: ${errorMessage(err)}`));
    }
  }

  private onClosed(connection: JsonRpcConnection, reason: Error): void {
    if (this.connection !== connection) return;
    this.connection = undefined;
    this.lastError = reason.message;
    this.options.log.warn({ reason: reason.message }, 'ovsdb connection lost');
    this.emit({ kind: 'lost' });
    this.scheduleRetry();
  }

  private scheduleRetry(): void {
    if (!this.started || this.retryTimer !== undefined) return;
    const delay = this.backoffMs;
    this.backoffMs = Math.min(this.backoffMs * 2, this.backoff.maxMs);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.attempt().catch(() => undefined);
    }, delay);
    this.retryTimer.unref();
  }

  private emit(event: ReplicaEvent): void {
    for (const listener of [...this.listeners]) {
      try {
        listener(event);
      } catch (err) {
        this.options.log.error({ err: errorMessage(err) }, 'replica listener failed');
      }
    }
  }
}

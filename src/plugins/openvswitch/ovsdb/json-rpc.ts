import { createConnection, type Socket } from 'node:net';
import { abortReason } from '../../../dbus/bus.js';
import { boundedText, errorMessage, retryableFailure } from '../../../errors.js';
import type { Json } from './datum.js';
import { JsonStreamSplitter } from './json-stream.js';

/** ovsdb-server answered a request with a JSON-RPC error (e.g. an unknown database). */
export class OvsdbRpcError extends Error {
  constructor(
    readonly method: string,
    readonly error: unknown,
  ) {
    super(`ovsdb-server refused ${method}: ${boundedText(describeRpcError(error))}`);
    this.name = 'OvsdbRpcError';
  }
}

/** OVSDB errors are {"error": "...", "details": "..."}; other servers send strings. */
export function describeRpcError(error: unknown): string {
  if (typeof error === 'string') return error;
  if (typeof error === 'object' && error !== null) {
    const { error: name, details } = error as { error?: unknown; details?: unknown };
    if (typeof name === 'string') return typeof details === 'string' ? `${name}: ${details}` : name;
  }
  return JSON.stringify(error) ?? String(error);
}

export interface RequestOptions {
  timeoutMs: number;
  signal?: AbortSignal;
  /**
   * Runs with the result as the reply is read, before any message after it:
   * a monitor's initial rows must be in place before its first update2.
   */
  onResult?: (result: unknown) => void;
}

interface PendingCall {
  method: string;
  resolve(result: unknown): void;
  reject(err: Error): void;
  onResult?: (result: unknown) => void;
}

export interface ConnectionHandlers {
  /** A notification (a message with `id: null`): update2, locked, stolen, ... */
  onNotification(method: string, params: unknown[]): void;
  /** The connection is gone, for whatever reason; called once. */
  onClose(reason: Error): void;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * One JSON-RPC 1.0 session with ovsdb-server over a unix socket: requests with
 * ids, per-call timeouts and abort signals, answers to the server's `echo`
 * probes, and one close notice. It does not reconnect: OvsdbClient does.
 */
export class JsonRpcConnection {
  private nextId = 1;
  private readonly pending = new Map<number, PendingCall>();
  private readonly splitter: JsonStreamSplitter;
  private closed: Error | undefined;

  private constructor(
    private readonly socket: Socket,
    private readonly handlers: ConnectionHandlers,
    maxMessageBytes: number,
  ) {
    this.splitter = new JsonStreamSplitter(maxMessageBytes);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err) => this.close(err));
    socket.on('close', () => this.close(new Error('the connection closed')));
  }

  /**
   * Connects to `path`. A socket that is absent or refuses (ovsdb-server not
   * running) is a retryable failure that names the path.
   */
  static open(
    path: string,
    handlers: ConnectionHandlers,
    options: { timeoutMs: number; maxMessageBytes: number },
  ): Promise<JsonRpcConnection> {
    return new Promise((resolve, reject) => {
      const socket = createConnection({ path });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(
          retryableFailure(`ovsdb-server at ${path} did not accept within ${options.timeoutMs} ms`),
        );
      }, options.timeoutMs);
      socket.once('error', (err) => {
        clearTimeout(timer);
        reject(retryableFailure(`ovsdb-server is unavailable at ${path}: ${errorMessage(err)}`));
      });
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.removeAllListeners('error');
        resolve(new JsonRpcConnection(socket, handlers, options.maxMessageBytes));
      });
    });
  }

  get isOpen(): boolean {
    return this.closed === undefined;
  }

  request(method: string, params: Json[], options: RequestOptions): Promise<unknown> {
    if (this.closed) {
      return Promise.reject(
        retryableFailure(`ovsdb-server connection lost: ${this.closed.message}`),
      );
    }
    options.signal?.throwIfAborted();
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const cleanup = (): void => {
        clearTimeout(timer);
        options.signal?.removeEventListener('abort', onAbort);
        this.pending.delete(id);
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(
          retryableFailure(`ovsdb-server did not answer ${method} within ${options.timeoutMs} ms`),
        );
      }, options.timeoutMs);
      // A late answer to an abandoned id is dropped in onMessage.
      const onAbort = (): void => {
        cleanup();
        reject(abortReason(options.signal));
      };
      options.signal?.addEventListener('abort', onAbort, { once: true });
      this.pending.set(id, {
        method,
        onResult: options.onResult,
        resolve: (result) => {
          cleanup();
          resolve(result);
        },
        reject: (err: Error) => {
          cleanup();
          reject(err);
        },
      });
      this.send({ method, params, id });
    });
  }

  /** Closes the socket; pending calls fail as retryable. */
  close(reason: Error = new Error('closed by op-dbus')): void {
    if (this.closed) return;
    this.closed = reason;
    this.socket.destroy();
    const failure = retryableFailure(`ovsdb-server connection lost: ${reason.message}`);
    for (const call of [...this.pending.values()]) call.reject(failure);
    this.handlers.onClose(reason);
  }

  private send(message: Json): void {
    if (this.closed) return;
    this.socket.write(JSON.stringify(message));
  }

  private onData(chunk: Buffer): void {
    if (this.closed) return;
    try {
      for (const text of this.splitter.push(chunk)) {
        this.onMessage(JSON.parse(text) as unknown);
        if (this.closed) return;
      }
    } catch (err) {
      // The stream cannot be trusted after a broken message: start over.
      this.close(new Error(`protocol error: ${errorMessage(err)}`));
    }
  }

  private onMessage(message: unknown): void {
    if (!isObject(message)) throw new Error('a message is not a JSON object');
    const { id } = message;
    if (typeof message.method === 'string') {
      const params = Array.isArray(message.params) ? (message.params as unknown[]) : [];
      if (id === null || id === undefined) {
        this.handlers.onNotification(message.method, params);
      } else if (message.method === 'echo') {
        // ovsdb-server's inactivity probe: answered with the same params, or it hangs up.
        this.send({ id: id as Json, result: params as Json[], error: null });
      } else {
        this.send({ id: id as Json, result: null, error: `unknown method ${message.method}` });
      }
      return;
    }
    if (!('result' in message) || !('error' in message)) {
      throw new Error('a message is neither a request, a notification nor a reply');
    }
    const call = typeof id === 'number' ? this.pending.get(id) : undefined;
    if (call === undefined) return;
    if (message.error !== null) {
      call.reject(new OvsdbRpcError(call.method, message.error));
      return;
    }
    try {
      call.onResult?.(message.result);
      call.resolve(message.result);
    } catch (err) {
      call.reject(err instanceof Error ? err : new Error(String(err)));
    }
  }
}

import { mkdtemp, rm } from 'node:fs/promises';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JsonStreamSplitter } from '../../src/plugins/openvswitch/ovsdb/json-stream.js';

/**
 * A unix-socket proxy in front of a real ovsdb-server that can stop a client's
 * `transact` on its way: the one reliable way to let "someone else" change
 * Open vSwitch between a daemon's observe and its transaction. Everything else
 * passes through unchanged, in both directions. While a transaction is held,
 * whatever the client sends after it waits behind it (order is kept).
 */
export class OvsdbGate {
  private closed = false;
  private queue: { upstream: Socket; text: string }[] = [];
  private waiters: (() => void)[] = [];
  private readonly sockets = new Set<Socket>();

  private constructor(
    private readonly server: Server,
    private readonly dir: string,
    readonly path: string,
  ) {}

  static async start(target: string): Promise<OvsdbGate> {
    const dir = await mkdtemp(join(tmpdir(), 'opdbus-ovsdb-gate-'));
    const path = join(dir, 'gate.sock');
    const server = createServer();
    const gate = new OvsdbGate(server, dir, path);
    server.on('connection', (client: Socket) => gate.accept(client, target));
    await new Promise<void>((resolve) => server.listen(path, resolve));
    return gate;
  }

  /** From now on, the next transaction any client sends is held. */
  close(): void {
    this.closed = true;
  }

  /** Resolves once a transaction is held. */
  held(): Promise<void> {
    if (this.queue.length > 0) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Lets the held messages through, in order, and everything after them. */
  open(): void {
    this.closed = false;
    for (const { upstream, text } of this.queue.splice(0)) upstream.write(text);
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    await rm(this.dir, { recursive: true, force: true });
  }

  private accept(client: Socket, target: string): void {
    const upstream = createConnection({ path: target });
    this.sockets.add(client).add(upstream);
    const splitter = new JsonStreamSplitter();
    const end = (): void => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
    upstream.on('data', (chunk: Buffer) => client.write(chunk));
    client.on('data', (chunk: Buffer) => {
      for (const text of splitter.push(chunk)) this.forward(upstream, text);
    });
  }

  private forward(upstream: Socket, text: string): void {
    const isTransaction = (JSON.parse(text) as { method?: unknown }).method === 'transact';
    if (this.queue.length > 0 || (this.closed && isTransaction)) {
      this.queue.push({ upstream, text });
      for (const resolve of this.waiters.splice(0)) resolve();
      return;
    }
    upstream.write(text);
  }
}

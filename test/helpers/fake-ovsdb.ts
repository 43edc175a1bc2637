import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JsonStreamSplitter } from '../../src/plugins/openvswitch/ovsdb/json-stream.js';

export interface FakeRequest {
  id: unknown;
  method: string;
  params: unknown[];
}

/**
 * A scripted JSON-RPC peer on a unix socket, for what a real ovsdb-server will
 * not do on demand: hang, answer out of order, split messages anywhere, send
 * garbage. `onRequest` decides each answer; by default it answers nothing.
 */
export class FakeOvsdb {
  readonly received: FakeRequest[] = [];
  /** Messages the client sent that were replies (to our echo). */
  readonly replies: Record<string, unknown>[] = [];
  readonly sockets = new Set<Socket>();
  onRequest: (request: FakeRequest, socket: Socket) => void = () => undefined;
  private server: Server | undefined;

  private constructor(
    readonly dir: string,
    readonly path: string,
  ) {}

  static async start(): Promise<FakeOvsdb> {
    const dir = await mkdtemp(join(tmpdir(), 'opdbus-fake-ovsdb-'));
    const fake = new FakeOvsdb(dir, join(dir, 'db.sock'));
    await fake.listen();
    return fake;
  }

  async listen(): Promise<void> {
    const server = createServer((socket) => this.accept(socket));
    await new Promise<void>((resolve) => server.listen(this.path, resolve));
    this.server = server;
  }

  /** Closes the listener and every connection (the socket file goes too). */
  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) =>
      this.server ? this.server.close(() => resolve()) : resolve(),
    );
    this.server = undefined;
  }

  async stop(): Promise<void> {
    await this.close();
    await rm(this.dir, { recursive: true, force: true });
  }

  /** Writes raw text to every connected client. */
  sendRaw(text: string): void {
    for (const socket of this.sockets) socket.write(text);
  }

  static reply(socket: Socket, id: unknown, result: unknown, error: unknown = null): void {
    socket.write(JSON.stringify({ id, result, error }));
  }

  private accept(socket: Socket): void {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => undefined);
    const splitter = new JsonStreamSplitter();
    socket.on('data', (chunk: Buffer) => {
      for (const text of splitter.push(chunk)) {
        const message = JSON.parse(text) as Record<string, unknown>;
        if (typeof message.method !== 'string') {
          this.replies.push(message);
          continue;
        }
        const request = {
          id: message.id,
          method: message.method,
          params: (message.params as unknown[] | undefined) ?? [],
        };
        this.received.push(request);
        this.onRequest(request, socket);
      }
    });
  }
}

import { createRequire } from 'node:module';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

interface DgramSocket {
  bind(path: string): void;
  on(event: 'message', listener: (buffer: Buffer) => void): void;
  on(event: 'error', listener: (err: Error) => void): void;
  close(): void;
}
interface UnixDgram {
  createSocket(type: 'unix_dgram', onMessage?: (buffer: Buffer) => void): DgramSocket;
}

/**
 * A NOTIFY_SOCKET as systemd provides one: a datagram socket the bench listens
 * on, resolving `ready` when READY=1 arrives.
 */
export class NotifyListener {
  readonly path: string;
  readonly ready: Promise<bigint>;
  private readonly socket: DgramSocket;
  private readonly dir: string;

  constructor() {
    this.dir = mkdtempSync(join(tmpdir(), 'opdbus-bench-notify-'));
    this.path = join(this.dir, 'notify');
    const unixDgram = createRequire(import.meta.url)('unix-dgram') as UnixDgram;
    let resolveReady: (at: bigint) => void = () => undefined;
    this.ready = new Promise((resolve) => {
      resolveReady = resolve;
    });
    this.socket = unixDgram.createSocket('unix_dgram', (buffer) => {
      if (buffer.toString('utf8').split('\n').includes('READY=1'))
        resolveReady(process.hrtime.bigint());
    });
    this.socket.on('error', () => undefined);
    this.socket.bind(this.path);
  }

  close(): void {
    this.socket.close();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

import { createRequire } from 'node:module';
import type { Logger } from 'pino';

/**
 * sd_notify(3) from the daemon's own PID: READY=1, STATUS=, WATCHDOG=1, STOPPING=1.
 *
 * Why unix-dgram: Node has no AF_UNIX datagram sockets, and the npm
 * `systemd-notify` package spawns the systemd-notify binary per call (a different
 * PID, racing its own exit) and cannot send WATCHDOG=1. A no-op without
 * NOTIFY_SOCKET, i.e. when not started by systemd.
 */
interface DgramSocket {
  send(
    buffer: Buffer,
    offset: number,
    length: number,
    path: string,
    callback?: (err?: Error) => void,
  ): void;
  on(event: 'error', listener: (err: Error) => void): void;
  close(): void;
}
interface UnixDgram {
  createSocket(type: 'unix_dgram'): DgramSocket;
}

export class SdNotify {
  private socket: DgramSocket | undefined;
  private watchdogTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly log: Logger,
    private readonly env: NodeJS.ProcessEnv = process.env,
  ) {
    const path = env.NOTIFY_SOCKET;
    if (!path) return;
    if (path.startsWith('@')) {
      log.warn({ path }, 'abstract NOTIFY_SOCKET is not supported; not notifying systemd');
      return;
    }
    const unixDgram = createRequire(import.meta.url)('unix-dgram') as UnixDgram;
    this.socket = unixDgram.createSocket('unix_dgram');
    this.socket.on('error', (err) => log.warn({ err }, 'sd_notify socket error'));
  }

  get enabled(): boolean {
    return this.socket !== undefined;
  }

  private send(message: string): void {
    const path = this.env.NOTIFY_SOCKET;
    if (!this.socket || !path) return;
    const buffer = Buffer.from(message);
    this.socket.send(buffer, 0, buffer.length, path, (err) => {
      if (err) this.log.warn({ err, message }, 'sd_notify failed');
    });
  }

  ready(status: string): void {
    this.send(`READY=1\nSTATUS=${status}`);
  }

  status(status: string): void {
    this.send(`STATUS=${status}`);
  }

  stopping(status: string): void {
    this.send(`STOPPING=1\nSTATUS=${status}`);
  }

  /**
   * Pings the watchdog at half of WATCHDOG_USEC, if systemd asked for it and asked
   * this process (WATCHDOG_PID unset or ours). The timer runs on the event loop, so
   * a hung loop stops the pings and systemd restarts the daemon, as intended.
   */
  startWatchdog(): number | undefined {
    const usec = Number(this.env.WATCHDOG_USEC);
    const pid = this.env.WATCHDOG_PID;
    if (!this.socket || !Number.isFinite(usec) || usec <= 0) return undefined;
    if (pid !== undefined && Number(pid) !== process.pid) return undefined;
    const intervalMs = Math.max(1, Math.floor(usec / 1000 / 2));
    this.send('WATCHDOG=1');
    this.watchdogTimer = setInterval(() => this.send('WATCHDOG=1'), intervalMs);
    return intervalMs;
  }

  close(): void {
    clearInterval(this.watchdogTimer);
    this.socket?.close();
    this.socket = undefined;
  }
}

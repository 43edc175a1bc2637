import type { Logger } from 'pino';
import { BusConnection } from '../dbus/bus-connection.js';
import { connectBus, onBusClosed, type MessageBus } from '../dbus/bus.js';

/**
 * The daemon's bus connections, one per address, shared by every plugin that
 * asks for the same bus. 'system' is the daemon's own connection (where it owns
 * its name). Losing any of them is fatal: the daemon exits non-zero and systemd
 * restarts it with fresh connections and subscriptions.
 */
export class BusPool {
  private readonly connections = new Map<string, Promise<BusConnection>>();

  constructor(
    private readonly log: Logger,
    private readonly onLost: () => void,
  ) {}

  /** Registers the daemon's own connection as 'system'. */
  adopt(address: string, bus: MessageBus): BusConnection {
    const connection = new BusConnection(bus, this.log);
    this.connections.set(address, Promise.resolve(connection));
    return connection;
  }

  connect(address: string): Promise<BusConnection> {
    const key = address === 'user' ? userBusAddress() : address;
    let connection = this.connections.get(key);
    if (!connection) {
      connection = this.open(key);
      this.connections.set(key, connection);
      connection.catch(() => this.connections.delete(key));
    }
    return connection;
  }

  private async open(address: string): Promise<BusConnection> {
    const bus = await connectBus(address);
    bus.on('error', (err: unknown) => this.log.error({ err, address }, 'bus connection error'));
    onBusClosed(bus, this.onLost);
    return new BusConnection(bus, this.log);
  }

  /** Every connection but the daemon's own, which the daemon closes last. */
  stop(): Promise<void> {
    return this.close((address) => address !== 'system');
  }

  /** Every connection (tests, which own no daemon connection). */
  stopAll(): Promise<void> {
    return this.close(() => true);
  }

  private async close(disconnect: (address: string) => boolean): Promise<void> {
    for (const [address, pending] of this.connections) {
      const connection = await pending.catch(() => undefined);
      connection?.stop();
      if (disconnect(address)) connection?.bus.disconnect();
    }
    this.connections.clear();
  }
}

function userBusAddress(): string {
  return `unix:path=${process.env.XDG_RUNTIME_DIR ?? '/run/user/0'}/bus`;
}

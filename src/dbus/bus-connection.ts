import type { Logger } from 'pino';
import type { MessageBus } from './bus.js';
import { ServicePeer } from './service-peer.js';
import { SignalRouter } from './signal-router.js';

/**
 * One connection to one bus, shared by everything that talks to services on it:
 * the connection, its signal router (one match rule per service, added once),
 * and one ServicePeer per service name, so that each service's owner is
 * tracked in one place however many plugins use it.
 */
export class BusConnection {
  readonly router: SignalRouter;
  private readonly peers = new Map<string, ServicePeer>();

  constructor(
    readonly bus: MessageBus,
    private readonly log: Logger,
  ) {
    this.router = new SignalRouter(bus);
  }

  /** The service's peer (created on first use; call its start() before relying on its owner). */
  peer(name: string): ServicePeer {
    let peer = this.peers.get(name);
    if (!peer) {
      peer = new ServicePeer(this.bus, this.router, name, this.log);
      this.peers.set(name, peer);
    }
    return peer;
  }

  /** Signals dropped because they did not come from a service's owner, per service. */
  droppedSignals(): Record<string, number> {
    return Object.fromEntries([...this.peers].map(([name, peer]) => [name, peer.dropped]));
  }

  stop(): void {
    for (const peer of this.peers.values()) peer.stop();
    this.router.stop();
  }
}

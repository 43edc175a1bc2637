import type { Logger } from 'pino';
import { errorMessage } from '../../errors.js';
import type { ChangeScope, ChangeSource } from './contract.js';
import type { OvsdbClient, ReplicaEvent } from './ovsdb/client.js';
import { bridgeIndex, bridgesTouched } from './state.js';

/**
 * The plugin's one feed of "look again" notices, from the client's one monitor:
 * an update names the bridges whose Bridge, Port or Interface rows it touched
 * (before or after the change, so a port deleted from a bridge names that
 * bridge); a (re)connect says 'all', since anything may have changed while the
 * connection was down. Level-based: nothing of the update's content is passed on.
 */
export class OvsChangeFeed implements ChangeSource {
  private readonly listeners = new Set<(scope: ChangeScope) => void>();
  private index = new Map<string, Set<string>>();
  private unsubscribe: (() => void) | undefined;

  constructor(
    private readonly client: OvsdbClient,
    private readonly log: Logger,
  ) {}

  start(): void {
    this.index = bridgeIndex(this.client.replica);
    this.unsubscribe ??= this.client.subscribe((event) => this.onReplicaEvent(event));
  }

  stop(): void {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
  }

  subscribe(listener: (scope: ChangeScope) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private onReplicaEvent(event: ReplicaEvent): void {
    // A lost connection says nothing to look at: observe fails until it is back.
    if (event.kind === 'lost') return;
    const after = bridgeIndex(this.client.replica);
    const scope: ChangeScope =
      event.kind === 'reset' ? 'all' : bridgesTouched(event.touched, this.index, after);
    this.index = after;
    if (scope === 'all' || scope.length > 0) this.notify(scope);
  }

  private notify(scope: ChangeScope): void {
    for (const listener of [...this.listeners]) {
      try {
        listener(scope);
      } catch (err) {
        this.log.error({ err: errorMessage(err) }, 'change listener failed');
      }
    }
  }
}

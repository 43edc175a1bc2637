import { join } from 'node:path';
import type { Logger } from 'pino';
import type { BusConnection } from '../../dbus/bus-connection.js';
import { errorMessage, retryableFailure, boundedText } from '../../errors.js';
import { dbusErrorText } from '../../dbus/bus.js';
import { ActivationWaiter } from './activation.js';
import { applyNetwork, type NetworkContext } from './apply.js';
import { NetworkChangeFeed, type ChangeScope } from './change-feed.js';
import { CheckpointKeeper } from './checkpoint.js';
import type { ObservedNetwork, PlannedChange, ResourceOutcome } from './model.js';
import { NM_NAME, NmClient } from './nm-client.js';
import { readSnapshot } from './nm-snapshot.js';
import type { Persistence } from './nm-types.js';
import { observeNetwork, querySection } from './observe.js';
import { narrowNetwork, planNetwork } from './plan.js';
import { NetworkSection } from './schema.js';

export interface NetworkPluginOptions {
  /**
   * The connection to the bus NetworkManager is on (the system bus; a private
   * one in tests), made at start(): the new contract's `host.connect('system')`.
   */
  connect(): Promise<BusConnection>;
  log: Logger;
  /** Where the record of open checkpoints lives, so a crash's leftover is found at start. */
  stateDir?: string;
  /** Profiles saved to disk (default) or kept in memory until NetworkManager restarts. */
  persistence?: Persistence;
  /** One D-Bus call (default 10 s). */
  callTimeoutMs?: number;
  /** One activation, from ActivateConnection to "activated" (default 60 s). */
  activationTimeoutMs?: number;
}

export const CHECKPOINT_RECORD_FILE = 'network-checkpoints.json';

/** What start() makes from the bus connection. */
interface Parts {
  client: NmClient;
  feed: NetworkChangeFeed;
  activations: ActivationWaiter;
  checkpoints: CheckpointKeeper;
  unsubscribe: () => void;
}

/**
 * Host networking in nmstate's language, through NetworkManager's D-Bus API
 * only (never nmcli), with a checkpoint around every apply. Typed
 * structurally: it has what the old engine's Plugin wants (name, schema,
 * watch) and what the new contract wants (changes, deadline-aware context).
 */
export class NetworkPlugin {
  readonly name = 'network';
  readonly schema = NetworkSection;
  /** The one change feed; listeners may subscribe before start(). */
  readonly changes = {
    subscribe: (listener: (scope: ChangeScope) => void): (() => void) => {
      this.listeners.add(listener);
      return () => {
        this.listeners.delete(listener);
      };
    },
  };
  private readonly listeners = new Set<(scope: ChangeScope) => void>();
  private readonly log: Logger;
  private parts: Parts | undefined;
  /** Set once leftover checkpoints were looked for; until then every apply looks first. */
  private staleChecked = false;

  constructor(private readonly options: NetworkPluginOptions) {
    this.log = options.log;
  }

  /**
   * Connects and subscribes, then destroys a checkpoint a previous run left
   * behind. Works without NetworkManager running: the leftover is then looked
   * for at the first apply.
   */
  async start(): Promise<void> {
    if (this.parts) return;
    const connection = await this.options.connect();
    const peer = connection.peer(NM_NAME);
    await peer.start();
    const client = new NmClient(connection.bus, this.options.callTimeoutMs);
    const feed = new NetworkChangeFeed(peer, this.log);
    const activations = new ActivationWaiter(peer, client);
    const recordFile = this.options.stateDir
      ? join(this.options.stateDir, CHECKPOINT_RECORD_FILE)
      : undefined;
    const checkpoints = new CheckpointKeeper(client, recordFile, this.log);
    feed.start();
    activations.start();
    const unsubscribe = feed.subscribe((scope) => {
      for (const listener of [...this.listeners]) listener(scope);
    });
    this.parts = { client, feed, activations, checkpoints, unsubscribe };
    await this.destroyStaleCheckpoints(this.parts, AbortSignal.timeout(30_000)).catch(
      (err: unknown) =>
        this.log.warn({ err: errorMessage(err) }, 'cannot look for stale network checkpoints yet'),
    );
  }

  stop(): Promise<void> {
    this.parts?.unsubscribe();
    this.parts?.feed.stop();
    this.parts?.activations.stop();
    this.parts = undefined;
    this.listeners.clear();
    return Promise.resolve();
  }

  private started(): Parts {
    if (!this.parts) throw retryableFailure('the network plugin is not started');
    return this.parts;
  }

  private async destroyStaleCheckpoints(parts: Parts, signal: AbortSignal): Promise<void> {
    if (this.staleChecked) return;
    await parts.checkpoints.destroyStale({ signal });
    this.staleChecked = true;
  }

  async observe(_desired: NetworkSection, ctx: NetworkContext): Promise<ObservedNetwork> {
    try {
      const { client, feed } = this.started();
      const snapshot = await readSnapshot(client, { signal: ctx.signal });
      feed.learn(snapshot);
      return observeNetwork(snapshot);
    } catch (err) {
      if (ctx.signal.aborted) throw err;
      throw retryableFailure(`cannot read NetworkManager: ${boundedText(dbusErrorText(err))}`);
    }
  }

  plan(desired: NetworkSection, observed: ObservedNetwork): PlannedChange[] {
    return planNetwork(desired, observed);
  }

  async apply(
    changes: PlannedChange[],
    desired: NetworkSection,
    _observed: ObservedNetwork,
    ctx: NetworkContext,
  ): Promise<ResourceOutcome[]> {
    const parts = this.started();
    await this.destroyStaleCheckpoints(parts, ctx.signal).catch((err: unknown) => {
      throw retryableFailure(
        `cannot look for stale checkpoints: ${boundedText(dbusErrorText(err))}`,
      );
    });
    return applyNetwork(changes, desired, ctx, {
      client: parts.client,
      activations: parts.activations,
      checkpoints: parts.checkpoints,
      persistence: this.options.persistence ?? 'to-disk',
      activationTimeoutMs: this.options.activationTimeoutMs ?? 60_000,
    });
  }

  async query(ctx: NetworkContext): Promise<NetworkSection> {
    return querySection(await this.observe({}, ctx));
  }

  narrow(desired: NetworkSection, resources: readonly string[]): NetworkSection {
    return narrowNetwork(desired, resources);
  }

  /** The old engine's form of `changes`: undefined resources means "all". */
  watch(notify: (resources?: readonly string[]) => void): () => void {
    return this.changes.subscribe((scope) => notify(scope === 'all' ? undefined : scope));
  }
}

import { join } from 'node:path';
import type { Logger } from 'pino';
import type { MessageBus } from '../../dbus/bus.js';
import type { ServicePeer } from '../../dbus/service-peer.js';
import { errorMessage, retryableFailure, boundedText } from '../../errors.js';
import { dbusErrorText } from '../../dbus/bus.js';
import { ActivationWaiter } from './activation.js';
import { applyNetwork, type NetworkContext } from './apply.js';
import { NetworkChangeFeed, type ChangeScope } from './change-feed.js';
import { CheckpointKeeper } from './checkpoint.js';
import type { ObservedNetwork, PlannedChange, ResourceOutcome } from './model.js';
import { NmClient } from './nm-client.js';
import { readSnapshot } from './nm-snapshot.js';
import type { Persistence } from './nm-types.js';
import { observeNetwork, querySection } from './observe.js';
import { narrowNetwork, planNetwork } from './plan.js';
import { NetworkSection } from './schema.js';

export interface NetworkPluginOptions {
  /** The bus NetworkManager is on (the system bus; a private one in tests). */
  bus: MessageBus;
  /** NetworkManager's peer on that bus: the only way its signals reach the plugin. */
  peer: ServicePeer;
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

/**
 * Host networking in nmstate's language, through NetworkManager's D-Bus API
 * only (never nmcli), with a checkpoint around every apply. Typed
 * structurally: it has what the old engine's Plugin wants (name, schema,
 * watch) and what the new contract wants (changes, deadline-aware context).
 */
export class NetworkPlugin {
  readonly name = 'network';
  readonly schema = NetworkSection;
  readonly changes: { subscribe(listener: (scope: ChangeScope) => void): () => void };
  private readonly client: NmClient;
  private readonly feed: NetworkChangeFeed;
  private readonly activations: ActivationWaiter;
  private readonly checkpoints: CheckpointKeeper;
  private readonly log: Logger;
  /** Set once leftover checkpoints were looked for; until then every apply looks first. */
  private staleChecked = false;

  constructor(private readonly options: NetworkPluginOptions) {
    this.log = options.log;
    this.client = new NmClient(options.bus, options.callTimeoutMs);
    this.feed = new NetworkChangeFeed(options.peer, this.log);
    this.activations = new ActivationWaiter(options.peer, this.client);
    const recordFile = options.stateDir
      ? join(options.stateDir, CHECKPOINT_RECORD_FILE)
      : undefined;
    this.checkpoints = new CheckpointKeeper(this.client, recordFile, this.log);
    this.changes = { subscribe: (listener) => this.feed.subscribe(listener) };
  }

  /**
   * Subscribes, then destroys a checkpoint a previous run left behind. Works
   * without NetworkManager: then the leftover is looked for at the first apply.
   */
  async start(): Promise<void> {
    await this.options.peer.start();
    this.feed.start();
    this.activations.start();
    await this.destroyStaleCheckpoints(AbortSignal.timeout(30_000)).catch((err: unknown) =>
      this.log.warn({ err: errorMessage(err) }, 'cannot look for stale network checkpoints yet'),
    );
  }

  stop(): Promise<void> {
    this.feed.stop();
    this.activations.stop();
    return Promise.resolve();
  }

  private async destroyStaleCheckpoints(signal: AbortSignal): Promise<void> {
    if (this.staleChecked) return;
    await this.checkpoints.destroyStale({ signal });
    this.staleChecked = true;
  }

  async observe(_desired: NetworkSection, ctx: NetworkContext): Promise<ObservedNetwork> {
    try {
      const snapshot = await readSnapshot(this.client, { signal: ctx.signal });
      this.feed.learn(snapshot);
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
    await this.destroyStaleCheckpoints(ctx.signal).catch((err: unknown) => {
      throw retryableFailure(
        `cannot look for stale checkpoints: ${boundedText(dbusErrorText(err))}`,
      );
    });
    return applyNetwork(changes, desired, ctx, {
      client: this.client,
      activations: this.activations,
      checkpoints: this.checkpoints,
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
    return this.feed.subscribe((scope) => notify(scope === 'all' ? undefined : scope));
  }
}

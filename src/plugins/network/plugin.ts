import { join } from 'node:path';
import type { Logger } from 'pino';
import { dbusErrorText } from '../../dbus/bus.js';
import type { Capture, Plugin, PluginContext } from '../../engine/plugin.js';
import { boundedText, errorMessage, PluginFailure, retryableFailure } from '../../errors.js';
import type { PluginHost } from '../definition.js';
import { ChangeFeed } from '../shared/change-feed.js';
import { abortable, SingleFlight } from '../shared/service-slots.js';
import { ActivationWaiter } from './activation.js';
import { applyNetwork } from './apply.js';
import { captureNetwork, mergeNetwork, networkResources } from './capture.js';
import { CheckpointKeeper } from './checkpoint.js';
import type { ObservedNetwork, PlannedChange, ResourceOutcome } from './model.js';
import { NM_NAME, NmClient, type NmCallOptions } from './nm-client.js';
import { NetworkSignals } from './nm-signals.js';
import { readSnapshot, type NmSnapshot } from './nm-snapshot.js';
import { observeNetwork, querySection } from './observe.js';
import { narrowNetwork, planNetwork } from './plan.js';
import type { NetworkConfig } from './config.js';
import type { NetworkSection } from './schema.js';

/** In the daemon's state folder: the checkpoints taken and not yet destroyed. */
export const CHECKPOINT_RECORD_FILE = 'network-checkpoints.json';

/** How long start() may spend destroying a checkpoint a crashed run left behind. */
const STALE_CHECK_TIMEOUT_MS = 30_000;

/** What start() makes from the bus connection. */
interface Parts {
  client: NmClient;
  signals: NetworkSignals;
  activations: ActivationWaiter;
  checkpoints: CheckpointKeeper;
}

/**
 * Host networking in nmstate's language, through NetworkManager's D-Bus API
 * only (never nmcli), with a checkpoint around every apply. Nothing is cached:
 * every observe reads NetworkManager afresh; reads by local users that overlap
 * share one read (SingleFlight), and every call waits for one of the client's
 * slots, job work first.
 */
export class NetworkPlugin implements Plugin<NetworkSection, ObservedNetwork> {
  readonly changes = new ChangeFeed();
  private readonly log: Logger;
  private parts: Parts | undefined;
  /** Set once leftover checkpoints were looked for; until then every apply looks first. */
  private staleChecked = false;
  private readonly sharedReads = new SingleFlight<NmSnapshot>();
  /** Shared reads outlive any one caller: they stop only with the plugin. */
  private readonly lifetime = new AbortController();

  constructor(private readonly host: PluginHost<NetworkConfig>) {
    this.log = host.log;
  }

  /**
   * Subscribes through NetworkManager's ServicePeer, then destroys a checkpoint
   * a previous run left behind. Works without NetworkManager on the bus: the
   * leftover is then looked for at the first apply.
   */
  async start(): Promise<void> {
    if (this.parts) return;
    const connection = await this.host.connect(this.host.config.bus);
    const peer = connection.peer(NM_NAME);
    await peer.start();
    const client = new NmClient(connection.bus);
    const signals = new NetworkSignals(peer, this.changes, this.log);
    const activations = new ActivationWaiter(peer, client);
    const checkpoints = new CheckpointKeeper(
      client,
      join(this.host.stateDir, CHECKPOINT_RECORD_FILE),
      this.log,
    );
    signals.start();
    activations.start();
    this.parts = { client, signals, activations, checkpoints };
    const options: NmCallOptions = {
      signal: AbortSignal.timeout(STALE_CHECK_TIMEOUT_MS),
      priority: 'job',
    };
    await this.destroyStaleCheckpoints(this.parts, options).catch((err: unknown) =>
      this.log.warn({ err: errorMessage(err) }, 'cannot look for stale network checkpoints yet'),
    );
  }

  stop(): Promise<void> {
    this.lifetime.abort(new Error('the network plugin stopped'));
    this.parts?.signals.stop();
    this.parts?.activations.stop();
    this.parts = undefined;
    this.changes.clear();
    return Promise.resolve();
  }

  private started(): Parts {
    if (!this.parts) throw retryableFailure('the network plugin is not started');
    return this.parts;
  }

  private async destroyStaleCheckpoints(parts: Parts, options: NmCallOptions): Promise<void> {
    if (this.staleChecked) return;
    await parts.checkpoints.destroyStale(options);
    this.staleChecked = true;
  }

  /**
   * Everything NetworkManager knows that the plan needs. The daemon's own work
   * reads afresh (a verification must see its own apply); reads for Plan,
   * Query and Verify that overlap share the one in flight.
   */
  private async snapshot(ctx: PluginContext): Promise<NmSnapshot> {
    const { client, signals } = this.started();
    const read = (options: NmCallOptions) =>
      readSnapshot(client, options).then((snapshot) => {
        signals.learn(snapshot);
        return snapshot;
      });
    try {
      if (ctx.priority === 'job') return await read({ signal: ctx.signal, priority: 'job' });
      const shared = this.sharedReads.run('snapshot', () =>
        read({ signal: this.lifetime.signal, priority: 'read' }),
      );
      return await abortable(shared, ctx.signal);
    } catch (err) {
      if (ctx.signal.aborted || err instanceof PluginFailure) throw err;
      throw retryableFailure(`cannot read NetworkManager: ${boundedText(dbusErrorText(err))}`);
    }
  }

  async observe(_desired: NetworkSection, ctx: PluginContext): Promise<ObservedNetwork> {
    return observeNetwork(await this.snapshot(ctx));
  }

  plan(desired: NetworkSection, observed: ObservedNetwork): PlannedChange[] {
    return planNetwork(desired, observed);
  }

  async apply(
    changes: PlannedChange[],
    desired: NetworkSection,
    _observed: ObservedNetwork,
    ctx: PluginContext,
  ): Promise<ResourceOutcome[]> {
    const parts = this.started();
    await this.destroyStaleCheckpoints(parts, { signal: ctx.signal, priority: ctx.priority }).catch(
      (err: unknown) => {
        if (ctx.signal.aborted) throw err;
        throw retryableFailure(
          `cannot look for stale checkpoints: ${boundedText(dbusErrorText(err))}`,
        );
      },
    );
    return applyNetwork(changes, desired, ctx, {
      client: parts.client,
      activations: parts.activations,
      checkpoints: parts.checkpoints,
      persistence: this.host.config.persistence,
      activationTimeoutMs: this.host.config.activationTimeoutMs,
    });
  }

  async query(ctx: PluginContext): Promise<NetworkSection> {
    return querySection(observeNetwork(await this.snapshot(ctx)));
  }

  narrow(desired: NetworkSection, resources: readonly string[]): NetworkSection {
    return narrowNetwork(desired, resources);
  }

  capture(desired: NetworkSection, observed: ObservedNetwork): Capture<NetworkSection> {
    return captureNetwork(desired, observed);
  }

  merge(lower: NetworkSection, higher: NetworkSection): NetworkSection {
    return mergeNetwork(lower, higher);
  }

  resources(section: NetworkSection): string[] {
    return networkResources(section);
  }
}

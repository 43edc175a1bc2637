import type { Capture, Plugin, PluginContext, ResourceOutcome } from '../../engine/plugin.js';
import type { PluginHost } from '../definition.js';
import { ChangeFeed } from '../shared/change-feed.js';
import { ServiceSlots } from '../shared/service-slots.js';
import { applyChanges } from './apply.js';
import { captureBridges } from './capture.js';
import { listenToOvsdb } from './change-feed.js';
import type { OpenvswitchConfig } from './config.js';
import { OvsdbClient } from './ovsdb/client.js';
import { planOpenvswitch, type OvsChange } from './plan.js';
import { sectionFromState } from './query.js';
import type { OpenvswitchSection } from './schema.js';
import { snapshot, type OvsState } from './state.js';
import { DATABASE, OVS_TABLES } from './tables.js';

/**
 * OVSDB requests open at once: every one is cheap (an echo, one transaction), but
 * a flood of local users' Plans must not queue thousands of them on the one
 * session in front of a job's transaction (ovsdb-server answers in order).
 */
const OVSDB_SLOTS = 4;

/** Timings the daemon leaves at their defaults; tests shorten them. */
export interface OvsdbTuning {
  /** How long one OVSDB request may take (default 10 s). */
  callTimeoutMs?: number;
  /** How long apply waits for ovs-vswitchd to apply a committed transaction (default 15 s). */
  vswitchdWaitMs?: number;
  /** The client's reconnect back-off (default 100 ms doubling to 3 s). */
  backoff?: { initialMs: number; maxMs: number };
}

/**
 * Open vSwitch bridges and ports through OVSDB (RFC 7047) on ovsdb-server's
 * unix socket: no ovs-vsctl, no shell. One monitor keeps a replica of the
 * Open_vSwitch, Bridge, Port and Interface tables; observe and query read it
 * after a round trip; apply is one transaction guarded on what observe read.
 * Requests go through a few slots, job work first (`ctx.priority`).
 */
export class OpenvswitchPlugin implements Plugin<OpenvswitchSection, OvsState> {
  readonly changes = new ChangeFeed();
  readonly client: OvsdbClient;
  private readonly slots = new ServiceSlots(OVSDB_SLOTS);
  private unsubscribe: (() => void) | undefined;

  constructor(
    host: PluginHost<OpenvswitchConfig>,
    private readonly tuning: OvsdbTuning = {},
  ) {
    this.client = new OvsdbClient({
      socketPath: host.config.socket,
      database: DATABASE,
      tables: OVS_TABLES,
      log: host.log,
      callTimeoutMs: tuning.callTimeoutMs,
      backoff: tuning.backoff,
    });
  }

  /** Starts connecting in the background: ovsdb-server need not be up. */
  start(): Promise<void> {
    this.unsubscribe ??= listenToOvsdb(this.client, this.changes);
    this.client.start();
    return Promise.resolve();
  }

  stop(): Promise<void> {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    this.client.stop();
    this.changes.clear();
    return Promise.resolve();
  }

  /** The replica, with every change committed before this call in it. */
  private async synced(ctx: PluginContext): Promise<OvsState> {
    return snapshot(
      await this.slots.run(ctx.priority, ctx.signal, () => this.client.sync(ctx.signal)),
    );
  }

  observe(_desired: OpenvswitchSection, ctx: PluginContext): Promise<OvsState> {
    return this.synced(ctx);
  }

  capture(desired: OpenvswitchSection, observed: OvsState): Capture<OpenvswitchSection> {
    return captureBridges(desired, observed);
  }

  plan(desired: OpenvswitchSection, observed: OvsState): OvsChange[] {
    return planOpenvswitch(desired, observed);
  }

  apply(
    changes: OvsChange[],
    desired: OpenvswitchSection,
    observed: OvsState,
    ctx: PluginContext,
  ): Promise<ResourceOutcome[]> {
    return applyChanges(changes, desired, observed, {
      client: this.client,
      slots: this.slots,
      ctx,
      vswitchdWaitMs: this.tuning.vswitchdWaitMs,
    });
  }

  async query(ctx: PluginContext): Promise<OpenvswitchSection> {
    return sectionFromState(await this.synced(ctx));
  }

  /** The bridges among `resources` (a port resource "bridge/port" names its bridge). */
  narrow(desired: OpenvswitchSection, resources: readonly string[]): OpenvswitchSection {
    const wanted = new Set(resources.map((resource) => resource.split('/')[0]));
    return {
      bridges: Object.fromEntries(
        Object.entries(desired.bridges).filter(([name]) => wanted.has(name)),
      ),
    };
  }
}

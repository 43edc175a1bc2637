import type { Logger } from 'pino';
import { applyChanges } from './apply.js';
import { OvsChangeFeed } from './change-feed.js';
import type { Plugin, PluginContext, ResourceOutcome } from './contract.js';
import { OvsdbClient } from './ovsdb/client.js';
import { planOpenvswitch, type OvsChange } from './plan.js';
import { sectionFromState } from './query.js';
import type { OpenvswitchSection } from './schema.js';
import { snapshot, type OvsState } from './state.js';
import { DATABASE, OVS_TABLES } from './tables.js';

export interface OpenvswitchPluginOptions {
  /** ovsdb-server's unix socket (plugin configuration `socket`). */
  socketPath: string;
  log: Logger;
  callTimeoutMs?: number;
  /** How long apply waits for ovs-vswitchd to apply a committed transaction. */
  vswitchdWaitMs?: number;
  backoff?: { initialMs: number; maxMs: number };
}

/**
 * Open vSwitch bridges and ports through OVSDB (RFC 7047) on ovsdb-server's
 * unix socket: no ovs-vsctl, no shell. One monitor keeps a replica of the
 * Open_vSwitch, Bridge, Port and Interface tables; observe and query read it
 * after a round trip; apply is one transaction guarded on what observe read.
 * Shaped like the new Plugin contract (typed structurally, see contract.ts).
 */
export class OpenvswitchPlugin implements Plugin<OpenvswitchSection, OvsState> {
  readonly client: OvsdbClient;
  readonly changes: OvsChangeFeed;

  constructor(private readonly options: OpenvswitchPluginOptions) {
    this.client = new OvsdbClient({
      socketPath: options.socketPath,
      database: DATABASE,
      tables: OVS_TABLES,
      log: options.log,
      callTimeoutMs: options.callTimeoutMs,
      backoff: options.backoff,
    });
    this.changes = new OvsChangeFeed(this.client, options.log);
  }

  /** Starts connecting in the background: ovsdb-server need not be up. */
  start(): Promise<void> {
    this.changes.start();
    this.client.start();
    return Promise.resolve();
  }

  stop(): Promise<void> {
    this.changes.stop();
    this.client.stop();
    return Promise.resolve();
  }

  async observe(_desired: OpenvswitchSection, ctx: PluginContext): Promise<OvsState> {
    return snapshot(await this.client.sync(ctx.signal));
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
      ctx,
      vswitchdWaitMs: this.options.vswitchdWaitMs,
    });
  }

  async query(ctx: PluginContext): Promise<OpenvswitchSection> {
    return sectionFromState(snapshot(await this.client.sync(ctx.signal)));
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

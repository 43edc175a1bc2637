import type { Logger } from 'pino';
import type { Capture, Plugin, PluginContext, ResourceOutcome } from '../../engine/plugin.js';
import { errorMessage, failureKindOf } from '../../errors.js';
import type { PluginHost } from '../definition.js';
import { ChangeFeed } from '../shared/change-feed.js';
import { capturePackages } from './capture.js';
import { readThrough } from '../shared/observation-cache.js';
import { abortable, ServiceSlots, SingleFlight } from '../shared/service-slots.js';
import { watchDpkgStatus } from './dpkg-watch.js';
import { Filter, Info, TransactionFlag } from './enums.js';
import { PackageCache } from './package-cache.js';
import {
  PACKAGEKIT_NAME,
  PackageKitClient,
  type PkPackage,
  type TransactionEvent,
} from './packagekit-client.js';
import {
  groupByName,
  planPackages,
  type ObservedPackages,
  type PackageChange,
  type PackageState,
} from './plan.js';
import { progressReporter } from './progress.js';
import { ResolveBatcher } from './resolve-batcher.js';
import type { PackageKitConfig, PackageKitSection } from './schema.js';

/**
 * Packages through PackageKit only (never apt-get or dpkg): one Resolve for the
 * whole document, then one InstallPackages and one RemovePackages transaction.
 * Resolve answers are cached per name (PackageCache) until apt's or dpkg's files
 * change or the change feed says so, so a no-op Plan asks PackageKit nothing.
 */
export class PackageKitPlugin implements Plugin<PackageKitSection, ObservedPackages> {
  readonly changes = new ChangeFeed();
  private client: PackageKitClient | undefined;
  private readonly trustFlag: bigint;
  private readonly log: Logger;
  private readonly cache: PackageCache;
  private unsubscribes: (() => void)[] = [];
  /** The daemon's own transactions open at once (PackageKit caps them per uid). */
  private readonly slots: ServiceSlots;
  private readonly reads: ResolveBatcher;
  private readonly installedList = new SingleFlight<PkPackage[]>();
  /** Shared reads outlive any one caller: they stop only with the plugin. */
  private readonly lifetime = new AbortController();

  constructor(private readonly host: PluginHost<PackageKitConfig>) {
    this.log = host.log;
    this.trustFlag = host.config.onlyTrusted ? TransactionFlag.onlyTrusted : TransactionFlag.none;
    this.cache = new PackageCache(host.config.dpkgStatusFile, this.log);
    this.slots = new ServiceSlots(host.config.maxTransactions);
    this.reads = new ResolveBatcher((takeNames) =>
      this.slots.run('read', this.lifetime.signal, () =>
        this.pk.resolve(takeNames(), Filter.none, this.lifetime.signal),
      ),
    );
  }

  /**
   * The change feed gathers everything that says "packages may have changed":
   * a transaction someone else ran, PackageKit restarting, dpkg's status file.
   * The cache listens to it, and only then keeps anything.
   */
  async start(): Promise<void> {
    const connection = await this.host.connect(this.host.config.bus);
    const peer = connection.peer(PACKAGEKIT_NAME);
    this.client = new PackageKitClient(connection.bus, peer, this.log);
    await this.client.start();
    this.unsubscribes = [
      this.changes.subscribe(() => this.cache.drop('change announced')),
      this.client.watchForeignTransactions(() => this.changes.publish('all')),
      peer.onOwnerChanged(() => this.changes.publish('all')),
      watchDpkgStatus(this.host.config.dpkgStatusFile, this.log, () => this.changes.publish('all')),
    ];
    this.cache.startWatching();
  }

  stop(): Promise<void> {
    this.lifetime.abort(new Error('the packagekit plugin stopped'));
    this.cache.stopWatching();
    for (const unsubscribe of this.unsubscribes) unsubscribe();
    this.unsubscribes = [];
    this.changes.clear();
    this.client?.stop();
    return Promise.resolve();
  }

  private get pk(): PackageKitClient {
    if (!this.client) throw new Error('the packagekit plugin was not started');
    return this.client;
  }

  /**
   * Cached names (found or not found) come from memory; the others are read with
   * one Resolve: the job's own, in a job slot, or a read's, shared with every
   * concurrent read (ResolveBatcher) in the read slots.
   */
  async observe(desired: PackageKitSection, ctx: PluginContext): Promise<ObservedPackages> {
    const names = Object.keys(desired.packages);
    if (names.length === 0) return new Map();
    this.cache.revalidate();
    const resolve = (missing: string[]): Promise<PkPackage[]> =>
      ctx.priority === 'job'
        ? this.slots.run('job', ctx.signal, () => this.pk.resolve(missing, Filter.none, ctx.signal))
        : this.reads.resolve(missing, ctx.signal);
    const { values, hits, misses } = await readThrough(this.cache.entries, names, async (missing) =>
      groupByName(missing, await resolve(missing)),
    );
    ctx.log.debug({ hits, misses }, 'packages observed');
    return new Map(names.map((name) => [name, values.get(name) ?? emptyState()]));
  }

  plan(desired: PackageKitSection, observed: ObservedPackages): PackageChange[] {
    return planPackages(desired, observed);
  }

  async apply(
    changes: PackageChange[],
    desired: PackageKitSection,
    _observed: ObservedPackages,
    ctx: PluginContext,
  ): Promise<ResourceOutcome[]> {
    const unresolvable = changes.filter((change) => change.packageId === undefined);
    const installs = changes.filter((c) => c.packageId !== undefined && c.action !== 'remove');
    const removals = changes.filter((c) => c.packageId !== undefined && c.action === 'remove');
    // Whatever happens below, what we knew is stale (dependencies change too).
    this.cache.drop('own transaction');
    const outcomes: ResourceOutcome[] = unresolvable.map((change) => ({
      resource: change.resource,
      outcome: 'failed',
      action: change.action,
      error: change.reason ?? `'${change.resource}' cannot be found in any repository`,
      failure: 'terminal',
    }));
    if (installs.length > 0) {
      const downgrade = installs.some((c) => c.action === 'change-version');
      const flags = downgrade ? this.trustFlag | TransactionFlag.allowDowngrade : this.trustFlag;
      outcomes.push(
        ...(await this.transact(installs, ctx, (ids, onEvent) =>
          this.slots.run('job', ctx.signal, () =>
            this.pk.installPackages(ids, flags, ctx.signal, onEvent),
          ),
        )),
      );
    }
    // One RemovePackages per autoremove choice (the flag is per transaction).
    for (const autoremove of [false, true]) {
      const batch = removals.filter(
        (c) => (desired.packages[c.resource]?.autoremove ?? false) === autoremove,
      );
      if (batch.length === 0) continue;
      outcomes.push(
        ...(await this.transact(batch, ctx, (ids, onEvent) =>
          this.slots.run('job', ctx.signal, () =>
            this.pk.removePackages(ids, this.trustFlag, autoremove, ctx.signal, onEvent),
          ),
        )),
      );
    }
    this.cache.drop('own transaction');
    return outcomes;
  }

  capture(desired: PackageKitSection, observed: ObservedPackages): Capture<PackageKitSection> {
    return capturePackages(desired, observed);
  }

  narrow(desired: PackageKitSection, resources: readonly string[]): PackageKitSection {
    const wanted = new Set(resources);
    return {
      packages: Object.fromEntries(
        Object.entries(desired.packages).filter(([name]) => wanted.has(name)),
      ),
    };
  }

  /** Concurrent queries share one GetPackages. */
  async query(ctx: PluginContext): Promise<PackageKitSection> {
    const listing = this.installedList.run('installed', () =>
      this.slots.run(ctx.priority, this.lifetime.signal, () =>
        this.pk.getPackages(Filter.installed, this.lifetime.signal),
      ),
    );
    const installed = await abortable(listing, ctx.signal);
    const names = [
      ...new Set(installed.filter((pkg) => pkg.info === Info.installed).map((pkg) => pkg.name)),
    ].sort();
    return {
      packages: Object.fromEntries(names.map((name) => [name, { ensure: 'installed' as const }])),
    };
  }

  /** Runs one transaction for a batch of changes; a failure fails every change in it. */
  private async transact(
    changes: PackageChange[],
    ctx: PluginContext,
    run: (ids: string[], onEvent: (event: TransactionEvent) => void) => Promise<PkPackage[]>,
  ): Promise<ResourceOutcome[]> {
    const ids = changes.map((change) => change.packageId as string);
    const names = new Set(changes.map((change) => change.resource));
    try {
      await run(ids, progressReporter(names, ctx));
      return changes.map(({ resource, action }) => ({ resource, outcome: 'changed', action }));
    } catch (err) {
      if (ctx.signal.aborted) throw err;
      const error = errorMessage(err);
      const failure = failureKindOf(err);
      return changes.map(({ resource, action }) => ({
        resource,
        outcome: 'failed',
        action,
        error,
        failure,
      }));
    }
  }
}

function emptyState(): PackageState {
  return { installed: undefined, available: [] };
}

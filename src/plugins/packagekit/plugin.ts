import type { Logger } from 'pino';
import type { MessageBus } from '../../dbus/bus.js';
import type { SignalRouter } from '../../dbus/signal-router.js';
import type { Plugin, PluginContext, ResourceOutcome } from '../../engine/plugin.js';
import { errorMessage } from '../../errors.js';
import { watchDpkgStatus } from './dpkg-watch.js';
import { Filter, Info, infoPhase, TransactionFlag } from './enums.js';
import { readThrough } from '../shared/observation-cache.js';
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
import { PackageKitSection } from './schema.js';

export interface PackageKitPluginOptions {
  bus: MessageBus;
  router: SignalRouter;
  log: Logger;
  /**
   * Refuse packages from unsigned repositories (PackageKit's only-trusted flag),
   * as pkcon does by default. Off only for test backends and local unsigned repos.
   */
  onlyTrusted: boolean;
  /** dpkg's status file, watched for changes made behind PackageKit's back. */
  dpkgStatusFile: string;
}

/**
 * Packages through PackageKit only (never apt-get or dpkg): one Resolve for the
 * whole document, then one InstallPackages and one RemovePackages transaction.
 * Resolve answers are cached per name (PackageCache) until apt's or dpkg's files
 * change or something announces a change, so a no-op Plan asks PackageKit nothing.
 */
export class PackageKitPlugin implements Plugin<PackageKitSection, ObservedPackages> {
  readonly name = 'packagekit';
  readonly schema = PackageKitSection;
  private readonly client: PackageKitClient;
  private readonly trustFlag: bigint;
  private readonly log: Logger;
  private readonly dpkgStatusFile: string;
  private readonly router: SignalRouter;
  private readonly cache: PackageCache;
  private unsubscribes: (() => void)[] = [];

  constructor(options: PackageKitPluginOptions) {
    this.router = options.router;
    this.trustFlag = options.onlyTrusted ? TransactionFlag.onlyTrusted : TransactionFlag.none;
    this.log = options.log.child({ plugin: this.name });
    this.dpkgStatusFile = options.dpkgStatusFile;
    this.cache = new PackageCache(options.dpkgStatusFile, this.log);
    this.client = new PackageKitClient(
      options.bus,
      options.router,
      options.log.child({ plugin: this.name }),
    );
  }

  /** Subscribes to what invalidates the cache before the cache keeps anything. */
  async start(): Promise<void> {
    await this.client.start();
    this.unsubscribes = [
      this.client.watchForeignTransactions(() => this.cache.drop('foreign transaction')),
      this.router.subscribe(
        { interface: 'org.freedesktop.DBus', member: 'NameOwnerChanged' },
        (message) => {
          if ((message.body as unknown[])[0] === PACKAGEKIT_NAME)
            this.cache.drop('PackageKit owner changed');
        },
      ),
    ];
    this.cache.startWatching();
  }

  stop(): Promise<void> {
    this.cache.stopWatching();
    for (const unsubscribe of this.unsubscribes) unsubscribe();
    this.unsubscribes = [];
    this.client.stop();
    return Promise.resolve();
  }

  /** Cached names come from memory; all the others are read with one Resolve. */
  async observe(desired: PackageKitSection, ctx: PluginContext): Promise<ObservedPackages> {
    const names = Object.keys(desired.packages);
    if (names.length === 0) return new Map();
    this.cache.revalidate();
    const { values, hits, misses } = await readThrough(this.cache.entries, names, async (missing) =>
      groupByName(missing, await this.client.resolve(missing, Filter.none, ctx.signal)),
    );
    ctx.log.debug({ hits, misses }, 'packages observed');
    return new Map(names.map((name) => [name, values.get(name) ?? emptyState()]));
  }

  plan(desired: PackageKitSection, observed: ObservedPackages): PackageChange[] {
    return planPackages(desired, observed);
  }

  async apply(
    changes: PackageChange[],
    _desired: PackageKitSection,
    _observed: ObservedPackages,
    ctx: PluginContext,
  ): Promise<ResourceOutcome[]> {
    const unavailable = changes.filter((change) => change.packageId === undefined);
    const installs = changes.filter(
      (change) => change.packageId !== undefined && change.action !== 'remove',
    );
    const removals = changes.filter(
      (change) => change.packageId !== undefined && change.action === 'remove',
    );
    // Whatever happens below, what we knew is stale (dependencies change too).
    this.cache.drop('own transaction');
    const outcomes: ResourceOutcome[] = unavailable.map((change) => ({
      resource: change.resource,
      outcome: 'failed',
      action: change.action,
      error:
        change.to === null
          ? `PackageKit found no package named '${change.resource}' in any repository`
          : `PackageKit found no version ${JSON.stringify(change.to)} of '${change.resource}'`,
    }));
    if (installs.length > 0) {
      const downgrade = installs.some((c) => c.action === 'change-version');
      const flags = downgrade ? this.trustFlag | TransactionFlag.allowDowngrade : this.trustFlag;
      outcomes.push(
        ...(await this.transact(installs, ctx, (ids, onEvent) =>
          this.client.installPackages(ids, flags, ctx.signal, onEvent),
        )),
      );
    }
    if (removals.length > 0) {
      outcomes.push(
        ...(await this.transact(removals, ctx, (ids, onEvent) =>
          this.client.removePackages(ids, this.trustFlag, ctx.signal, onEvent),
        )),
      );
    }
    this.cache.drop('own transaction');
    return outcomes;
  }

  /** Package changes cannot be pinned to names cheaply: every notification means "look again". */
  watch(notify: (resources?: readonly string[]) => void): () => void {
    const stopTransactions = this.client.watchForeignTransactions(() => notify());
    const stopDpkg = watchDpkgStatus(this.dpkgStatusFile, this.log, () => notify());
    return () => {
      stopTransactions();
      stopDpkg();
    };
  }

  narrow(desired: PackageKitSection, resources: readonly string[]): PackageKitSection {
    const wanted = new Set(resources);
    return {
      packages: Object.fromEntries(
        Object.entries(desired.packages).filter(([name]) => wanted.has(name)),
      ),
    };
  }

  async query(ctx: PluginContext): Promise<PackageKitSection> {
    const installed = await this.client.getPackages(Filter.installed, ctx.signal);
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
      return changes.map((change) => ({
        resource: change.resource,
        outcome: 'changed',
        action: change.action,
      }));
    } catch (err) {
      if (ctx.signal.aborted) throw err;
      const error = errorMessage(err);
      return changes.map((change) => ({
        resource: change.resource,
        outcome: 'failed',
        action: change.action,
        error,
      }));
    }
  }
}

function emptyState(): PackageState {
  return { installed: undefined, available: [] };
}

/**
 * Turns PackageKit's transaction signals into Progress reports. Status sets the
 * phase, Percentage moves the whole step ('' resource), and Package/ItemProgress
 * move one package.
 */
function progressReporter(
  names: Set<string>,
  ctx: PluginContext,
): (event: TransactionEvent) => void {
  let phase = 'resolving';
  let status = 'setup';
  let percent = 0;
  return (event) => {
    switch (event.type) {
      case 'status':
        if (event.phase === 'finished' || event.phase === phase) return;
        phase = event.phase;
        status = event.status;
        ctx.progress({ resource: '', phase, percent, message: status });
        return;
      case 'percentage':
        if (event.percent === percent) return;
        percent = event.percent;
        ctx.progress({ resource: '', phase, percent, message: status });
        return;
      case 'package': {
        const packagePhase = infoPhase(event.package.info);
        if (packagePhase && names.has(event.package.name)) {
          ctx.progress({
            resource: event.package.name,
            phase: packagePhase,
            percent,
            message: event.package.id,
          });
        }
        return;
      }
      case 'item-progress': {
        const name = event.id.split(';')[0] ?? '';
        if (names.has(name))
          ctx.progress({
            resource: name,
            phase: event.phase,
            percent: event.percent,
            message: event.id,
          });
        return;
      }
    }
  };
}

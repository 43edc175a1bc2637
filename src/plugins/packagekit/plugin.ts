import type { Logger } from 'pino';
import type { Capture, Plugin, PluginContext, ResourceOutcome } from '../../engine/plugin.js';
import type { PluginHost } from '../definition.js';
import { ChangeFeed } from '../shared/change-feed.js';
import { captureSection } from './capture.js';
import { readThrough } from '../shared/observation-cache.js';
import { abortable, ServiceSlots, SingleFlight } from '../shared/service-slots.js';
import { aptStatePaths } from './apt-state-stamp.js';
import { watchDpkgStatus } from './dpkg-watch.js';
import { Filter, Info, TransactionFlag } from './enums.js';
import { PackageCache } from './package-cache.js';
import { applyPackageChanges, type PackageTransactions } from './package-step.js';
import { PACKAGEKIT_NAME, PackageKitClient, type PkPackage } from './packagekit-client.js';
import {
  groupByName,
  planPackages,
  type ObservedPackages,
  type PackageChange,
  type PackageState,
} from './plan.js';
import { progressReporter } from './progress.js';
import { SourcesChangeFeed } from './repositories/change-feed.js';
import { observeRepositories, type AptLocation } from './repositories/observe.js';
import { queryRepositories } from './repositories/query.js';
import { readSourcesState } from './repositories/sources-state.js';
import { applyRepositoryStep } from './repository-step.js';
import { ResolveBatcher } from './resolve-batcher.js';
import type { PackageKitConfig, PackageKitSection } from './schema.js';
import {
  isRepositoryChange,
  narrowSection,
  planSection,
  sectionResources,
  type ObservedSection,
  type SectionChange,
} from './section.js';

/**
 * Repositories and packages through PackageKit only (never apt-get or dpkg).
 * An apply writes op-dbus's own .sources files, refreshes the package lists
 * once when a repository changed (RefreshCache), then runs one InstallPackages
 * and one RemovePackages transaction. Resolve answers are cached per name
 * (PackageCache) until apt's or dpkg's files change or the change feed says
 * so, so a no-op Plan asks PackageKit nothing.
 */
export class PackageKitPlugin implements Plugin<PackageKitSection, ObservedSection> {
  readonly changes = new ChangeFeed();
  private client: PackageKitClient | undefined;
  private readonly trustFlag: bigint;
  private readonly log: Logger;
  private readonly cache: PackageCache;
  private readonly apt: AptLocation;
  private readonly sourcesFeed: SourcesChangeFeed;
  private unsubscribes: (() => void)[] = [];
  /** The daemon's own transactions open at once (PackageKit caps them per uid). */
  private readonly slots: ServiceSlots;
  private readonly reads: ResolveBatcher;
  private readonly installedList = new SingleFlight<PkPackage[]>();
  /** Shared reads outlive any one caller: they stop only with the plugin. */
  private readonly lifetime = new AbortController();

  constructor(private readonly host: PluginHost<PackageKitConfig>) {
    const { config } = host;
    this.log = host.log;
    this.trustFlag = config.onlyTrusted ? TransactionFlag.onlyTrusted : TransactionFlag.none;
    this.apt = {
      sourcesDir: config.sourcesDir,
      mainList: config.sourcesList,
      listsDir: config.listsDir,
    };
    this.cache = new PackageCache(aptStatePaths(config.dpkgStatusFile, config), this.log);
    this.sourcesFeed = new SourcesChangeFeed(this.apt, this.log);
    this.slots = new ServiceSlots(config.maxTransactions);
    this.reads = new ResolveBatcher((takeNames) =>
      this.slots.run('read', this.lifetime.signal, () =>
        this.pk.resolve(takeNames(), Filter.none, this.lifetime.signal),
      ),
    );
  }

  /**
   * The change feed gathers everything that says "packages or repositories may
   * have changed": a transaction someone else ran, PackageKit restarting, dpkg's
   * status file, apt's sources folder. The cache listens to it, and only then
   * keeps anything.
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
      this.sourcesFeed.subscribe((scope) => this.changes.publish(scope)),
    ];
    this.sourcesFeed.start();
    this.cache.startWatching();
  }

  stop(): Promise<void> {
    this.lifetime.abort(new Error('the packagekit plugin stopped'));
    this.cache.stopWatching();
    this.sourcesFeed.stop();
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

  /** apt's sources only when the section names repositories; packages through the cache. */
  async observe(desired: PackageKitSection, ctx: PluginContext): Promise<ObservedSection> {
    const repositories = desired.repositories
      ? await observeRepositories(desired.repositories, this.apt)
      : undefined;
    return { packages: await this.observePackages(desired, ctx), repositories };
  }

  /**
   * Cached names (found or not found) come from memory; the others are read with
   * one Resolve: the job's own, in a job slot, or a read's, shared with every
   * concurrent read (ResolveBatcher) in the read slots.
   */
  private async observePackages(
    desired: PackageKitSection,
    ctx: PluginContext,
  ): Promise<ObservedPackages> {
    const names = Object.keys(desired.packages ?? {});
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

  plan(desired: PackageKitSection, observed: ObservedSection): SectionChange[] {
    return planSection(desired, observed);
  }

  /**
   * Repositories, then (when one changed or has no lists) one refresh, then
   * packages. After a refresh every package change is planned again from a
   * fresh Resolve: a package no repository had before may be there now, and
   * one that still is not fails as "not found after refreshing".
   */
  async apply(
    changes: SectionChange[],
    desired: PackageKitSection,
    _observed: ObservedSection,
    ctx: PluginContext,
  ): Promise<ResourceOutcome[]> {
    const repositoryChanges = changes.filter(isRepositoryChange);
    let packageChanges = changes.filter((c): c is PackageChange => !isRepositoryChange(c));
    // Whatever happens below, what we knew is stale (dependencies change too).
    this.cache.drop('own transaction');
    const outcomes: ResourceOutcome[] = [];
    let refreshed: { error: string | undefined } | undefined;
    if (repositoryChanges.length > 0) {
      const step = await applyRepositoryStep(
        repositoryChanges,
        desired.repositories ?? {},
        this.apt,
        (stepCtx) => this.refreshCache(stepCtx),
        ctx,
      );
      outcomes.push(...step.outcomes);
      if (step.refreshed) {
        refreshed = { error: step.refreshError };
        this.cache.drop('package lists refreshed');
        packageChanges = await this.planAgain(packageChanges, desired, ctx);
      }
    }
    outcomes.push(
      ...(await applyPackageChanges(
        packageChanges,
        this.transactions(),
        (name) => desired.packages?.[name]?.autoremove ?? false,
        ctx,
        refreshed,
      )),
    );
    this.cache.drop('own transaction');
    return outcomes;
  }

  /** RefreshCache (apt-get update) in a job slot, with its progress. */
  private async refreshCache(ctx: PluginContext): Promise<void> {
    ctx.progress({ resource: '', phase: 'refreshing', percent: 0, message: 'refresh-cache' });
    await this.slots.run('job', ctx.signal, () =>
      this.pk.refreshCache(false, ctx.signal, progressReporter(new Set(), ctx)),
    );
  }

  /** The package changes planned again from one fresh Resolve (after a refresh). */
  private async planAgain(
    changes: PackageChange[],
    desired: PackageKitSection,
    ctx: PluginContext,
  ): Promise<PackageChange[]> {
    if (changes.length === 0) return changes;
    const names = changes.map((change) => change.resource);
    const packages = await this.slots.run('job', ctx.signal, () =>
      this.pk.resolve(names, Filter.none, ctx.signal),
    );
    const wanted = new Set(names);
    const section = {
      packages: Object.fromEntries(
        Object.entries(desired.packages ?? {}).filter(([name]) => wanted.has(name)),
      ),
    };
    return planPackages(section, groupByName(names, packages));
  }

  private transactions(): PackageTransactions {
    return {
      install: (ids, allowDowngrade, ctx, onEvent) => {
        const flags = allowDowngrade
          ? this.trustFlag | TransactionFlag.allowDowngrade
          : this.trustFlag;
        return this.slots.run('job', ctx.signal, () =>
          this.pk.installPackages(ids, flags, ctx.signal, onEvent),
        );
      },
      remove: (ids, autoremove, ctx, onEvent) =>
        this.slots.run('job', ctx.signal, () =>
          this.pk.removePackages(ids, this.trustFlag, autoremove, ctx.signal, onEvent),
        ),
    };
  }

  capture(desired: PackageKitSection, observed: ObservedSection): Capture<PackageKitSection> {
    return captureSection(desired, observed);
  }

  /** For fleet layers: which layer a plan row comes from (repositories are repository:NAME). */
  resources(section: PackageKitSection): string[] {
    return sectionResources(section);
  }

  narrow(desired: PackageKitSection, resources: readonly string[]): PackageKitSection {
    return narrowSection(desired, resources);
  }

  /**
   * Installed packages (kept like Resolve answers: until apt's or dpkg's files
   * or PackageKit announce a change; concurrent queries share one GetPackages)
   * and the repositories op-dbus manages, read back from its own files.
   */
  async query(ctx: PluginContext): Promise<PackageKitSection> {
    this.cache.revalidate();
    const [{ values }, sources] = await Promise.all([
      readThrough(this.cache.installed, ['installed'], async () => {
        const listing = this.installedList.run('installed', () =>
          this.slots.run(ctx.priority, this.lifetime.signal, () =>
            this.pk.getPackages(Filter.installed, this.lifetime.signal),
          ),
        );
        const installed = await abortable(listing, ctx.signal);
        const names = installed.filter((pkg) => pkg.info === Info.installed).map((p) => p.name);
        ctx.log.debug({ packages: names.length }, 'installed packages read');
        return new Map([['installed', [...new Set(names)].sort()]]);
      }),
      readSourcesState(this.apt, []),
    ]);
    const names = values.get('installed') ?? [];
    const packages = Object.fromEntries(
      names.map((name) => [name, { ensure: 'installed' as const }]),
    );
    const { repositories, skipped } = queryRepositories(sources);
    for (const { name, problem } of skipped)
      ctx.log.warn({ repository: name, problem }, 'managed repository file left out of Query');
    return Object.keys(repositories).length > 0 ? { repositories, packages } : { packages };
  }
}

function emptyState(): PackageState {
  return { installed: undefined, available: [] };
}

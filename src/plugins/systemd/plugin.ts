import type { Logger } from 'pino';
import type { ServicePeer } from '../../dbus/service-peer.js';
import type { Capture, Plugin, PluginContext, ResourceOutcome } from '../../engine/plugin.js';
import { errorMessage } from '../../errors.js';
import type { PluginHost } from '../definition.js';
import { ChangeFeed } from '../shared/change-feed.js';
import { readThrough } from '../shared/observation-cache.js';
import { abortable, ServiceSlots, SingleFlight } from '../shared/service-slots.js';
import { applyUnitChanges } from './apply.js';
import { captureUnits } from './capture.js';
import { JobWaiter } from './job-waiter.js';
import { mapWithLimit } from './map-with-limit.js';
import { planUnits, type ObservedUnits, type UnitChange } from './plan.js';
import { sectionFromListings } from './query.js';
import type { SystemdConfig, SystemdSection } from './schema.js';
import { SYSTEMD_NAME, SystemdClient } from './systemd-client.js';
import { listenToSystemd } from './systemd-signals.js';
import { UnitCache, type CachedUnit } from './unit-cache.js';

/**
 * The daemon's own calls to systemd in flight at once, over every reader: the
 * bus allows 128 pending replies per connection (a unit read is up to two at
 * a time; a job's start/stop calls come on top, at most 16).
 */
const CALL_SLOTS = 32;

/**
 * Units through org.freedesktop.systemd1 only (never systemctl): LoadUnit and
 * GetUnitFileState to observe, batched unit-file calls and one Reload per apply,
 * start/stop jobs followed to their JobRemoved signal. Unit states are cached
 * (UnitCache) while subscribed to systemd's signals; every observe first makes
 * one round trip to systemd (Ping) so that no announced change is still on its
 * way when the cache answers.
 */
export class SystemdPlugin implements Plugin<SystemdSection, ObservedUnits> {
  readonly changes = new ChangeFeed();
  private clientValue: SystemdClient | undefined;
  private readonly jobs = new JobWaiter();
  private readonly log: Logger;
  private unsubscribes: (() => void)[] = [];
  private subscribed: Promise<void> | undefined;
  private readonly cache: UnitCache;
  private readonly slots = new ServiceSlots(CALL_SLOTS);
  private readonly listings = new SingleFlight<SystemdSection>();
  /** Shared reads outlive any one caller: they stop only with the plugin. */
  private readonly lifetime = new AbortController();

  constructor(private readonly host: PluginHost<SystemdConfig>) {
    this.log = host.log;
    this.cache = new UnitCache(this.log);
  }

  private get client(): SystemdClient {
    if (!this.clientValue) throw new Error('the systemd plugin was not started');
    return this.clientValue;
  }

  /**
   * Listens to systemd through its ServicePeer (one broad match rule, added once
   * for the connection's life). Nothing is called on systemd yet: the daemon
   * must start where systemd is absent.
   */
  async start(): Promise<void> {
    const connection = await this.host.connect(this.host.config.bus);
    const peer: ServicePeer = connection.peer(SYSTEMD_NAME);
    this.clientValue = new SystemdClient(connection.bus);
    await peer.start();
    this.unsubscribes.push(
      this.changes.subscribe((scope) => this.cache.onChange(scope)),
      listenToSystemd(peer, this.changes, this.jobs),
      // systemd forgets a subscriber that leaves; a new systemd has none: subscribe again.
      peer.onOwnerChanged(() => {
        this.subscribed = undefined;
        this.cache.entries.disable();
      }),
    );
    this.ensureSubscribed().catch((err: unknown) =>
      this.log.info({ err: errorMessage(err) }, 'cannot subscribe to systemd signals yet'),
    );
  }

  stop(): Promise<void> {
    this.lifetime.abort(new Error('the systemd plugin stopped'));
    this.cache.entries.disable();
    for (const unsubscribe of this.unsubscribes) unsubscribe();
    this.unsubscribes = [];
    this.changes.clear();
    return Promise.resolve();
  }

  /** systemd only sends JobRemoved and friends to subscribed clients: subscribe once, on first need. */
  private ensureSubscribed(): Promise<void> {
    this.subscribed ??= this.client.subscribe().catch((err: unknown) => {
      this.subscribed = undefined;
      throw err;
    });
    return this.subscribed;
  }

  async observe(desired: SystemdSection, ctx: PluginContext): Promise<ObservedUnits> {
    const names = Object.keys(desired.units);
    if (names.length === 0) return new Map();
    await this.syncCache();
    const { values, hits, misses } = await readThrough(this.cache.entries, names, (missing) =>
      this.readUnits(missing, ctx),
    );
    ctx.log.debug({ hits, misses }, 'units observed');
    return new Map(names.map((name) => [name, (values.get(name) as CachedUnit).state]));
  }

  /**
   * Makes the cache safe to read: subscribed to systemd's signals (else it is
   * off), and every signal systemd sent before now delivered (Ping). Any
   * failure turns the cache off: the units are then read from systemd.
   */
  private async syncCache(): Promise<void> {
    try {
      await this.ensureSubscribed();
      this.cache.entries.enable();
      await this.client.ping();
    } catch (err) {
      this.cache.entries.disable();
      this.log.debug({ err: errorMessage(err) }, 'unit cache off: cannot sync with systemd');
    }
  }

  /** Reads units from systemd, in parallel within the bus's limit. */
  private async readUnits(names: string[], ctx: PluginContext): Promise<Map<string, CachedUnit>> {
    const units = await mapWithLimit(names, CALL_SLOTS, (name) =>
      this.slots.run(ctx.priority, ctx.signal, () => this.client.unitSnapshot(name)),
    );
    const read = new Map(names.map((name, index) => [name, units[index] as CachedUnit]));
    this.cache.remember(read);
    return read;
  }

  plan(desired: SystemdSection, observed: ObservedUnits): UnitChange[] {
    return planUnits(desired, observed);
  }

  async apply(
    changes: UnitChange[],
    _desired: SystemdSection,
    _observed: ObservedUnits,
    ctx: PluginContext,
  ): Promise<ResourceOutcome[]> {
    // Before any job is queued, so that no JobRemoved is missed.
    await this.ensureSubscribed();
    const touched = changes.map((change) => change.resource);
    this.cache.invalidateNames(touched);
    try {
      return await applyUnitChanges(changes, {
        client: this.client,
        jobs: this.jobs,
        ctx,
      });
    } finally {
      // A Reload or a dependency's start changes more than the named units.
      this.cache.drop('own apply');
    }
  }

  /** Concurrent queries share one listing (two calls). */
  async query(ctx: PluginContext): Promise<SystemdSection> {
    const listing = this.listings.run('all', () =>
      this.slots.run(ctx.priority, this.lifetime.signal, async () => {
        const [files, loaded] = await Promise.all([
          this.client.listUnitFiles(),
          this.client.listUnits(),
        ]);
        return sectionFromListings(files, loaded);
      }),
    );
    return abortable(listing, ctx.signal);
  }

  capture(desired: SystemdSection, observed: ObservedUnits): Capture<SystemdSection> {
    return captureUnits(desired, observed);
  }

  narrow(desired: SystemdSection, resources: readonly string[]): SystemdSection {
    const wanted = new Set(resources);
    return {
      units: Object.fromEntries(Object.entries(desired.units).filter(([name]) => wanted.has(name))),
    };
  }
}

import type { Logger } from 'pino';
import type { Message, MessageBus } from '../../dbus/bus.js';
import type { SignalRouter } from '../../dbus/signal-router.js';
import type { Plugin, PluginContext, ResourceOutcome } from '../../engine/plugin.js';
import { errorMessage } from '../../errors.js';
import { applyUnitChanges } from './apply.js';
import { DEFAULT_JOB_TIMEOUT_MS, JobWaiter } from './job-waiter.js';
import { mapWithLimit } from './map-with-limit.js';
import { planUnits, type ObservedUnits, type UnitChange } from './plan.js';
import { sectionFromListings } from './query.js';
import { SystemdSection } from './schema.js';
import {
  MANAGER_INTERFACE,
  MANAGER_PATH,
  SYSTEMD_NAME,
  SystemdClient,
  UNIT_INTERFACE,
} from './systemd-client.js';
import { readThrough } from '../shared/observation-cache.js';
import { UnitCache, type CachedUnit } from './unit-cache.js';
import { unitNameFromPath } from './unit-path.js';

/** Units read at once by observe: the bus limits pending replies per connection (128). */
const OBSERVE_CONCURRENCY = 32;
const PROPERTIES_INTERFACE = 'org.freedesktop.DBus.Properties';

export interface SystemdPluginOptions {
  /** The systemd manager's bus: the system bus, or a user manager's in tests. */
  bus: MessageBus;
  router: SignalRouter;
  log: Logger;
  /** How long to wait for one start or stop job (default DEFAULT_JOB_TIMEOUT_MS). */
  jobTimeoutMs?: number;
}

/**
 * Units through org.freedesktop.systemd1 only (never systemctl): LoadUnit and
 * GetUnitFileState to observe, batched unit-file calls and one Reload per apply,
 * start/stop jobs followed to their JobRemoved signal. Unit states are cached
 * (UnitCache) while subscribed to systemd's signals; every observe first makes
 * one round trip to systemd (Ping) so that no announced change is still on its
 * way when the cache answers.
 */
export class SystemdPlugin implements Plugin<SystemdSection, ObservedUnits> {
  readonly name = 'systemd';
  readonly schema = SystemdSection;
  private readonly client: SystemdClient;
  private readonly jobs = new JobWaiter();
  private readonly log: Logger;
  private readonly jobTimeoutMs: number;
  private unsubscribes: (() => void)[] = [];
  private subscribed: Promise<void> | undefined;
  private readonly cache: UnitCache;

  constructor(private readonly options: SystemdPluginOptions) {
    this.client = new SystemdClient(options.bus);
    this.log = options.log.child({ plugin: this.name });
    this.cache = new UnitCache(this.log);
    this.jobTimeoutMs = options.jobTimeoutMs ?? DEFAULT_JOB_TIMEOUT_MS;
  }

  /**
   * One broad match rule for everything systemd sends (Manager signals, unit
   * PropertiesChanged), added once for the connection's life. Nothing is called
   * on systemd yet: the daemon must start where systemd is absent (tests).
   */
  async start(): Promise<void> {
    await this.options.router.addMatch(`type='signal',sender='${SYSTEMD_NAME}'`);
    await this.options.router.addMatch(UnitCache.ownerRule);
    this.unsubscribes.push(
      this.options.router.subscribe(
        { path: MANAGER_PATH, interface: MANAGER_INTERFACE, member: 'JobRemoved' },
        (message) => this.jobs.onJobRemoved(message),
      ),
      this.cache.listen(this.options.router),
      // systemd forgets a subscriber that leaves; a new systemd has none: subscribe again.
      this.options.router.subscribe(
        { interface: 'org.freedesktop.DBus', member: 'NameOwnerChanged' },
        (message) => {
          if ((message.body as unknown[])[0] !== SYSTEMD_NAME) return;
          this.subscribed = undefined;
          this.cache.entries.disable();
        },
      ),
    );
  }

  stop(): Promise<void> {
    this.cache.entries.disable();
    for (const unsubscribe of this.unsubscribes) unsubscribe();
    this.unsubscribes = [];
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
    const units = await mapWithLimit(names, OBSERVE_CONCURRENCY, (name) => {
      ctx.signal.throwIfAborted();
      return this.client.unitSnapshot(name);
    });
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
        jobTimeoutMs: this.jobTimeoutMs,
      });
    } finally {
      // A Reload or a dependency's start changes more than the named units.
      this.cache.drop('own apply');
    }
  }

  async query(ctx: PluginContext): Promise<SystemdSection> {
    ctx.signal.throwIfAborted();
    const [files, loaded] = await Promise.all([
      this.client.listUnitFiles(),
      this.client.listUnits(),
    ]);
    return sectionFromListings(files, loaded);
  }

  /**
   * Says "look at this unit again" when systemd reports a job ended or a unit's
   * state changed, and "look at everything" when unit files changed or systemd
   * reloaded. Level-based: nothing of the signal's content is passed on.
   */
  watch(notify: (resources?: readonly string[]) => void): () => void {
    this.ensureSubscribed().catch((err: unknown) =>
      this.log.warn({ err: errorMessage(err) }, 'cannot subscribe to systemd signals'),
    );
    const router = this.options.router;
    const manager = { path: MANAGER_PATH, interface: MANAGER_INTERFACE };
    const offs = [
      router.subscribe({ ...manager, member: 'JobRemoved' }, (message) =>
        notify([String((message.body as unknown[])[2])]),
      ),
      router.subscribe({ ...manager, member: 'UnitFilesChanged' }, () => notify()),
      router.subscribe({ ...manager, member: 'Reloading' }, (message) => {
        // Reloading(true) announces the reload, Reloading(false) its end.
        if ((message.body as unknown[])[0] === false) notify();
      }),
      router.subscribe(
        { interface: PROPERTIES_INTERFACE, member: 'PropertiesChanged' },
        (message) => this.onUnitPropertiesChanged(message, notify),
      ),
    ];
    return () => {
      for (const off of offs) off();
    };
  }

  private onUnitPropertiesChanged(
    message: Message,
    notify: (resources?: readonly string[]) => void,
  ): void {
    if ((message.body as unknown[])[0] !== UNIT_INTERFACE) return;
    const name = unitNameFromPath(message.path);
    if (name !== undefined) notify([name]);
  }

  narrow(desired: SystemdSection, resources: readonly string[]): SystemdSection {
    const wanted = new Set(resources);
    return {
      units: Object.fromEntries(Object.entries(desired.units).filter(([name]) => wanted.has(name))),
    };
  }
}

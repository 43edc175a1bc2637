import type { Logger } from 'pino';
import type { Message } from '../../dbus/bus.js';
import type { SignalRouter } from '../../dbus/signal-router.js';
import { ObservationCache } from '../shared/observation-cache.js';
import type { UnitState } from './plan.js';
import { MANAGER_INTERFACE, MANAGER_PATH, SYSTEMD_NAME } from './systemd-client.js';
import { UNIT_PATH_PREFIX, unitPathFromName } from './unit-path.js';

/**
 * Without any announcement, a unit's state is trusted this long at most: the
 * bound for what systemd cannot announce (a unit file symlinked or edited by
 * hand, without systemctl or a daemon-reload).
 */
const MAX_AGE_MS = 60_000;
const PROPERTIES_INTERFACE = 'org.freedesktop.DBus.Properties';

/** What one observe read about a unit, with the object path its signals come from. */
export interface CachedUnit {
  path: string;
  state: UnitState;
}

/**
 * Unit states by the name the document uses, dropped by what systemd announces:
 * PropertiesChanged of the unit's object, JobRemoved, UnitNew and UnitRemoved
 * for that unit; UnitFilesChanged, Reloading and systemd leaving the bus for
 * all. Aliases share their unit's object path, so signals are matched by path.
 * Owned by the systemd plugin.
 */
export class UnitCache {
  readonly entries = new ObservationCache<CachedUnit>({ maxAgeMs: MAX_AGE_MS });
  /** Object path to the document names read through it (a unit and its aliases). */
  private readonly namesByPath = new Map<string, Set<string>>();

  constructor(private readonly log: Logger) {}

  /** The match rule for systemd leaving the bus; the broad rule on systemd's signals covers the rest. */
  static readonly ownerRule = `type='signal',sender='org.freedesktop.DBus',interface='org.freedesktop.DBus',member='NameOwnerChanged',arg0='${SYSTEMD_NAME}'`;

  /** Subscribes to every signal that invalidates; returns the function that unsubscribes. */
  listen(router: SignalRouter): () => void {
    const manager = { path: MANAGER_PATH, interface: MANAGER_INTERFACE };
    const offs = [
      router.subscribe({ ...manager, member: 'JobRemoved' }, (message) =>
        this.invalidateName(String((message.body as unknown[])[2])),
      ),
      router.subscribe({ ...manager, member: 'UnitNew' }, (message) =>
        this.invalidatePath(String((message.body as unknown[])[1])),
      ),
      router.subscribe({ ...manager, member: 'UnitRemoved' }, (message) =>
        this.invalidatePath(String((message.body as unknown[])[1])),
      ),
      router.subscribe({ ...manager, member: 'UnitFilesChanged' }, () =>
        this.drop('unit files changed'),
      ),
      router.subscribe({ ...manager, member: 'Reloading' }, () => this.drop('systemd reloading')),
      router.subscribe(
        { interface: PROPERTIES_INTERFACE, member: 'PropertiesChanged' },
        (message) => this.onPropertiesChanged(message),
      ),
      router.subscribe(
        { interface: 'org.freedesktop.DBus', member: 'NameOwnerChanged' },
        (message) => {
          if ((message.body as unknown[])[0] === SYSTEMD_NAME) this.drop('systemd owner changed');
        },
      ),
    ];
    return () => {
      for (const off of offs) off();
    };
  }

  /** Keeps the path of each unit read, so that its signals find the names. */
  remember(units: Map<string, CachedUnit>): void {
    for (const [name, unit] of units) {
      const names = this.namesByPath.get(unit.path) ?? new Set<string>();
      names.add(name);
      this.namesByPath.set(unit.path, names);
    }
  }

  /** These units may have changed (our own apply touched them). */
  invalidateNames(names: Iterable<string>): void {
    for (const name of names) this.invalidateName(name);
  }

  drop(reason: string): void {
    if (this.entries.size > 0) this.log.debug({ reason }, 'unit cache dropped');
    this.entries.clear();
    this.namesByPath.clear();
  }

  private onPropertiesChanged(message: Message): void {
    if (message.path.startsWith(UNIT_PATH_PREFIX)) this.invalidatePath(message.path);
  }

  private invalidateName(name: string): void {
    this.entries.invalidate([name]);
    this.invalidatePath(unitPathFromName(name));
  }

  private invalidatePath(path: string): void {
    const names = this.namesByPath.get(path);
    // A unit not read yet may be being read for the first time right now.
    if (!names) {
      this.entries.rejectReadsInFlight();
      return;
    }
    this.namesByPath.delete(path);
    this.entries.invalidate(names);
  }
}

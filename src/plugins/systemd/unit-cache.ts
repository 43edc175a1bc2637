import type { Logger } from 'pino';
import type { ChangeScope } from '../../engine/plugin.js';
import { ObservationCache } from '../shared/observation-cache.js';
import type { UnitState } from './plan.js';
import { unitPathFromName } from './unit-path.js';

/**
 * Without any announcement, a unit's state is trusted this long at most: the
 * bound for what systemd cannot announce (a unit file symlinked or edited by
 * hand, without systemctl or a daemon-reload).
 */
const MAX_AGE_MS = 60_000;

/** What one observe read about a unit, with the object path its signals come from. */
export interface CachedUnit {
  path: string;
  state: UnitState;
}

/**
 * Unit states by the name the document uses, dropped by what the plugin's change
 * feed announces (systemd-signals.ts says which signal means what). A notice
 * names a unit's primary name; aliases share its object path, so names are
 * matched through paths. Owned by the systemd plugin.
 */
export class UnitCache {
  readonly entries = new ObservationCache<CachedUnit>({ maxAgeMs: MAX_AGE_MS });
  /** Object path to the document names read through it (a unit and its aliases). */
  private readonly namesByPath = new Map<string, Set<string>>();

  constructor(private readonly log: Logger) {}

  /** What the change feed says: these units (or all) may have changed. */
  onChange(scope: ChangeScope): void {
    if (scope === 'all') this.drop('systemd announced a change to every unit');
    else for (const name of scope) this.invalidateName(name);
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

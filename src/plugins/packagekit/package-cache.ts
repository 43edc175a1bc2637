import type { Logger } from 'pino';
import { ObservationCache } from '../shared/observation-cache.js';
import { aptStateStamp } from './apt-state-stamp.js';
import type { PackageState } from './plan.js';

/** Without any announcement, a Resolve answer is trusted this long at most. */
const MAX_AGE_MS = 5 * 60_000;

/**
 * Resolve answers per package name, valid while apt's and dpkg's files are
 * unchanged (checked by stamp at every use) and nothing announced a change:
 * a PackageKit transaction someone else ran, PackageKit restarting, our own
 * install or remove. Owned by the PackageKit plugin.
 */
export class PackageCache {
  readonly entries = new ObservationCache<PackageState>({ maxAgeMs: MAX_AGE_MS });
  /** Query's sorted names of every installed package, under the same rules. */
  readonly installed = new ObservationCache<string[]>({ maxAgeMs: MAX_AGE_MS });
  private stamp: string | undefined;
  private watching = false;

  /** `paths`: what the answers depend on (apt-state-stamp.ts's aptStatePaths). */
  constructor(
    private readonly paths: readonly string[],
    private readonly log: Logger,
  ) {}

  /** The signals that announce change are subscribed: entries may be kept from now on. */
  startWatching(): void {
    this.watching = true;
  }

  /** Signals are no longer heard: nothing is kept until startWatching again. */
  stopWatching(): void {
    this.watching = false;
    this.entries.disable();
    this.installed.disable();
  }

  /**
   * Call at the start of every observe: drops every entry when apt's or dpkg's
   * files changed since the entries were read (or cannot be read now).
   */
  revalidate(): void {
    const stamp = aptStateStamp(this.paths);
    if (stamp !== undefined && stamp === this.stamp) return;
    if (this.entries.size > 0) this.log.debug('apt or dpkg state changed: package cache dropped');
    this.stamp = stamp;
    for (const cache of [this.entries, this.installed]) {
      cache.clear();
      if (stamp === undefined || !this.watching) cache.disable();
      else cache.enable();
    }
  }

  /** Something announced a change (or may have): forget everything. */
  drop(reason: string): void {
    if (this.entries.size > 0) this.log.debug({ reason }, 'package cache dropped');
    this.entries.clear();
    this.installed.clear();
  }
}

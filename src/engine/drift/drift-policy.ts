import type { FailureKind } from '../../errors.js';
import type { PlanAction } from '../reconciler.js';

/** How a drift check's findings are counted and which corrections may run now. */
export interface DriftTiming {
  /** Back-off after a retryable failure: doubles per failure in a row, up to the maximum. */
  initialBackoffMs: number;
  maxBackoffMs: number;
}

interface Backoff {
  failures: number;
  until: number;
}

export function driftKey(plugin: string, resource: string): string {
  return `${plugin}/${resource}`;
}

/** What a drift is: the same resource, the same planned action, the same observed state. */
function fingerprint(action: PlanAction): string {
  return JSON.stringify([action.action, action.from, action.to]);
}

/**
 * The engine's failure policy for drift, in one place:
 * - a drift is announced and counted once, however many checks see it again,
 *   until the resource is seen in sync (or as a different drift);
 * - a resource whose correction failed retryably waits out a back-off that
 *   doubles with each failure in a row;
 * - a resource whose correction failed terminally is parked: not corrected again
 *   while the check sees the very same drift; a different drift (something
 *   relevant changed: the package lists, the unit file) or the periodic full
 *   check lets it be tried again.
 */
export class DriftPolicy {
  private readonly announced = new Map<string, string>();
  private readonly backoff = new Map<string, Backoff>();
  /** Parked resources and the drift they were parked on (undefined: the next one seen). */
  private readonly parked = new Map<string, string | undefined>();

  constructor(
    private readonly timing: DriftTiming,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Takes a check's whole plan (in-sync rows too) and returns the drifts not
   * announced before, remembering them.
   */
  newDrifts(planned: readonly PlanAction[]): PlanAction[] {
    const fresh: PlanAction[] = [];
    // The plugin could be read: a failure of the plugin as a whole is behind it.
    for (const plugin of new Set(planned.map((action) => action.plugin)))
      this.backoff.delete(driftKey(plugin, ''));
    for (const action of planned) {
      const key = driftKey(action.plugin, action.resource);
      if (action.action === 'none') {
        this.announced.delete(key);
        this.parked.delete(key);
        this.backoff.delete(key);
        continue;
      }
      const print = fingerprint(action);
      if (this.announced.get(key) === print) continue;
      this.announced.set(key, print);
      fresh.push(action);
    }
    return fresh;
  }

  /** The drifts that may be corrected now (not backing off, not parked on this very drift). */
  correctable(drifted: readonly PlanAction[]): PlanAction[] {
    const now = this.now();
    return drifted.filter((action) => {
      const key = driftKey(action.plugin, action.resource);
      if ((this.backoff.get(key)?.until ?? 0) > now) return false;
      if (!this.parked.has(key)) return true;
      const print = fingerprint(action);
      const parkedOn = this.parked.get(key);
      if (parkedOn === undefined) {
        this.parked.set(key, print);
        return false;
      }
      if (parkedOn === print) return false;
      this.parked.delete(key);
      return true;
    });
  }

  /** A job ended with this outcome for the resource. */
  recordOutcome(key: string, failed: FailureKind | undefined): void {
    if (failed === undefined) {
      this.backoff.delete(key);
      this.parked.delete(key);
      return;
    }
    if (failed === 'terminal') {
      this.backoff.delete(key);
      if (!this.parked.has(key)) this.parked.set(key, this.announced.get(key));
      return;
    }
    const failures = (this.backoff.get(key)?.failures ?? 0) + 1;
    const delay = Math.min(
      this.timing.initialBackoffMs * 2 ** (failures - 1),
      this.timing.maxBackoffMs,
    );
    this.backoff.set(key, { failures, until: this.now() + delay });
  }

  /** The periodic full check tries parked resources once more. */
  unparkAll(): void {
    this.parked.clear();
  }

  /** When the earliest back-off ends (undefined when nothing backs off), and what is backing off. */
  nextRetry(): { at: number; keys: string[] } | undefined {
    if (this.backoff.size === 0) return undefined;
    const at = Math.min(...[...this.backoff.values()].map((b) => b.until));
    return { at, keys: [...this.backoff.keys()] };
  }

  isParked(key: string): boolean {
    return this.parked.has(key);
  }
}

import type { Logger } from 'pino';
import type { DesiredDocument } from '../../document/document.js';
import { errorMessage } from '../../errors.js';
import type { FinalJobState, Job } from '../jobs/job.js';
import type { ChangeScope } from '../plugin.js';
import type { PlanAction } from '../reconciler.js';
import type { StateManager } from '../state-manager.js';
import { DriftPolicy, driftKey, type DriftTiming } from './drift-policy.js';

/** Engine-owned timing of drift correction (not configuration: sane for every host). */
export const DRIFT_TIMING: DriftTiming & { debounceMs: number } = {
  /** Notices within this window are checked together (a unit stop fires several signals). */
  debounceMs: 200,
  initialBackoffMs: 2_000,
  maxBackoffMs: 15 * 60_000,
};

/** Which resources of which plugins may have changed; 'all' when a plugin could not say. */
type Scope = Map<string, Set<string> | 'all'>;

export interface DriftMonitorOptions {
  log: Logger;
  /** false: detect and report drift (DriftDetected, Conditions) but never correct it. */
  correct: boolean;
  timing?: typeof DRIFT_TIMING;
}

/**
 * Keeps the machine converged between applies. Plugins' change feeds say "look
 * again" (level-based: the check re-reads the machine); after a short debounce
 * the monitor plans only what may have changed and, when something drifted,
 * announces it and queues a `drift` job for just those resources, as the
 * DriftPolicy allows. Checks wait for running jobs; the periodic full check is
 * skipped while one runs.
 */
export class DriftMonitor {
  private pending: Scope = new Map();
  private timer: NodeJS.Timeout | undefined;
  private checking: Promise<void> | undefined;
  private unwatches: (() => void)[] = [];
  private retryTimer: NodeJS.Timeout | undefined;
  private waitingForIdle = false;
  private stopped = false;
  private readonly timing: typeof DRIFT_TIMING;
  readonly policy: DriftPolicy;

  constructor(
    private readonly engine: StateManager,
    private readonly options: DriftMonitorOptions,
  ) {
    this.timing = options.timing ?? DRIFT_TIMING;
    this.policy = new DriftPolicy(this.timing);
  }

  start(): void {
    for (const plugin of this.engine.plugins) {
      const feed = plugin.instance.changes;
      if (feed) this.unwatches.push(feed.subscribe((scope) => this.notify(plugin.name, scope)));
    }
    this.engine.events.on('job-removed', this.onJobRemoved);
  }

  stop(): void {
    this.stopped = true;
    for (const unwatch of this.unwatches) unwatch();
    this.unwatches = [];
    clearTimeout(this.timer);
    clearTimeout(this.retryTimer);
    this.engine.events.off('job-removed', this.onJobRemoved);
  }

  /**
   * Something about `plugin` may have changed (these resources, or anything).
   * The check comes `debounceMs` after the FIRST notice of a batch, however
   * many follow: a steady stream of notices (a flood, a busy service) must
   * never postpone it.
   */
  notify(plugin: string, scope: ChangeScope): void {
    if (this.stopped) return;
    const current = this.pending.get(plugin);
    if (scope === 'all' || current === 'all') this.pending.set(plugin, 'all');
    else this.pending.set(plugin, new Set([...(current ?? []), ...scope]));
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      void this.flush();
    }, this.timing.debounceMs);
  }

  /** The periodic insurance: a full check, unless a job is running (never overlap). */
  async checkAll(): Promise<void> {
    if (this.engine.jobs.busy || this.checking) {
      this.options.log.info('periodic drift check skipped: a job is running');
      return;
    }
    this.policy.unparkAll();
    await this.check(new Map(this.engine.pluginNames.map((name) => [name, 'all'])), true);
  }

  private async flush(): Promise<void> {
    if (this.stopped || this.pending.size === 0) return;
    // Our own jobs make services announce changes: check once the queue is idle.
    // One waiter is enough: events during a long job must not pile up waiters.
    if (this.engine.jobs.busy || this.checking) {
      if (this.waitingForIdle) return;
      this.waitingForIdle = true;
      await Promise.all([this.engine.jobs.whenIdle(), this.checking]);
      this.waitingForIdle = false;
      clearTimeout(this.timer);
      this.timer = setTimeout(() => {
        this.timer = undefined;
        void this.flush();
      }, this.timing.debounceMs);
      return;
    }
    const scope = this.pending;
    this.pending = new Map();
    await this.check(scope, false);
  }

  private async check(scope: Scope, full: boolean): Promise<void> {
    const run = this.detectAndCorrect(scope, full).catch((err: unknown) => {
      this.options.log.warn({ err: errorMessage(err) }, 'drift check failed');
    });
    this.checking = run;
    await run;
    this.checking = undefined;
  }

  private async detectAndCorrect(scope: Scope, full: boolean): Promise<void> {
    const document = this.narrow(this.engine.desiredDocument, scope);
    if (Object.keys(document.plugins).length === 0) return;
    // A drift check is the daemon's own work: served before reads of local users.
    const planned = await this.engine.planDocument(document, 'job');
    const drifted = planned.filter((a) => a.action !== 'none');
    for (const drift of this.policy.newDrifts(planned)) {
      this.engine.events.emit('drift-detected', drift);
      this.engine.health.countDrift(1);
    }
    this.engine.health.recordCheck(drifted, full);
    if (drifted.length === 0) return;
    this.options.log.warn({ drifted: drifted.map(keyOf) }, 'drift detected');
    if (!this.options.correct) return;
    const correctable = this.policy.correctable(drifted);
    if (correctable.length < drifted.length) {
      this.options.log.info(
        { deferred: drifted.filter((d) => !correctable.includes(d)).map(keyOf) },
        'correction deferred: backing off, or a terminal failure waits for a change',
      );
      this.scheduleRetry();
    }
    if (correctable.length > 0)
      this.engine.correctDrift(this.narrow(this.engine.desiredDocument, scopeOf(correctable)));
  }

  /** The desired document cut down to the scope; plugins without `narrow` are checked whole. */
  private narrow(desired: DesiredDocument, scope: Scope): DesiredDocument {
    const plugins: Record<string, unknown> = {};
    for (const { name, instance } of this.engine.plugins) {
      const section = desired.plugins[name];
      const resources = scope.get(name);
      if (section === undefined || resources === undefined) continue;
      plugins[name] =
        resources === 'all' || !instance.narrow
          ? section
          : instance.narrow(section, [...resources]);
    }
    return { version: desired.version, plugins };
  }

  /** Every job's outcome feeds the policy; retryable failures are looked at again after back-off. */
  private readonly onJobRemoved = (job: Job, state: FinalJobState): void => {
    if (state === 'cancelled' || !job.result || !this.options.correct) return;
    for (const outcome of job.result.resources) {
      const failed = outcome.outcome === 'failed' ? (outcome.failure ?? 'retryable') : undefined;
      this.policy.recordOutcome(driftKey(outcome.plugin, outcome.resource), failed);
    }
    this.scheduleRetry();
  };

  /** One timer, at the earliest end of a back-off, to look again at what failed. */
  private scheduleRetry(): void {
    const next = this.policy.nextRetry();
    if (!next || this.stopped) return;
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(
      () => {
        this.options.log.info({ resources: next.keys }, 'retrying failed resources after back-off');
        for (const id of next.keys) {
          const [plugin = '', ...rest] = id.split('/');
          const resource = rest.join('/');
          // '' is a failure of the whole plugin (its service was unreachable).
          this.notify(plugin, resource === '' ? 'all' : [resource]);
        }
      },
      Math.max(next.at - Date.now(), 0),
    );
    this.retryTimer.unref();
  }
}

function keyOf(action: PlanAction): string {
  return driftKey(action.plugin, action.resource);
}

function scopeOf(actions: PlanAction[]): Scope {
  const scope: Scope = new Map();
  for (const action of actions) {
    const set = scope.get(action.plugin);
    if (set === 'all') continue;
    scope.set(action.plugin, new Set([...(set ?? []), action.resource]));
  }
  return scope;
}

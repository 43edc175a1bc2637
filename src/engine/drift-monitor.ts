import type { Logger } from 'pino';
import type { DesiredDocument } from '../document/document.js';
import { errorMessage } from '../errors.js';
import type { FinalJobState, Job } from './job.js';
import type { PlanAction } from './reconciler.js';
import type { StateManager } from './state-manager.js';

/** Which resources of which plugins may have changed; 'all' when a plugin could not say. */
type Scope = Map<string, Set<string> | 'all'>;

export interface DriftMonitorOptions {
  log: Logger;
  /** Events within this window are checked together (a unit stop fires several signals). */
  debounceMs: number;
  /** false: detect and report drift (DriftDetected, Conditions) but never correct it. */
  correct: boolean;
  /** Back-off after a failed correction: doubles per failure, up to the maximum. */
  initialBackoffMs: number;
  maxBackoffMs: number;
}

interface Backoff {
  failures: number;
  until: number;
}

/**
 * Keeps the machine converged between applies. Plugins' watches say "look again"
 * (level-based: the check re-reads the machine); after a short debounce the
 * monitor plans only what may have changed and, when something drifted, signals
 * DriftDetected and queues a `drift` job for just those resources. A resource
 * whose correction keeps failing backs off instead of looping hot. Checks wait
 * for running jobs; the periodic full check is skipped while one runs.
 */
export class DriftMonitor {
  private pending: Scope = new Map();
  private timer: NodeJS.Timeout | undefined;
  private checking: Promise<void> | undefined;
  private readonly backoff = new Map<string, Backoff>();
  private unwatches: (() => void)[] = [];
  private retryTimer: NodeJS.Timeout | undefined;
  private waitingForIdle = false;
  private stopped = false;

  constructor(
    private readonly engine: StateManager,
    private readonly options: DriftMonitorOptions,
  ) {}

  start(): void {
    for (const plugin of this.engine.plugins) {
      if (!plugin.watch) continue;
      this.unwatches.push(plugin.watch((resources) => this.notify(plugin.name, resources)));
    }
    this.engine.on('job-removed', this.onJobRemoved);
  }

  stop(): void {
    this.stopped = true;
    for (const unwatch of this.unwatches) unwatch();
    this.unwatches = [];
    clearTimeout(this.timer);
    clearTimeout(this.retryTimer);
    this.engine.off('job-removed', this.onJobRemoved);
  }

  /** Something about `plugin` may have changed (its resources, or anything). */
  notify(plugin: string, resources?: readonly string[]): void {
    if (this.stopped) return;
    const current = this.pending.get(plugin);
    if (!resources || current === 'all') this.pending.set(plugin, 'all');
    else this.pending.set(plugin, new Set([...(current ?? []), ...resources]));
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.flush(), this.options.debounceMs);
  }

  /** The periodic insurance: a full check, unless a job is running (never overlap). */
  async checkAll(): Promise<void> {
    if (this.engine.busy || this.checking) {
      this.options.log.info('periodic drift check skipped: a job is running');
      return;
    }
    await this.check(new Map(this.engine.plugins.map((p) => [p.name, 'all'])), true);
  }

  private async flush(): Promise<void> {
    if (this.stopped || this.pending.size === 0) return;
    // Our own jobs make services announce changes: check once the queue is idle.
    // One waiter is enough: events during a long job must not pile up waiters.
    if (this.engine.busy || this.checking) {
      if (this.waitingForIdle) return;
      this.waitingForIdle = true;
      await Promise.all([this.engine.whenIdle(), this.checking]);
      this.waitingForIdle = false;
      clearTimeout(this.timer);
      this.timer = setTimeout(() => void this.flush(), this.options.debounceMs);
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
    const drifted = (await this.engine.planDocument(document)).filter((a) => a.action !== 'none');
    this.engine.recordCheck(drifted, { full, announce: true });
    if (drifted.length === 0) return;
    this.options.log.warn({ drifted: drifted.map(key) }, 'drift detected');
    if (!this.options.correct) return;
    const now = Date.now();
    const correctable = drifted.filter((d) => (this.backoff.get(key(d))?.until ?? 0) <= now);
    if (correctable.length < drifted.length) {
      this.options.log.info(
        { deferred: drifted.length - correctable.length },
        'correction deferred: backing off after failures',
      );
      this.retryAfterBackoff();
    }
    if (correctable.length > 0)
      this.engine.correctDrift(this.narrow(this.engine.desiredDocument, scopeOf(correctable)));
  }

  /** The desired document cut down to the scope; plugins without `narrow` are checked whole. */
  private narrow(desired: DesiredDocument, scope: Scope): DesiredDocument {
    const plugins: Record<string, unknown> = {};
    for (const plugin of this.engine.plugins) {
      const section = desired.plugins[plugin.name];
      const resources = scope.get(plugin.name);
      if (section === undefined || resources === undefined) continue;
      plugins[plugin.name] =
        resources === 'all' || !plugin.narrow ? section : plugin.narrow(section, [...resources]);
    }
    return { version: desired.version, plugins };
  }

  /**
   * A resource that failed, in any job, is retried once its back-off ends (a
   * service that was down may be back); each failure in a row doubles the wait.
   */
  private readonly onJobRemoved = (job: Job, state: FinalJobState): void => {
    if (state === 'cancelled' || !job.result || !this.options.correct) return;
    const now = Date.now();
    let failed = false;
    for (const outcome of job.result.resources) {
      const id = `${outcome.plugin}/${outcome.resource}`;
      if (outcome.outcome !== 'failed') {
        this.backoff.delete(id);
        continue;
      }
      failed = true;
      const failures = (this.backoff.get(id)?.failures ?? 0) + 1;
      const delay = Math.min(
        this.options.initialBackoffMs * 2 ** (failures - 1),
        this.options.maxBackoffMs,
      );
      this.backoff.set(id, { failures, until: now + delay });
    }
    if (failed) this.retryAfterBackoff();
  };

  /** One timer, at the earliest end of a back-off, to look again at what failed. */
  private retryAfterBackoff(): void {
    const next = Math.min(...[...this.backoff.values()].map((b) => b.until));
    if (!Number.isFinite(next) || this.stopped) return;
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(
      () => {
        this.options.log.info(
          { resources: [...this.backoff.keys()] },
          'retrying failed resources after back-off',
        );
        for (const id of this.backoff.keys()) {
          const [plugin = '', ...rest] = id.split('/');
          const resource = rest.join('/');
          // '' is a failure of the whole plugin (its service was unreachable).
          this.notify(plugin, resource === '' ? undefined : [resource]);
        }
      },
      Math.max(next - Date.now(), 0),
    );
    this.retryTimer.unref();
  }
}

function key(action: PlanAction): string {
  return `${action.plugin}/${action.resource}`;
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

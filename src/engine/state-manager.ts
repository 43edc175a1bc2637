import { EventEmitter } from 'eventemitter3';
import type { Logger } from 'pino';
import { emptyDocument, type DesiredDocument } from '../document/document.js';
import type { DocumentValidator } from '../document/validator.js';
import { ErrorName, OpdbusError, errorMessage } from '../errors.js';
import { Conditions } from './conditions.js';
import {
  DAEMON_ITSELF,
  Job,
  summarize,
  type FinalJobState,
  type JobKind,
  type JobResult,
  type Requester,
} from './job.js';
import { JobQueue } from './job-queue.js';
import { JobRetention } from './job-retention.js';
import type { AnyPlugin, ProgressReport } from './plugin.js';
import { Reconciler, type PlanAction, type RunHooks } from './reconciler.js';

export type ManagerStatus = 'idle' | 'applying' | 'reconciling' | 'correcting-drift' | 'stopping';

export type ManagerProperty =
  | 'Status'
  | 'DesiredGeneration'
  | 'AppliedGeneration'
  | 'LastReconcile'
  | 'DriftCount'
  | 'Conditions';

export interface StateManagerEvents {
  'job-new': (job: Job) => void;
  'job-changed': (job: Job, changed: ('State' | 'Percentage' | 'Result')[]) => void;
  'job-removed': (job: Job, result: FinalJobState) => void;
  /** A finished job is no longer retained: its object can go. */
  'job-evicted': (job: Job) => void;
  progress: (job: Job, plugin: string, report: ProgressReport) => void;
  'drift-detected': (drift: PlanAction) => void;
  'state-changed': (changed: ManagerProperty[]) => void;
}

/** Where accepted documents go before they are acknowledged (the state file). */
export interface DesiredStateStore {
  save(document: DesiredDocument): Promise<void>;
}

export interface StateManagerOptions {
  plugins: readonly AnyPlugin[];
  validator: DocumentValidator;
  store: DesiredStateStore;
  log: Logger;
  /** How long a finished job stays readable, and how many are kept at most. */
  jobRetentionMs: number;
  maxRetainedJobs: number;
}

/** What Verify() answers: what differs from the desired state right now. */
export interface VerifyReport {
  generation: number;
  checkedAt: string;
  inSync: boolean;
  drifted: PlanAction[];
}

const JOB_STATUS: Record<JobKind, ManagerStatus> = {
  apply: 'applying',
  reconcile: 'reconciling',
  drift: 'correcting-drift',
};

/**
 * The engine's front door: holds the desired state and its generations, queues
 * jobs and runs them through the reconciler, and keeps the conditions. Knows
 * nothing of D-Bus; the service layer listens to its events.
 */
export class StateManager extends EventEmitter<StateManagerEvents> {
  private desired: DesiredDocument = emptyDocument();
  private desiredGenerationValue = 0;
  private appliedGenerationValue = 0;
  private lastReconcileMs = 0;
  private driftCountValue = 0;
  private nextJobId = 1;
  private readonly reconciler: Reconciler;
  private readonly queue: JobQueue;
  private readonly jobs = new Map<number, Job>();
  private readonly retention: JobRetention;
  readonly conditions = new Conditions();
  private stopping = false;

  constructor(private readonly options: StateManagerOptions) {
    super();
    this.reconciler = new Reconciler(options.plugins);
    this.queue = new JobQueue(
      (job) => this.runJob(job),
      (job, err) => options.log.error({ err, job: job.id }, 'job runner failed'),
    );
    this.retention = new JobRetention(options.jobRetentionMs, options.maxRetainedJobs, (job) => {
      this.jobs.delete(job.id);
      this.emit('job-evicted', job);
    });
  }

  get plugins(): readonly AnyPlugin[] {
    return this.options.plugins;
  }

  get pluginNames(): string[] {
    return this.options.plugins.map((plugin) => plugin.name);
  }

  get desiredDocument(): DesiredDocument {
    return this.desired;
  }

  get desiredGeneration(): number {
    return this.desiredGenerationValue;
  }

  get appliedGeneration(): number {
    return this.appliedGenerationValue;
  }

  /** Microseconds since the epoch of the last finished job or full check; 0 before any. */
  get lastReconcileUsec(): bigint {
    return BigInt(this.lastReconcileMs) * 1000n;
  }

  /** Drifted resources detected since the daemon started. */
  get driftCount(): number {
    return this.driftCountValue;
  }

  get status(): ManagerStatus {
    if (this.stopping) return 'stopping';
    const current = this.queue.current;
    // A job that has finished is still the queue's current one while its end is
    // announced: PropertiesChanged must already say idle then, or it never will.
    return current && !current.finished ? JOB_STATUS[current.kind] : 'idle';
  }

  /** True while a job runs or waits: drift checks then wait their turn. */
  get busy(): boolean {
    return this.queue.current !== undefined || this.queue.length > 0;
  }

  whenIdle(): Promise<void> {
    return this.queue.whenIdle();
  }

  job(id: number): Job | undefined {
    return this.jobs.get(id);
  }

  /**
   * Validates the document, persists it, makes it the desired state and queues a
   * job. Returns once the document is on disk, long before the job ends. A document
   * that cannot be persisted is refused: an accepted state is never lost.
   */
  async apply(text: string, requestedBy: Requester): Promise<Job> {
    this.refuseWhenStopping();
    const document = this.options.validator.parse(text);
    await this.options.store.save(document);
    this.refuseWhenStopping();
    this.setDesired(document);
    return this.queueJob('apply', document, requestedBy);
  }

  /** Takes the persisted document at start-up (already on disk) and reconciles once. */
  restore(document: DesiredDocument): Job {
    this.setDesired(document);
    return this.queueJob('reconcile', document, DAEMON_ITSELF);
  }

  /** Queues a full reconcile of the current desired state. */
  reconcile(requestedBy: Requester): Job {
    this.refuseWhenStopping();
    return this.queueJob('reconcile', this.desired, requestedBy);
  }

  /** Queues a correction of drifted resources (a narrowed desired document). */
  correctDrift(document: DesiredDocument): Job {
    return this.queueJob('drift', document, DAEMON_ITSELF);
  }

  async plan(text: string): Promise<PlanAction[]> {
    return this.planDocument(this.options.validator.parse(text));
  }

  planDocument(document: DesiredDocument): Promise<PlanAction[]> {
    return this.reconciler.plan(document, this.readHooks());
  }

  /** What differs from the whole desired state now; changes nothing on the machine. */
  async verify(): Promise<VerifyReport> {
    const generation = this.desiredGenerationValue;
    const drifted = (await this.planDocument(this.desired)).filter((a) => a.action !== 'none');
    this.recordCheck(drifted, { full: true, announce: false });
    return {
      generation,
      checkedAt: new Date().toISOString(),
      inSync: drifted.length === 0,
      drifted,
    };
  }

  /**
   * Records what a check found. `announce` counts the drift and emits DriftDetected
   * (a drift check); `full` means the whole desired state was checked, so an empty
   * result clears Drifted and moves LastReconcile.
   */
  recordCheck(
    drifted: PlanAction[],
    { full, announce }: { full: boolean; announce: boolean },
  ): void {
    const changed = new Set<ManagerProperty>();
    if (announce && drifted.length > 0) {
      for (const drift of drifted) this.emit('drift-detected', drift);
      this.driftCountValue += drifted.length;
      changed.add('DriftCount');
    }
    if (drifted.length > 0) {
      const names = drifted.map((d) => `${d.plugin}/${d.resource}`).join(', ');
      if (this.conditions.set('Drifted', true, 'DriftDetected', `not as desired: ${names}`))
        changed.add('Conditions');
    } else if (
      full &&
      this.conditions.set('Drifted', false, 'InSync', 'the machine matches the desired state')
    ) {
      changed.add('Conditions');
    }
    if (full) {
      this.lastReconcileMs = Date.now();
      changed.add('LastReconcile');
    }
    if (changed.size > 0) this.emit('state-changed', [...changed]);
  }

  async query(pluginNames: readonly string[]): Promise<DesiredDocument> {
    const unknown = pluginNames.filter((name) => !this.pluginNames.includes(name));
    if (unknown.length > 0) {
      throw new OpdbusError(
        ErrorName.UnknownPlugin,
        `unknown plugin ${unknown.map((n) => `'${n}'`).join(', ')} (known: ${this.pluginNames.join(', ')})`,
      );
    }
    return this.reconciler.query(pluginNames, this.readHooks());
  }

  cancel(job: Job): void {
    if (job.finished) {
      throw new OpdbusError(
        ErrorName.JobFinished,
        `job ${job.id} has already finished (${job.state})`,
      );
    }
    if (this.queue.remove(job)) {
      this.finish(job, 'cancelled', summarize(job.generation, [], 'cancelled before it started'));
      return;
    }
    job.requestCancel();
  }

  markReady(message: string): void {
    if (this.conditions.set('Ready', true, 'Serving', message))
      this.emit('state-changed', ['Conditions']);
  }

  /** Cancels the running job, drops queued ones, and waits for the queue to stop. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.conditions.set('Ready', false, 'Stopping', 'the daemon is stopping');
    this.emit('state-changed', ['Status', 'Conditions']);
    this.queue.current?.requestCancel();
    for (const job of await this.queue.stop()) {
      this.finish(
        job,
        'cancelled',
        summarize(job.generation, [], 'daemon stopped before the job started'),
      );
    }
    this.retention.stop();
  }

  private setDesired(document: DesiredDocument): void {
    this.desired = document;
    this.desiredGenerationValue += 1;
    this.emit('state-changed', ['DesiredGeneration']);
  }

  private refuseWhenStopping(): void {
    if (this.stopping) throw new OpdbusError(ErrorName.PluginUnavailable, 'the daemon is stopping');
  }

  private queueJob(kind: JobKind, document: DesiredDocument, requestedBy: Requester): Job {
    const job = new Job(this.nextJobId++, kind, document, this.desiredGenerationValue, requestedBy);
    this.jobs.set(job.id, job);
    this.emit('job-new', job);
    this.queue.enqueue(job);
    return job;
  }

  private readHooks(): RunHooks {
    return {
      signal: new AbortController().signal,
      log: this.options.log,
      progress: () => undefined,
    };
  }

  private async runJob(job: Job): Promise<void> {
    const log = this.options.log.child({ job: job.id, kind: job.kind });
    job.state = 'running';
    this.emit('job-changed', job, ['State']);
    const progressing = this.conditions.set(
      'Progressing',
      true,
      'JobRunning',
      `job ${job.id} (${job.kind}) is running`,
    );
    this.emit('state-changed', progressing ? ['Status', 'Conditions'] : ['Status']);
    log.info({ generation: job.generation, requestedBy: job.requestedBy }, 'job started');
    try {
      const outcomes = await this.reconciler.reconcile(job.document, {
        signal: job.signal,
        log,
        progress: (plugin, index, count, report) =>
          this.reportProgress(job, plugin, index, count, report),
      });
      const result = summarize(job.generation, outcomes);
      this.finish(job, result.summary.failed > 0 ? 'failed' : 'done', result);
    } catch (err) {
      const cancelled = job.signal.aborted;
      if (!cancelled) log.error({ err }, 'job crashed');
      this.finish(
        job,
        cancelled ? 'cancelled' : 'failed',
        summarize(job.generation, [], errorMessage(err)),
      );
    }
  }

  private reportProgress(
    job: Job,
    plugin: string,
    index: number,
    count: number,
    report: ProgressReport,
  ): void {
    this.emit('progress', job, plugin, report);
    const overall = Math.floor(
      ((index + Math.min(report.percent, 100) / 100) / Math.max(count, 1)) * 100,
    );
    if (overall > job.percentage && overall < 100) {
      job.percentage = overall;
      this.emit('job-changed', job, ['Percentage']);
    }
  }

  private finish(job: Job, state: FinalJobState, result: JobResult): void {
    job.state = state;
    job.result = result;
    job.percentage = 100;
    job.finishedAt = Date.now();
    this.options.log.info(
      { job: job.id, state, summary: result.summary, error: result.error },
      'job finished',
    );
    this.emit('job-changed', job, ['State', 'Percentage', 'Result']);
    this.emit('job-removed', job, state);
    this.emit('state-changed', this.recordOutcome(job, state, result));
    this.retention.add(job);
  }

  /** Generations, conditions and LastReconcile after a job ends. */
  private recordOutcome(job: Job, state: FinalJobState, result: JobResult): ManagerProperty[] {
    const changed: ManagerProperty[] = ['Status', 'Conditions'];
    const wholeDocument = job.kind !== 'drift';
    if (state === 'done' && wholeDocument && job.generation > this.appliedGenerationValue) {
      this.appliedGenerationValue = job.generation;
      changed.push('AppliedGeneration');
    }
    if (state !== 'cancelled') {
      this.lastReconcileMs = Date.now();
      changed.push('LastReconcile');
    }
    const idle = !this.busy || (this.queue.current === job && this.queue.length === 0);
    this.conditions.set(
      'Progressing',
      !idle,
      idle ? 'Idle' : 'JobQueued',
      idle ? 'no job is running' : 'jobs are queued',
    );
    if (state === 'failed') {
      const failed = result.resources
        .filter((r) => r.outcome === 'failed')
        .map((r) => (r.resource ? `${r.plugin}/${r.resource}` : r.plugin));
      const what = failed.length > 0 ? failed.join(', ') : (result.error ?? 'unknown error');
      this.conditions.set(
        'Degraded',
        true,
        'JobFailed',
        `job ${job.id} (${job.kind}) failed: ${what}`,
      );
    } else if (state === 'done') {
      this.conditions.set(
        'Degraded',
        false,
        'LastJobSucceeded',
        `job ${job.id} (${job.kind}) succeeded`,
      );
      this.conditions.set(
        'Drifted',
        false,
        wholeDocument ? 'InSync' : 'Corrected',
        wholeDocument
          ? 'the machine matches the desired state'
          : `drift corrected by job ${job.id}`,
      );
    }
    return changed;
  }
}

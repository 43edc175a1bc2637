import { EventEmitter } from 'eventemitter3';
import type { Logger } from 'pino';
import { emptyDocument, type DesiredDocument } from '../document/document.js';
import type { DocumentValidator } from '../document/validator.js';
import { ErrorName, OpdbusError, errorMessage } from '../errors.js';
import { Job, summarize, type FinalJobState, type JobKind } from './job.js';
import { JobQueue } from './job-queue.js';
import type { AnyPlugin, ProgressReport } from './plugin.js';
import { Reconciler, type PlanAction, type RunHooks } from './reconciler.js';

export type ManagerStatus = 'idle' | 'applying' | 'reconciling' | 'stopping';

export interface StateManagerEvents {
  'job-new': (job: Job) => void;
  'job-changed': (job: Job, changed: ('State' | 'Percentage' | 'Result')[]) => void;
  'job-removed': (job: Job, result: FinalJobState) => void;
  /** A finished job is no longer retained: its object can go. */
  'job-evicted': (job: Job) => void;
  progress: (job: Job, plugin: string, report: ProgressReport) => void;
  'state-changed': (changed: ('Status' | 'DesiredGeneration' | 'AppliedGeneration')[]) => void;
}

export interface StateManagerOptions {
  plugins: readonly AnyPlugin[];
  validator: DocumentValidator;
  log: Logger;
  /** How long a finished job stays readable, and how many are kept at most. */
  jobRetentionMs: number;
  maxRetainedJobs: number;
}

/**
 * The engine's front door: holds the desired state and its generations, queues
 * jobs and runs them through the reconciler. Knows nothing of D-Bus; the
 * service layer listens to its events.
 */
export class StateManager extends EventEmitter<StateManagerEvents> {
  private desired: DesiredDocument = emptyDocument();
  private desiredGenerationValue = 0;
  private appliedGenerationValue = 0;
  private nextJobId = 1;
  private readonly reconciler: Reconciler;
  private readonly queue: JobQueue;
  private readonly jobs = new Map<number, Job>();
  private readonly finished: Job[] = [];
  private stopping = false;

  constructor(private readonly options: StateManagerOptions) {
    super();
    this.reconciler = new Reconciler(options.plugins);
    this.queue = new JobQueue(
      (job) => this.runJob(job),
      (job, err) => options.log.error({ err, job: job.id }, 'job runner failed'),
    );
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

  get status(): ManagerStatus {
    if (this.stopping) return 'stopping';
    const current = this.queue.current;
    if (!current) return 'idle';
    return current.kind === 'apply' ? 'applying' : 'reconciling';
  }

  job(id: number): Job | undefined {
    return this.jobs.get(id);
  }

  /** Validates the document, makes it the desired state and queues a job. Returns at once. */
  apply(text: string, requestedBy: string): Job {
    this.refuseWhenStopping();
    const document = this.options.validator.parse(text);
    this.desired = document;
    this.desiredGenerationValue += 1;
    this.emit('state-changed', ['DesiredGeneration']);
    return this.queueJob('apply', document, requestedBy);
  }

  async plan(text: string): Promise<PlanAction[]> {
    const document = this.options.validator.parse(text);
    return this.reconciler.plan(document, this.readHooks());
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

  /** Cancels the running job, drops queued ones, and waits for the queue to stop. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.emit('state-changed', ['Status']);
    this.queue.current?.requestCancel();
    for (const job of await this.queue.stop()) {
      this.finish(
        job,
        'cancelled',
        summarize(job.generation, [], 'daemon stopped before the job started'),
      );
    }
  }

  private refuseWhenStopping(): void {
    if (this.stopping) throw new OpdbusError(ErrorName.PluginUnavailable, 'the daemon is stopping');
  }

  private queueJob(kind: JobKind, document: DesiredDocument, requestedBy: string): Job {
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
    this.emit('state-changed', ['Status']);
    log.info({ generation: job.generation }, 'job started');
    try {
      const outcomes = await this.reconciler.reconcile(job.document, {
        signal: job.signal,
        log,
        progress: (plugin, index, count, report) =>
          this.reportProgress(job, plugin, index, count, report),
      });
      const result = summarize(job.generation, outcomes);
      const state = result.summary.failed > 0 ? 'failed' : 'done';
      if (state === 'done') this.markApplied(job.generation);
      this.finish(job, state, result);
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

  private markApplied(generation: number): void {
    if (generation <= this.appliedGenerationValue) return;
    this.appliedGenerationValue = generation;
    this.emit('state-changed', ['AppliedGeneration']);
  }

  private finish(job: Job, state: FinalJobState, result: ReturnType<typeof summarize>): void {
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
    this.emit('state-changed', ['Status']);
    this.retain(job);
  }

  /** Keeps finished jobs readable for a while, bounded in time and number, so nothing grows. */
  private retain(job: Job): void {
    this.finished.push(job);
    while (this.finished.length > this.options.maxRetainedJobs) this.evict(this.finished[0] as Job);
    const timer = setTimeout(() => this.evict(job), this.options.jobRetentionMs);
    timer.unref();
  }

  private evict(job: Job): void {
    const index = this.finished.indexOf(job);
    if (index < 0) return;
    this.finished.splice(index, 1);
    this.jobs.delete(job.id);
    this.emit('job-evicted', job);
  }
}

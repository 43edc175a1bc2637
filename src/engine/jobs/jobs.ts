import type { Logger } from 'pino';
import type { DesiredDocument } from '../../document/document.js';
import { boundedText, errorMessage } from '../../errors.js';
import type { EngineEvents } from '../events.js';
import type { Health } from '../health/health.js';
import type { ProgressReport } from '../plugin.js';
import type { Reconciler } from '../reconciler.js';
import {
  Job,
  summarize,
  type CaptureHook,
  type FinalJobState,
  type JobKind,
  type JobResult,
  type Requester,
} from './job.js';
import { JobQueue } from './job-queue.js';
import { JobRetention } from './job-retention.js';

export interface JobsOptions {
  reconciler: Reconciler;
  events: EngineEvents;
  health: Health;
  log: Logger;
  /** How long a finished job stays readable, and how many are kept at most. */
  retentionMs: number;
  maxRetained: number;
}

/**
 * Every job's life: created and announced, queued, run through the reconciler
 * one at a time, its progress published, finished with a result, retained for
 * a while, then forgotten.
 */
export class Jobs {
  private nextId = 1;
  private readonly byId = new Map<number, Job>();
  private readonly queue: JobQueue;
  private readonly retention: JobRetention;

  constructor(private readonly options: JobsOptions) {
    this.queue = new JobQueue(
      (job) => this.run(job),
      (job, err) => options.log.error({ err, job: job.id }, 'job runner failed'),
    );
    this.retention = new JobRetention(options.retentionMs, options.maxRetained, (job) => {
      this.byId.delete(job.id);
      options.events.emit('job-evicted', job);
    });
  }

  get current(): Job | undefined {
    return this.queue.current;
  }

  /** True while a job runs or waits. */
  get busy(): boolean {
    return this.queue.current !== undefined || this.queue.length > 0;
  }

  whenIdle(): Promise<void> {
    return this.queue.whenIdle();
  }

  get(id: number): Job | undefined {
    return this.byId.get(id);
  }

  add(
    kind: JobKind,
    document: DesiredDocument,
    generation: number,
    requestedBy: Requester,
    capture?: CaptureHook,
  ): Job {
    const job = new Job(this.nextId++, kind, document, generation, requestedBy, capture);
    this.byId.set(job.id, job);
    this.options.events.emit('job-new', job);
    this.queue.enqueue(job);
    return job;
  }

  /** Removes a queued job, or asks the running one to stop. */
  cancel(job: Job): void {
    if (this.queue.remove(job)) {
      this.finish(job, 'cancelled', summarize(job.generation, [], 'cancelled before it started'));
      return;
    }
    job.requestCancel();
  }

  /** Cancels the running job, drops queued ones (they end cancelled), waits for the queue. */
  async stop(): Promise<void> {
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

  private async run(job: Job): Promise<void> {
    const { events, health, reconciler } = this.options;
    const log = this.options.log.child({ job: job.id, kind: job.kind });
    job.state = 'running';
    events.emit('job-changed', job, ['state']);
    health.jobStarted(job);
    log.info({ generation: job.generation, requestedBy: job.requestedBy }, 'job started');
    try {
      const outcomes = await reconciler.reconcile(job.document, {
        signal: job.signal,
        log,
        capture: job.capture,
        progress: (plugin, index, count, report) =>
          this.progress(job, plugin, index, count, report),
      });
      const result = summarize(job.generation, outcomes);
      this.finish(job, result.summary.failed > 0 ? 'failed' : 'done', result);
    } catch (err) {
      const cancelled = job.signal.aborted;
      if (!cancelled) log.error({ err }, 'job crashed');
      this.finish(
        job,
        cancelled ? 'cancelled' : 'failed',
        summarize(job.generation, [], boundedText(errorMessage(err))),
      );
    }
  }

  /** Publishes a plugin's progress and moves the job's overall percentage. */
  private progress(
    job: Job,
    plugin: string,
    index: number,
    count: number,
    report: ProgressReport,
  ): void {
    this.options.events.emit('progress', job, plugin, report);
    const share = Math.min(Math.max(report.percent, 0), 100) / 100;
    const overall = Math.floor(((index + share) / Math.max(count, 1)) * 100);
    if (overall > job.percentage && overall < 100) {
      job.percentage = overall;
      this.options.events.emit('job-changed', job, ['percentage']);
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
    const current = this.queue.current;
    const idle = this.queue.length === 0 && (current === undefined || current === job);
    this.options.events.emit('job-changed', job, ['state', 'percentage', 'result']);
    this.options.events.emit('job-removed', job, state);
    this.options.health.jobFinished(job, state, result, idle);
    this.retention.add(job);
  }
}

import type { Logger } from 'pino';
import type { DesiredDocument } from '../../document/document.js';
import { ErrorName, OpdbusError } from '../../errors.js';
import type { EngineEvents } from '../events.js';
import { DAEMON_ITSELF, type Job, type Requester } from '../jobs/job.js';
import type { Restore } from '../plugin.js';
import { restoreDocument, type CheckpointRecord } from './checkpoint.js';
import type { CheckpointStore } from './checkpoint-file.js';

/** What the checkpoints need from the front door (kept small so the rooms stay apart). */
export interface CheckpointHost {
  /** The local layer: what Apply set, and what a rollback sets back. */
  readonly localDocument: DesiredDocument;
  readonly desiredGeneration: number;
  /** Makes `local` the local layer (persisted, generation + 1) and queues `kind`. */
  replaceDesired(
    local: DesiredDocument,
    kind: 'apply' | 'rollback',
    requestedBy: Requester,
    options?: {
      run?: DesiredDocument;
      capture?: Job['capture'];
      /** Called as soon as the job exists, before it can end. */
      queued?: (job: Job) => void;
    },
  ): Promise<Job>;
  cancel(job: Job): void;
  reconcile(requestedBy: Requester): Job;
  queueRollback(document: DesiredDocument): Job;
}

const RETRY = { initialMs: 2_000, maxMs: 15 * 60_000 };

/**
 * Apply on probation ("commit confirmed"): one checkpoint at a time, persisted
 * before the apply starts, holding the previous desired document and, per
 * plugin, the state of what the document names as it was just before that
 * plugin applied. Unless confirmed by the deadline, a `rollback` job restores
 * that state and the previous document becomes desired again.
 */
export class Checkpoints {
  private record: CheckpointRecord | undefined;
  private timer: NodeJS.Timeout | undefined;
  private applyJob: Job | undefined;
  private rollbackJob: Job | undefined;
  private retries = 0;
  private nextId = 1;

  constructor(
    private readonly host: CheckpointHost,
    private readonly file: CheckpointStore,
    private readonly events: EngineEvents,
    private readonly log: Logger,
  ) {
    events.on('job-removed', (job) => void this.onJobRemoved(job));
  }

  /** The checkpoint that is pending or whose rollback is still being retried. */
  get current(): CheckpointRecord | undefined {
    return this.record;
  }

  get pending(): CheckpointRecord | undefined {
    return this.record?.state === 'pending' ? this.record : undefined;
  }

  jobs(): { job: Job | undefined; rollbackJob: Job | undefined } {
    return { job: this.applyJob, rollbackJob: this.rollbackJob };
  }

  /**
   * Refuses a plain Apply (or a second probation) while one is pending. A
   * rollback still being retried is given up: a new document supersedes it.
   */
  refuseWhilePending(): void {
    if (this.record?.state === 'rollback-failed') this.abandonRollback();
    const pending = this.pending;
    if (!pending) return;
    throw new OpdbusError(
      ErrorName.CheckpointPending,
      `checkpoint ${pending.id} is pending until ${new Date(pending.deadline).toISOString()}: confirm or roll it back first`,
    );
  }

  /** Persists the checkpoint, then makes `document` desired and queues its job. */
  async create(
    document: DesiredDocument,
    timeoutSeconds: number,
    by: Requester,
  ): Promise<CheckpointRecord> {
    this.refuseWhilePending();
    if (!(timeoutSeconds >= 1 && timeoutSeconds <= 86_400))
      throw new OpdbusError(ErrorName.InvalidArgs, 'timeout_seconds must be between 1 and 86400');
    const record: CheckpointRecord = {
      id: this.nextId++,
      state: 'pending',
      deadline: Date.now() + timeoutSeconds * 1000,
      timeoutMs: timeoutSeconds * 1000,
      createdAt: new Date().toISOString(),
      requestedBy: by,
      previous: { document: this.host.localDocument, generation: this.host.desiredGeneration },
      document,
      snapshot: [],
      failed: [],
    };
    await this.file.save(record);
    this.record = record;
    this.rollbackJob = undefined;
    // Assigned from `queued`: a job with nothing to do may end before the await returns.
    await this.host.replaceDesired(document, 'apply', by, {
      capture: (plugin, section, restore) => this.captured(record, plugin, section, restore),
      queued: (job) => (this.applyJob = job),
    });
    // Armed when the probationary job ends (onJobRemoved).
    this.events.emit('checkpoint-changed', record, 'created', by);
    return record;
  }

  /** Keeps what a plugin was just before it applies (persisted before it changes anything). */
  private async captured(
    record: CheckpointRecord,
    plugin: string,
    section: unknown,
    restore: Restore,
  ): Promise<void> {
    record.snapshot = [
      ...record.snapshot.filter((e) => e.plugin !== plugin),
      { plugin, section, restore },
    ];
    await this.file.save(record);
  }

  async confirm(by: Requester): Promise<void> {
    const record = this.requirePending();
    clearTimeout(this.timer);
    record.state = 'confirmed';
    await this.file.remove();
    this.record = undefined;
    this.events.emit('checkpoint-changed', record, 'confirmed', by);
    this.events.emit('checkpoint-removed', record, 'confirmed');
  }

  async extend(seconds: number, by: Requester): Promise<void> {
    const record = this.requirePending();
    if (!(seconds >= 1 && seconds <= 86_400))
      throw new OpdbusError(ErrorName.InvalidArgs, 'seconds must be between 1 and 86400');
    // Also the window counted from the end of the apply, if that is still running.
    record.timeoutMs = seconds * 1000;
    record.deadline = Date.now() + seconds * 1000;
    await this.file.save(record);
    this.arm();
    this.events.emit('checkpoint-changed', record, 'extended', by);
  }

  /** Starts the rollback (on request or at the deadline). */
  async rollback(by: Requester): Promise<void> {
    const record = this.requirePending();
    clearTimeout(this.timer);
    this.log.warn({ checkpoint: record.id, by }, 'rolling back a checkpoint');
    if (this.applyJob && !this.applyJob.finished) this.host.cancel(this.applyJob);
    const previous = record.previous.document as DesiredDocument;
    await this.host.replaceDesired(previous, 'rollback', by, {
      run: restoreDocument(record),
      queued: (job) => (this.rollbackJob = job),
    });
    this.events.emit('checkpoint-changed', record, 'rollback', by);
  }

  /** At start-up: re-arm a pending checkpoint, or roll back at once when its deadline passed. */
  async recover(record: CheckpointRecord): Promise<void> {
    this.record = record;
    this.nextId = record.id + 1;
    if (record.state === 'rollback-failed') {
      this.retryRollback();
      return;
    }
    if (record.deadline <= Date.now()) await this.rollback(DAEMON_ITSELF);
    else this.arm();
  }

  stop(): void {
    clearTimeout(this.timer);
  }

  private abandonRollback(): void {
    const record = this.record;
    if (!record) return;
    clearTimeout(this.timer);
    this.log.warn(
      { checkpoint: record.id, failed: record.failed },
      'a new document supersedes a rollback that had partly failed',
    );
    this.record = undefined;
    this.retries = 0;
    void this.file.remove().catch(() => undefined);
  }

  private requirePending(): CheckpointRecord {
    const record = this.pending;
    if (!record) throw new OpdbusError(ErrorName.NoCheckpoint, 'no checkpoint is pending');
    if (this.rollbackJob && !this.rollbackJob.finished)
      throw new OpdbusError(
        ErrorName.NoCheckpoint,
        `checkpoint ${record.id} is already being rolled back`,
      );
    return record;
  }

  private arm(): void {
    clearTimeout(this.timer);
    const record = this.record;
    if (!record) return;
    this.timer = setTimeout(
      () => {
        this.log.warn({ checkpoint: record.id }, 'checkpoint deadline passed without a confirm');
        this.rollback(DAEMON_ITSELF).catch((err: unknown) =>
          this.log.error({ err }, 'cannot start the rollback'),
        );
      },
      Math.max(record.deadline - Date.now(), 0),
    );
  }

  /** A rollback job ended: done (the checkpoint is over) or failed (kept and retried). */
  private async onJobRemoved(job: Job): Promise<void> {
    const record = this.record;
    if (record && job === this.applyJob && record.state === 'pending') {
      // The window starts when the change is made, however long that took.
      record.deadline = Date.now() + record.timeoutMs;
      await this.file.save(record);
      this.arm();
      this.events.emit('checkpoint-changed', record, 'armed', DAEMON_ITSELF);
      return;
    }
    if (!record || job !== this.rollbackJob || !job.result) return;
    const failed = job.result.resources
      .filter((r) => r.outcome === 'failed')
      .map((r) => ({ plugin: r.plugin, resource: r.resource, error: r.error ?? 'failed' }));
    if (
      job.state === 'done' ||
      (job.state === 'failed' && failed.length === 0 && !job.result.error)
    ) {
      record.state = 'rolled-back';
      record.failed = [];
      this.retries = 0;
      await this.file.remove();
      this.record = undefined;
      this.events.emit('checkpoint-removed', record, 'rolled-back');
      // The previous document is desired again: make sure the machine matches it.
      this.host.reconcile(DAEMON_ITSELF);
      return;
    }
    if (job.state === 'cancelled') return;
    record.state = 'rollback-failed';
    record.failed = failed;
    await this.file.save(record);
    this.events.emit('checkpoint-changed', record, 'rollback-failed', DAEMON_ITSELF);
    this.retryRollback();
  }

  /** Retries a partly failed rollback with back-off, like any retryable failure. */
  private retryRollback(): void {
    const delay = Math.min(RETRY.initialMs * 2 ** this.retries, RETRY.maxMs);
    this.retries += 1;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      const record = this.record;
      if (!record || record.state !== 'rollback-failed') return;
      this.rollbackJob = this.host.queueRollback(restoreDocument(record));
    }, delay);
    this.timer.unref();
  }
}

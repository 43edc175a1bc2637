import type { Logger } from 'pino';
import type { DesiredDocument } from '../document/document.js';
import { DesiredState } from './desired/desired-state.js';
import type { Layer } from './desired/layers.js';
import type { DocumentValidator } from '../document/validator.js';
import { ErrorName, OpdbusError } from '../errors.js';
import { EngineEvents } from './events.js';
import { Health } from './health/health.js';
import type { CheckpointRecord } from './checkpoints/checkpoint.js';
import { MemoryCheckpointStore, type CheckpointStore } from './checkpoints/checkpoint-file.js';
import { Checkpoints } from './checkpoints/checkpoints.js';
import {
  DAEMON_ITSELF,
  type CaptureHook,
  type Job,
  type JobKind,
  type Requester,
} from './jobs/job.js';
import { Jobs } from './jobs/jobs.js';
import type { EnginePlugin, WorkPriority } from './plugin.js';
import { Reads, type VerifyReport } from './reads.js';
import { Reconciler, type PlanAction, type QueryAnswer } from './reconciler.js';

export type ManagerStatus =
  'idle' | 'applying' | 'reconciling' | 'correcting-drift' | 'rolling-back' | 'stopping';

import type { DesiredStateStore } from './desired/desired-state.js';

export type { DesiredStateStore };

export interface StateManagerOptions {
  plugins: readonly EnginePlugin[];
  validator: DocumentValidator;
  store: DesiredStateStore;
  /** Where a pending checkpoint is persisted (the daemon: checkpoint.json). */
  checkpointStore?: CheckpointStore;
  /** The fleet groups this node belongs to, lowest precedence first. */
  groups?: readonly string[];
  log: Logger;
  jobRetentionMs: number;
  maxRetainedJobs: number;
}

export type { VerifyReport };

const JOB_STATUS: Record<JobKind, ManagerStatus> = {
  apply: 'applying',
  reconcile: 'reconciling',
  drift: 'correcting-drift',
  rollback: 'rolling-back',
};

/**
 * The engine's front door: holds the desired state and its generations, takes
 * documents, answers reads, and hands work to its rooms: `jobs` (queue, run,
 * progress, retention), `health` (conditions and counters). Everything it and
 * its rooms want to say goes out on `events`. Knows nothing of D-Bus.
 */
export class StateManager {
  readonly events = new EngineEvents();
  readonly health: Health;
  readonly jobs: Jobs;
  readonly checkpoints: Checkpoints;
  private readonly reconciler: Reconciler;
  private readonly reads: Reads;
  readonly desired: DesiredState;
  private appliedGenerationValue = 0;
  /** Aborted at stop: reads in flight give up. */
  private readonly stopping = new AbortController();

  constructor(private readonly options: StateManagerOptions) {
    this.reconciler = new Reconciler(options.plugins);
    this.desired = new DesiredState(options.plugins, options.store, options.groups);
    this.health = new Health(this.events);
    this.reads = new Reads({
      reconciler: this.reconciler,
      desired: this.desired,
      health: this.health,
      validator: options.validator,
      pluginNames: options.plugins.map((plugin) => plugin.name),
      log: options.log,
      stopping: this.stopping.signal,
    });
    this.jobs = new Jobs({
      reconciler: this.reconciler,
      events: this.events,
      health: this.health,
      log: options.log,
      retentionMs: options.jobRetentionMs,
      maxRetained: options.maxRetainedJobs,
    });
    this.checkpoints = new Checkpoints(
      this,
      options.checkpointStore ?? new MemoryCheckpointStore(),
      this.events,
      options.log,
    );
    this.events.on('checkpoint-changed', () => this.events.emit('changed', ['pendingCheckpoint']));
    this.events.on('checkpoint-removed', () => this.events.emit('changed', ['pendingCheckpoint']));
    this.events.on('job-removed', (job, state) => {
      const whole = job.kind === 'apply' || job.kind === 'reconcile';
      if (state !== 'done' || !whole || job.generation <= this.appliedGenerationValue) return;
      this.appliedGenerationValue = job.generation;
      this.events.emit('changed', ['appliedGeneration']);
    });
  }

  get plugins(): readonly EnginePlugin[] {
    return this.options.plugins;
  }

  get pluginNames(): string[] {
    return this.options.plugins.map((plugin) => plugin.name);
  }

  /** The effective desired state: every layer merged. */
  get desiredDocument(): DesiredDocument {
    return this.desired.effective;
  }

  /** The local layer (what Apply sets). */
  get localDocument(): DesiredDocument {
    return this.desired.localDocument;
  }

  get desiredGeneration(): number {
    return this.desired.generation;
  }

  get appliedGeneration(): number {
    return this.appliedGenerationValue;
  }

  get status(): ManagerStatus {
    if (this.stopping.signal.aborted) return 'stopping';
    // A job that has just finished is still the queue's current one for a moment.
    const current = this.jobs.current;
    return current && !current.finished ? JOB_STATUS[current.kind] : 'idle';
  }

  /**
   * Validates the document, persists it, makes it the desired state and queues a
   * job. Returns once the document is on disk, long before the job ends. A document
   * that cannot be persisted is refused: an accepted state is never lost.
   */
  async apply(text: string, requestedBy: Requester): Promise<Job> {
    this.refuseWhenStopping();
    this.checkpoints.refuseWhilePending();
    const document = this.options.validator.parse(text);
    return this.replaceDesired(document, 'apply', requestedBy);
  }

  /**
   * A fleet layer arrived (or went, `document` undefined): validated exactly
   * like a document from a caller, persisted, merged; a job applies the result.
   */
  async setLayer(
    name: string,
    document: unknown,
    revision: number,
    requestedBy: Requester,
  ): Promise<Job> {
    this.refuseWhenStopping();
    const valid = document === undefined ? undefined : this.options.validator.check(document);
    await this.desired.setLayer(name, valid, revision);
    this.events.emit('changed', ['desiredGeneration']);
    return this.jobs.add('apply', this.desired.effective, this.desired.generation, requestedBy);
  }

  /**
   * Applies on probation: the checkpoint (previous document, deadline) is on
   * disk before anything changes; unless confirmed in time, it is rolled back.
   */
  async applyConfirmed(
    text: string,
    timeoutSeconds: number,
    requestedBy: Requester,
  ): Promise<{ job: Job; checkpoint: CheckpointRecord }> {
    this.refuseWhenStopping();
    this.checkpoints.refuseWhilePending();
    const document = this.options.validator.parse(text);
    const checkpoint = await this.checkpoints.create(document, timeoutSeconds, requestedBy);
    const { job } = this.checkpoints.jobs();
    if (!job) throw new Error('the probationary job was not queued');
    return { job, checkpoint };
  }

  /**
   * Persists `local` as the local layer (generation + 1), then queues a job of
   * `kind` that converges on `run` (by default the new effective state; a
   * rollback runs what restores a checkpoint). Refused, with nothing changed,
   * when the disk refuses.
   */
  async replaceDesired(
    local: DesiredDocument,
    kind: 'apply' | 'rollback',
    requestedBy: Requester,
    options: { run?: DesiredDocument; capture?: CaptureHook; queued?: (job: Job) => void } = {},
  ): Promise<Job> {
    await this.desired.setLocal(local);
    this.events.emit('changed', ['desiredGeneration']);
    const run = options.run ?? this.desired.effective;
    const job = this.jobs.add(kind, run, this.desired.generation, requestedBy, options.capture);
    // Before the caller's await resumes: a job with nothing to do may end first.
    options.queued?.(job);
    return job;
  }

  /** Queues a retry of a rollback that partly failed. */
  queueRollback(document: DesiredDocument): Job {
    return this.jobs.add('rollback', document, this.desired.generation, DAEMON_ITSELF);
  }

  /** Takes the persisted layers at start-up (already on disk) and reconciles once. */
  restore(local: DesiredDocument | undefined, fleet: readonly Layer[] = []): Job {
    this.desired.restore(local, fleet);
    this.events.emit('changed', ['desiredGeneration']);
    return this.jobs.add(
      'reconcile',
      this.desired.effective,
      this.desired.generation,
      DAEMON_ITSELF,
    );
  }

  /** Queues a full reconcile of the current desired state. */
  reconcile(requestedBy: Requester): Job {
    this.refuseWhenStopping();
    return this.jobs.add('reconcile', this.desired.effective, this.desired.generation, requestedBy);
  }

  /** Queues a correction of drifted resources (a narrowed desired document). */
  correctDrift(document: DesiredDocument): Job {
    return this.jobs.add('drift', document, this.desired.generation, DAEMON_ITSELF);
  }

  cancel(job: Job): void {
    if (job.finished) {
      throw new OpdbusError(
        ErrorName.JobFinished,
        `job ${job.id} has already finished (${job.state})`,
      );
    }
    this.jobs.cancel(job);
  }

  /** What Apply(text) would change (see Reads). */
  plan(text: string): Promise<PlanAction[]> {
    return this.reads.plan(text);
  }

  planDocument(document: DesiredDocument, priority: WorkPriority): Promise<PlanAction[]> {
    return this.reads.planDocument(document, priority);
  }

  verify(): Promise<VerifyReport> {
    return this.reads.verify();
  }

  query(pluginNames: readonly string[]): Promise<QueryAnswer> {
    return this.reads.query(pluginNames);
  }

  markReady(): void {
    this.health.markReady();
  }

  /** Cancels the running job, drops queued ones, and waits for the queue to stop. */
  async stop(): Promise<void> {
    this.stopping.abort(new OpdbusError(ErrorName.Stopping, 'the daemon is stopping'));
    this.checkpoints.stop();
    this.health.markStopping();
    await this.jobs.stop();
  }

  private refuseWhenStopping(): void {
    if (this.stopping.signal.aborted)
      throw new OpdbusError(ErrorName.Stopping, 'the daemon is stopping');
  }
}

import type { Logger } from 'pino';
import type { CheckpointRecord } from '../engine/checkpoints/checkpoint.js';
import type { CheckpointAction, EngineEvents } from '../engine/events.js';
import type { FinalJobState, Job, Requester } from '../engine/jobs/job.js';
import { errorMessage } from '../errors.js';
import { canonicalJson } from './canonical-json.js';
import { sha256, type Ledger, type LedgerEntry } from './ledger.js';

/** The ledger record of a finished job: who, what was planned, what happened. */
export function entryOf(job: Job, state: FinalJobState): LedgerEntry {
  const resources = job.result?.resources ?? [];
  const entry: LedgerEntry = {
    time: new Date(job.finishedAt ?? Date.now()).toISOString(),
    uid: job.requestedBy.uid,
    sender: job.requestedBy.sender,
    job: job.id,
    kind: job.kind,
    state,
    desiredHash: sha256(canonicalJson(job.document)),
    plan: resources
      .filter((r) => r.action !== 'none')
      .map(({ plugin, resource, action }) => ({ plugin, resource, action })),
    results: resources.map(({ plugin, resource, outcome, ...rest }) =>
      'error' in rest
        ? { plugin, resource, outcome, error: rest.error }
        : { plugin, resource, outcome },
    ),
  };
  if (job.result?.error !== undefined) entry.error = job.result.error;
  return entry;
}

/** The ledger record of something done to a checkpoint, and by whom. */
export function checkpointEntryOf(
  record: CheckpointRecord,
  action: CheckpointAction,
  by: Requester,
  job: number,
): LedgerEntry {
  return {
    time: new Date().toISOString(),
    uid: by.uid,
    sender: by.sender,
    job,
    kind: 'checkpoint',
    state: action,
    desiredHash: sha256(canonicalJson(record.document)),
    plan: [],
    results: record.failed.map(({ plugin, resource, error }) => ({
      plugin,
      resource,
      outcome: 'failed',
      error,
    })),
    checkpoint: { id: record.id, deadline: new Date(record.deadline).toISOString() },
  };
}

/** Appends a record for every job the engine finishes and every checkpoint event. */
export class JobRecorder {
  constructor(
    private readonly events: EngineEvents,
    private readonly ledger: Ledger,
    private readonly log: Logger,
    /** The probationary apply job of a checkpoint, for its record. */
    private readonly jobOf?: (record: CheckpointRecord) => number | undefined,
  ) {}

  start(): void {
    this.events.on('job-removed', this.onJobRemoved);
    this.events.on('checkpoint-changed', this.onCheckpoint);
  }

  stop(): void {
    this.events.off('job-removed', this.onJobRemoved);
    this.events.off('checkpoint-changed', this.onCheckpoint);
  }

  private readonly onCheckpoint = (
    record: CheckpointRecord,
    action: CheckpointAction,
    by: Requester,
  ): void => {
    const job = this.jobOf?.(record) ?? 0;
    this.ledger.append(checkpointEntryOf(record, action, by, job)).catch((err: unknown) => {
      this.log.error(
        { checkpoint: record.id, err: errorMessage(err) },
        'cannot append to the ledger',
      );
    });
  };

  private readonly onJobRemoved = (job: Job, state: FinalJobState): void => {
    this.ledger.append(entryOf(job, state)).catch((err: unknown) => {
      this.log.error({ job: job.id, err: errorMessage(err) }, 'cannot append to the ledger');
    });
  };
}

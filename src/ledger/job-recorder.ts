import type { Logger } from 'pino';
import type { EngineEvents } from '../engine/events.js';
import type { FinalJobState, Job } from '../engine/jobs/job.js';
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

/** Appends a record for every job the engine finishes. */
export class JobRecorder {
  constructor(
    private readonly events: EngineEvents,
    private readonly ledger: Ledger,
    private readonly log: Logger,
  ) {}

  start(): void {
    this.events.on('job-removed', this.onJobRemoved);
  }

  stop(): void {
    this.events.off('job-removed', this.onJobRemoved);
  }

  private readonly onJobRemoved = (job: Job, state: FinalJobState): void => {
    this.ledger.append(entryOf(job, state)).catch((err: unknown) => {
      this.log.error({ job: job.id, err: errorMessage(err) }, 'cannot append to the ledger');
    });
  };
}

import type { DesiredDocument } from '../../document/document.js';
import { boundedText } from '../../errors.js';
import type { Restore, ResourceOutcome } from '../plugin.js';

/**
 * Why a job exists: an Apply call, a full reconcile (a call, or start-up), a
 * drift correction, or the rollback of a checkpoint.
 */
export type JobKind = 'apply' | 'reconcile' | 'drift' | 'rollback';
export type JobState = 'queued' | 'running' | 'done' | 'failed' | 'cancelled';
export type FinalJobState = Extract<JobState, 'done' | 'failed' | 'cancelled'>;

export type PluginOutcome = ResourceOutcome & { plugin: string };

/** The JSON summary a finished job publishes as its Result property. */
export interface JobResult {
  generation: number;
  summary: { changed: number; unchanged: number; failed: number };
  resources: PluginOutcome[];
  /** Set when the job stopped before reaching every resource (cancelled, crashed). */
  error?: string;
}

export type CaptureHook = (plugin: string, section: unknown, restore: Restore) => Promise<void>;

/** Who asked: a bus caller (unique name and uid), or the daemon itself. */
export interface Requester {
  sender: string;
  uid: number;
}

/** Jobs the daemon starts on its own: the start-up reconcile and drift corrections. */
export const DAEMON_ITSELF: Requester = { sender: 'op-dbus', uid: process.getuid?.() ?? 0 };

/** One reconcile of the machine against one document, run by the job queue. */
export class Job {
  state: JobState = 'queued';
  percentage = 0;
  result: JobResult | undefined;
  finishedAt: number | undefined;
  private readonly abortController = new AbortController();

  constructor(
    readonly id: number,
    readonly kind: JobKind,
    readonly document: DesiredDocument,
    readonly generation: number,
    /** Who asked for the job, as the bus reported it (never as the caller claimed). */
    readonly requestedBy: Requester,
    /**
     * Set for an apply on probation: called with what each plugin captured of the
     * machine just before it applies, and awaited (the checkpoint is persisted).
     */
    readonly capture?: CaptureHook,
  ) {}

  get signal(): AbortSignal {
    return this.abortController.signal;
  }

  get finished(): boolean {
    return this.state === 'done' || this.state === 'failed' || this.state === 'cancelled';
  }

  requestCancel(): void {
    this.abortController.abort(new Error('job cancelled'));
  }
}

/**
 * The result of a job. Every error text in it (a service's words, which a
 * local user may have influenced) is bounded and stripped of control
 * characters here, once, before it reaches the bus, the CLI or the ledger.
 */
export function summarize(
  generation: number,
  outcomes: PluginOutcome[],
  error?: string,
): JobResult {
  const summary = { changed: 0, unchanged: 0, failed: 0 };
  const resources = outcomes.map((outcome) =>
    outcome.error === undefined ? outcome : { ...outcome, error: boundedText(outcome.error) },
  );
  for (const outcome of resources) summary[outcome.outcome] += 1;
  return error === undefined
    ? { generation, summary, resources }
    : { generation, summary, resources, error: boundedText(error) };
}

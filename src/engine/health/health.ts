import type { EngineEvents, ManagerFact } from '../events.js';
import type { FinalJobState, Job, JobResult } from '../jobs/job.js';
import type { PlanAction } from '../reconciler.js';
import { Conditions } from './conditions.js';

/**
 * What the manager says about itself: the conditions (Ready, Progressing,
 * Degraded, Drifted), DriftCount and LastReconcile. Every change is announced
 * as a fact on the engine's events; the messages describe the present, never
 * a state that later events would leave stale.
 */
export class Health {
  readonly conditions = new Conditions();
  private driftCountValue = 0;
  private lastReconcileMs = 0;

  constructor(private readonly events: EngineEvents) {}

  /** Drifted resources detected since the daemon started (each drift once). */
  get driftCount(): number {
    return this.driftCountValue;
  }

  /** Microseconds since the epoch of the last finished job or full check; 0 before any. */
  get lastReconcileUsec(): bigint {
    return BigInt(this.lastReconcileMs) * 1000n;
  }

  markReady(): void {
    this.announce(
      this.conditions.set('Ready', true, 'Serving', 'accepting documents on the bus')
        ? ['conditions']
        : [],
    );
  }

  markStopping(): void {
    this.conditions.set('Ready', false, 'Stopping', 'the daemon is stopping');
    this.announce(['status', 'conditions']);
  }

  /** A checkpoint file could not be read at start-up: say so until a job succeeds. */
  reportCheckpointLost(reason: string): void {
    this.conditions.set(
      'Degraded',
      true,
      'CheckpointLost',
      `the pending checkpoint could not be read (${reason}); its change will not be rolled back automatically`,
    );
    this.announce(['conditions']);
  }

  /** Whether this fleet node hears etcd (a node keeps converging on its last layers when not). */
  setFleetConnected(connected: boolean, reason: string, message: string): void {
    if (this.conditions.set('FleetConnected', connected, reason, message))
      this.announce(['conditions']);
  }

  /** New drifts found by the drift monitor (already told apart from ones seen before). */
  countDrift(newDrifts: number): void {
    if (newDrifts === 0) return;
    this.driftCountValue += newDrifts;
    this.announce(['driftCount']);
  }

  /**
   * Records what a check found. `full` means the whole desired state was checked:
   * an empty result then clears Drifted and moves LastReconcile.
   */
  recordCheck(drifted: readonly PlanAction[], full: boolean): void {
    const facts: ManagerFact[] = [];
    if (drifted.length > 0) {
      const names = drifted.map((d) => `${d.plugin}/${d.resource}`).join(', ');
      if (this.conditions.set('Drifted', true, 'DriftDetected', `not as desired: ${names}`))
        facts.push('conditions');
    } else if (
      full &&
      this.conditions.set('Drifted', false, 'InSync', 'the machine matches the desired state')
    ) {
      facts.push('conditions');
    }
    if (full) {
      this.lastReconcileMs = Date.now();
      facts.push('lastReconcile');
    }
    this.announce(facts);
  }

  jobStarted(job: Job): void {
    const changed = this.conditions.set(
      'Progressing',
      true,
      'JobRunning',
      `job ${job.id} (${job.kind}) is running`,
    );
    this.announce(changed ? ['status', 'conditions'] : ['status']);
  }

  /** Conditions and LastReconcile after a job ends; `idle` when nothing else is queued. */
  jobFinished(job: Job, state: FinalJobState, result: JobResult, idle: boolean): void {
    const facts: ManagerFact[] = ['status', 'conditions'];
    if (state !== 'cancelled') {
      this.lastReconcileMs = Date.now();
      facts.push('lastReconcile');
    }
    this.conditions.set(
      'Progressing',
      !idle,
      idle ? 'Idle' : 'JobQueued',
      idle ? 'no job is running' : 'jobs are queued',
    );
    if (state === 'failed') {
      const failed = result.resources
        .filter((r) => r.outcome === 'failed')
        .map(
          (r) =>
            `${r.resource ? `${r.plugin}/${r.resource}` : r.plugin} (${r.failure ?? 'retryable'})`,
        );
      const what = failed.length > 0 ? failed.join(', ') : (result.error ?? 'unknown error');
      this.conditions.set(
        'Degraded',
        true,
        'JobFailed',
        `job ${job.id} (${job.kind}) failed: ${what}`,
      );
    } else if (state === 'done') {
      const whole = job.kind === 'apply' || job.kind === 'reconcile';
      this.conditions.set(
        'Degraded',
        false,
        'LastJobSucceeded',
        `job ${job.id} (${job.kind}) succeeded`,
      );
      this.conditions.set(
        'Drifted',
        false,
        whole ? 'InSync' : 'Corrected',
        whole ? 'the machine matches the desired state' : `drift corrected by job ${job.id}`,
      );
    }
    this.announce(facts);
  }

  private announce(facts: ManagerFact[]): void {
    if (facts.length > 0) this.events.emit('changed', facts);
  }
}

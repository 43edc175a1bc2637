import { EventEmitter } from 'eventemitter3';
import type { CheckpointRecord } from './checkpoints/checkpoint.js';
import type { FinalJobState, Job, Requester } from './jobs/job.js';
import type { ProgressReport } from './plugin.js';
import type { PlanAction } from './reconciler.js';

/**
 * Facts about the manager that can change; the service layer maps each to the
 * D-Bus property that shows it (the engine knows no property names).
 */
export type ManagerFact =
  | 'status'
  | 'desiredGeneration'
  | 'appliedGeneration'
  | 'lastReconcile'
  | 'driftCount'
  | 'conditions'
  | 'pendingCheckpoint';

/** What happened to a checkpoint (the ledger records each, with who did it). */
export type CheckpointAction =
  'created' | 'armed' | 'extended' | 'confirmed' | 'rollback' | 'rollback-failed';

export type JobField = 'state' | 'percentage' | 'result';

export interface EngineEventMap {
  'job-new': (job: Job) => void;
  'job-changed': (job: Job, changed: JobField[]) => void;
  'job-removed': (job: Job, state: FinalJobState) => void;
  /** A finished job is no longer retained: its object can go. */
  'job-evicted': (job: Job) => void;
  /** A plugin's progress within a running job (one hop from the plugin to the bus). */
  progress: (job: Job, plugin: string, report: ProgressReport) => void;
  'drift-detected': (drift: PlanAction) => void;
  changed: (facts: ManagerFact[]) => void;
  'checkpoint-changed': (record: CheckpointRecord, action: CheckpointAction, by: Requester) => void;
  /** The checkpoint is over: confirmed or rolled back. */
  'checkpoint-removed': (record: CheckpointRecord, outcome: 'confirmed' | 'rolled-back') => void;
}

/**
 * The engine's one typed event bus. The rooms of the engine (jobs, health,
 * drift, the front door) emit on it; the D-Bus layer, the ledger and the
 * daemon listen. Nothing emits 'error' (eventemitter3 would swallow it).
 */
export class EngineEvents extends EventEmitter<EngineEventMap> {}

import type { JobField, ManagerFact } from '../engine/events.js';

/** The names of op-dbus's D-Bus API (dbus-interfaces/org.opdbus.StateManager.xml). */
export const BUS_NAME = 'org.opdbus.StateManager';
export const OBJECT_PATH = '/org/opdbus/StateManager';
export const MANAGER_INTERFACE = 'org.opdbus.StateManager';
export const JOB_INTERFACE = 'org.opdbus.StateManager.Job';
export const CHECKPOINT_INTERFACE = 'org.opdbus.StateManager.Checkpoint';

export function jobPath(id: number): string {
  return `${OBJECT_PATH}/job/${id}`;
}

export function checkpointPath(id: number): string {
  return `${OBJECT_PATH}/checkpoint/${id}`;
}

/** Which manager property shows which engine fact. */
export const FACT_PROPERTY: Record<ManagerFact, string> = {
  status: 'Status',
  desiredGeneration: 'DesiredGeneration',
  appliedGeneration: 'AppliedGeneration',
  lastReconcile: 'LastReconcile',
  driftCount: 'DriftCount',
  conditions: 'Conditions',
  pendingCheckpoint: 'PendingCheckpoint',
};

/** Which job property shows which job field. */
export const JOB_FIELD_PROPERTY: Record<JobField, string> = {
  state: 'State',
  percentage: 'Percentage',
  result: 'Result',
};

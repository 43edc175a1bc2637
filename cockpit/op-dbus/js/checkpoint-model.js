// Pure functions for the confirm/rollback part of the page: what a checkpoint
// object's properties mean to a person. No DOM, no cockpit: the unit tests import
// this file directly. Properties are checked like any input from the bus.
import { dateFromUsec, jobIdFromPath, parseJson } from './model.js';

/** The object path D-Bus uses for "none" (PendingCheckpoint, Job, RollbackJob). */
export const NO_OBJECT = '/';
/** How the daemon ends a checkpoint (CheckpointRemoved's outcome). */
export const OUTCOMES = ['confirmed', 'rolled-back'];

const FINAL_JOB_STATES = new Set(['done', 'failed', 'cancelled']);
const isObject = (value) => typeof value === 'object' && value !== null && !Array.isArray(value);
const text = (value) => (typeof value === 'string' ? value : '');

/**
 * The Snapshot property: per plugin that changed something, whether a rollback
 * restores it exactly. A restore the daemon does not document reads 'unknown'.
 */
export function parseSnapshot(snapshotText) {
  const entries = parseJson(snapshotText, []);
  if (!Array.isArray(entries)) return [];
  return entries
    .filter((entry) => isObject(entry) && typeof entry.plugin === 'string')
    .map((entry) => ({
      plugin: entry.plugin,
      restore: ['exact', 'approximate'].includes(entry.restore) ? entry.restore : 'unknown',
    }));
}

/** The Failed property: the resources whose rollback failed, with why. */
export function parseFailed(failedText) {
  const entries = parseJson(failedText, []);
  if (!Array.isArray(entries)) return [];
  return entries.filter(isObject).map((entry) => ({
    plugin: text(entry.plugin),
    resource: text(entry.resource),
    error: text(entry.error) || 'failed',
  }));
}

/**
 * A checkpoint as the page shows it, from its object's properties. `jobState(id)`
 * answers a job's state as the page knows it (undefined when it does not): the
 * Deadline is provisional while the probationary job has not ended, and the
 * daemon moves it (PropertiesChanged) when that job ends.
 *
 * phase: 'pending' (waiting for Confirm or the deadline), 'rolling-back' (its
 * rollback job exists), or the State itself ('confirmed', 'rolled-back',
 * 'rollback-failed', or whatever else the daemon says).
 */
export function readCheckpoint(properties, jobState) {
  const state = text(properties?.State);
  const jobId = jobIdFromPath(properties?.Job);
  const rollbackJobId = jobIdFromPath(properties?.RollbackJob);
  const probation = jobId === undefined ? undefined : jobState(jobId);
  let phase = state;
  if (state === 'pending' && rollbackJobId !== undefined) phase = 'rolling-back';
  return {
    id: Number.isInteger(properties?.Id) ? properties.Id : undefined,
    state,
    phase,
    deadline: dateFromUsec(properties?.Deadline),
    provisional: phase === 'pending' && probation !== undefined && !FINAL_JOB_STATES.has(probation),
    jobId,
    rollbackJobId,
    snapshot: parseSnapshot(properties?.Snapshot),
    failed: parseFailed(properties?.Failed),
  };
}

/** "27 s left", "4 min 05 s left", or "deadline passed" (the daemon rolls back then). */
export function countdownText(deadline, now) {
  if (!(deadline instanceof Date)) return '';
  const seconds = Math.ceil((deadline.getTime() - now.getTime()) / 1000);
  if (seconds <= 0) return 'deadline passed';
  if (seconds < 120) return `${seconds} s left`;
  return `${Math.floor(seconds / 60)} min ${String(seconds % 60).padStart(2, '0')} s left`;
}

/** "hostname: exact, packagekit: approximate", or '' when nothing was captured yet. */
export function restoreSummary(snapshot) {
  return snapshot.map((entry) => `${entry.plugin}: ${entry.restore}`).join(', ');
}

/** What CheckpointRemoved's outcome means for the machine. */
export function describeOutcome(outcome) {
  switch (outcome) {
    case 'confirmed':
      return 'The probationary document is final.';
    case 'rolled-back':
      return 'The previous document is desired again and what the probation changed was put back.';
    default:
      return '';
  }
}

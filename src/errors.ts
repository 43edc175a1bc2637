/**
 * The one catalogue of error names op-dbus puts on the bus, and the one way a
 * failure says whether retrying can help. Code throws these, docs/dbus-api.md
 * lists the names, and test/unit/error-catalogue.test.ts checks the two agree.
 */
export const ErrorName = {
  /** The document is not JSON, too large, too deep, or fails the schema. */
  InvalidDocument: 'org.opdbus.Error.InvalidDocument',
  /** Query named a plugin this daemon does not have. */
  UnknownPlugin: 'org.opdbus.Error.UnknownPlugin',
  /** A system service a plugin needs (e.g. PackageKit) could not be reached. */
  PluginUnavailable: 'org.opdbus.Error.PluginUnavailable',
  /** A service (or op-dbus itself) is busy or at a limit: retry later. */
  Busy: 'org.opdbus.Error.Busy',
  /** The desired state could not be written to disk, so the document was refused. */
  PersistFailed: 'org.opdbus.Error.PersistFailed',
  /** Cancel() on a job that has already finished. */
  JobFinished: 'org.opdbus.Error.JobFinished',
  /** A call to a system service did not answer in time, or a deadline passed. */
  Timeout: 'org.opdbus.Error.Timeout',
  /** Apply or ApplyConfirmed while a checkpoint is pending: confirm or roll it back first. */
  CheckpointPending: 'org.opdbus.Error.CheckpointPending',
  /** Confirm, Rollback or Extend on a checkpoint that is no longer pending. */
  NoCheckpoint: 'org.opdbus.Error.NoCheckpoint',
  /** The daemon is stopping and takes no new work. */
  Stopping: 'org.opdbus.Error.Stopping',
  /** A bug in op-dbus; the message says what failed, the log has the stack. */
  Internal: 'org.opdbus.Error.Internal',
  /** Standard D-Bus errors the daemon also replies with. */
  InvalidArgs: 'org.freedesktop.DBus.Error.InvalidArgs',
  /** The caller may not change the machine: not root, and polkit said no (or could not be asked). */
  AccessDenied: 'org.freedesktop.DBus.Error.AccessDenied',
  UnknownMethod: 'org.freedesktop.DBus.Error.UnknownMethod',
  UnknownObject: 'org.freedesktop.DBus.Error.UnknownObject',
  UnknownProperty: 'org.freedesktop.DBus.Error.UnknownProperty',
  PropertyReadOnly: 'org.freedesktop.DBus.Error.PropertyReadOnly',
} as const;

export type ErrorNameValue = (typeof ErrorName)[keyof typeof ErrorName];

/**
 * Whether retrying can help. `retryable`: the service was unreachable, busy, at a
 * limit, or too slow; the engine retries with back-off. `terminal`: the request
 * itself cannot be met as the machine stands (no such package in any repository,
 * a static unit asked to be enabled, a time zone the system does not know); the
 * engine does not retry until something relevant changes.
 */
export type FailureKind = 'terminal' | 'retryable';

/** An error meant for the caller: its name travels as the D-Bus error name. */
export class OpdbusError extends Error {
  constructor(
    readonly dbusName: ErrorNameValue,
    message: string,
  ) {
    super(message);
    this.name = 'OpdbusError';
  }
}

/**
 * A plugin's classified failure: thrown (for a whole plugin step) or carried in a
 * failed ResourceOutcome's `failure` field. Anything unclassified is retryable.
 * When a read (Plan, Query, Verify) fails with one, the caller gets `dbusName`.
 */
export class PluginFailure extends Error {
  constructor(
    readonly kind: FailureKind,
    message: string,
    readonly dbusName: ErrorNameValue = ErrorName.PluginUnavailable,
  ) {
    super(message);
    this.name = 'PluginFailure';
  }
}

export function terminalFailure(message: string): PluginFailure {
  return new PluginFailure('terminal', message);
}

export function retryableFailure(message: string): PluginFailure {
  return new PluginFailure('retryable', message);
}

/** What the engine makes of any thrown value: only a PluginFailure can say terminal. */
export function failureKindOf(err: unknown): FailureKind {
  return err instanceof PluginFailure ? err.kind : 'retryable';
}

/** A message for any thrown value, without a stack. */
export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}

/** Service text that reaches results and the ledger: bounded, and no control characters. */
export const MAX_SERVICE_TEXT = 500;

export function boundedText(text: string, max = MAX_SERVICE_TEXT): string {
  // eslint-disable-next-line no-control-regex
  const clean = text.replace(/[\u0000-\u001f\u007f-\u009f]+/g, ' ');
  return clean.length > max ? `${clean.slice(0, max)}… (${clean.length - max} more)` : clean;
}

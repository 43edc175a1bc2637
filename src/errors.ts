/**
 * The one catalogue of error names op-dbus puts on the bus. Code throws these,
 * docs/dbus-api.md lists them, and test/unit/errors.test.ts checks the two agree.
 */
export const ErrorName = {
  /** The document is not JSON, too large, too deep, or fails the schema. */
  InvalidDocument: 'org.opdbus.Error.InvalidDocument',
  /** Query named a plugin this daemon does not have. */
  UnknownPlugin: 'org.opdbus.Error.UnknownPlugin',
  /** A system service a plugin needs (e.g. PackageKit) could not be reached or failed. */
  PluginUnavailable: 'org.opdbus.Error.PluginUnavailable',
  /** The desired state could not be written to disk, so the document was refused. */
  PersistFailed: 'org.opdbus.Error.PersistFailed',
  /** Cancel() on a job that has already finished. */
  JobFinished: 'org.opdbus.Error.JobFinished',
  /** A call to a system service did not answer in time. */
  Timeout: 'org.opdbus.Error.Timeout',
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

/** A message for any thrown value, without a stack. */
export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}

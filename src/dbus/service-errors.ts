import { boundedText, ErrorName, OpdbusError, PluginFailure } from '../errors.js';

/** D-Bus errors that mean "nobody answered": the service is not running or just went away. */
const UNREACHABLE = new Set([
  'org.freedesktop.DBus.Error.ServiceUnknown',
  'org.freedesktop.DBus.Error.NameHasNoOwner',
  'org.freedesktop.DBus.Error.NoReply',
  'org.freedesktop.DBus.Error.Disconnected',
  // The bus tried to start the service and gave up (activation timed out).
  'org.freedesktop.DBus.Error.TimedOut',
]);

/** D-Bus errors that mean "busy or at a limit": retry later. */
const BUSY = new Set([
  'org.freedesktop.DBus.Error.LimitsExceeded',
  'org.freedesktop.DBus.Error.NoMemory',
]);

function dbusName(err: unknown): string | undefined {
  const type = (err as { type?: unknown } | null)?.type;
  return typeof type === 'string' ? type : undefined;
}

function dbusText(err: unknown): string {
  const text = (err as { text?: unknown } | null)?.text;
  if (typeof text === 'string') return text;
  return err instanceof Error ? err.message : String(err);
}

/**
 * A failed call to a system service as a classified PluginFailure, in words
 * that say what happened: "not reachable" only when nobody answered, "busy"
 * when the service (or the bus) said it is at a limit, the service's own text
 * otherwise. `terminalNames` lists the service's own error names that mean
 * retrying cannot help.
 */
export function serviceFailure(
  service: string,
  err: unknown,
  terminalNames: readonly string[] = ['org.freedesktop.DBus.Error.InvalidArgs'],
): PluginFailure {
  if (err instanceof PluginFailure) return err;
  if (err instanceof OpdbusError) return new PluginFailure('retryable', err.message, err.dbusName);
  const name = dbusName(err);
  const text = boundedText(dbusText(err));
  if (name === undefined) return new PluginFailure('retryable', `${service}: ${text}`);
  if (UNREACHABLE.has(name) || name.startsWith('org.freedesktop.DBus.Error.Spawn.'))
    return new PluginFailure('retryable', `${service} is not reachable: ${text} (${name})`);
  if (BUSY.has(name))
    return new PluginFailure('retryable', `${service} is busy: ${text} (${name})`, ErrorName.Busy);
  const kind = terminalNames.includes(name) ? 'terminal' : 'retryable';
  return new PluginFailure(kind, `${service}: ${text} (${name})`);
}

// Pure functions that turn what the daemon sends into what the page shows. No DOM,
// no cockpit: the unit tests import this file directly. Everything from the bus is
// checked like input from a stranger: a wrong shape is dropped or shown as text.

export const ERROR = {
  invalidDocument: 'org.opdbus.Error.InvalidDocument',
  accessDenied: 'org.freedesktop.DBus.Error.AccessDenied',
  pluginUnavailable: 'org.opdbus.Error.PluginUnavailable',
  checkpointPending: 'org.opdbus.Error.CheckpointPending',
  noCheckpoint: 'org.opdbus.Error.NoCheckpoint',
  busy: 'org.opdbus.Error.Busy',
  jobFinished: 'org.opdbus.Error.JobFinished',
  serviceUnknown: 'org.freedesktop.DBus.Error.ServiceUnknown',
  nameHasNoOwner: 'org.freedesktop.DBus.Error.NameHasNoOwner',
};

/** JSON.parse that answers `fallback` instead of throwing. */
export function parseJson(text, fallback) {
  if (typeof text !== 'string' || text === '') return fallback;
  try {
    return JSON.parse(text);
  } catch {
    return fallback;
  }
}

const isObject = (value) => typeof value === 'object' && value !== null && !Array.isArray(value);
const text = (value) => (typeof value === 'string' ? value : '');

/**
 * The problems of an InvalidDocument message ("invalid document (2 problems):\n
 * /path: problem\n ..."), each with its JSON path. Lines that carry no path (such as
 * "... and 3 more") come back with path ''.
 */
export function parseProblems(message) {
  const lines = text(message).split('\n').slice(1);
  return lines
    .map((line) => line.trim())
    .filter((line) => line !== '')
    .map((line) => {
      const colon = line.indexOf(': ');
      if (!line.startsWith('/') || colon < 0) return { path: '', problem: line };
      return { path: line.slice(0, colon), problem: line.slice(colon + 2) };
    });
}

/**
 * What went wrong with a call, for the person who clicked: `kind` picks how it is
 * shown. Cockpit rejects with {name, message} for D-Bus errors and {problem} for its
 * own (e.g. "access-denied" when the session may not open the channel).
 */
export function describeError(error) {
  const name = text(error?.name);
  const message = text(error?.message) || text(error?.problem) || String(error);
  switch (name) {
    case ERROR.invalidDocument:
      return {
        kind: 'invalid',
        title: 'The document is not valid',
        message,
        problems: parseProblems(message),
      };
    case ERROR.accessDenied:
      return {
        kind: 'denied',
        title: 'Not allowed',
        message:
          `${message}. Changing the machine needs administrative access: turn on ` +
          'administrative access in Cockpit, or ask an administrator. Everything here stays readable.',
        problems: [],
      };
    case ERROR.checkpointPending:
      return {
        kind: 'pending',
        title: 'A checkpoint is pending',
        message: `${message}. Nothing was applied: confirm the checkpoint or roll it back first.`,
        problems: [],
      };
    case ERROR.noCheckpoint:
      return { kind: 'error', title: 'The checkpoint is no longer pending', message, problems: [] };
    case ERROR.busy:
      return {
        kind: 'busy',
        title: 'op-dbus is busy',
        message: `${message}. Nothing was done; try again in a moment.`,
        problems: [],
      };
    case ERROR.jobFinished:
      return { kind: 'error', title: 'The job has already finished', message, problems: [] };
    case ERROR.serviceUnknown:
    case ERROR.nameHasNoOwner:
      return { kind: 'absent', title: 'op-dbus is not running', message, problems: [] };
    default:
      if (error?.problem === 'not-found')
        return {
          kind: 'absent',
          title: 'op-dbus is not running',
          message: `Nothing owns ${'org.opdbus.StateManager'} on the system bus. This page reloads when it starts.`,
          problems: [],
        };
      if (error?.problem === 'access-denied')
        return { kind: 'denied', title: 'Not allowed', message, problems: [] };
      return { kind: 'error', title: name || 'Failed', message, problems: [] };
  }
}

/**
 * Plan rows as the daemon sends them; rows without plugin/resource/action are dropped.
 * On a fleet node each row also names its `layer`.
 */
export function parsePlan(planText) {
  const rows = parseJson(planText, []);
  if (!Array.isArray(rows)) return [];
  return rows
    .filter(
      (row) =>
        isObject(row) && ['plugin', 'resource', 'action'].every((k) => typeof row[k] === 'string'),
    )
    .map((row) => ({
      plugin: row.plugin,
      resource: row.resource,
      action: row.action,
      from: row.from,
      to: row.to,
      reason: typeof row.reason === 'string' ? row.reason : undefined,
      layer: typeof row.layer === 'string' ? row.layer : undefined,
    }));
}

/** A plan row's `from`/`to` (any JSON value): strings as they are, absent as a dash. */
export function formatValue(value) {
  if (value === null || value === undefined) return '—';
  if (typeof value === 'string') return value;
  return JSON.stringify(value);
}

/**
 * A change as a person reads it: "inactive → active", or for two objects only the
 * fields that differ, "active_state: inactive → active; enabled: false → true".
 */
export function formatChange(from, to) {
  if (isObject(from) && isObject(to)) {
    const keys = [...new Set([...Object.keys(from), ...Object.keys(to)])];
    const differing = keys.filter((key) => JSON.stringify(from[key]) !== JSON.stringify(to[key]));
    if (differing.length > 0)
      return differing
        .map((key) => `${key}: ${formatValue(from[key])} → ${formatValue(to[key])}`)
        .join('; ');
  }
  return `${formatValue(from)} → ${formatValue(to)}`;
}

/** A job's Result property, checked: undefined while empty or malformed. */
export function parseResult(resultText) {
  const result = parseJson(resultText, undefined);
  if (!isObject(result) || !isObject(result.summary)) return undefined;
  const count = (key) => (Number.isFinite(result.summary[key]) ? result.summary[key] : 0);
  const resources = Array.isArray(result.resources) ? result.resources.filter(isObject) : [];
  return {
    generation: Number.isFinite(result.generation) ? result.generation : undefined,
    summary: { changed: count('changed'), unchanged: count('unchanged'), failed: count('failed') },
    failures: resources
      .filter((r) => r.outcome === 'failed')
      .map((r) => ({
        plugin: text(r.plugin),
        resource: text(r.resource),
        error: text(r.error),
        // The daemon's contract: a failure without a kind is retryable.
        failure: r.failure === 'terminal' ? 'terminal' : 'retryable',
      })),
    error: typeof result.error === 'string' ? result.error : undefined,
  };
}

/** "2 changed, 5 unchanged, 0 failed" */
export function summaryText(summary) {
  return `${summary.changed} changed, ${summary.unchanged} unchanged, ${summary.failed} failed`;
}

const CONDITION_ORDER = ['Ready', 'Progressing', 'Degraded', 'Drifted'];

/** The Conditions property as rows, known types first. */
export function parseConditions(conditionsText) {
  const all = parseJson(conditionsText, {});
  if (!isObject(all)) return [];
  const types = Object.keys(all).sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
  return types
    .filter((type) => isObject(all[type]))
    .map((type) => ({
      type,
      status: text(all[type].status),
      reason: text(all[type].reason),
      message: text(all[type].message),
      since: text(all[type].lastTransitionTime),
    }));
}

function rank(type) {
  const index = CONDITION_ORDER.indexOf(type);
  return index < 0 ? CONDITION_ORDER.length : index;
}

/** Ledger records (GetHistory), newest first for display. */
export function parseHistory(historyText) {
  const records = parseJson(historyText, []);
  if (!Array.isArray(records)) return [];
  return records
    .filter(isObject)
    .map((r) => {
      const results = Array.isArray(r.results) ? r.results.filter(isObject) : [];
      const outcomes = { changed: 0, unchanged: 0, failed: 0 };
      for (const res of results) if (res.outcome in outcomes) outcomes[res.outcome] += 1;
      return {
        seq: Number.isFinite(r.seq) ? r.seq : undefined,
        time: text(r.time),
        job: Number.isFinite(r.job) ? r.job : undefined,
        kind: text(r.kind),
        state: text(r.state),
        uid: Number.isFinite(r.uid) ? r.uid : undefined,
        sender: text(r.sender),
        summary: outcomes,
        hash: text(r.hash),
        // Records of what was done to a checkpoint (kind 'checkpoint') name it.
        checkpoint: isObject(r.checkpoint)
          ? { id: Number(r.checkpoint.id), deadline: text(r.checkpoint.deadline) }
          : undefined,
      };
    })
    .reverse();
}

/** VerifyHistory's report as one sentence and a verdict. */
export function describeVerification(reportText) {
  const report = parseJson(reportText, undefined);
  if (!isObject(report) || typeof report.ok !== 'boolean')
    return { ok: false, text: 'The daemon sent an unreadable report.' };
  const records = Number.isFinite(report.records) ? report.records : 0;
  const parts = [];
  if (report.ok && records === 0) parts.push('The ledger is empty.');
  else if (report.ok)
    parts.push(
      `The hash chain of ${records === 1 ? 'the one record' : `all ${records} records`} verifies.`,
    );
  else if (isObject(report.firstBad))
    parts.push(
      `The chain breaks at line ${report.firstBad.line}: ${text(report.firstBad.reason)}.`,
    );
  else parts.push('The chain does not verify.');
  if (isObject(report.tornTail))
    parts.push(
      `A partial last record (${report.tornTail.bytes} bytes at line ${report.tornTail.line}) was left by a crash.`,
    );
  return { ok: report.ok, text: parts.join(' ') };
}

/** A D-Bus `t` of microseconds since the epoch as a Date (undefined for 0). */
export function dateFromUsec(usec) {
  const value = Number(usec);
  return Number.isFinite(value) && value > 0 ? new Date(value / 1000) : undefined;
}

/** "2026-11-30 19:35:02" in local time: precise and the same in every browser. */
export function formatTime(date) {
  if (!(date instanceof Date) || Number.isNaN(date.getTime())) return '—';
  const pad = (n) => String(n).padStart(2, '0');
  return (
    `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ` +
    `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`
  );
}

/** The job id at the end of a job's object path, or undefined. */
export function jobIdFromPath(path) {
  const match = /\/job\/(\d+)$/.exec(text(path));
  return match ? Number(match[1]) : undefined;
}

/** Progress rows are keyed by plugin and resource ('' = the plugin's whole step). */
export function progressKey(plugin, resource) {
  return resource ? `${plugin}/${resource}` : plugin;
}

import type { PluginContext, ResourceOutcome } from '../../engine/plugin.js';
import { errorMessage, ErrorName, OpdbusError, type FailureKind } from '../../errors.js';
import type { JobWaiter } from './job-waiter.js';
import { mapWithLimit } from './map-with-limit.js';
import { isRunning, isStopped, type UnitChange, type UnitStep } from './plan.js';
import { SystemdError, type SystemdClient, type UnitOutcomeState } from './systemd-client.js';

/** Jobs queued at once: systemd runs them in parallel; the bus limits pending replies (128). */
const JOB_CONCURRENCY = 16;

export interface ApplyDeps {
  client: SystemdClient;
  jobs: JobWaiter;
  ctx: PluginContext;
}

type FileStep = Exclude<UnitStep, 'start' | 'stop'>;
const FILE_STEPS: readonly FileStep[] = ['unmask', 'disable', 'enable', 'mask'];

/**
 * Unit file states that EnableUnitFiles cannot turn into "enabled", and why. A
 * document asking for one fails with this reason rather than passing silently:
 * the unit would not start at boot, which is what `enabled: true` asks for.
 */
const WHY_NOT_ENABLEABLE: Record<string, string> = {
  static: 'it has no [Install] section and starts only when another unit needs it',
  generated: 'a generator made it at boot',
  transient: 'it was created at run time and has no unit file',
  alias: 'it is an alias: enable the unit it names',
  indirect: 'only the units in its Also= setting (or its DefaultInstance=) can be enabled',
  bad: 'systemd cannot parse its unit file',
};

/** Failures by unit name; a unit that failed one step is left out of the later ones. */
type Failures = Map<string, { error: string; failure: FailureKind }>;

/** systemd's answers about one unit that retrying cannot change until its files change. */
const TERMINAL_ERRORS = new Set([
  'org.freedesktop.systemd1.NoSuchUnit',
  'org.freedesktop.DBus.Error.FileNotFound',
  'org.freedesktop.DBus.Error.InvalidArgs',
  'org.freedesktop.systemd1.UnitMasked',
  'org.freedesktop.systemd1.BadUnitSetting',
]);

function kindOf(err: unknown): FailureKind {
  return err instanceof SystemdError && TERMINAL_ERRORS.has(err.dbusName)
    ? 'terminal'
    : 'retryable';
}

/**
 * Runs the planned steps in the order that works: stop (a unit stops fine while
 * masked, and must be stopped before it is masked), then unit-file changes
 * batched per kind (unmask, disable, enable, mask), then ONE Reload when files
 * changed, then start (which needs the unmasked, reloaded unit).
 */
export async function applyUnitChanges(
  changes: readonly UnitChange[],
  deps: ApplyDeps,
): Promise<ResourceOutcome[]> {
  const failures: Failures = new Map();
  const due = (step: UnitStep): UnitChange[] =>
    changes.filter((change) => change.steps.includes(step) && !failures.has(change.resource));

  await runJobs('stop', due('stop'), deps, failures);
  const touched: UnitChange[] = [];
  for (const step of FILE_STEPS) {
    const units = due(step);
    if (units.length === 0) continue;
    deps.ctx.progress({ resource: '', phase: 'configuring', percent: 0, message: step });
    if (await changeFiles(step, units, deps, failures)) touched.push(...units);
  }
  const starts = due('start');
  // A unit file that changed on disk (a package upgrade) is only used after a reload.
  if (touched.length > 0 || starts.some((change) => change.state.needDaemonReload)) {
    await reload(touched, deps, failures);
  }
  await runJobs('start', due('start'), deps, failures);

  return changes.map((change): ResourceOutcome => {
    const failed = failures.get(change.resource);
    return failed === undefined
      ? { resource: change.resource, outcome: 'changed', action: change.action }
      : { resource: change.resource, outcome: 'failed', action: change.action, ...failed };
  });
}

function fileCall(step: FileStep, client: SystemdClient): (names: string[]) => Promise<void> {
  switch (step) {
    // The runtime flag picks one folder (/run or /etc): undo both.
    case 'unmask':
      return async (names) => {
        await client.unmaskUnitFiles(names, false);
        await client.unmaskUnitFiles(names, true);
      };
    case 'disable':
      return async (names) => {
        await client.disableUnitFiles(names, false);
        await client.disableUnitFiles(names, true);
      };
    case 'enable':
      return (names) => client.enableUnitFiles(names);
    case 'mask':
      return (names) => client.maskUnitFiles(names);
  }
}

/**
 * One call for the whole batch. systemd refuses a whole batch for one bad name
 * (and changes nothing), so on an error each unit is retried alone to find which.
 * Returns whether anything may have changed on disk.
 */
async function changeFiles(
  step: FileStep,
  units: UnitChange[],
  deps: ApplyDeps,
  failures: Failures,
): Promise<boolean> {
  let candidates = units;
  if (step === 'enable') {
    candidates = units.filter((change) => {
      const why = WHY_NOT_ENABLEABLE[change.state.unitFileState ?? ''];
      if (why === undefined) return true;
      failures.set(change.resource, {
        error: `cannot be enabled: its unit file state is '${change.state.unitFileState}' (${why})`,
        failure: 'terminal',
      });
      return false;
    });
  }
  if (candidates.length === 0) return false;
  const call = fileCall(step, deps.client);
  const names = candidates.map((change) => change.resource);
  try {
    await call(names);
    return true;
  } catch (err) {
    if (deps.ctx.signal.aborted) throw err;
    if (names.length === 1 || isUnreachable(err)) {
      for (const name of names)
        failures.set(name, { error: `${step} failed: ${errorMessage(err)}`, failure: kindOf(err) });
      return isTimeout(err);
    }
  }
  let changed = false;
  for (const name of names) {
    try {
      await call([name]);
      changed = true;
    } catch (err) {
      if (deps.ctx.signal.aborted) throw err;
      failures.set(name, { error: `${step} failed: ${errorMessage(err)}`, failure: kindOf(err) });
    }
  }
  return changed;
}

function isTimeout(err: unknown): boolean {
  return err instanceof OpdbusError && err.dbusName === ErrorName.Timeout;
}

/** A timeout or an absent systemd: not an answer about one unit, so no retry one by one. */
function isUnreachable(err: unknown): boolean {
  return err instanceof OpdbusError;
}

async function reload(touched: UnitChange[], deps: ApplyDeps, failures: Failures): Promise<void> {
  deps.ctx.progress({ resource: '', phase: 'reloading', percent: 0, message: 'daemon-reload' });
  try {
    await deps.client.reload();
  } catch (err) {
    if (deps.ctx.signal.aborted) throw err;
    // The files changed, but systemd still runs on the old ones.
    for (const change of touched) {
      if (!failures.has(change.resource))
        failures.set(change.resource, {
          error: `systemd Reload failed: ${errorMessage(err)}`,
          failure: 'retryable',
        });
    }
  }
}

function jobFailure(kind: 'start' | 'stop', jobResult: string, after: UnitOutcomeState): string {
  const parts = [
    `${kind} job ended '${jobResult}' and the unit is ${after.activeState} (${after.subState})`,
  ];
  if (after.result !== undefined) parts.push(`Result=${after.result}`);
  // A skipped start is the one that ends 'done' with the unit down and its conditions false.
  if (kind === 'start' && jobResult === 'done' && !after.conditionResult)
    parts.push('a Condition*= setting was not met, so systemd skipped the start');
  return parts.join('; ');
}

/**
 * Queues the jobs and waits for each through JobRemoved, then re-reads the unit:
 * a job that says "done" proves nothing (a start skipped by a condition is done
 * too), the unit's ActiveState does.
 */
async function runJobs(
  kind: 'start' | 'stop',
  units: UnitChange[],
  deps: ApplyDeps,
  failures: Failures,
): Promise<void> {
  const { client, jobs, ctx } = deps;
  const phase = kind === 'start' ? 'starting' : 'stopping';
  await mapWithLimit(units, JOB_CONCURRENCY, async (change) => {
    const name = change.resource;
    ctx.progress({ resource: name, phase, percent: 0, message: `${kind} ${name}` });
    try {
      const jobResult = await jobs.run(
        () => (kind === 'start' ? client.startUnit(name) : client.stopUnit(name)),
        {
          signal: ctx.signal,
          abandon: (jobPath) => client.cancelJob(jobPath).catch(() => undefined),
        },
      );
      const after = await client.unitOutcome(name);
      const reached =
        kind === 'start' ? isRunning(after.activeState) : isStopped(after.activeState);
      if (!reached)
        failures.set(name, { error: jobFailure(kind, jobResult, after), failure: 'retryable' });
      ctx.progress({ resource: name, phase: 'done', percent: 100, message: jobResult });
    } catch (err) {
      if (ctx.signal.aborted) throw err;
      failures.set(name, { error: `${kind} failed: ${errorMessage(err)}`, failure: kindOf(err) });
    }
  });
}

import type { PluginContext } from '../../engine/plugin.js';
import { boundedText, errorMessage, type FailureKind } from '../../errors.js';
import type { ActivationWaiter } from './activation.js';
import {
  StepFailure,
  classify,
  globalDnsWith,
  runRemove,
  runState,
  runWrite,
  waitActivated,
  type StepContext,
} from './apply-steps.js';
import type { CheckpointKeeper } from './checkpoint.js';
import { cleanupOptions, rollBack } from './rollback.js';
import type { NmCallOptions, NmClient } from './nm-client.js';
import { readSnapshot, type NmSnapshot } from './nm-snapshot.js';
import type { Persistence } from './nm-types.js';
import { observeNetwork } from './observe.js';
import type { PlannedChange, ResourceOutcome } from './model.js';
import { planNetwork } from './plan.js';
import type { NetworkSection } from './schema.js';
import { planWork, type NetworkWork } from './work.js';

export interface ApplyDeps {
  client: NmClient;
  activations: ActivationWaiter;
  checkpoints: CheckpointKeeper;
  persistence: Persistence;
  activationTimeoutMs: number;
}

const LOOPBACK_DEVICE_TYPE = 32;

/**
 * How long NetworkManager waits before rolling back by itself: past the
 * apply's deadline, so it only fires when this daemon is gone.
 */
export function rollbackTimeoutSeconds(deadline: number, now = Date.now()): number {
  const remaining = Math.ceil((deadline - now) / 1000);
  return Math.min(3600, Math.max(60, remaining + 60));
}

/**
 * The devices to checkpoint: those the changes touch. When they touch none yet
 * (everything is new), the loopback device stands in, since an empty list
 * means every device and a rollback of everything is brutal; profiles added
 * meanwhile are deleted on rollback either way.
 */
function checkpointDevices(work: NetworkWork, snapshot: NmSnapshot): string[] {
  if (work.devices.length > 0) return work.devices;
  const loopback = snapshot.devices.find((device) => device.deviceType === LOOPBACK_DEVICE_TYPE);
  return loopback ? [loopback.path] : [];
}

async function execute(work: NetworkWork, step: StepContext, ctx: PluginContext): Promise<void> {
  for (const op of work.removes) await runRemove(op, step);
  const profiles = new Map<string, string>();
  for (const op of work.writes) profiles.set(op.name, await runWrite(op, step));
  ctx.progress({ resource: '', phase: 'activate', percent: 50, message: 'activating' });
  const pending: Promise<void>[] = [];
  for (const op of work.writes) {
    const active = await runState(op, profiles.get(op.name) as string, step);
    if (active === undefined) continue;
    const activated = waitActivated(op, active, step);
    // Handled here too: if a later step throws, this one is no longer awaited.
    activated.catch(() => undefined);
    pending.push(activated);
  }
  const results = await Promise.allSettled(pending);
  const failed = results.find((result) => result.status === 'rejected');
  if (failed) throw failed.reason;
}

class VerifyFailure extends Error {}

async function verify(
  client: NmClient,
  desired: NetworkSection,
  resources: ReadonlySet<string>,
  options: NmCallOptions,
): Promise<string[]> {
  const after = observeNetwork(await readSnapshot(client, options));
  return planNetwork(desired, after)
    .filter((change) => resources.has(change.resource) && change.action !== 'none')
    .map(
      (change) =>
        `${change.resource} is ${JSON.stringify(change.from)}, not ${JSON.stringify(change.to)}`,
    );
}

function outcome(change: PlannedChange, error?: string, failure?: FailureKind): ResourceOutcome {
  return error === undefined
    ? { resource: change.resource, outcome: 'changed', action: change.action }
    : {
        resource: change.resource,
        outcome: 'failed',
        action: change.action,
        error: boundedText(error),
        ...(failure ? { failure } : {}),
      };
}

/**
 * Applies the changes inside one NetworkManager checkpoint of the devices they
 * touch: write profiles, activate or reapply, set DNS, then observe again and
 * re-plan. Anything short of an empty re-plan for these resources, or a failure
 * midway, rolls everything back to the checkpoint and fails every change with
 * the reason; success destroys the checkpoint. Refused changes are never made.
 */
export async function applyNetwork(
  changes: readonly PlannedChange[],
  desired: NetworkSection,
  ctx: PluginContext,
  deps: ApplyDeps,
): Promise<ResourceOutcome[]> {
  const refused = changes.filter((change) => change.action === 'refused');
  const actionable = changes.filter((c) => c.action !== 'none' && c.action !== 'refused');
  const results = refused.map((c) => outcome(c, c.reason ?? 'refused', 'terminal'));
  if (actionable.length === 0) return results;
  const options: NmCallOptions = { signal: ctx.signal, priority: ctx.priority };

  ctx.progress({ resource: '', phase: 'checkpoint', percent: 0, message: 'taking a checkpoint' });
  const snapshot = await readSnapshot(deps.client, options).catch((err: unknown) => {
    throw classify(err, 'reading NetworkManager');
  });
  const work = planWork(actionable, desired, snapshot);
  const devices = checkpointDevices(work, snapshot);
  const checkpoint = await deps.checkpoints.create(
    devices,
    rollbackTimeoutSeconds(ctx.deadline),
    options,
  );
  ctx.log.info({ checkpoint: checkpoint.path, devices }, 'network checkpoint taken');
  const step: StepContext = { ...deps, signal: ctx.signal, priority: ctx.priority, log: ctx.log };
  let dnsBefore: Record<string, unknown> | undefined;
  try {
    await execute(work, step, ctx);
    if (work.dns) {
      dnsBefore = await deps.client.globalDns(options);
      const config = desired['dns-resolver']?.config ?? {};
      await deps.client
        .setGlobalDns(globalDnsWith(dnsBefore, config.server, config.search), options)
        .catch((err: unknown) => {
          throw new StepFailure(
            ['dns-resolver/config/server', 'dns-resolver/config/search'],
            classify(err, 'setting the global DNS'),
          );
        });
    }
    ctx.progress({ resource: '', phase: 'verify', percent: 90, message: 'verifying' });
    const mismatches = await verify(
      deps.client,
      desired,
      new Set(actionable.map((c) => c.resource)),
      options,
    );
    if (mismatches.length > 0) throw new VerifyFailure(`did not verify: ${mismatches.join('; ')}`);
  } catch (err) {
    const how = await rollBack(deps, checkpoint, devices, snapshot, dnsBefore, ctx.log);
    if (ctx.signal.aborted) throw err;
    const failure =
      err instanceof StepFailure
        ? err.failure
        : err instanceof VerifyFailure
          ? undefined
          : classify(err, 'applying');
    const kind: FailureKind = failure?.kind ?? 'terminal';
    const reason = failure?.message ?? errorMessage(err);
    const own = err instanceof StepFailure ? new Set(err.resources) : new Set<string>();
    return [
      ...results,
      ...actionable.map((change) =>
        outcome(
          change,
          own.has(change.resource) || own.size === 0
            ? `${reason} (${how})`
            : `${how} because another change failed: ${reason}`,
          kind,
        ),
      ),
    ];
  }
  try {
    await deps.checkpoints.destroy(checkpoint, cleanupOptions());
  } catch (err) {
    // Left in place, NetworkManager would undo this apply when the checkpoint times out.
    const message = `applied, but the checkpoint could not be destroyed and NetworkManager may roll back: ${errorMessage(err)}`;
    return [...results, ...actionable.map((change) => outcome(change, message, 'retryable'))];
  }
  return [...results, ...actionable.map((change) => outcome(change))];
}

import type { Logger } from 'pino';
import { errorMessage } from '../../errors.js';
import type { ActivationWaiter } from './activation.js';
import { globalDnsWith } from './apply-steps.js';
import type { CheckpointKeeper, CheckpointRecord } from './checkpoint.js';
import { NO_OBJECT, type NmCallOptions, type NmClient } from './nm-client.js';
import type { DeviceSnapshot, NmSnapshot } from './nm-snapshot.js';
import { DeviceState } from './nm-types.js';

/** Rollback, DNS restore and the wait for re-activation run even when the operation's signal has fired. */
export const CLEANUP_TIMEOUT_MS = 30_000;

/** Options for a clean-up call: its own time limit instead of the operation's signal; job work. */
export function cleanupOptions(): NmCallOptions {
  return { signal: AbortSignal.timeout(CLEANUP_TIMEOUT_MS), priority: 'job' };
}

export interface RollbackDeps {
  client: NmClient;
  checkpoints: CheckpointKeeper;
  activations: ActivationWaiter;
}

/**
 * Brings one device back to the profile it had active before the apply.
 * NetworkManager re-activates it by itself, except when it gives up: seen here
 * (about 1 rollback in 4), a bridge port whose re-activation started while its
 * bridge was still restarting failed with "dependency-failed" and stayed down.
 * Then the profile is activated again, which is what the checkpoint recorded.
 */
async function restoreDevice(deps: RollbackDeps, device: DeviceSnapshot): Promise<void> {
  const signal = AbortSignal.timeout(CLEANUP_TIMEOUT_MS);
  const now = await deps.client.deviceProperties(device.path, { signal, priority: 'job' });
  if (now.State === DeviceState.Activated) return;
  const activating = typeof now.ActiveConnection === 'string' && now.ActiveConnection !== NO_OBJECT;
  if (activating) {
    try {
      await deps.activations.waitDevice(device.path, CLEANUP_TIMEOUT_MS, signal);
      return;
    } catch (err) {
      if (signal.aborted) throw err;
    }
  }
  const active = await deps.client.activateConnection(device.activeProfile, device.path, {
    signal,
    priority: 'job',
  });
  await deps.activations.wait(active, CLEANUP_TIMEOUT_MS, signal);
}

/**
 * CheckpointRollback answers once NetworkManager has put the profiles back and
 * started re-activating them, not once they are active (measured: the bridge's
 * old address was not in the kernel yet when the call returned). So the devices
 * that were active before are waited for, controllers before their ports.
 */
async function awaitReactivated(
  deps: RollbackDeps,
  before: NmSnapshot,
  devices: readonly string[],
  problems: string[],
): Promise<void> {
  const wereActive = before.devices.filter(
    (device) =>
      devices.includes(device.path) &&
      device.state === DeviceState.Activated &&
      device.activeProfile !== NO_OBJECT,
  );
  const isPort = (device: DeviceSnapshot) =>
    before.connections.find((c) => c.path === device.activeProfile)?.view.controller !== undefined;
  for (const group of [wereActive.filter((d) => !isPort(d)), wereActive.filter(isPort)]) {
    await Promise.all(
      group.map((device) =>
        restoreDevice(deps, device).catch((err: unknown) => {
          problems.push(`${device.name} not active again: ${errorMessage(err)}`);
        }),
      ),
    );
  }
}

/** Rolls back to the checkpoint and says how it went, for the failure messages. */
export async function rollBack(
  deps: RollbackDeps,
  checkpoint: CheckpointRecord,
  devices: readonly string[],
  before: NmSnapshot,
  dnsBefore: Record<string, unknown> | undefined,
  log: Logger,
): Promise<string> {
  const problems = await deps.checkpoints.rollback(checkpoint, cleanupOptions());
  if (dnsBefore !== undefined) {
    // Checkpoints of NetworkManager 1.42 do not cover the global DNS.
    await deps.client
      .setGlobalDns(globalDnsWith(dnsBefore, undefined, undefined), cleanupOptions())
      .catch((err: unknown) => problems.push(`DNS not restored: ${errorMessage(err)}`));
  }
  await awaitReactivated(deps, before, devices, problems);
  log.warn({ checkpoint: checkpoint.path, problems }, 'network changes rolled back');
  return problems.length === 0 ? 'rolled back' : `rollback incomplete: ${problems.join('; ')}`;
}

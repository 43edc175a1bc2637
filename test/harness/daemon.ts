import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connectBus, type MessageBus } from '../../src/dbus/bus.js';
import { BUS_NAME } from '../../src/dbus/api.js';
import { StateManagerClient } from '../../src/cli/client.js';
import { nameHasOwner } from './packagekit.js';
import { start, waitFor, type ManagedProcess } from './processes.js';
import type { SystemBus } from './system-bus.js';

/** The built CLI: tests run what users run. */
export const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));

/**
 * Starts `op-dbus daemon` on the bus and waits until it owns its name. Its state
 * lives in the bus's scratch folder and no configuration file is read, unless
 * the arguments say otherwise (later flags win).
 */
export async function startDaemon(
  bus: SystemBus,
  extraArgs: string[] = [],
  /** Added to the daemon's environment (e.g. the unit file's NODE_OPTIONS, NOTIFY_SOCKET). */
  env: NodeJS.ProcessEnv = {},
  /** Node's own flags (e.g. --cpu-prof, which NODE_OPTIONS may not carry). */
  nodeArgs: string[] = [],
): Promise<ManagedProcess> {
  const daemon = start(
    'op-dbus daemon',
    process.execPath,
    [...nodeArgs, CLI, 'daemon', '--log-level', 'debug', ...defaultDaemonArgs(bus), ...extraArgs],
    { ...bus.env, ...env },
  );
  await waitFor('the daemon to own its name', async () => {
    if (!daemon.running) throw new Error(`daemon exited: ${daemon.output.join('')}`);
    return nameHasOwner(bus, BUS_NAME);
  });
  return daemon;
}

export function defaultDaemonArgs(bus: SystemBus): string[] {
  return ['--state-dir', join(bus.dir, 'state'), '--config', join(bus.dir, 'no-config.json')];
}

/** A separate client connection, as busctl or another program would have. */
export async function connectClient(
  bus: SystemBus,
): Promise<{ bus: MessageBus; client: StateManagerClient }> {
  const connection = await connectBus(bus.address);
  return { bus: connection, client: new StateManagerClient(connection) };
}

/** Lets the dummy backend's unsigned packages in (packagekit's only-trusted flag off). */
export const ALLOW_UNTRUSTED = ['--plugin-option', 'packagekit.onlyTrusted=false'];

/** Drives the systemd manager at `address` (a test's user manager) instead of the system's. */
export function systemdBusArgs(address: string): string[] {
  return ['--plugin-option', `systemd.bus=${address}`];
}

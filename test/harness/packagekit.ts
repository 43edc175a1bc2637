import { callMethod, connectBus } from '../../src/dbus/bus.js';
import { start, waitFor, type ManagedProcess } from './processes.js';
import type { SystemBus } from './system-bus.js';

export type Backend = 'dummy' | 'apt';

/** Is `name` owned on the bus? */
export async function nameHasOwner(bus: SystemBus, name: string): Promise<boolean> {
  const connection = await connectBus(bus.address);
  try {
    const [owned] = await callMethod(connection, {
      destination: 'org.freedesktop.DBus',
      path: '/org/freedesktop/DBus',
      interface: 'org.freedesktop.DBus',
      member: 'NameHasOwner',
      signature: 's',
      body: [name],
    });
    return owned === true;
  } finally {
    connection.disconnect();
  }
}

/**
 * Starts the real packagekitd on the private bus (it is not activatable there
 * without systemd) and waits until it owns its name. `env` is added to its
 * environment, e.g. APT_CONFIG for a private apt configuration.
 */
export async function startPackageKit(
  bus: SystemBus,
  backend: Backend,
  env: Record<string, string> = {},
): Promise<ManagedProcess> {
  // --keep-environment: packagekitd passes its environment on to apt (APT_CONFIG).
  const process = start(
    'packagekitd',
    '/usr/libexec/packagekitd',
    [`--backend=${backend}`, '--disable-timer', '--keep-environment'],
    { ...bus.env, ...env },
  );
  await waitFor('packagekitd to own its name', async () => {
    if (!process.running) throw new Error(`packagekitd exited: ${process.output.join('')}`);
    return nameHasOwner(bus, 'org.freedesktop.PackageKit');
  });
  return process;
}

import { startHostServices } from './host-services.js';
import type { StackOptions } from './stack.js';
import { startSystemdUser, type SystemdUser } from './systemd-user.js';
import { systemdBusArgs } from './daemon.js';

/**
 * The stack's `services` hook for every plugin's real service: a systemd user
 * manager (the systemd plugin's bus setting) and hostnamed, timedated and localed
 * in their own namespaces. `onSystemd` gets the manager, e.g. to write units.
 */
export function allServices(
  onSystemd?: (systemd: SystemdUser) => Promise<void>,
): NonNullable<StackOptions['services']> {
  return async (bus) => {
    const systemd = await startSystemdUser();
    try {
      if (onSystemd) await onSystemd(systemd);
      const host = await startHostServices(bus);
      return {
        daemonArgs: systemdBusArgs(systemd.address),
        stoppables: [systemd, ...host.stoppables],
      };
    } catch (err) {
      await systemd.stop();
      throw err;
    }
  };
}

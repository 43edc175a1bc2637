import { startHostServices } from './host-services.js';
import { startOpenvswitch, type OpenvswitchHarness } from './openvswitch.js';
import type { StackOptions } from './stack.js';
import { startSystemdUser, type SystemdUser } from './systemd-user.js';
import { systemdBusArgs } from './daemon.js';

/**
 * The stack's `services` hook for every plugin's real service: a systemd user
 * manager (the systemd plugin's bus setting), hostnamed, timedated and localed
 * in their own namespaces, and Open vSwitch in its own network namespace (the
 * openvswitch plugin's socket setting). `onSystemd` gets the manager, e.g. to
 * write units; `onOpenvswitch` gets Open vSwitch.
 */
export function allServices(
  onSystemd?: (systemd: SystemdUser) => Promise<void>,
  onOpenvswitch?: (ovs: OpenvswitchHarness) => void,
): NonNullable<StackOptions['services']> {
  return async (bus) => {
    const systemd = await startSystemdUser();
    let ovs: OpenvswitchHarness | undefined;
    try {
      if (onSystemd) await onSystemd(systemd);
      ovs = await startOpenvswitch();
      onOpenvswitch?.(ovs);
      const host = await startHostServices(bus);
      return {
        daemonArgs: [
          ...systemdBusArgs(systemd.address),
          '--plugin-option',
          `openvswitch.socket=${ovs.socketPath}`,
        ],
        stoppables: [systemd, ovs, ...host.stoppables],
      };
    } catch (err) {
      await ovs?.stop();
      await systemd.stop();
      throw err;
    }
  };
}

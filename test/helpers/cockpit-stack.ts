import { chromiumInstalled, startBrowser, type Browser } from '../harness/browser.js';
import { allServices } from '../harness/all-services.js';
import { ALLOW_UNTRUSTED } from '../harness/daemon.js';
import { cockpitInstalled, startCockpit, type Cockpit } from '../harness/cockpit.js';
import { startPackageKit } from '../harness/packagekit.js';
import { startPolkit } from '../harness/polkit.js';
import type { ManagedProcess } from '../harness/processes.js';
import { startStack, type Stack, type Stoppable } from '../harness/stack.js';
import type { SystemdUser } from '../harness/systemd-user.js';

// What the browser tests run against: the real daemon with a systemd user manager,
// hostnamed (and the other host services), PackageKit's dummy backend and the real
// polkitd; cockpit-ws serving the page; Debian's chromium.

/**
 * The polkit rule an administrator might write: the user 'daemon' (uid 1) may
 * apply and reconcile; anyone else who is not root gets the actions' defaults
 * (auth_admin_keep), i.e. no without an agent.
 */
const POLKIT_RULES = `polkit.addRule(function (action, subject) {
  if ((action.id == "org.opdbus.apply" || action.id == "org.opdbus.reconcile") &&
      subject.user == "daemon") return polkit.Result.YES;
});
`;

/** Why a browser test cannot run here, or false. */
export const browserTestsMissing = !cockpitInstalled()
  ? 'cockpit-ws and cockpit-bridge are not installed (Debian packages; see scripts/ensure-system-packages.sh)'
  : !chromiumInstalled()
    ? 'chromium is not installed (Debian package; see scripts/ensure-system-packages.sh)'
    : false;

export interface CockpitStack {
  stack: Stack;
  systemd: SystemdUser;
  /** The dummy-backend packagekitd (e.g. to SIGSTOP it). */
  packagekit: ManagedProcess;
  cockpit: Cockpit;
  browser: Browser;
  stop(): Promise<void>;
}

/**
 * Starts everything; `units` (name -> unit file text) are written before the
 * daemon starts, which gets `daemonArgs` besides the stack's own.
 */
export async function startCockpitStack(
  units: Record<string, string>,
  daemonArgs: string[] = [],
): Promise<CockpitStack> {
  let systemd: SystemdUser | undefined;
  let packagekit: ManagedProcess | undefined;
  const services = allServices(async (manager) => {
    systemd = manager;
    for (const [name, text] of Object.entries(units)) await manager.writeUnit(name, text);
  });
  // polkitd first: packagekitd would otherwise have the bus activate the host's
  // polkitd, which knows no op-dbus actions. So packagekitd is started here too.
  const stack = await startStack({
    backend: 'none',
    daemonArgs: [...ALLOW_UNTRUSTED, ...daemonArgs],
    services: async (bus) => {
      const stoppables: Stoppable[] = [await startPolkit(bus, POLKIT_RULES)];
      try {
        packagekit = await startPackageKit(bus, 'dummy');
        stoppables.unshift(packagekit);
        const started = await services(bus);
        return { ...started, stoppables: [...started.stoppables, ...stoppables] };
      } catch (err) {
        for (const started of stoppables) await started.stop();
        throw err;
      }
    },
  });
  let cockpit: Cockpit | undefined;
  try {
    cockpit = await startCockpit(stack.bus);
    const browser = await startBrowser();
    if (!systemd || !packagekit) throw new Error('the services hook did not run');
    const started = { cockpit, browser };
    return {
      stack,
      systemd,
      packagekit,
      ...started,
      async stop() {
        await browser.stop();
        await started.cockpit.stop();
        await stack.stop();
      },
    };
  } catch (err) {
    await cockpit?.stop();
    await stack.stop();
    throw err;
  }
}

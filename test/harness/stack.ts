import { startDaemon, connectClient } from './daemon.js';
import { startPackageKit, type Backend } from './packagekit.js';
import { startSystemBus, type SystemBus, type SystemBusOptions } from './system-bus.js';
import type { MessageBus } from '../../src/dbus/bus.js';
import type { StateManagerClient } from '../../src/cli/client.js';
import type { ManagedProcess } from './processes.js';

/** Anything the harness started and must stop. */
export interface Stoppable {
  stop(): Promise<unknown>;
}

export interface StackOptions {
  /** PackageKit backend; 'none' starts no packagekitd (PackageKit absent). */
  backend?: Backend | 'none';
  /** Added to packagekitd's environment (e.g. APT_CONFIG: see packagekit-apt-config.ts). */
  packagekitEnv?: Record<string, string>;
  daemonArgs?: string[];
  /** Added to the daemon's environment (the bench: what systemd/op-dbus.service sets). */
  daemonEnv?: NodeJS.ProcessEnv;
  /** Node's flags for the daemon (the bench's --cpu-prof). */
  daemonNodeArgs?: string[];
  /**
   * More real services to start on the private bus before the daemon (systemd user
   * manager, hostnamed, ...). Returns extra daemon arguments and what to stop.
   */
  services?: (bus: SystemBus) => Promise<{ daemonArgs?: string[]; stoppables: Stoppable[] }>;
  /** How to start the private bus (e.g. names it must never activate, for NetworkManager). */
  bus?: SystemBusOptions;
}

/** The whole set of real services a test or the sandbox needs, torn down in reverse. */
export interface Stack {
  bus: SystemBus;
  /** The packagekitd started for the stack (absent with backend 'none'). */
  packagekit: ManagedProcess | undefined;
  daemon: ManagedProcess;
  clientBus: MessageBus;
  client: StateManagerClient;
  /** Stops the daemon and everything else, in reverse order of start. */
  stop(): Promise<void>;
  /** Stops and restarts the daemon alone (same bus, same services). */
  restartDaemon(extraArgs?: string[]): Promise<ManagedProcess>;
}

async function stopAll(started: Stoppable[]): Promise<void> {
  for (const piece of started) await piece.stop().catch(() => undefined);
}

export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const bus = await startSystemBus(options.bus);
  const started: Stoppable[] = [bus];
  try {
    const backend = options.backend ?? 'dummy';
    const packagekit =
      backend === 'none' ? undefined : await startPackageKit(bus, backend, options.packagekitEnv);
    if (packagekit) started.unshift(packagekit);
    const services = options.services ? await options.services(bus) : { stoppables: [] };
    started.unshift(...[...services.stoppables].reverse());
    const daemonArgs = [...(services.daemonArgs ?? []), ...(options.daemonArgs ?? [])];
    const daemonEnv = options.daemonEnv ?? {};
    let daemon = await startDaemon(bus, daemonArgs, daemonEnv, options.daemonNodeArgs);
    const { bus: clientBus, client } = await connectClient(bus);
    const stack: Stack = {
      bus,
      packagekit,
      get daemon() {
        return daemon;
      },
      clientBus,
      client,
      async stop() {
        clientBus.disconnect();
        await daemon.stop();
        await stopAll(started);
      },
      async restartDaemon(extraArgs = []) {
        await daemon.stop();
        daemon = await startDaemon(
          bus,
          [...daemonArgs, ...extraArgs],
          daemonEnv,
          options.daemonNodeArgs,
        );
        return daemon;
      },
    };
    return stack;
  } catch (err) {
    await stopAll(started);
    throw err;
  }
}

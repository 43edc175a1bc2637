import { startDaemon, connectClient } from './daemon.js';
import { startPackageKit, type Backend } from './packagekit.js';
import type { ManagedProcess } from './processes.js';
import { startSystemBus, type SystemBus } from './system-bus.js';
import type { MessageBus } from '../../src/dbus/bus.js';
import type { StateManagerClient } from '../../src/cli/client.js';

/** The whole set of real services a test or the sandbox needs, torn down in reverse. */
export interface Stack {
  bus: SystemBus;
  packagekit: ManagedProcess;
  daemon: ManagedProcess;
  clientBus: MessageBus;
  client: StateManagerClient;
  stop(): Promise<void>;
}

export async function startStack(
  options: { backend?: Backend; daemonArgs?: string[] } = {},
): Promise<Stack> {
  const bus = await startSystemBus();
  const started: { stop(): Promise<unknown> }[] = [bus];
  try {
    const packagekit = await startPackageKit(bus, options.backend ?? 'dummy');
    started.unshift(packagekit);
    const daemon = await startDaemon(bus, options.daemonArgs);
    started.unshift(daemon);
    const { bus: clientBus, client } = await connectClient(bus);
    return {
      bus,
      packagekit,
      daemon,
      clientBus,
      client,
      async stop() {
        clientBus.disconnect();
        for (const piece of started) await piece.stop();
      },
    };
  } catch (err) {
    for (const piece of started) await piece.stop();
    throw err;
  }
}

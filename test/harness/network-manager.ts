import { execFile, spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ManagedProcess, start, waitFor } from './processes.js';
import type { StackOptions } from './stack.js';
import { startSystemBus, type SystemBus, type SystemBusOptions } from './system-bus.js';

const run = promisify(execFile);

/**
 * Services NetworkManager calls that the test bus must never activate.
 * Activated services run in the host's namespaces, not in NetworkManager's: its
 * dispatcher would run the host's ifupdown scripts (/etc/network/if-post-down.d/...)
 * for interfaces that exist only in the test namespace. The bus's policy denies
 * every message to these names, so only names nothing else on a shared bus needs
 * are listed: hostname1 and login1 (also called by NetworkManager) are left out,
 * since their activation files here exec /bin/false and a sandbox runs hostnamed.
 */
export const NM_FORBIDDEN_ACTIVATION: readonly string[] = [
  'org.freedesktop.nm_dispatcher',
  'org.freedesktop.nm_priv_helper',
  'org.freedesktop.ModemManager1',
];

/**
 * Prepares the namespaces and then only holds them, so they outlive any one
 * NetworkManager (restart) and die with this process (a watchdog loop stops
 * NetworkManager and the bus when the test process is gone).
 * - tmpfs over /run and /var/lib: NetworkManager's state folder is compiled in;
 *   /var/lib/NetworkManager is created inside the tmpfs, never removed.
 * - sysfs read-only: with a writable /sys NetworkManager waits for udev to
 *   announce every link it did not create itself, and without udevd such links
 *   stay "strictly unmanaged" (a veth made with `ip link add` could never be a
 *   bridge port). Read-only, it takes links as they are; it then logs errors for
 *   bridge-port options it writes through sysfs (priority, path_cost,
 *   hairpin_mode), which stay at the kernel's defaults.
 */
const NAMESPACE_SCRIPT = `set -e
mount -t tmpfs tmpfs /run
mount -t tmpfs tmpfs /var/lib
mkdir /var/lib/NetworkManager
mount -t sysfs -o ro sysfs /sys
ip link set lo up
hostname opdbus-nm-test
echo ready
set +e
# If the test process dies without stop(), take along whatever runs in this
# network namespace (NetworkManager: it writes no pid file with --no-daemon) and the bus.
parent=$PPID
while kill -0 "$parent" 2>/dev/null; do sleep 1; done
mine=$(readlink /proc/$$/ns/net)
for proc in /proc/[0-9]*; do
  pid=\${proc#/proc/}
  [ "$pid" != "$$" ] && [ "$(readlink "$proc/ns/net" 2>/dev/null)" = "$mine" ] && kill "$pid" 2>/dev/null
done
[ -n "$BUS_PID" ] && kill "$BUS_PID" 2>/dev/null`;

function networkManagerConfig(keyfileDir: string, logLevel: string): string {
  return `[main]
plugins=keyfile
dns=none
rc-manager=unmanaged
hostname-mode=none
no-auto-default=*
auth-polkit=root-only
dhcp=internal

[keyfile]
path=${keyfileDir}

[logging]
level=${logLevel}
`;
}

export interface NetworkManagerHarness {
  /** The private system bus NetworkManager owns its name on. */
  bus: SystemBus;
  /** The scratch folder (configuration, keyfiles). */
  dir: string;
  /** Where NetworkManager keeps connections saved to disk. */
  keyfileDir: string;
  /** A process inside the namespaces (for nsenter). */
  namespacePid: number;
  /** Runs `ip ARGS` inside the namespace ("someone else", behind the daemon's back). */
  ip(...args: string[]): Promise<string>;
  /** Runs any command inside the namespace with the bus in its environment (e.g. nmcli). */
  exec(command: string, args: string[]): Promise<string>;
  /** Creates a veth pair inside the namespace, both ends up. */
  addVethPair(name: string, peer: string): Promise<void>;
  /** Stops NetworkManager (SIGTERM; SIGKILL with `crash`) and starts a new one in the same namespace. */
  restart(options?: { crash?: boolean }): Promise<void>;
  /** Whether NetworkManager runs now. */
  readonly running: boolean;
  /** NetworkManager's output so far (for failure reports). */
  logs(): string;
  stop(): Promise<void>;
}

export interface NetworkManagerOptions {
  /** NetworkManager's log level (default INFO; DEBUG is very verbose). */
  logLevel?: string;
  /**
   * A bus to own NetworkManager's name on, e.g. the daemon's in a stack (it must
   * have been started with `forbidActivation: NM_FORBIDDEN_ACTIVATION`). Stays
   * outside the namespace, and is not stopped with NetworkManager. Default: a
   * private bus of its own.
   */
  bus?: SystemBus;
}

async function startNamespace(busPid: number | undefined): Promise<ManagedProcess> {
  // unshare execs sh: the child's pid is inside the namespaces, its parent this process.
  const child = spawn(
    'unshare',
    ['--net', '--mount', '--uts', '--propagation', 'private', 'sh', '-c', NAMESPACE_SCRIPT],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
      env: { ...process.env, BUS_PID: busPid === undefined ? '' : String(busPid) },
    },
  );
  const holder = new ManagedProcess(child, 'network namespace');
  await waitFor('the network namespace', () => {
    if (!holder.running) throw new Error(`namespace failed: ${holder.output.join('')}`);
    return holder.output.join('').includes('ready');
  });
  return holder;
}

/** NetworkManager is up once its Startup property turns false (devices settled). */
async function waitForStartupDone(env: NodeJS.ProcessEnv, nm: ManagedProcess): Promise<void> {
  await waitFor(
    'NetworkManager to finish starting',
    async () => {
      if (!nm.running) throw new Error(`NetworkManager exited:\n${nm.output.join('')}`);
      const { stdout } = await run(
        'busctl',
        [
          '--system',
          'get-property',
          'org.freedesktop.NetworkManager',
          '/org/freedesktop/NetworkManager',
          'org.freedesktop.NetworkManager',
          'Startup',
        ],
        { env },
      );
      return stdout.trim() === 'b false';
    },
    30_000,
  );
}

/**
 * NetworkManager 1.42 inside its own network, mount and UTS namespaces, on a
 * private system bus whose socket lives in /tmp (outside the namespace's /run).
 * It never sees the host's interfaces, never writes /etc/resolv.conf (dns=none,
 * rc-manager=unmanaged) nor the hostname, and keeps its keyfiles in a scratch folder.
 */
export async function startNetworkManager(
  options: NetworkManagerOptions = {},
): Promise<NetworkManagerHarness> {
  const dir = await mkdtemp(join(tmpdir(), 'opdbus-nm-'));
  const keyfileDir = join(dir, 'keyfiles');
  const emptyDir = join(dir, 'empty');
  await mkdir(keyfileDir);
  await mkdir(emptyDir);
  const configFile = join(dir, 'NetworkManager.conf');
  await writeFile(configFile, networkManagerConfig(keyfileDir, options.logLevel ?? 'INFO'));
  const ownBus = options.bus === undefined;
  const bus = options.bus ?? (await startSystemBus({ forbidActivation: NM_FORBIDDEN_ACTIVATION }));
  let holder: ManagedProcess | undefined;
  let nm: ManagedProcess | undefined;
  const logs: string[] = [];

  const inNamespace = (command: string, args: string[]): [string, string[]] => [
    'nsenter',
    ['-t', String(holder?.pid), '-n', '-m', '-u', '--', command, ...args],
  ];

  const startDaemon = async (): Promise<void> => {
    const [command, args] = inNamespace('NetworkManager', [
      '--no-daemon',
      '--debug',
      `--config=${configFile}`,
      `--config-dir=${emptyDir}`,
      `--system-config-dir=${emptyDir}`,
    ]);
    nm = start('NetworkManager', command, args, bus.env);
    await waitForStartupDone(bus.env, nm);
  };

  const stopDaemon = async (crash: boolean): Promise<void> => {
    if (!nm) return;
    if (crash) nm.kill('SIGKILL');
    await nm.stop();
    logs.push(...nm.output);
    nm = undefined;
  };

  try {
    holder = await startNamespace(ownBus ? bus.pid : undefined);
    await startDaemon();
  } catch (err) {
    await stopDaemon(true);
    holder?.kill();
    if (ownBus) await bus.stop();
    await rm(dir, { recursive: true, force: true });
    throw err;
  }

  const exec = async (command: string, args: string[]): Promise<string> => {
    const [cmd, argv] = inNamespace(command, args);
    const { stdout } = await run(cmd, argv, { env: bus.env });
    return stdout;
  };

  return {
    bus,
    dir,
    keyfileDir,
    namespacePid: holder.pid,
    ip: (...args) => exec('ip', args),
    exec,
    async addVethPair(name, peer) {
      await exec('ip', ['link', 'add', name, 'type', 'veth', 'peer', 'name', peer]);
      await exec('ip', ['link', 'set', name, 'up']);
      await exec('ip', ['link', 'set', peer, 'up']);
    },
    async restart({ crash = false } = {}) {
      await stopDaemon(crash);
      await startDaemon();
    },
    get running() {
      return nm?.running ?? false;
    },
    logs: () => [...logs, ...(nm?.output ?? [])].join(''),
    async stop() {
      await stopDaemon(false);
      // The namespace (and every link in it) goes when its last process does.
      await holder?.stop(1_000);
      if (ownBus) await bus.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** The options of a bus NetworkManager will share (a stack's): never activate what must stay off. */
export const NM_BUS_OPTIONS: SystemBusOptions = { forbidActivation: NM_FORBIDDEN_ACTIVATION };

/**
 * A stack's `services` hook that starts NetworkManager in its namespace on the
 * stack's bus (started with NM_BUS_OPTIONS), then `inner` (other services, if
 * any). `onStart` gets NetworkManager once it runs, e.g. to keep a handle.
 */
export function withNetworkManager(
  onStart?: (nm: NetworkManagerHarness) => Promise<void> | void,
  inner?: NonNullable<StackOptions['services']>,
): NonNullable<StackOptions['services']> {
  return async (bus) => {
    const nm = await startNetworkManager({ bus });
    try {
      await onStart?.(nm);
      const rest = inner ? await inner(bus) : { stoppables: [] };
      return { daemonArgs: rest.daemonArgs ?? [], stoppables: [nm, ...rest.stoppables] };
    } catch (err) {
      await nm.stop();
      throw err;
    }
  };
}

import { lstat, mkdir, mkdtemp, readdir, readFile, readlink, rm } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { callMethod, connectBus, type MessageBus } from '../../src/dbus/bus.js';
import { nameHasOwner } from './packagekit.js';
import { start, waitFor, type ManagedProcess } from './processes.js';
import type { Stoppable } from './stack.js';
import type { SystemBus } from './system-bus.js';

export type HostServiceName = 'hostnamed' | 'timedated' | 'localed';

interface ServiceSpec {
  busName: string;
  path: string;
  /** Folders it writes to, each overlaid so the writes land in a scratch folder. */
  overlaid: string[];
}

const SPECS: Record<HostServiceName, ServiceSpec> = {
  hostnamed: {
    busName: 'org.freedesktop.hostname1',
    path: '/org/freedesktop/hostname1',
    overlaid: ['/etc'],
  },
  timedated: {
    busName: 'org.freedesktop.timedate1',
    path: '/org/freedesktop/timedate1',
    overlaid: ['/etc'],
  },
  // Debian's localed runs locale-gen for a locale not generated yet: it writes
  // /usr/lib/locale/locale-archive, which must not change on the host either.
  localed: {
    busName: 'org.freedesktop.locale1',
    path: '/org/freedesktop/locale1',
    overlaid: ['/etc', '/usr/lib/locale'],
  },
};

/**
 * They exit after 30 s without a message (systemd's idle exit, no flag turns it
 * off), and here nothing would start them again (not activatable on the private
 * bus). Any message restarts the idle timer: a Ping well inside it keeps them up.
 */
const KEEPALIVE_MS = 5_000;

/** A systemd host service running on the private bus in its own mount and UTS namespace. */
export interface HostService extends Stoppable {
  name: HostServiceName;
  busName: string;
  process: ManagedProcess;
  /** Where the service's writes to `dir` (e.g. '/etc') land instead. */
  upperOf(dir: string): string;
}

/**
 * The shell script run inside the new namespaces: one overlay per folder, then
 * exec the service so the harness's child is the service itself. Paths travel
 * as positional arguments, never pasted into the script.
 */
function namespaceScript(overlays: number): string {
  const mounts = Array.from({ length: overlays }, (_, i) => {
    const [dir, upper, work] = [3 * i + 1, 3 * i + 2, 3 * i + 3].map((n) => `"\${${n}}"`);
    return `mount -t overlay overlay -o "lowerdir=${dir},upperdir=${upper},workdir=${work}" ${dir}`;
  });
  return [...mounts, `exec "\${${3 * overlays + 1}}"`].join(' && ');
}

export async function startHostService(
  bus: SystemBus,
  name: HostServiceName,
): Promise<HostService> {
  const spec = SPECS[name];
  const scratch = await mkdtemp(join(tmpdir(), `opdbus-${name}-`));
  const args: string[] = [];
  for (const [index, dir] of spec.overlaid.entries()) {
    const upper = join(scratch, `${index}-upper`);
    const work = join(scratch, `${index}-work`);
    await mkdir(upper);
    await mkdir(work);
    args.push(dir, upper, work);
  }
  const child = start(
    name,
    'unshare',
    [
      '--uts',
      '--mount',
      '--propagation',
      'private',
      'sh',
      '-c',
      namespaceScript(spec.overlaid.length),
      'sh',
      ...args,
      `/lib/systemd/systemd-${name}`,
    ],
    bus.env,
  );
  let pinger: MessageBus | undefined;
  let timer: NodeJS.Timeout | undefined;
  const stop = async (): Promise<void> => {
    clearInterval(timer);
    pinger?.disconnect();
    await child.stop();
    await rm(scratch, { recursive: true, force: true });
  };
  try {
    await waitFor(`${name} to own ${spec.busName}`, async () => {
      if (!child.running) throw new Error(`${name} exited: ${child.output.join('')}`);
      return nameHasOwner(bus, spec.busName);
    });
    const connection = await connectBus(bus.address);
    pinger = connection;
    timer = setInterval(() => {
      callMethod(
        connection,
        {
          destination: spec.busName,
          path: spec.path,
          interface: 'org.freedesktop.DBus.Peer',
          member: 'Ping',
        },
        KEEPALIVE_MS,
      ).catch(() => undefined);
    }, KEEPALIVE_MS);
    timer.unref();
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    name,
    busName: spec.busName,
    process: child,
    upperOf(dir) {
      const index = spec.overlaid.indexOf(dir);
      if (index < 0) throw new Error(`${name} has no overlay on ${dir}`);
      return join(scratch, `${index}-upper`);
    },
    stop,
  };
}

async function setTimezone(bus: SystemBus, zone: string): Promise<void> {
  const connection = await connectBus(bus.address);
  try {
    await callMethod(connection, {
      destination: 'org.freedesktop.timedate1',
      path: '/org/freedesktop/timedate1',
      interface: 'org.freedesktop.timedate1',
      member: 'SetTimezone',
      signature: 'sb',
      body: [zone, false],
    });
  } finally {
    connection.disconnect();
  }
}

/**
 * The kernel's time zone (sys_tz) is global, not per namespace, and the first
 * settimeofday() that sets it after boot warps the system clock by the zone's
 * offset. timedated returns early when the zone is already the one asked for
 * (so SetTimezone("Etc/UTC") on a machine in Etc/UTC sets nothing): go through
 * "UTC", another zero-offset name, so that first call happens with offset zero.
 */
async function warmUpTimezone(bus: SystemBus): Promise<void> {
  await setTimezone(bus, 'UTC');
  await setTimezone(bus, 'Etc/UTC');
}

/**
 * hostnamed, timedated and localed on the private bus, for startStack's
 * `services` hook. Stopping timedated first sets the kernel's zone back to UTC.
 */
export async function startHostServices(
  bus: SystemBus,
): Promise<{ services: Record<HostServiceName, HostService>; stoppables: Stoppable[] }> {
  const started: HostService[] = [];
  try {
    for (const name of ['hostnamed', 'timedated', 'localed'] as const) {
      started.push(await startHostService(bus, name));
    }
    await warmUpTimezone(bus);
  } catch (err) {
    for (const service of started) await service.stop().catch(() => undefined);
    throw err;
  }
  const [hostnamed, timedated, localed] = started as [HostService, HostService, HostService];
  const restoringTimedated: HostService = {
    ...timedated,
    async stop() {
      await setTimezone(bus, 'Etc/UTC').catch(() => undefined);
      await timedated.stop();
    },
  };
  return {
    services: { hostnamed, timedated: restoringTimedated, localed },
    stoppables: [hostnamed, restoringTimedated, localed],
  };
}

/** What the host services could change on the host if the namespaces leaked. */
export interface HostSnapshot {
  /** Path to content (a symlink as '-> target'), or 'missing'. */
  files: Record<string, string>;
  hostname: string;
  /** Constant while nobody sets the clock: a warp shows as a jump here. */
  wallMinusMonotonicMs: number;
}

const HOST_FILES = [
  '/etc/hostname',
  '/etc/machine-info',
  '/etc/timezone',
  '/etc/localtime',
  '/etc/adjtime',
  '/etc/locale.conf',
  '/etc/default/locale',
  '/etc/locale.gen',
  '/etc/vconsole.conf',
];

async function describeFile(path: string): Promise<string> {
  try {
    const stats = await lstat(path);
    if (stats.isSymbolicLink()) return `-> ${await readlink(path)}`;
    return await readFile(path, 'utf8');
  } catch {
    return 'missing';
  }
}

/** /usr/lib/locale by name, size and modification time: locale-gen writes there. */
async function describeLocales(): Promise<string> {
  const names = (await readdir('/usr/lib/locale').catch(() => [])).sort();
  const entries = await Promise.all(
    names.map(async (name) => {
      const stats = await lstat(join('/usr/lib/locale', name));
      return `${name} ${stats.size} ${stats.mtimeMs}`;
    }),
  );
  return entries.join('\n');
}

export async function snapshotHost(): Promise<HostSnapshot> {
  const files: Record<string, string> = {};
  for (const path of HOST_FILES) files[path] = await describeFile(path);
  files['/usr/lib/locale'] = await describeLocales();
  return { files, hostname: hostname(), wallMinusMonotonicMs: Date.now() - performance.now() };
}

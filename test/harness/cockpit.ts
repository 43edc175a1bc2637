import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, chown, mkdir, mkdtemp, rm, symlink } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { start, waitFor, type ManagedProcess } from './processes.js';
import type { Stoppable } from './stack.js';
import type { SystemBus } from './system-bus.js';

/** The page's folder in the repository (what install.sh copies to /usr/share/cockpit). */
export const PAGE_DIR = fileURLToPath(new URL('../../cockpit/op-dbus', import.meta.url));
const COCKPIT_WS = '/usr/lib/cockpit/cockpit-ws';

/**
 * Who the Cockpit session (cockpit-ws and the bridge it starts) runs as: root, or
 * a user name from the user database (e.g. 'nobody'), with its primary group only.
 */
export type SessionUser = string;

export interface Cockpit extends Stoppable {
  /** http://127.0.0.1:PORT/cockpit/@localhost/op-dbus/index.html */
  pageUrl: string;
  port: number;
  user: SessionUser;
  process: ManagedProcess;
}

/** A loopback port nobody listens on right now (cockpit-ws needs a number, not 0). */
async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address
          ? resolve(address.port)
          : reject(new Error('no port')),
      );
    });
  });
}

/**
 * The session bus the bridge would otherwise start for itself (it forks a
 * dbus-daemon that outlives cockpit-ws): started here so that its pid is known
 * and it is stopped with the rest.
 */
function startSessionBus(dir: string, user: SessionUser): { address: string; pid: number } {
  const socket = join(dir, 'session_bus_socket');
  const address = `unix:path=${socket}`;
  const command = ['dbus-daemon', '--session', '--fork', '--print-pid', `--address=${address}`];
  const out =
    user === 'root'
      ? execFileSync(command[0] as string, command.slice(1), { encoding: 'utf8' })
      : execFileSync('setpriv', [...asUser(user), ...command], { encoding: 'utf8' });
  return { address, pid: Number(out.trim().split('\n')[0]) };
}

function idOf(user: string, flag: '-u' | '-g' | '-gn'): string {
  return execFileSync('id', [flag, user], { encoding: 'utf8' }).trim();
}

/** setpriv's arguments to run as `user` with its primary group and no others. */
function asUser(user: string): string[] {
  return [`--reuid=${user}`, `--regid=${idOf(user, '-gn')}`, '--clear-groups'];
}

function kill(pid: number): void {
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    // already gone
  }
}

/**
 * cockpit-ws with a local session and no TLS on a loopback port, its bridge on the
 * private system bus, and the op-dbus page linked into XDG_DATA_HOME/cockpit (as
 * ~/.local/share/cockpit is for a user's own pages). No login, no PAM: the session
 * runs as whoever runs cockpit-ws, so another user gives a session without root,
 * whose changes the daemon lets through only if polkit says so.
 */
export async function startCockpit(
  bus: SystemBus,
  user: SessionUser = 'root',
  options: { binDir?: string } = {},
): Promise<Cockpit> {
  const scratch = await mkdtemp(join(tmpdir(), 'opdbus-cockpit-'));
  const dataHome = join(scratch, 'data');
  const home = join(scratch, 'home');
  const runtime = join(scratch, 'runtime');
  await mkdir(join(dataHome, 'cockpit'), { recursive: true });
  await mkdir(home);
  await mkdir(runtime, { mode: 0o700 });
  await symlink(PAGE_DIR, join(dataHome, 'cockpit', 'op-dbus'));
  await chmod(scratch, 0o755);
  if (user !== 'root') {
    for (const dir of [home, runtime])
      await chown(dir, Number(idOf(user, '-u')), Number(idOf(user, '-g')));
  }
  const session = startSessionBus(runtime, user);
  const port = await freePort();
  const env: NodeJS.ProcessEnv = {
    // binDir: where programs the page spawns are found first (an `op-dbus` for the fleet tab).
    PATH: options.binDir ? `${options.binDir}:${process.env.PATH ?? ''}` : process.env.PATH,
    LANG: 'C.UTF-8',
    HOME: home,
    XDG_DATA_HOME: dataHome,
    XDG_RUNTIME_DIR: runtime,
    DBUS_SYSTEM_BUS_ADDRESS: bus.address,
    DBUS_SESSION_BUS_ADDRESS: session.address,
  };
  const args = [
    '--no-tls',
    '--local-session=cockpit-bridge',
    '--port',
    String(port),
    '--address',
    '127.0.0.1',
  ];
  const ws =
    user === 'root'
      ? start('cockpit-ws', COCKPIT_WS, args, env)
      : start(`cockpit-ws (${user})`, 'setpriv', [...asUser(user), COCKPIT_WS, ...args], env);
  const stop = async (): Promise<void> => {
    await ws.stop();
    kill(session.pid);
    await rm(scratch, { recursive: true, force: true });
  };
  const pageUrl = `http://127.0.0.1:${port}/cockpit/@localhost/op-dbus/index.html`;
  try {
    await waitFor('cockpit-ws to serve the page', async () => {
      if (!ws.running) throw new Error(`cockpit-ws exited: ${ws.output.join('')}`);
      const response = await fetch(pageUrl);
      return response.ok;
    });
  } catch (err) {
    await stop();
    throw err;
  }
  return { pageUrl, port, user, process: ws, stop };
}

/** Is cockpit-ws installed (the Debian packages cockpit-ws and cockpit-bridge)? */
export function cockpitInstalled(): boolean {
  return existsSync(COCKPIT_WS) && existsSync('/usr/bin/cockpit-bridge');
}

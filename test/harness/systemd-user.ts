import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, rm, rmdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ManagedProcess, waitFor } from './processes.js';

const execFileAsync = promisify(execFile);

/** systemd --user refuses to start unless this exists; it must not outlive the start-up. */
const SYSTEMD_RUNTIME_MARKER = '/run/systemd/system';

/**
 * A real systemd user manager (the same org.freedesktop.systemd1 API as the
 * system's) whose every folder is a temporary one: nothing lands in /root.
 */
export interface SystemdUser {
  /** The D-Bus address of the manager's bus (the systemd plugin's `bus` setting). */
  address: string;
  /** Where test units go: the user manager's vendor folder (like /usr/lib/systemd/system). */
  unitDir: string;
  /** The manager's persistent configuration folder (like /etc/systemd/system). */
  configDir: string;
  env: NodeJS.ProcessEnv;
  process: ManagedProcess;
  /** Writes a unit file into unitDir. Call `systemctl('daemon-reload')` if systemd saw the old one. */
  writeUnit(name: string, text: string): Promise<void>;
  /** Runs `systemctl --user ARGS` against this manager and returns its output. */
  systemctl(...args: string[]): Promise<string>;
  stop(): Promise<void>;
}

/**
 * Starts `systemd --user` as ../shared/ENVIRONMENT.md shows: /run/systemd/system
 * only during start-up, XDG_RUNTIME_DIR 0700, and XDG_CONFIG_HOME, XDG_DATA_HOME
 * and HOME in one temporary folder, so enabled and masked units are written there.
 */
export async function startSystemdUser(): Promise<SystemdUser> {
  const root = await mkdtemp(join(tmpdir(), 'opdbus-systemd-'));
  const runtimeDir = join(root, 'runtime');
  const configHome = join(root, 'config');
  const dataHome = join(root, 'data');
  const home = join(root, 'home');
  for (const dir of [runtimeDir, configHome, dataHome, home]) await mkdir(dir);
  await chmod(runtimeDir, 0o700);
  const unitDir = join(dataHome, 'systemd', 'user');
  await mkdir(unitDir, { recursive: true });
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    LANG: 'C.UTF-8',
    HOME: home,
    XDG_RUNTIME_DIR: runtimeDir,
    XDG_CONFIG_HOME: configHome,
    XDG_DATA_HOME: dataHome,
  };
  const socket = join(runtimeDir, 'bus');

  const createdMarker = !existsSync(SYSTEMD_RUNTIME_MARKER);
  if (createdMarker) await mkdir(SYSTEMD_RUNTIME_MARKER, { recursive: true });
  let manager: ManagedProcess;
  try {
    // detached: its own session, as `setsid` in ENVIRONMENT.md.
    const child = spawn('/lib/systemd/systemd', ['--user'], {
      env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    manager = new ManagedProcess(child, 'systemd --user');
    await waitFor('the systemd user manager bus', () => {
      if (!manager.running) throw new Error(`systemd --user exited: ${manager.output.join('')}`);
      return existsSync(socket);
    });
  } finally {
    if (createdMarker) await rmdir(SYSTEMD_RUNTIME_MARKER).catch(() => undefined);
  }

  const systemctl = async (...args: string[]): Promise<string> => {
    const { stdout } = await execFileAsync('systemctl', ['--user', '--no-pager', ...args], {
      env,
    });
    return stdout;
  };
  // The manager answers on its bus only once it has connected to it.
  await waitFor('systemd on its user bus', async () => {
    await systemctl('show', '--property=Version');
    return true;
  });

  return {
    address: `unix:path=${socket}`,
    unitDir,
    configDir: join(configHome, 'systemd', 'user'),
    env,
    process: manager,
    writeUnit: (name, text) => writeFile(join(unitDir, name), text),
    systemctl,
    async stop() {
      // SIGTERM makes a user manager stop its units (and the bus it started) and exit.
      await manager.stop(10_000);
      await rm(root, { recursive: true, force: true });
    },
  };
}

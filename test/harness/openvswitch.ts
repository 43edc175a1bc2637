import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { start, waitFor, type ManagedProcess } from './processes.js';

const run = promisify(execFile);
const SCHEMA = '/usr/share/openvswitch/vswitch.ovsschema';

/**
 * A real Open vSwitch for tests: a fresh database, ovsdb-server on a unix
 * socket in a scratch folder, and ovs-vswitchd with the userspace datapath,
 * both in a network namespace of their own (`ip netns`), so the taps and
 * veths they touch never reach the host. No kernel module here: bridges need
 * datapath_type=netdev; a "system" bridge fails in ovs-vswitchd.
 */
export interface OpenvswitchHarness {
  /** Scratch folder: database, sockets, pid and log files. */
  readonly dir: string;
  /** ovsdb-server's socket, for the plugin. */
  readonly socketPath: string;
  /** The network namespace both daemons run in. */
  readonly netns: string;
  /** Runs `ovs-vsctl --db=unix:SOCK --timeout=10 ARGS` ("someone else"); resolves its stdout. */
  vsctl(...args: string[]): Promise<string>;
  /** Runs `ip -n NETNS ARGS`. */
  ip(...args: string[]): Promise<string>;
  /** Creates a veth pair inside the namespace, both ends up. */
  addVethPair(name: string, peer: string): Promise<void>;
  /** SIGKILL ovsdb-server and wait until it is gone (its socket file stays, stale). */
  killOvsdbServer(): Promise<void>;
  /** Starts ovsdb-server again on the same database and waits for its socket. */
  restartOvsdbServer(): Promise<void>;
  /** Stops ovs-vswitchd (SIGTERM): OVSDB goes on accepting what nobody applies. */
  stopVswitchd(): Promise<void>;
  /** Starts ovs-vswitchd again and waits until it has caught up with the database. */
  restartVswitchd(): Promise<void>;
  vswitchdLog(): Promise<string>;
  /** Stops both daemons and removes the namespace and the folder. */
  stop(): Promise<void>;
}

async function socketAccepts(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ path });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

async function command(file: string, args: string[], env?: NodeJS.ProcessEnv): Promise<string> {
  try {
    const { stdout } = await run(file, args, { env, timeout: 20_000 });
    return stdout;
  } catch (err) {
    const { stderr } = err as { stderr?: string };
    throw new Error(`${file} ${args.join(' ')} failed: ${stderr ?? String(err)}`, { cause: err });
  }
}

export async function startOpenvswitch(): Promise<OpenvswitchHarness> {
  const dir = await mkdtemp(join(tmpdir(), 'opdbus-ovs-'));
  const netns = `opdbus-ovs-${process.pid}-${randomBytes(3).toString('hex')}`;
  const socketPath = join(dir, 'db.sock');
  const database = join(dir, 'conf.db');
  const env = { ...process.env, OVS_RUNDIR: dir, OVS_LOGDIR: dir, OVS_DBDIR: dir };
  const processes: { ovsdb?: ManagedProcess; vswitchd?: ManagedProcess } = {};
  let namespaceMade = false;

  const inNamespace = (name: string, program: string, args: string[]): ManagedProcess =>
    start(name, 'ip', ['netns', 'exec', netns, program, ...args], env);

  const startOvsdbServer = async (): Promise<void> => {
    const server = inNamespace('ovsdb-server', 'ovsdb-server', [
      database,
      `--remote=punix:${socketPath}`,
      `--pidfile=${join(dir, 'ovsdb-server.pid')}`,
      `--unixctl=${join(dir, 'ovsdb-server.ctl')}`,
      `--log-file=${join(dir, 'ovsdb-server.log')}`,
    ]);
    processes.ovsdb = server;
    await waitFor('ovsdb-server to accept on its socket', async () => {
      if (!server.running) throw new Error(`ovsdb-server exited: ${server.output.join('')}`);
      return socketAccepts(socketPath);
    });
  };

  const vsctl = (...args: string[]): Promise<string> =>
    command('ovs-vsctl', [`--db=unix:${socketPath}`, '--timeout=10', ...args], env);
  const ip = (...args: string[]): Promise<string> => command('ip', ['-n', netns, ...args]);

  const startVswitchd = async (): Promise<void> => {
    const vswitchd = inNamespace('ovs-vswitchd', 'ovs-vswitchd', [
      `unix:${socketPath}`,
      `--pidfile=${join(dir, 'ovs-vswitchd.pid')}`,
      `--unixctl=${join(dir, 'ovs-vswitchd.ctl')}`,
      `--log-file=${join(dir, 'ovs-vswitchd.log')}`,
    ]);
    processes.vswitchd = vswitchd;
    // ovs-vswitchd copies next_cfg to cur_cfg once it has read the database.
    await waitFor('ovs-vswitchd to catch up with the database', async () => {
      if (!vswitchd.running) throw new Error(`ovs-vswitchd exited: ${vswitchd.output.join('')}`);
      const [cur, next] = (await vsctl('get', 'Open_vSwitch', '.', 'cur_cfg', 'next_cfg'))
        .trim()
        .split('\n');
      return cur === next;
    });
  };

  const stop = async (): Promise<void> => {
    await processes.vswitchd?.stop();
    await processes.ovsdb?.stop();
    if (namespaceMade) await command('ip', ['netns', 'del', netns]).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  };

  try {
    await command('ovsdb-tool', ['create', database, SCHEMA]);
    await command('ip', ['netns', 'add', netns]);
    namespaceMade = true;
    await startOvsdbServer();
    await vsctl('--no-wait', 'init');
    await startVswitchd();
  } catch (err) {
    await stop();
    throw err;
  }

  return {
    dir,
    socketPath,
    netns,
    vsctl,
    ip,
    async addVethPair(name, peer) {
      await ip('link', 'add', name, 'type', 'veth', 'peer', 'name', peer);
      await ip('link', 'set', name, 'up');
      await ip('link', 'set', peer, 'up');
    },
    async killOvsdbServer() {
      const server = processes.ovsdb;
      if (server === undefined) return;
      server.kill('SIGKILL');
      await server.exited;
    },
    restartOvsdbServer: startOvsdbServer,
    async stopVswitchd() {
      await processes.vswitchd?.stop();
    },
    restartVswitchd: startVswitchd,
    vswitchdLog: () => readFile(join(dir, 'ovs-vswitchd.log'), 'utf8'),
    stop,
  };
}

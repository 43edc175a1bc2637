import { join } from 'node:path';
import { applyAndWait, type StateManagerClient } from '../../src/cli/client.js';
import { connectBus } from '../../src/dbus/bus.js';
import { BusConnection } from '../../src/dbus/bus-connection.js';
import { Filter } from '../../src/plugins/packagekit/enums.js';
import {
  PACKAGEKIT_NAME,
  PackageKitClient,
} from '../../src/plugins/packagekit/packagekit-client.js';
import { SystemdClient } from '../../src/plugins/systemd/systemd-client.js';
import pino from 'pino';
import { CLI, defaultDaemonArgs } from '../../test/harness/daemon.js';
import { start } from '../../test/harness/processes.js';
import type { Stack } from '../../test/harness/stack.js';
import type { SystemBus } from '../../test/harness/system-bus.js';
import type { SystemdUser } from '../../test/harness/systemd-user.js';
import { NotifyListener } from './readiness.js';
import { cpuMs, rssMiB } from './process-stats.js';
import { median, round, samples, sleep, timed } from './timing.js';

export const QUIET = ['--log-level', 'info'];

/** Applies and waits for the job; a job that does not end 'done' spoils the figure. */
export async function applyDone(client: StateManagerClient, document: string): Promise<void> {
  // A daemon that dies mid-job never sends JobRemoved: fail instead of waiting forever.
  const outcome = await Promise.race([
    applyAndWait(client, document, () => undefined),
    sleep(300_000).then(() => {
      throw new Error('no JobRemoved within 300 s (did the daemon exit?)');
    }),
  ]);
  if (outcome.state !== 'done') throw new Error(`apply ended ${outcome.state}: ${outcome.result}`);
}

/** One PackageKit Resolve of `names` from a separate connection: the floor for a cold no-op. */
export async function resolveFloor(
  bus: SystemBus,
  names: string[],
  count: number,
): Promise<number[]> {
  const connection = await connectBus(bus.address);
  const log = pino({ level: 'silent' });
  const shared = new BusConnection(connection, log);
  const client = new PackageKitClient(connection, shared.peer(PACKAGEKIT_NAME), log);
  await client.start();
  try {
    const signal = new AbortController().signal;
    return await samples(count, () => client.resolve(names, Filter.none, signal));
  } finally {
    client.stop();
    shared.stop();
    connection.disconnect();
  }
}

/** Cold: a daemon restarted with an empty state folder (nothing cached, nothing to restore). */
export async function coldApplies(
  stack: Stack,
  document: string,
  count: number,
): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < count; i += 1) {
    await stack.restartDaemon([...QUIET, '--state-dir', join(stack.bus.dir, `cold-${Date.now()}`)]);
    out.push((await timed(() => applyDone(stack.client, document))).ms);
  }
  return out;
}

/** Stop a unit behind the daemon's back; time until systemd reports it active again. */
export async function driftCorrection(
  systemd: SystemdUser,
  unit: string,
  count: number,
): Promise<number[]> {
  const bus = await connectBus(systemd.address);
  const client = new SystemdClient(bus);
  const out: number[] = [];
  try {
    for (let i = 0; i < count; i += 1) {
      await systemd.systemctl('stop', unit);
      const t0 = process.hrtime.bigint();
      for (;;) {
        if ((await client.unitState(unit)).activeState === 'active') break;
        if (Number(process.hrtime.bigint() - t0) > 30e9) throw new Error(`${unit} not restarted`);
        await sleep(2);
      }
      out.push(Number(process.hrtime.bigint() - t0) / 1e6);
      await sleep(500);
    }
  } finally {
    bus.disconnect();
  }
  return out;
}

export interface IdleResult {
  seconds: number;
  cpuMs: number;
  rssStartMiB: number;
  rssEndMiB: number;
}

export async function idle(pid: number, seconds: number): Promise<IdleResult> {
  const rssStartMiB = round(rssMiB(pid));
  const cpu0 = cpuMs(pid);
  await sleep(seconds * 1000);
  return { seconds, cpuMs: cpuMs(pid) - cpu0, rssStartMiB, rssEndMiB: round(rssMiB(pid)) };
}

export interface CallRunResult {
  calls: number;
  /** The daemon's RSS before, and after each quarter of the calls. */
  rssMiB: { after: number; rss: number }[];
  cpuMs: number;
  medianMs: number;
}

/** `count` calls one after another; the daemon's RSS every quarter and its CPU time. */
export async function manyCalls(
  pid: number,
  count: number,
  call: () => Promise<unknown>,
): Promise<CallRunResult> {
  const rss = [{ after: 0, rss: round(rssMiB(pid)) }];
  const cpu0 = cpuMs(pid);
  const times: number[] = [];
  for (let i = 1; i <= count; i += 1) {
    times.push((await timed(call)).ms);
    if (i % Math.max(1, Math.floor(count / 4)) === 0)
      rss.push({ after: i, rss: round(rssMiB(pid)) });
  }
  return {
    calls: count,
    rssMiB: rss,
    cpuMs: cpuMs(pid) - cpu0,
    medianMs: round(median(times), 2),
  };
}

/** Spawns the daemon with NOTIFY_SOCKET and times spawn to READY=1; stops it again. */
export async function startupToReady(
  bus: SystemBus,
  stateDir: string,
  env: NodeJS.ProcessEnv = {},
): Promise<number> {
  const listener = new NotifyListener();
  const t0 = process.hrtime.bigint();
  const daemon = start(
    'op-dbus daemon',
    process.execPath,
    [CLI, 'daemon', ...QUIET, ...defaultDaemonArgs(bus), '--state-dir', stateDir],
    { ...bus.env, ...env, NOTIFY_SOCKET: listener.path },
  );
  try {
    const readyAt = await Promise.race([
      listener.ready,
      sleep(30_000).then(() => {
        throw new Error(`no READY=1 within 30 s: ${daemon.output.join('')}`);
      }),
    ]);
    return Number(readyAt - t0) / 1e6;
  } finally {
    await daemon.stop();
    listener.close();
  }
}

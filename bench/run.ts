// `npm run bench [-- --quick] [-- --only ovs|network]`: op-dbus against Ansible and
// Puppet on the same machine in the same run, op-dbus's Open vSwitch apply against
// ovs-vsctl, network applies against nmcli, plus the daemon's own latency, drift,
// memory and start-up figures (the daemon runs with systemd/op-dbus.service's
// environment), and a 1,000-node fleet on etcd. A benchmark, not a test: `npm test`
// never runs it.
// Needs root, the apt backend, and no other apt/dpkg user at the same time.
import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { startPackageKit } from '../test/harness/packagekit.js';
import { startStack, type Stack } from '../test/harness/stack.js';
import { startSystemBus } from '../test/harness/system-bus.js';
import { startSystemdUser, type SystemdUser } from '../test/harness/systemd-user.js';
import { startEtcdCluster } from '../test/harness/etcd.js';
import { fleetSimulation } from './lib/fleet.js';
import { concurrentLoad, type LoadResult } from './lib/load.js';
import { networkApplies } from './lib/network.js';
import { ansibleRunner, ensurePeers, peerVersions, puppetRunner } from './lib/peers.js';
import { ovsBridgeBench } from './lib/openvswitch.js';
import { writeResults } from './lib/report.js';
import {
  report,
  reportNetwork,
  reportOvs,
  type NoopRow,
  type RealFigures,
} from './lib/report-tables.js';
import {
  applyDone,
  coldApplies,
  driftCorrection,
  idle,
  manyCalls,
  QUIET,
  resolveFloor,
  startupToReady,
} from './lib/sections.js';
import { warmReads } from './lib/speed.js';
import { round, samples } from './lib/timing.js';
import { unitEnvironment } from './lib/unit-environment.js';
import {
  installedPackages,
  opdbusDocument,
  UNIT_COUNT,
  unitNames,
  writeUnits,
  type Workload,
} from './lib/workload.js';
import { systemdBusArgs } from '../test/harness/daemon.js';

const quick = process.argv.includes('--quick');
/** `--only ovs|network`: just that row (no apt, no peers, no systemd manager). */
const only = process.argv.includes('--only')
  ? process.argv[process.argv.indexOf('--only') + 1]
  : undefined;
if (only !== undefined && only !== 'ovs' && only !== 'network')
  throw new Error(`--only: unknown section '${only}' (known: ovs, network)`);
const REPS = quick
  ? {
      warm: 5,
      cold: 1,
      peer: 1,
      resolve: 2,
      drift: 2,
      loadMs: 1_000,
      idleS: 10,
      applies: 200,
      startup: 3,
      reads: 20,
      fleetNodes: 200,
      ovs: 2,
      network: 5,
    }
  : {
      warm: 20,
      cold: 3,
      peer: 3,
      resolve: 3,
      drift: 5,
      loadMs: 3_000,
      idleS: 60,
      applies: 1_000,
      startup: 11,
      reads: 200,
      fleetNodes: 1_000,
      ovs: 5,
      network: 20,
    };
const log = (line: string): void => console.error(`[bench] ${line}`);

async function noopRows(
  stack: Stack,
  systemd: SystemdUser,
  workloads: Workload[],
): Promise<NoopRow[]> {
  // systemctl --user reads unit files itself: the peers need the manager's folders.
  const env = Object.fromEntries(
    ['HOME', 'XDG_RUNTIME_DIR', 'XDG_CONFIG_HOME', 'XDG_DATA_HOME'].map((k) => [
      k,
      String(systemd.env[k]),
    ]),
  );
  const rows: NoopRow[] = [];
  for (const workload of workloads) {
    log(`no-op: ${workload.label}`);
    const document = opdbusDocument(workload);
    await applyDone(stack.client, document); // converge (units start the first time)
    const warmMs = await samples(REPS.warm, () => applyDone(stack.client, document));
    const coldMs = await coldApplies(stack, document, REPS.cold);
    const resolveMs =
      workload.packages.length > 0
        ? await resolveFloor(stack.bus, workload.packages, REPS.resolve)
        : [];
    const ansible = ansibleRunner(workload, env);
    const puppet = puppetRunner(workload, env);
    let peersUnchanged = true;
    const ansibleMs = await samples(REPS.peer, async () => {
      peersUnchanged &&= (await ansible()).unchanged;
    });
    const puppetMs = await samples(REPS.peer, async () => {
      peersUnchanged &&= (await puppet()).unchanged;
    });
    rows.push({
      workload: workload.label,
      warmMs,
      coldMs,
      resolveMs,
      ansibleMs,
      puppetMs,
      peersUnchanged,
    });
  }
  return rows;
}

async function loadRows(stack: Stack, planDocument: string): Promise<Record<string, LoadResult[]>> {
  const out: Record<string, LoadResult[]> = {
    'Query(systemd)': [],
    'Plan(200 pkgs + 20 units)': [],
  };
  for (const clients of [1, 16, 64]) {
    log(`load: ${clients} clients`);
    out['Query(systemd)']?.push(
      await concurrentLoad(stack.bus.address, clients, REPS.loadMs, (c) => c.query(['systemd'])),
    );
    out['Plan(200 pkgs + 20 units)']?.push(
      await concurrentLoad(stack.bus.address, clients, REPS.loadMs, (c) => c.plan(planDocument)),
    );
  }
  return out;
}

/** The unit file's environment for every daemon the bench starts (NODE_OPTIONS and all). */
const unit = unitEnvironment('/nonexistent-state-directory');

async function realBackend(): Promise<RealFigures & { packages: string[] }> {
  let systemd: SystemdUser | undefined;
  const units = unitNames(UNIT_COUNT);
  const stack = await startStack({
    backend: 'apt',
    daemonArgs: QUIET,
    // STATE_DIRECTORY is overridden by the harness's --state-dir (flags win).
    daemonEnv: unit.env,
    services: async () => {
      systemd = await startSystemdUser();
      await writeUnits(systemd, units);
      return { daemonArgs: systemdBusArgs(systemd.address), stoppables: [systemd] };
    },
  });
  try {
    const user = systemd as SystemdUser;
    const pkgs = installedPackages(200);
    const workloads: Workload[] = [
      { label: '1 package', packages: pkgs.slice(0, 1), units: [] },
      { label: '50 packages', packages: pkgs.slice(0, 50), units: [] },
      { label: '200 packages', packages: pkgs, units: [] },
      { label: '200 packages + 20 units', packages: pkgs, units },
    ];
    const noop = await noopRows(stack, user, workloads);
    const full = opdbusDocument(workloads[3] as Workload);
    await applyDone(stack.client, full);
    log('drift: unit stopped behind the back');
    const driftMs = await driftCorrection(user, units[0] as string, REPS.drift);
    const load = await loadRows(stack, full);
    log('warm reads, one client');
    const reads = await warmReads(stack.client, full, REPS.reads);
    const pid = stack.daemon.pid;
    log(`memory: ${REPS.applies} no-op applies, then ${REPS.applies} queries`);
    const applies = await manyCalls(pid, REPS.applies, () => applyDone(stack.client, full));
    const queries = await manyCalls(pid, REPS.applies, () =>
      stack.client.query(['packagekit', 'systemd']),
    );
    log(`idle for ${REPS.idleS} s`);
    const idleReal = await idle(pid, REPS.idleS);
    return { packages: pkgs, noop, driftMs, load, reads, applies, queries, idle: idleReal };
  } catch (err) {
    log(
      `daemon output (last lines):\n${stack.daemon.output.join('').split('\n').slice(-30).join('\n')}`,
    );
    throw err;
  } finally {
    await stack.stop();
  }
}

async function startup(): Promise<{ readyMs: number[] }> {
  const bus = await startSystemBus();
  const pk = await startPackageKit(bus, 'dummy');
  try {
    const fresh: number[] = [];
    for (let i = 0; i < REPS.startup; i += 1)
      fresh.push(await startupToReady(bus, mkdtempSync(join(bus.dir, 'ready-')), unit.env));
    return { readyMs: fresh };
  } finally {
    await pk.stop();
    await bus.stop();
  }
}

async function main(): Promise<void> {
  const started = Date.now();
  log(`${quick ? 'quick' : 'full'} run${only === undefined ? '' : `, only ${only}`}`);
  if (only === 'ovs') {
    const ovs = await ovsBridgeBench(REPS.ovs);
    reportOvs(ovs);
    const results = { at: new Date().toISOString(), quick, only, reps: REPS.ovs, ovs };
    log(`results written to ${writeResults(results)}`);
    return;
  }
  if (only === 'network') {
    const network = await networkApplies(REPS.network, log);
    reportNetwork(network);
    const results = { at: new Date().toISOString(), quick, only, reps: REPS.network, network };
    log(`results written to ${writeResults(results)}`);
    return;
  }
  ensurePeers(log);
  const real = await realBackend();
  const ready = await startup();
  log(`fleet: ${REPS.fleetNodes} simulated nodes on a three-member etcd cluster`);
  const cluster = await startEtcdCluster();
  const fleet = await fleetSimulation({
    endpoints: cluster.endpoints,
    nodes: REPS.fleetNodes,
  }).finally(() => cluster.stop());
  log('openvswitch: a bridge with 50 ports');
  const ovs = await ovsBridgeBench(REPS.ovs);
  const network = await networkApplies(REPS.network, log);
  const results = {
    at: new Date().toISOString(),
    quick,
    reps: REPS,
    peers: peerVersions(),
    real,
    startup: ready,
    fleet,
    ovs,
    network,
    seconds: round((Date.now() - started) / 1000, 0),
  };
  report(results);
  log(`results written to ${writeResults(results)} (${results.seconds} s)`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);

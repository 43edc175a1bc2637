// `npm run bench [-- --quick] [-- --only ovs|network]`: op-dbus against Ansible and
// Puppet on the same machine in the same run, op-dbus's Open vSwitch apply against
// ovs-vsctl, network applies against nmcli, plus the daemon's own latency, drift,
// memory and start-up figures. A benchmark, not a test: `npm test` never runs it.
// Needs root, the apt backend, and no other apt/dpkg user at the same time.
import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { startPackageKit } from '../test/harness/packagekit.js';
import { startStack, type Stack } from '../test/harness/stack.js';
import { startSystemBus } from '../test/harness/system-bus.js';
import { startSystemdUser, type SystemdUser } from '../test/harness/systemd-user.js';
import { concurrentLoad, type LoadResult } from './lib/load.js';
import { networkApplies, type NetworkBench } from './lib/network.js';
import { ansibleRunner, ensurePeers, peerVersions, puppetRunner } from './lib/peers.js';
import { ovsBridgeBench, type OvsBridgeRow } from './lib/openvswitch.js';
import { ratio, table, writeResults } from './lib/report.js';
import {
  applyDone,
  coldApplies,
  driftCorrection,
  idle,
  manyApplies,
  QUIET,
  resolveFloor,
  startupToReady,
} from './lib/sections.js';
import { median, quantile, round, samples } from './lib/timing.js';
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
      startup: 1,
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
      startup: 3,
      ovs: 5,
      network: 20,
    };
const log = (line: string): void => console.error(`[bench] ${line}`);

interface NoopRow {
  workload: string;
  warmMs: number[];
  coldMs: number[];
  resolveMs: number[];
  ansibleMs: number[];
  puppetMs: number[];
  peersUnchanged: boolean;
}

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

async function realBackend(): Promise<Record<string, unknown>> {
  let systemd: SystemdUser | undefined;
  const units = unitNames(UNIT_COUNT);
  const stack = await startStack({
    backend: 'apt',
    daemonArgs: QUIET,
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
    log(`idle for ${REPS.idleS} s`);
    const idleReal = await idle(stack.daemon.pid, REPS.idleS);
    return { packages: pkgs, noop, driftMs, load, idle: idleReal };
  } catch (err) {
    log(
      `daemon output (last lines):\n${stack.daemon.output.join('').split('\n').slice(-30).join('\n')}`,
    );
    throw err;
  } finally {
    await stack.stop();
  }
}

async function dummyBackend(): Promise<Record<string, unknown>> {
  const stack = await startStack({ backend: 'dummy', daemonArgs: QUIET });
  try {
    const document = JSON.stringify({
      version: 1,
      plugins: { packagekit: { packages: { glib2: { ensure: 'installed' } } } },
    });
    await applyDone(stack.client, document);
    log(`${REPS.applies} applies (dummy backend)`);
    const applies = await manyApplies(stack.client, stack.daemon.pid, document, REPS.applies);
    const idleAfter = await idle(stack.daemon.pid, 10);
    return { applies, idleAfter };
  } finally {
    await stack.stop();
  }
}

async function startup(): Promise<Record<string, number[]>> {
  const bus = await startSystemBus();
  const pk = await startPackageKit(bus, 'dummy');
  try {
    const fresh: number[] = [];
    for (let i = 0; i < REPS.startup; i += 1)
      fresh.push(await startupToReady(bus, mkdtempSync(join(bus.dir, 'ready-'))));
    return { readyMs: fresh };
  } finally {
    await pk.stop();
    await bus.stop();
  }
}

function reportNetwork(network: NetworkBench): void {
  console.log(
    '\nNetwork applies, median ms (bridge + veth port + address; nmcli: modify + reapply)',
  );
  const row = (label: string, figures: { opdbusMs: number[]; nmcliMs: number[] }) => [
    label,
    round(median(figures.opdbusMs), 0),
    round(median(figures.nmcliMs), 0),
    ratio(median(figures.opdbusMs), median(figures.nmcliMs)),
  ];
  console.log(
    table(
      ['network apply', 'op-dbus', 'nmcli', 'op-dbus/nmcli'],
      [row('no-op', network.noop), row('one change (address)', network.oneChange)],
    ),
  );
}

function reportOvs(row: OvsBridgeRow): void {
  const opdbus = median(row.opdbusMs);
  console.log(
    `\nA bridge with ${row.ports} internal ports from nothing (Open vSwitch, netdev), median ms`,
  );
  console.log(
    table(
      ['way', 'median ms', 'samples', 'x op-dbus'],
      [
        ['op-dbus Apply (one transaction)', row.opdbusMs],
        [`ovs-vsctl, one add-port per port (${row.ports + 1} commands)`, row.vsctlPerPortMs],
        [`ovs-vsctl, one command with ${row.ports} -- add-port`, row.vsctlOneCommandMs],
      ].map(([way, ms]) => {
        const values = ms as number[];
        return [
          way as string,
          round(median(values), 0),
          values.map((v) => round(v, 0)).join(' '),
          ratio(median(values), opdbus),
        ];
      }),
    ),
  );
}

function report(results: {
  real: Record<string, unknown>;
  dummy: Record<string, unknown>;
  startup: Record<string, number[]>;
  ovs: OvsBridgeRow;
  network: NetworkBench;
}): void {
  const noop = results.real.noop as NoopRow[];
  console.log('\nNo-op Apply, median ms (ratios: peer / op-dbus warm; cold / one Resolve)');
  console.log(
    table(
      [
        'workload',
        'op-dbus warm',
        'op-dbus cold',
        'Resolve',
        'ansible',
        'puppet',
        'ansible/warm',
        'puppet/warm',
        'cold/Resolve',
      ],
      noop.map((row) => {
        const warm = median(row.warmMs);
        const cold = median(row.coldMs);
        const resolve = row.resolveMs.length > 0 ? median(row.resolveMs) : undefined;
        return [
          row.workload,
          round(warm, 1),
          round(cold, 0),
          resolve === undefined ? null : round(resolve, 0),
          round(median(row.ansibleMs), 0),
          round(median(row.puppetMs), 0),
          ratio(median(row.ansibleMs), warm),
          ratio(median(row.puppetMs), warm),
          ratio(cold, resolve),
        ];
      }),
    ),
  );
  const drift = results.real.driftMs as number[];
  console.log(
    `\nDrift: unit stopped with systemctl -> active again: median ${round(median(drift), 0)} ms, max ${round(quantile(drift, 1), 0)} ms`,
  );
  console.log('\nLatency under concurrent clients');
  const load = results.real.load as Record<string, LoadResult[]>;
  console.log(
    table(
      ['call', 'clients', 'p50 ms', 'p99 ms', 'calls/s'],
      Object.entries(load).flatMap(([call, rows]) =>
        rows.map((r) => [call, r.clients, r.p50Ms, r.p99Ms, r.callsPerSecond]),
      ),
    ),
  );
  reportOvs(results.ovs);
  reportNetwork(results.network);
  console.log('\nResources');
  console.log(JSON.stringify({ idleReal: results.real.idle, dummy: results.dummy }, null, 1));
  console.log(
    `\nStart-up (spawn -> READY=1 on NOTIFY_SOCKET): ${results.startup.readyMs?.map((v) => round(v, 0)).join(', ')} ms`,
  );
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
  const dummy = await dummyBackend();
  const ready = await startup();
  log('openvswitch: a bridge with 50 ports');
  const ovs = await ovsBridgeBench(REPS.ovs);
  const network = await networkApplies(REPS.network, log);
  const results = {
    at: new Date().toISOString(),
    quick,
    reps: REPS,
    peers: peerVersions(),
    real,
    dummy,
    startup: ready,
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

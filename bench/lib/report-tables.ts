// The bench's printed tables (run.ts gathers the figures; this prints them).
import type { FleetSimulationResult } from './fleet.js';
import type { LoadResult } from './load.js';
import type { NetworkBench } from './network.js';
import type { OvsBridgeRow } from './openvswitch.js';
import { ratio, table } from './report.js';
import type { CallRunResult, IdleResult } from './sections.js';
import type { ReadRow } from './speed.js';
import { median, quantile, round } from './timing.js';

export interface NoopRow {
  workload: string;
  warmMs: number[];
  coldMs: number[];
  resolveMs: number[];
  ansibleMs: number[];
  puppetMs: number[];
  peersUnchanged: boolean;
}

export interface RealFigures {
  noop: NoopRow[];
  driftMs: number[];
  load: Record<string, LoadResult[]>;
  reads: ReadRow[];
  applies: CallRunResult;
  queries: CallRunResult;
  idle: IdleResult;
}

export function reportNetwork(network: NetworkBench): void {
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

export function reportOvs(row: OvsBridgeRow): void {
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

export function report(results: {
  real: RealFigures;
  startup: { readyMs: number[] };
  fleet: FleetSimulationResult;
  ovs: OvsBridgeRow;
  network: NetworkBench;
}): void {
  const noop = results.real.noop;
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
  const drift = results.real.driftMs;
  console.log(
    `\nDrift: unit stopped with systemctl -> active again: median ${round(median(drift), 0)} ms, max ${round(quantile(drift, 1), 0)} ms`,
  );
  console.log('\nLatency under concurrent clients');
  const load = results.real.load;
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
  reportSpeed(results.real, results.startup.readyMs);
  const fleet = results.fleet;
  console.log(
    `\nFleet: ${fleet.nodes} simulated nodes on a 3-member etcd: all connected in ${round(fleet.connectMs, 0)} ms; publish -> median node reported ${round(fleet.publishToMedianReportedMs, 0)} ms, last node ${round(fleet.publishToAllReportedMs, 0)} ms`,
  );
}

/** Issue 16's targets beside the figures measured on the daemon as its unit runs it. */
function reportSpeed(real: RealFigures, readyMs: number[]): void {
  const targets: Record<string, number> = {
    'Query(systemd)': 10,
    'Query(packagekit)': 50,
    Verify: 10,
    'Apply, warm no-op (200 pkgs + 20 units)': 5,
  };
  console.log("\nReads and the warm no-op Apply, one client (the unit's NODE_OPTIONS), ms");
  console.log(
    table(
      ['call', 'p50', 'p90', 'target p50'],
      real.reads.map((r) => [r.call, r.p50Ms, r.p90Ms, targets[r.call] ?? null]),
    ),
  );
  const rss = (run: CallRunResult): string => run.rssMiB.map((r) => r.rss).join(' -> ');
  console.log('\nMemory (RSS MiB, as the unit runs the daemon; target < 80 and flat)');
  console.log(
    table(
      ['run', 'RSS at 0, 1/4 .. 4/4', 'daemon CPU ms', 'median call ms'],
      [
        [
          `${real.applies.calls} no-op applies`,
          rss(real.applies),
          real.applies.cpuMs,
          real.applies.medianMs,
        ],
        [
          `${real.queries.calls} Query(packagekit, systemd)`,
          rss(real.queries),
          real.queries.cpuMs,
          real.queries.medianMs,
        ],
        [
          `idle ${real.idle.seconds} s afterwards`,
          `${real.idle.rssStartMiB} -> ${real.idle.rssEndMiB}`,
          real.idle.cpuMs,
          null,
        ],
      ],
    ),
  );
  console.log(
    `\nStart-up (spawn -> READY=1, the unit's environment): p50 ${round(median(readyMs), 0)} ms, max ${round(quantile(readyMs, 1), 0)} ms (target p50 <= 300); samples ${readyMs.map((v) => round(v, 0)).join(', ')}`,
  );
}

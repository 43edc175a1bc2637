import { Etcd3 } from 'etcd3';
import pino from 'pino';
import { FleetAgent } from '../../src/fleet/agent.js';
import { FleetKeys } from '../../src/fleet/keys.js';
import { publishLayer } from '../../src/fleet/publish.js';
import { watchReports } from '../../src/fleet/watch-reports.js';
import { FakeFleetLayers, motd, validateDocument } from '../../test/helpers/fake-fleet-layers.js';

export interface FleetSimulationResult {
  readonly nodes: number;
  /** From the first agent's start until every agent watched (all connected). */
  readonly connectMs: number;
  /** From the publish until the last of the nodes' reports showed the new revision done. */
  readonly publishToAllReportedMs: number;
  /** Same, for the median node. */
  readonly publishToMedianReportedMs: number;
}

/**
 * `nodes` real FleetAgents (fake engine, jobs that end at once) in this process,
 * sharing `clients` etcd3 clients, all in one group; one publish; the time until
 * every report in etcd shows the new revision applied, seen through one watch of
 * `<prefix>/nodes/`.
 */
export async function fleetSimulation(options: {
  endpoints: readonly string[];
  nodes: number;
  clients?: number;
  prefix?: string;
}): Promise<FleetSimulationResult> {
  const prefix = options.prefix ?? `/bench${Date.now()}`;
  const keys = new FleetKeys(prefix);
  const log = pino({ level: 'silent' });
  const clients = Array.from(
    { length: options.clients ?? 10 },
    () => new Etcd3({ hosts: [...options.endpoints] }),
  );
  const admin = new Etcd3({ hosts: [...options.endpoints] });
  const agents: FleetAgent[] = [];
  let connected = 0;
  const allConnected = new Promise<void>((resolve) => {
    const started = Date.now();
    for (let i = 0; i < options.nodes; i++) {
      const nodeId = `sim${String(i).padStart(5, '0')}`;
      let seen = false;
      agents.push(
        new FleetAgent({
          settings: {
            endpoints: options.endpoints,
            prefix,
            nodeId,
            groups: ['all'],
            requestTimeoutMs: 10_000,
            leaseTtlSeconds: 30,
            reconnectMinMs: 200,
            reconnectMaxMs: 5_000,
          },
          fleet: new FakeFleetLayers(),
          log,
          client: clients[i % clients.length],
          onConnection: (state) => {
            if (state.connected && !seen) {
              seen = true;
              if (++connected === options.nodes) resolve();
            }
          },
        }),
      );
    }
    void started;
  });
  const startedAt = Date.now();
  for (const agent of agents) await agent.start();
  await allConnected;
  const connectMs = Date.now() - startedAt;

  const reportedAt: number[] = [];
  let publishedAt = 0;
  let target = -1;
  const done = new Set<string>();
  let finish: () => void = () => undefined;
  const allReported = new Promise<void>((resolve) => (finish = resolve));
  const stopWatching = await watchReports(
    admin,
    keys,
    (notice) => {
      if (typeof notice.report !== 'object' || !notice.report.ok || target < 0) return;
      const layer = notice.report.report.layers['group:all'];
      if (layer?.revision === target && layer.outcome === 'done' && !done.has(notice.node)) {
        done.add(notice.node);
        reportedAt.push(Date.now() - publishedAt);
        if (done.size === options.nodes) finish();
      }
    },
    () => undefined,
  );
  publishedAt = Date.now();
  const { revision } = await publishLayer({
    client: admin,
    keys,
    target: { group: 'all' },
    text: motd('bench'),
    validate: validateDocument,
  });
  target = revision;
  await allReported;
  stopWatching();
  for (const agent of agents) await agent.stop();
  await admin.delete().prefix(`${prefix}/`).exec();
  for (const client of clients) client.close();
  admin.close();
  reportedAt.sort((a, b) => a - b);
  return {
    nodes: options.nodes,
    connectMs,
    publishToAllReportedMs: reportedAt[reportedAt.length - 1] ?? NaN,
    publishToMedianReportedMs: reportedAt[Math.floor(reportedAt.length / 2)] ?? NaN,
  };
}

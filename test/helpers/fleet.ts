import { Etcd3, type IOptions } from 'etcd3';
import { FleetAgent } from '../../src/fleet/agent.js';
import type { FleetSettings } from '../../src/fleet/config.js';
import { FleetKeys } from '../../src/fleet/keys.js';
import { parseReport, type NodeReport } from '../../src/fleet/report.js';
import type { EtcdCluster } from '../harness/etcd.js';
import { waitFor } from '../harness/processes.js';
import { FakeFleetLayers, quietLog } from './fake-fleet-layers.js';

let prefixes = 0;
/** A key prefix of its own per test: nothing one test writes is seen by another. */
export function freshPrefix(): string {
  return `/t${process.pid}-${++prefixes}-${Date.now() % 100000}`;
}

export function settingsFor(
  cluster: EtcdCluster,
  prefix: string,
  nodeId: string,
  groups: string[],
  extra: Partial<FleetSettings> = {},
): FleetSettings {
  return {
    endpoints: [...cluster.endpoints],
    prefix,
    nodeId,
    groups,
    requestTimeoutMs: 2_000,
    leaseTtlSeconds: 2,
    reconnectMinMs: 100,
    reconnectMaxMs: 1_000,
    ...extra,
  };
}

export function rootClient(cluster: EtcdCluster, extra: Partial<IOptions> = {}): Etcd3 {
  const options: IOptions = { hosts: [...cluster.endpoints], ...extra };
  if (cluster.pki && cluster.rootCertificate) {
    options.credentials = {
      rootCertificate: cluster.pki.ca,
      certChain: cluster.rootCertificate.cert,
      privateKey: cluster.rootCertificate.key,
    };
  } else if (cluster.rootPassword) {
    options.auth = { username: 'root', password: cluster.rootPassword };
  }
  return new Etcd3(options);
}

export interface RunningAgent {
  readonly agent: FleetAgent;
  readonly fake: FakeFleetLayers;
  readonly node: string;
}

export async function startAgent(
  settings: FleetSettings,
  fake = new FakeFleetLayers(),
): Promise<RunningAgent> {
  const agent = new FleetAgent({
    settings,
    fleet: fake,
    log: quietLog.child({ node: settings.nodeId }),
  });
  await agent.start();
  return { agent, fake, node: settings.nodeId };
}

export async function readReport(
  client: Etcd3,
  keys: FleetKeys,
  node: string,
): Promise<NodeReport | undefined> {
  const value = await client.get(keys.nodeReport(node)).buffer();
  if (value === null) return undefined;
  const parsed = parseReport(value, node);
  if (!parsed.ok) throw new Error(parsed.problem);
  return parsed.report;
}

/** Waits until the node's report in etcd satisfies `check`; resolves that report. */
export async function waitForReport(
  client: Etcd3,
  keys: FleetKeys,
  node: string,
  what: string,
  check: (report: NodeReport) => boolean,
  timeoutMs = 15_000,
): Promise<NodeReport> {
  let last: NodeReport | undefined;
  await waitFor(
    `${node}: ${what}`,
    async () => {
      last = await readReport(client, keys, node);
      return last !== undefined && check(last);
    },
    timeoutMs,
  ).catch((err: Error) => {
    throw new Error(`${err.message}; last report: ${JSON.stringify(last?.layers)}`);
  });
  return last as NodeReport;
}

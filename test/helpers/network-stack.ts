import { applyAndWait } from '../../src/cli/client.js';
import type { NetworkSection } from '../../src/plugins/network/schema.js';
import {
  NM_BUS_OPTIONS,
  withNetworkManager,
  type NetworkManagerHarness,
} from '../harness/network-manager.js';
import { startStack, type Stack } from '../harness/stack.js';

/**
 * The daemon and NetworkManager on the SAME private system bus, as on a host:
 * the daemon (and the bus socket) in the host's namespaces, NetworkManager in
 * its own network and mount namespaces. No packagekitd, no systemd manager.
 */
export interface NetworkStack {
  stack: Stack;
  nm: NetworkManagerHarness;
  stop(): Promise<void>;
}

export async function startNetworkStack(daemonArgs: string[] = []): Promise<NetworkStack> {
  let nm: NetworkManagerHarness | undefined;
  const stack = await startStack({
    backend: 'none',
    bus: NM_BUS_OPTIONS,
    daemonArgs,
    services: withNetworkManager((started) => {
      nm = started;
    }),
  });
  return { stack, nm: nm as NetworkManagerHarness, stop: () => stack.stop() };
}

export function networkDocument(section: NetworkSection): string {
  return JSON.stringify({ version: 1, plugins: { network: section } });
}

/** One row of a Plan answer or a job's resources. */
export interface Row {
  plugin: string;
  resource: string;
  action: string;
  outcome?: string;
  error?: string;
  failure?: string;
  reason?: string;
  from?: unknown;
  to?: unknown;
}

/** Applies through the daemon (D-Bus Apply) and waits for the job. */
export async function applyThroughDaemon(
  stack: Stack,
  section: NetworkSection,
): Promise<{ state: string; resources: Row[]; jobPath: string }> {
  const outcome = await applyAndWait(stack.client, networkDocument(section), () => undefined);
  const resources = (JSON.parse(outcome.result) as { resources: Row[] }).resources;
  return { state: outcome.state, resources, jobPath: outcome.jobPath };
}

/** The daemon's Plan for a document: every row, 'none' ones too. */
export async function planThroughDaemon(stack: Stack, section: NetworkSection): Promise<Row[]> {
  return JSON.parse(await stack.client.plan(networkDocument(section))) as Row[];
}

/** The rows that are not 'none'. */
export function pending(rows: readonly Row[]): Row[] {
  return rows.filter((row) => row.action !== 'none');
}

/** NetworkManager's checkpoints now (object paths). */
export async function checkpointsOf(nm: NetworkManagerHarness): Promise<string[]> {
  const out = await nm.exec('busctl', [
    '--system',
    '--json=short',
    'get-property',
    'org.freedesktop.NetworkManager',
    '/org/freedesktop/NetworkManager',
    'org.freedesktop.NetworkManager',
    'Checkpoints',
  ]);
  return (JSON.parse(out) as { data: string[] }).data;
}

/** The IPv4 addresses on a link in NetworkManager's namespace, as `ip -o` prints them ('' when none). */
export async function ipv4Of(nm: NetworkManagerHarness, link: string): Promise<string> {
  return nm.ip('-4', '-o', 'addr', 'show', 'dev', link).catch(() => '');
}

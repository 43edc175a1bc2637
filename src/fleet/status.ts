import type { Etcd3 } from 'etcd3';
import { boundedText } from '../errors.js';
import { revisionOf } from './etcd-client.js';
import { prefixRangeEnd, type FleetKeys } from './keys.js';
import { parseReport, type NodeReport } from './report.js';

export interface LayerStatus {
  readonly layer: string;
  readonly applied: number | null;
  readonly published: number | null;
  readonly outcome: string | undefined;
  readonly refused: readonly string[] | undefined;
  readonly waiting: boolean;
}

export interface NodeStatus {
  readonly node: string;
  readonly alive: boolean;
  readonly report: NodeReport | undefined;
  readonly layers: readonly LayerStatus[];
  /** Why this node makes `status` exit 1: dead, failed, refused, lagging, no report. */
  readonly problems: readonly string[];
}

export interface FleetStatus {
  readonly revision: number;
  readonly nodes: readonly NodeStatus[];
  /** 1 when any node is dead, failed, or lagging past the timeout. */
  readonly exitCode: 0 | 1;
}

/**
 * `op-dbus fleet status [--group NAME]`: every node with a key under
 * `<prefix>/nodes/`, read at one revision with the published documents. A node lags
 * when a layer's applied revision is not the published one and its report is older
 * than `lagMs`: a node writes its report as soon as it sees a publish, so an old
 * report means it has not seen it, or has been stuck on it since.
 */
export async function fleetStatus(
  client: Etcd3,
  keys: FleetKeys,
  options: { group?: string; lagMs: number; now?: Date },
): Promise<FleetStatus> {
  const range = (dir: string) => ({
    request_range: { key: Buffer.from(dir), range_end: prefixRangeEnd(dir) },
  });
  const response = await client.kv.txn({
    compare: [],
    success: [range(keys.nodesDir()), range(keys.groupsDir())],
  });
  const [nodesRange, groupsRange] = response.responses;
  const published = new Map<string, number>();
  for (const kv of groupsRange?.response_range?.kvs ?? []) {
    const group = keys.parseGroupKey(kv.key.toString('utf8'));
    if (group !== undefined) published.set(`group:${group}`, revisionOf(kv.mod_revision));
  }
  const perNode = new Map<string, { alive: boolean; report?: Buffer }>();
  for (const kv of nodesRange?.response_range?.kvs ?? []) {
    const parsed = keys.parseNodeKey(kv.key.toString('utf8'));
    if (!parsed) continue;
    const entry = perNode.get(parsed.node) ?? { alive: false };
    if (parsed.entry === 'alive') entry.alive = true;
    if (parsed.entry === 'report') entry.report = kv.value;
    if (parsed.entry === 'desired')
      published.set(`node:${parsed.node}`, revisionOf(kv.mod_revision));
    perNode.set(parsed.node, entry);
  }
  const now = (options.now ?? new Date()).getTime();
  const nodes: NodeStatus[] = [];
  for (const [node, entry] of [...perNode].sort(([a], [b]) => a.localeCompare(b))) {
    const problems: string[] = [];
    if (!entry.alive) problems.push('dead (no alive key)');
    let report: NodeReport | undefined;
    if (entry.report === undefined) problems.push('no report');
    else {
      const parsed = parseReport(entry.report, node);
      if (parsed.ok) report = parsed.report;
      else problems.push(parsed.problem);
    }
    if (options.group !== undefined && !report?.layers[`group:${options.group}`]) continue;
    const reportAge = report ? now - Date.parse(report.time) : Infinity;
    const layers: LayerStatus[] = Object.entries(report?.layers ?? {}).map(([layer, state]) => {
      const current = published.get(layer) ?? null;
      if (state.outcome === 'failed' || state.outcome === 'cancelled')
        problems.push(`${layer} ${state.outcome}`);
      if (state.refused && state.refused.revision === current)
        problems.push(`${layer} refused revision ${current}`);
      else if (current !== null && state.revision !== current && !(reportAge <= options.lagMs)) {
        problems.push(`${layer} lagging: at ${state.revision ?? 'none'}, published ${current}`);
      }
      return {
        layer,
        applied: state.revision,
        published: current,
        outcome: state.outcome,
        refused: state.refused?.problems,
        waiting: state.waiting !== undefined,
      };
    });
    nodes.push({ node, alive: entry.alive, report, layers, problems });
  }
  const exitCode = nodes.some((n) => n.problems.length > 0) ? 1 : 0;
  return { revision: revisionOf(response.header.revision), nodes, exitCode };
}

/** One line per node, for people. Everything from etcd is bounded and stripped of control characters. */
export function formatStatusLine(status: NodeStatus): string {
  const layers = status.layers.map((l) => {
    const state = l.waiting ? 'waiting' : (l.outcome ?? '-');
    return `${l.layer} ${l.applied ?? '-'}/${l.published ?? '-'} ${state}`;
  });
  const conditions = Object.entries(status.report?.conditions ?? {}).map(
    ([type, c]) => `${type}=${c.status}`,
  );
  const fields = [status.node, status.alive ? 'alive' : 'DEAD', ...layers, ...conditions];
  if (status.problems.length > 0) fields.push(`problems: ${status.problems.join('; ')}`);
  return boundedText(fields.join('  '), 2000);
}

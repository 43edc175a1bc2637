import type { JobResult } from '../engine/jobs/job.js';
/** Human-readable renderings of the daemon's JSON answers. */

interface PlanRow {
  plugin: string;
  resource: string;
  action: string;
  from: unknown;
  to: unknown;
  reason?: string;
}

/** A value as a person reads it: '-' for nothing, key=value pairs for a flat object. */
export function show(value: unknown): string {
  if (value === null || value === undefined) return '-';
  if (typeof value === 'string') return value;
  if (typeof value === 'object' && !Array.isArray(value)) {
    const entries = Object.entries(value as Record<string, unknown>);
    if (entries.every(([, v]) => v === null || typeof v !== 'object'))
      return entries.map(([k, v]) => `${k}=${String(v)}`).join(' ');
  }
  return JSON.stringify(value);
}

function planLine(row: PlanRow): string {
  const base = `  ${row.plugin}/${row.resource}: ${row.action} (${show(row.from)} -> ${show(row.to)})`;
  return row.reason ? `${base}: ${row.reason}` : base;
}

export function formatPlan(planJson: string): string {
  const rows = (JSON.parse(planJson) as PlanRow[]).filter((row) => row.action !== 'none');
  if (rows.length === 0) return 'No changes: the machine already matches the document.';
  return `${rows.length} change(s):\n${rows.map(planLine).join('\n')}`;
}

export function formatResult(state: string, resultJson: string): string {
  const result = JSON.parse(resultJson) as JobResult;
  const lines = result.resources
    .filter((r) => r.outcome !== 'unchanged')
    .map(
      (r) =>
        `  ${r.plugin}/${r.resource || '*'}: ${r.outcome} (${r.action})${r.error ? `: ${r.error}` : ''}${r.failure === 'terminal' ? ' [terminal]' : ''}`,
    );
  const { changed, unchanged, failed } = result.summary;
  const head = `Job ${state}: ${changed} changed, ${unchanged} unchanged, ${failed} failed`;
  return [head, ...lines, ...(result.error ? [`  error: ${result.error}`] : [])].join('\n');
}

export function formatProgress(body: unknown[]): string {
  const [, plugin, resource, phase, percent, message] = body.map((value) => String(value));
  const what = resource ? `${plugin}/${resource}` : plugin;
  return `[${what}] ${phase} ${percent}% ${message}`;
}

interface ConditionJson {
  status: string;
  reason: string;
  message: string;
  lastTransitionTime: string;
}

function usecToIso(usec: unknown): string {
  const value = typeof usec === 'bigint' ? usec : BigInt(String(usec));
  return value === 0n ? 'never' : new Date(Number(value / 1000n)).toISOString();
}

export function formatStatus(properties: Record<string, unknown>): string {
  const conditions = JSON.parse(String(properties.Conditions)) as Record<string, ConditionJson>;
  const lines = [
    `op-dbus ${String(properties.Version)}: ${String(properties.Status)}`,
    `  plugins:            ${(properties.Plugins as string[]).join(', ')}`,
    `  desired generation: ${String(properties.DesiredGeneration)}`,
    `  applied generation: ${String(properties.AppliedGeneration)}`,
    `  last reconcile:     ${usecToIso(properties.LastReconcile)}`,
    `  drift detected:     ${String(properties.DriftCount)} since start`,
    ...(typeof properties.PendingCheckpoint === 'string' && properties.PendingCheckpoint !== '/'
      ? [
          `  pending checkpoint: ${properties.PendingCheckpoint} (op-dbus confirm | op-dbus rollback)`,
        ]
      : []),
    '  conditions:',
    ...Object.entries(conditions).map(
      ([type, c]) =>
        `    ${type.padEnd(12)} ${c.status.padEnd(5)} ${c.reason}: ${c.message} (since ${c.lastTransitionTime})`,
    ),
  ];
  return lines.join('\n');
}

interface VerifyJson {
  inSync: boolean;
  generation: number;
  drifted: PlanRow[];
}

export function formatVerify(reportJson: string): string {
  const report = JSON.parse(reportJson) as VerifyJson;
  if (report.inSync) return `In sync with desired generation ${report.generation}.`;
  const lines = report.drifted.map(planLine);
  return `Drifted from desired generation ${report.generation}: ${report.drifted.length} resource(s)\n${lines.join('\n')}`;
}

export function formatSignal(member: string, body: unknown[]): string | undefined {
  const text = body.map((value) => (typeof value === 'bigint' ? value.toString() : String(value)));
  switch (member) {
    case 'Progress':
      return `job ${text[0]} ${formatProgress(body)}`;
    case 'DriftDetected':
      return `drift ${text[0]}/${text[1]}: observed ${text[2]}, desired ${text[3]}`;
    case 'JobNew':
      return `job ${text[0]} new (${text[2]})`;
    case 'JobRemoved':
      return `job ${text[0]} ${text[2]}`;
    default:
      return undefined;
  }
}

interface HistoryRecord {
  seq: number;
  time: string;
  uid: number;
  job: number;
  kind: string;
  state: string;
  plan: { plugin: string; resource: string; action: string }[];
}

/** What `apply --confirm-timeout` says once the probationary job has ended. */
export function formatProbation(checkpoint: Record<string, unknown>): string {
  const deadline = new Date(Number(BigInt(String(checkpoint.Deadline)) / 1000n));
  const seconds = Math.max(Math.round((deadline.getTime() - Date.now()) / 1000), 0);
  const snapshot = JSON.parse(String(checkpoint.Snapshot)) as { plugin: string; restore: string }[];
  const restores = snapshot.map((entry) => `${entry.plugin}: ${entry.restore}`).join(', ');
  return [
    `Applied on probation: checkpoint ${String(checkpoint.Id)} rolls back at ${deadline.toISOString()} (in ${seconds} s) unless confirmed.`,
    '  confirm: op-dbus confirm      roll back now: op-dbus rollback',
    ...(restores ? [`  a rollback restores: ${restores}`] : []),
  ].join('\n');
}

export function formatHistory(recordsJson: string): string {
  const records = JSON.parse(recordsJson) as HistoryRecord[];
  if (records.length === 0) return 'The ledger is empty.';
  return records
    .map((r) => {
      const changes = r.plan.map((p) => `${p.plugin}/${p.resource}:${p.action}`).join(' ');
      return `#${r.seq} ${r.time} uid=${r.uid} job ${r.job} ${r.kind} ${r.state}${changes ? ` ${changes}` : ''}`;
    })
    .join('\n');
}

export function formatLedgerReport(reportJson: string): string {
  const report = JSON.parse(reportJson) as {
    ok: boolean;
    records: number;
    firstBad?: { line: number; reason: string };
    tornTail?: { line: number; bytes: number };
  };
  if (report.ok) return `Ledger intact: ${report.records} record(s) verify.`;
  const lines = [`Ledger NOT intact: ${report.records} record(s) verify before the first problem.`];
  if (report.firstBad) lines.push(`  line ${report.firstBad.line}: ${report.firstBad.reason}`);
  if (report.tornTail) {
    lines.push(
      `  line ${report.tornTail.line}: a partial record of ${report.tornTail.bytes} bytes (a crash while appending)`,
    );
  }
  return lines.join('\n');
}

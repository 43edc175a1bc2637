/** Human-readable renderings of the daemon's JSON answers. */

interface PlanRow {
  plugin: string;
  resource: string;
  action: string;
  from: unknown;
  to: unknown;
}

interface ResultJson {
  summary: { changed: number; unchanged: number; failed: number };
  resources: {
    plugin: string;
    resource: string;
    outcome: string;
    action: string;
    error?: string;
  }[];
  error?: string;
}

const show = (value: unknown): string =>
  value === null || value === undefined
    ? '-'
    : typeof value === 'string'
      ? value
      : JSON.stringify(value);

export function formatPlan(planJson: string): string {
  const rows = (JSON.parse(planJson) as PlanRow[]).filter((row) => row.action !== 'none');
  if (rows.length === 0) return 'No changes: the machine already matches the document.';
  const lines = rows.map(
    (row) =>
      `  ${row.plugin}/${row.resource}: ${row.action} (${show(row.from)} -> ${show(row.to)})`,
  );
  return `${rows.length} change(s):\n${lines.join('\n')}`;
}

export function formatResult(state: string, resultJson: string): string {
  const result = JSON.parse(resultJson) as ResultJson;
  const lines = result.resources
    .filter((r) => r.outcome !== 'unchanged')
    .map(
      (r) =>
        `  ${r.plugin}/${r.resource || '*'}: ${r.outcome} (${r.action})${r.error ? `: ${r.error}` : ''}`,
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

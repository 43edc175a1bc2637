import { Type, type Static } from '@sinclair/typebox';
import { SchemaChecker } from '../document/validator.js';
import { boundedText } from '../errors.js';
import { NAME_PATTERN } from './keys.js';

/** A report larger than this is refused when read (a node writes far less). */
export const MAX_REPORT_BYTES = 256 * 1024;
const MAX_PROBLEMS = 50;

const Revision = Type.Integer({ minimum: 0 });

export const LayerReportSchema = Type.Object(
  {
    /** The revision the node holds (persisted), if any. */
    revision: Type.Union([Revision, Type.Null()]),
    /** The newest revision the node has seen published; null when the key does not exist. */
    published: Type.Optional(Type.Union([Revision, Type.Null()])),
    /** How the job for `revision` ended ('pending' while it runs); absent when not known. */
    outcome: Type.Optional(
      Type.Union([
        Type.Literal('pending'),
        Type.Literal('done'),
        Type.Literal('failed'),
        Type.Literal('cancelled'),
      ]),
    ),
    job: Type.Optional(Type.Integer({ minimum: 0 })),
    /** A published revision the node refused, with every problem found. */
    refused: Type.Optional(
      Type.Object(
        {
          revision: Revision,
          problems: Type.Array(Type.String({ maxLength: 1000 }), { maxItems: MAX_PROBLEMS + 1 }),
        },
        { additionalProperties: false },
      ),
    ),
    /** Waiting for a rollout slot before applying this revision. */
    waiting: Type.Optional(Type.Object({ revision: Revision }, { additionalProperties: false })),
  },
  { additionalProperties: false },
);
export type LayerReport = Static<typeof LayerReportSchema>;

export const ConditionReportSchema = Type.Object(
  {
    status: Type.Union([Type.Literal('True'), Type.Literal('False'), Type.Literal('Unknown')]),
    reason: Type.String({ maxLength: 200 }),
    message: Type.String({ maxLength: 1000 }),
  },
  { additionalProperties: false },
);
export type ConditionReport = Static<typeof ConditionReportSchema>;

export const NodeReportSchema = Type.Object(
  {
    node: Type.String({ pattern: NAME_PATTERN }),
    time: Type.String({ maxLength: 64 }),
    generation: Type.Integer({ minimum: 0 }),
    layers: Type.Record(
      Type.String({ pattern: '^(group|node):[A-Za-z0-9][A-Za-z0-9._-]{0,63}$' }),
      LayerReportSchema,
      { additionalProperties: false },
    ),
    conditions: Type.Record(
      Type.String({ pattern: '^[A-Za-z][A-Za-z0-9]{0,63}$' }),
      ConditionReportSchema,
      { additionalProperties: false },
    ),
    lastResult: Type.Unknown(),
    ledgerHead: Type.String({ maxLength: 128 }),
  },
  { additionalProperties: false },
);
export type NodeReport = Static<typeof NodeReportSchema>;

const reportChecker = new SchemaChecker(NodeReportSchema);

/**
 * The engine's conditions in the report's shape: only entries that look like
 * conditions, texts bounded. What the engine gives is JSON we did not write.
 */
export function conditionsForReport(conditions: unknown): Record<string, ConditionReport> {
  const out: Record<string, ConditionReport> = {};
  if (typeof conditions !== 'object' || conditions === null) return out;
  const entries = Array.isArray(conditions)
    ? conditions.map((c: unknown) => [(c as { type?: unknown })?.type, c] as const)
    : Object.entries(conditions);
  for (const [type, value] of entries) {
    if (typeof type !== 'string' || !/^[A-Za-z][A-Za-z0-9]{0,63}$/.test(type)) continue;
    if (typeof value !== 'object' || value === null) continue;
    const { status, reason, message } = value as Record<string, unknown>;
    if (status !== 'True' && status !== 'False' && status !== 'Unknown') continue;
    out[type] = {
      status,
      reason: boundedText(typeof reason === 'string' ? reason : '', 200),
      message: boundedText(typeof message === 'string' ? message : '', 900),
    };
  }
  return out;
}

/** A value the engine gave as the last job summary, kept only if small. */
export function boundedJson(value: unknown, maxBytes = 16 * 1024): unknown {
  try {
    const text = JSON.stringify(value ?? null);
    if (Buffer.byteLength(text) <= maxBytes) return JSON.parse(text) as unknown;
    return { truncated: boundedText(text, 500) };
  } catch {
    return null;
  }
}

/** Problems as they go into a report: bounded in number and length. */
export function problemsForReport(problems: readonly string[]): string[] {
  const shown = problems.slice(0, MAX_PROBLEMS).map((p) => boundedText(p, 900));
  if (problems.length > MAX_PROBLEMS) shown.push(`... and ${problems.length - MAX_PROBLEMS} more`);
  return shown;
}

export type ParsedReport =
  | { readonly ok: true; readonly report: NodeReport }
  | { readonly ok: false; readonly problem: string };

/** A report read from etcd, checked like any input: size, JSON, schema, and the node it claims. */
export function parseReport(value: Buffer, expectedNode: string): ParsedReport {
  if (value.length > MAX_REPORT_BYTES) {
    return { ok: false, problem: `report is ${value.length} bytes (limit ${MAX_REPORT_BYTES})` };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(value.toString('utf8'));
  } catch {
    return { ok: false, problem: 'report is not JSON' };
  }
  const problems = reportChecker.problems(parsed);
  if (problems.length > 0) {
    return {
      ok: false,
      problem: `report is invalid: ${boundedText(problems.slice(0, 3).join('; '))}`,
    };
  }
  const report = parsed as NodeReport;
  if (report.node !== expectedNode) {
    return { ok: false, problem: `report under node ${expectedNode} claims node ${report.node}` };
  }
  return { ok: true, report };
}

import { Type, type Static } from '@sinclair/typebox';
import { MAX_DOCUMENT_BYTES, SchemaChecker } from '../document/validator.js';

/**
 * Rollout settings ride in the group document itself, as a top-level `rollout` field
 * that is stripped before the rest becomes the layer. Why there and not in a sibling
 * key: the settings that govern revision R are the ones published with R, read in
 * the same value at the same mod_revision, so no node can ever see a document with
 * another revision's settings; a publish stays one compare-and-swap on one key; and a
 * node watches one key per group. The cost: changing only the settings makes a new
 * revision, which nodes roll out like any other (the document is unchanged, so their
 * jobs change nothing).
 */
export const RolloutSettingsSchema = Type.Object(
  {
    max_unavailable: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 10_000,
        description: 'Nodes that may apply a new revision at once; absent: all at once.',
      }),
    ),
  },
  { additionalProperties: false },
);
export type RolloutSettings = Static<typeof RolloutSettingsSchema>;

const rolloutChecker = new SchemaChecker(RolloutSettingsSchema);
const utf8 = new TextDecoder('utf-8', { fatal: true });

export type DecodedLayer =
  | { readonly ok: true; readonly document: unknown; readonly rollout: RolloutSettings }
  | { readonly ok: false; readonly problems: readonly string[] };

function refused(...problems: string[]): DecodedLayer {
  return { ok: false, problems };
}

/**
 * A published value (bytes from etcd, or a file for `fleet publish`) as a document
 * and its rollout settings. Only the envelope is checked here: the document itself is
 * validated by the engine (FleetLayers.setLayer) or by the CLI's validator, exactly
 * like a document from D-Bus.
 */
export function decodeLayerValue(value: Buffer | string, kind: 'group' | 'node'): DecodedLayer {
  const bytes = typeof value === 'string' ? Buffer.byteLength(value, 'utf8') : value.length;
  if (bytes > MAX_DOCUMENT_BYTES) {
    return refused(`/: document is ${bytes} bytes; the limit is ${MAX_DOCUMENT_BYTES}`);
  }
  let parsed: unknown;
  try {
    const text = typeof value === 'string' ? value : utf8.decode(value);
    parsed = JSON.parse(text);
  } catch (err) {
    return refused(`/: not valid UTF-8 JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    return refused('/: must be an object');
  }
  if (!Object.hasOwn(parsed, 'rollout')) return { ok: true, document: parsed, rollout: {} };
  const { rollout, ...document } = parsed as Record<string, unknown>;
  if (kind === 'node') return refused('/rollout: only a group document carries rollout settings');
  const problems = rolloutChecker
    .problems(rollout)
    .map((p) => (p.startsWith('/:') ? `/rollout${p.slice(1)}` : `/rollout${p}`));
  if (problems.length > 0) return refused(...problems);
  return { ok: true, document, rollout: rollout as RolloutSettings };
}

/** The problems of a thrown validation error, one per line (InvalidDocument lists them so). */
export function problemsOf(err: unknown): string[] {
  const message = err instanceof Error ? err.message : String(err);
  const lines = message
    .split('\n')
    .slice(1)
    .map((line) => line.trim())
    .filter((line) => line.length > 0);
  return lines.length > 0 ? lines : [message];
}

import { Type, type Static } from '@sinclair/typebox';

export type CheckpointState = 'pending' | 'confirmed' | 'rolled-back' | 'rollback-failed';

export type { Restore } from '../plugin.js';

/**
 * One resource as it was before the probationary apply changed it: the section
 * the plugin captured (applying it restores the resource), and how exact that is.
 */
export const SnapshotEntry = Type.Object({
  plugin: Type.String(),
  /** The plugin's section describing the resources as they were (re-applied to roll back). */
  section: Type.Unknown(),
  restore: Type.Union([Type.Literal('exact'), Type.Literal('approximate')]),
});
export type SnapshotEntry = Static<typeof SnapshotEntry>;

/** A checkpoint as persisted in the state directory (checkpoint.json). */
export const CheckpointRecord = Type.Object(
  {
    id: Type.Integer({ minimum: 1 }),
    state: Type.Union([
      Type.Literal('pending'),
      Type.Literal('confirmed'),
      Type.Literal('rolled-back'),
      Type.Literal('rollback-failed'),
    ]),
    /**
     * Milliseconds since the epoch. Counted from the end of the probationary
     * apply (as Junos' commit confirmed counts from the commit): until that job
     * ends, it is provisional (from the call).
     */
    deadline: Type.Number(),
    timeoutMs: Type.Integer({ minimum: 1000 }),
    createdAt: Type.String(),
    requestedBy: Type.Object({ sender: Type.String(), uid: Type.Integer() }),
    /** The desired document before the probationary one, and its generation. */
    previous: Type.Object({ document: Type.Unknown(), generation: Type.Integer({ minimum: 0 }) }),
    /** The probationary document. */
    document: Type.Unknown(),
    /** Filled in per plugin just before that plugin applies. */
    snapshot: Type.Array(SnapshotEntry),
    /** Resources whose rollback failed, with why (state rollback-failed). */
    failed: Type.Array(
      Type.Object({ plugin: Type.String(), resource: Type.String(), error: Type.String() }),
    ),
  },
  { additionalProperties: false },
);
export type CheckpointRecord = Static<typeof CheckpointRecord>;

/** The document that restores every snapshot entry (what the rollback job applies). */
export function restoreDocument(record: CheckpointRecord): {
  version: 1;
  plugins: Record<string, unknown>;
} {
  return {
    version: 1,
    plugins: Object.fromEntries(record.snapshot.map((entry) => [entry.plugin, entry.section])),
  };
}

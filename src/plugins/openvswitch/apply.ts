import {
  boundedText,
  errorMessage,
  PluginFailure,
  retryableFailure,
  type FailureKind,
} from '../../errors.js';
import type { PluginContext, ResourceOutcome } from '../../engine/plugin.js';
import type { ServiceSlots } from '../shared/service-slots.js';
import { describeRpcError } from './ovsdb/json-rpc.js';
import type { OvsdbClient } from './ovsdb/client.js';
import type { OvsChange } from './plan.js';
import type { OpenvswitchSection } from './schema.js';
import { appliedConfiguration, snapshot, type OvsState } from './state.js';
import { buildTransaction, isActionable, type OvsTransaction } from './transaction.js';
import { verifyChange } from './verify.js';

/** How long ovs-vswitchd may take to apply a committed configuration (measured: well under 1 s). */
export const DEFAULT_VSWITCHD_WAIT_MS = 15_000;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Reads a transact answer: the new next_cfg when it committed, else a
 * retryable failure. A failed guard means someone changed what observe read:
 * nothing was written, and the engine's retry plans afresh.
 */
export function readTransactResults(results: readonly unknown[], tx: OvsTransaction): number {
  const failedAt = results.findIndex((result) => isObject(result) && 'error' in result);
  if (failedAt >= 0) {
    const error = describeRpcError(results[failedAt]);
    const guarded = tx.guards.get(failedAt);
    if (guarded !== undefined) {
      throw retryableFailure(
        `Open vSwitch changed since it was read (${guarded}); the transaction was aborted and nothing was changed`,
      );
    }
    throw retryableFailure(boundedText(`ovsdb-server refused the transaction: ${error}`));
  }
  const select = results[tx.nextCfgIndex];
  const rows = isObject(select) && Array.isArray(select.rows) ? (select.rows as unknown[]) : null;
  if (rows?.length === 0) {
    // Without the root row nothing new is referenced, so ovsdb-server kept nothing.
    throw retryableFailure(
      'the Open_vSwitch table has no row: the database was never initialised (ovs-vsctl init or ovs-vswitchd does it)',
    );
  }
  const [row] = rows ?? [];
  const nextCfg = isObject(row) ? row.next_cfg : undefined;
  if (typeof nextCfg !== 'number' || !Number.isSafeInteger(nextCfg)) {
    throw retryableFailure('ovsdb-server sent a malformed transact reply (no next_cfg)');
  }
  return nextCfg;
}

export interface ApplyOptions {
  client: OvsdbClient;
  /** The plugin's slots on ovsdb-server: the transaction takes one, as a job. */
  slots: ServiceSlots;
  ctx: PluginContext;
  vswitchdWaitMs?: number;
}

/**
 * Every change that was in the transaction failed with `error`; the others are
 * reported as they were planned ('none' unchanged, 'unresolvable' failed).
 */
function failActionable(
  changes: readonly OvsChange[],
  observed: OvsState,
  error: string,
  failure: FailureKind,
): ResourceOutcome[] {
  return changes.map((change) =>
    isActionable(change)
      ? { resource: change.resource, outcome: 'failed', action: change.action, error, failure }
      : verifyChange(change, observed),
  );
}

/**
 * Makes every change in ONE transaction guarded on `observed`, waits until
 * ovs-vswitchd has applied it (cur_cfg reaches the transaction's next_cfg, as
 * ovs-vsctl waits), then verifies each change from the replica. A transaction
 * ovsdb-server aborted (a guard saw someone else's change) or refused fails the
 * changes that were in it, with its words; an unreachable ovsdb-server throws.
 */
export async function applyChanges(
  changes: readonly OvsChange[],
  desired: OpenvswitchSection,
  observed: OvsState,
  { client, slots, ctx, vswitchdWaitMs = DEFAULT_VSWITCHD_WAIT_MS }: ApplyOptions,
): Promise<ResourceOutcome[]> {
  const actionable = changes.filter(isActionable);
  if (actionable.length === 0) return changes.map((change) => verifyChange(change, observed));
  const tx = buildTransaction(actionable, desired, observed);
  ctx.progress({ resource: '', phase: 'transact', percent: 0, message: 'one OVSDB transaction' });
  const results = await slots.run(ctx.priority, ctx.signal, () =>
    client.transact(tx.operations, ctx.signal),
  );
  let nextCfg: number;
  try {
    nextCfg = readTransactResults(results, tx);
  } catch (err) {
    if (!(err instanceof PluginFailure)) throw err;
    ctx.log.warn({ err: err.message }, 'ovsdb transaction not committed');
    return failActionable(changes, observed, err.message, err.kind);
  }
  ctx.log.info({ changes: actionable.length, nextCfg }, 'ovsdb transaction committed');
  ctx.progress({ resource: '', phase: 'vswitchd', percent: 50, message: 'ovs-vswitchd applying' });
  const waitMs = Math.max(0, Math.min(vswitchdWaitMs, ctx.deadline - Date.now()));
  try {
    await client.waitFor(
      'ovs-vswitchd applying the configuration',
      (replica) => appliedConfiguration(replica) >= nextCfg,
      { timeoutMs: waitMs, signal: ctx.signal },
    );
  } catch (err) {
    if (ctx.signal.aborted) throw err;
    // Committed, but not (yet) in effect: every change fails, retryable.
    const error = boundedText(
      `committed to OVSDB, but ovs-vswitchd has not applied it (is it running?): ${errorMessage(err)}`,
    );
    return failActionable(changes, observed, error, 'retryable');
  }
  ctx.progress({ resource: '', phase: 'verify', percent: 90, message: 'reading back' });
  const after = snapshot(client.replica);
  return changes.map((change) => verifyChange(change, isActionable(change) ? after : observed));
}

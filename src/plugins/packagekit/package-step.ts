import type { PluginContext, ResourceOutcome } from '../../engine/plugin.js';
import { boundedText, errorMessage, failureKindOf } from '../../errors.js';
import type { PkPackage, TransactionEvent } from './packagekit-client.js';
import type { PackageChange } from './plan.js';
import { progressReporter } from './progress.js';

/** PackageKit's install and remove transactions, each run in a job slot. */
export interface PackageTransactions {
  install(
    ids: string[],
    allowDowngrade: boolean,
    ctx: PluginContext,
    onEvent: (event: TransactionEvent) => void,
  ): Promise<PkPackage[]>;
  /** autoremove: also remove what these pulled in that nothing else needs. */
  remove(
    ids: string[],
    autoremove: boolean,
    ctx: PluginContext,
    onEvent: (event: TransactionEvent) => void,
  ): Promise<PkPackage[]>;
}

/** When the apply refreshed the package lists first: whether that worked. */
export interface RefreshNote {
  error: string | undefined;
}

/** Why an unresolvable package failed; after a refresh, it says so. */
function notFound(change: PackageChange, refreshed: RefreshNote | undefined): string {
  const reason = change.reason ?? `'${change.resource}' cannot be found in any repository`;
  if (!refreshed) return reason;
  const failedRefresh =
    refreshed.error === undefined ? '' : ` (the refresh failed: ${refreshed.error})`;
  return boundedText(`not found after refreshing the package lists: ${reason}${failedRefresh}`);
}

/**
 * The packages' part of an apply: one InstallPackages for every install,
 * upgrade and version change, then one RemovePackages per autoremove choice
 * (the flag is per transaction). An unresolvable package fails (terminal)
 * without a transaction. A change planned again after a refresh may have
 * become 'none': it is unchanged.
 */
export async function applyPackageChanges(
  changes: readonly PackageChange[],
  transactions: PackageTransactions,
  autoremoveOf: (name: string) => boolean,
  ctx: PluginContext,
  refreshed?: RefreshNote,
): Promise<ResourceOutcome[]> {
  const outcomes: ResourceOutcome[] = [];
  for (const change of changes) {
    if (change.action === 'none')
      outcomes.push({ resource: change.resource, outcome: 'unchanged', action: 'none' });
    else if (change.packageId === undefined)
      outcomes.push({
        resource: change.resource,
        outcome: 'failed',
        action: change.action,
        error: notFound(change, refreshed),
        failure: 'terminal',
      });
  }
  const pending = changes.filter((c) => c.action !== 'none' && c.packageId !== undefined);
  const installs = pending.filter((c) => c.action !== 'remove');
  const removals = pending.filter((c) => c.action === 'remove');
  if (installs.length > 0) {
    const downgrade = installs.some((c) => c.action === 'change-version');
    outcomes.push(
      ...(await transact(installs, ctx, (ids, onEvent) =>
        transactions.install(ids, downgrade, ctx, onEvent),
      )),
    );
  }
  for (const autoremove of [false, true]) {
    const batch = removals.filter((c) => autoremoveOf(c.resource) === autoremove);
    if (batch.length === 0) continue;
    outcomes.push(
      ...(await transact(batch, ctx, (ids, onEvent) =>
        transactions.remove(ids, autoremove, ctx, onEvent),
      )),
    );
  }
  return outcomes;
}

/** Runs one transaction for a batch of changes; a failure fails every change in it. */
async function transact(
  changes: PackageChange[],
  ctx: PluginContext,
  run: (ids: string[], onEvent: (event: TransactionEvent) => void) => Promise<PkPackage[]>,
): Promise<ResourceOutcome[]> {
  const ids = changes.map((change) => change.packageId as string);
  const names = new Set(changes.map((change) => change.resource));
  try {
    await run(ids, progressReporter(names, ctx));
    return changes.map(({ resource, action }) => ({ resource, outcome: 'changed', action }));
  } catch (err) {
    if (ctx.signal.aborted) throw err;
    const error = errorMessage(err);
    const failure = failureKindOf(err);
    return changes.map(({ resource, action }) => ({
      resource,
      outcome: 'failed',
      action,
      error,
      failure,
    }));
  }
}

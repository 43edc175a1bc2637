import type { PluginContext, ResourceOutcome } from '../../engine/plugin.js';
import { boundedText, errorMessage } from '../../errors.js';
import { applyRepositoryChanges } from './repositories/apply.js';
import { hasReleaseLists } from './repositories/apt-lists.js';
import type { AptLocation } from './repositories/observe.js';
import type { RepositoryChange } from './repositories/plan.js';
import { outcomesAfterRefresh, REFRESHING_ACTIONS } from './repositories/refresh-outcomes.js';
import { repositoryOf, type RepositoriesMap } from './repositories/schema.js';

export interface RepositoryStepResult {
  outcomes: ResourceOutcome[];
  /** Whether RefreshCache ran (well or not): what was resolved before it is stale. */
  refreshed: boolean;
  /** PackageKit's (apt's) words when the refresh failed. */
  refreshError: string | undefined;
}

/**
 * The first part of an apply: op-dbus's .sources files are written or removed,
 * then, when one of them changed or a repository has no package lists yet,
 * ONE refresh of the package lists (`refresh`: PackageKit's RefreshCache in a
 * job slot). A failed refresh fails the repositories it concerns with apt's
 * words (refresh-outcomes.ts); it never throws unless the job is cancelled.
 */
export async function applyRepositoryStep(
  changes: readonly RepositoryChange[],
  desired: RepositoriesMap,
  location: AptLocation,
  refresh: (ctx: PluginContext) => Promise<void>,
  ctx: PluginContext,
): Promise<RepositoryStepResult> {
  const written = await applyRepositoryChanges(changes, location, ctx);
  const needsRefresh = written.some(
    (outcome) => outcome.outcome === 'changed' && REFRESHING_ACTIONS.has(outcome.action),
  );
  if (!needsRefresh) return { outcomes: written, refreshed: false, refreshError: undefined };
  let refreshError: string | undefined;
  try {
    await refresh(ctx);
    ctx.log.info('package lists refreshed');
  } catch (err) {
    if (ctx.signal.aborted) throw err;
    refreshError = boundedText(errorMessage(err));
    ctx.log.warn({ err: refreshError }, 'refreshing the package lists failed');
  }
  const present = (name: string) => {
    const spec = desired[name];
    return spec ? repositoryOf(spec) : undefined;
  };
  const outcomes = outcomesAfterRefresh(
    changes,
    written,
    { error: refreshError },
    present,
    (repository) => hasReleaseLists(repository, location.listsDir),
  );
  return { outcomes, refreshed: true, refreshError };
}

import type { EnginePlugin, PlannedChange, ResourceOutcome } from './plugin.js';
import type { ReadOptions } from './reconciler.js';
import { runStep } from './step-context.js';

/**
 * Observes again after applying: a resource still not as desired has failed,
 * whatever the service said (an install can "succeed" and leave nothing
 * behind). Such a failure is retryable: the service may do better next time.
 */
export async function verifyOutcomes(
  plugin: EnginePlugin,
  section: unknown,
  planned: readonly PlannedChange[],
  applied: readonly ResourceOutcome[],
  step: ReadOptions & {
    progress: (report: {
      resource: string;
      phase: string;
      percent: number;
      message: string;
    }) => void;
  },
): Promise<ResourceOutcome[]> {
  const appliedByResource = new Map(applied.map((outcome) => [outcome.resource, outcome]));
  // Nothing to check when every change already failed (and the service may be gone).
  const needsVerify = applied.some((outcome) => outcome.outcome !== 'failed');
  step.progress({ resource: '', phase: 'verifying', percent: 100, message: 'checking the result' });
  const remaining = new Map<string, PlannedChange>();
  if (needsVerify) {
    const observed = await runStep(plugin, 'read', step, (ctx) =>
      plugin.instance.observe(section, ctx),
    );
    for (const change of plugin.instance.plan(section, observed)) {
      if (change.action !== 'none') remaining.set(change.resource, change);
    }
  }
  return planned.map((change): ResourceOutcome => {
    if (change.action === 'none')
      return { resource: change.resource, outcome: 'unchanged', action: 'none' };
    const outcome = appliedByResource.get(change.resource);
    if (outcome?.outcome === 'failed') return { failure: 'retryable', ...outcome };
    const left = remaining.get(change.resource);
    if (left) {
      return {
        resource: change.resource,
        outcome: 'failed',
        action: change.action,
        error: `not as desired after ${change.action}: still needs ${left.action} (now ${JSON.stringify(left.from)})`,
        failure: 'retryable',
      };
    }
    // The action apply says it took (a package unresolvable before a refresh is installed).
    return {
      resource: change.resource,
      outcome: 'changed',
      action: outcome?.action ?? change.action,
    };
  });
}

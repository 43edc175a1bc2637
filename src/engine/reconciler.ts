import type { Logger } from 'pino';
import type { DesiredDocument } from '../document/document.js';
import { errorMessage } from '../errors.js';
import type {
  AnyPlugin,
  PlannedChange,
  PluginContext,
  ProgressReport,
  ResourceOutcome,
} from './plugin.js';
import type { PluginOutcome } from './job.js';

/** A planned change with the plugin it belongs to: one row of Plan's answer. */
export type PlanAction = PlannedChange & { plugin: string };

export interface RunHooks {
  signal: AbortSignal;
  log: Logger;
  /** Called with progress of plugin `index` of `count`. */
  progress(plugin: string, index: number, count: number, report: ProgressReport): void;
}

/**
 * Drives plugins through observe, plan, apply and verify, in registry order
 * (packages before units: a unit often comes with its package). A plugin that
 * fails marks its own resources failed; the others still run.
 */
export class Reconciler {
  constructor(private readonly plugins: readonly AnyPlugin[]) {}

  private sectionsOf(document: DesiredDocument): [AnyPlugin, unknown][] {
    return this.plugins
      .filter((plugin) => document.plugins[plugin.name] !== undefined)
      .map((plugin) => [plugin, document.plugins[plugin.name]]);
  }

  private context(plugin: AnyPlugin, index: number, count: number, hooks: RunHooks): PluginContext {
    return {
      log: hooks.log.child({ plugin: plugin.name }),
      signal: hooks.signal,
      progress: (report) => hooks.progress(plugin.name, index, count, report),
    };
  }

  /** What applying `document` would change now. Reads only. */
  async plan(document: DesiredDocument, hooks: RunHooks): Promise<PlanAction[]> {
    const sections = this.sectionsOf(document);
    const actions: PlanAction[] = [];
    for (const [index, [plugin, section]] of sections.entries()) {
      const observed = await plugin.observe(
        section,
        this.context(plugin, index, sections.length, hooks),
      );
      for (const { resource, action, from, to } of plugin.plan(section, observed)) {
        actions.push({ plugin: plugin.name, resource, action, from, to });
      }
    }
    return actions;
  }

  /** Converges the machine on `document`; never throws for a plugin's failure. */
  async reconcile(document: DesiredDocument, hooks: RunHooks): Promise<PluginOutcome[]> {
    const sections = this.sectionsOf(document);
    const outcomes: PluginOutcome[] = [];
    for (const [index, [plugin, section]] of sections.entries()) {
      hooks.signal.throwIfAborted();
      const ctx = this.context(plugin, index, sections.length, hooks);
      const results = await this.reconcilePlugin(plugin, section, ctx);
      for (const result of results) outcomes.push({ plugin: plugin.name, ...result });
    }
    return outcomes;
  }

  private async reconcilePlugin(
    plugin: AnyPlugin,
    section: unknown,
    ctx: PluginContext,
  ): Promise<ResourceOutcome[]> {
    let changes: PlannedChange[] = [];
    try {
      ctx.progress({
        resource: '',
        phase: 'resolving',
        percent: 0,
        message: 'reading current state',
      });
      const observed = await plugin.observe(section, ctx);
      changes = plugin.plan(section, observed);
      const pending = changes.filter((change) => change.action !== 'none');
      const applied = pending.length > 0 ? await plugin.apply(pending, section, observed, ctx) : [];
      return await this.verify(plugin, section, changes, applied, ctx);
    } catch (err) {
      if (ctx.signal.aborted) throw err;
      ctx.log.warn({ err: errorMessage(err) }, 'plugin failed');
      const error = errorMessage(err);
      const resources = changes.length > 0 ? changes : [{ resource: '', action: 'none' }];
      return resources.map((change) => ({
        resource: change.resource,
        outcome: 'failed',
        action: change.action,
        error,
      }));
    }
  }

  /**
   * Observes again after applying: a resource still not as desired has failed,
   * whatever the service said (an install can "succeed" and leave nothing behind).
   */
  private async verify(
    plugin: AnyPlugin,
    section: unknown,
    planned: PlannedChange[],
    applied: ResourceOutcome[],
    ctx: PluginContext,
  ): Promise<ResourceOutcome[]> {
    const appliedByResource = new Map(applied.map((outcome) => [outcome.resource, outcome]));
    // Nothing to check when every change failed (and the service may be gone).
    const needsVerify = applied.some((outcome) => outcome.outcome !== 'failed');
    ctx.progress({
      resource: '',
      phase: 'verifying',
      percent: 100,
      message: 'checking the result',
    });
    const remaining = needsVerify
      ? new Map(
          plugin
            .plan(section, await plugin.observe(section, ctx))
            .filter((c) => c.action !== 'none')
            .map((c) => [c.resource, c]),
        )
      : new Map<string, PlannedChange>();
    return planned.map((change): ResourceOutcome => {
      if (change.action === 'none')
        return { resource: change.resource, outcome: 'unchanged', action: 'none' };
      const outcome = appliedByResource.get(change.resource);
      if (outcome?.outcome === 'failed') return outcome;
      const left = remaining.get(change.resource);
      if (left) {
        return {
          resource: change.resource,
          outcome: 'failed',
          action: change.action,
          error: `not as desired after ${change.action}: still needs ${left.action} (now ${JSON.stringify(left.from)})`,
        };
      }
      return { resource: change.resource, outcome: 'changed', action: change.action };
    });
  }

  /** The current state of the named plugins, as a document. */
  async query(names: readonly string[], hooks: RunHooks): Promise<DesiredDocument> {
    const chosen = this.plugins.filter(
      (plugin) => names.length === 0 || names.includes(plugin.name),
    );
    const plugins: Record<string, unknown> = {};
    for (const [index, plugin] of chosen.entries()) {
      plugins[plugin.name] = await plugin.query(this.context(plugin, index, chosen.length, hooks));
    }
    return { version: 1, plugins };
  }
}

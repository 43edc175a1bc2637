import type { Logger } from 'pino';
import type { DesiredDocument } from '../document/document.js';
import { boundedText, errorMessage, failureKindOf, terminalFailure } from '../errors.js';
import type { CaptureHook, PluginOutcome } from './jobs/job.js';
import type {
  EnginePlugin,
  PlannedChange,
  PluginContext,
  ProgressReport,
  ResourceOutcome,
  WorkPriority,
} from './plugin.js';
import { runStep } from './step-context.js';
import { verifyOutcomes } from './verify.js';

/**
 * A planned change with the plugin it belongs to: one row of Plan's answer.
 * `layer` names the desired-state layer the resource comes from, when the
 * node has fleet layers.
 */
export type PlanAction = PlannedChange & { plugin: string; layer?: string };

export interface ReadOptions {
  signal: AbortSignal;
  log: Logger;
  priority: WorkPriority;
}

export interface RunOptions {
  signal: AbortSignal;
  log: Logger;
  /** An apply on probation: what each plugin captures goes here before it applies. */
  capture?: CaptureHook;
  /** Progress of the plugin at `index` of `count` in this run. */
  progress(plugin: string, index: number, count: number, report: ProgressReport): void;
}

/** What Query could read, and why each plugin it could not read failed. */
export interface QueryAnswer {
  document: DesiredDocument;
  unreadable: Record<string, string>;
}

/**
 * Drives plugins through observe, plan, apply and verify, in registry order
 * (packages before units: a unit often comes with its package), each step
 * under the engine's deadline. A plugin that fails marks its own resources
 * failed; the others still run.
 */
export class Reconciler {
  constructor(private readonly plugins: readonly EnginePlugin[]) {}

  private sectionsOf(document: DesiredDocument): [EnginePlugin, unknown][] {
    return this.plugins
      .filter((plugin) => document.plugins[plugin.name] !== undefined)
      .map((plugin) => [plugin, document.plugins[plugin.name]]);
  }

  /** What applying `document` would change now. Reads only. */
  async plan(document: DesiredDocument, options: ReadOptions): Promise<PlanAction[]> {
    const actions: PlanAction[] = [];
    for (const [plugin, section] of this.sectionsOf(document)) {
      const observed = await runStep(plugin, 'read', options, (ctx) =>
        plugin.instance.observe(section, ctx),
      );
      for (const change of plugin.instance.plan(section, observed)) {
        actions.push({ plugin: plugin.name, ...planRow(change) });
      }
    }
    return actions;
  }

  /** Converges the machine on `document`; never throws for a plugin's failure. */
  async reconcile(document: DesiredDocument, options: RunOptions): Promise<PluginOutcome[]> {
    const sections = this.sectionsOf(document);
    const outcomes: PluginOutcome[] = [];
    for (const [index, [plugin, section]] of sections.entries()) {
      options.signal.throwIfAborted();
      const step = {
        log: options.log,
        priority: 'job' as const,
        signal: options.signal,
        progress: (report: ProgressReport) =>
          options.progress(plugin.name, index, sections.length, report),
      };
      const results = await this.reconcilePlugin(plugin, section, step, options.capture);
      for (const result of results) outcomes.push({ plugin: plugin.name, ...result });
    }
    return outcomes;
  }

  private async reconcilePlugin(
    plugin: EnginePlugin,
    section: unknown,
    step: ReadOptions & { progress: (report: ProgressReport) => void },
    capture: CaptureHook | undefined,
  ): Promise<ResourceOutcome[]> {
    const { instance } = plugin;
    let changes: PlannedChange[] = [];
    try {
      step.progress({
        resource: '',
        phase: 'resolving',
        percent: 0,
        message: 'reading current state',
      });
      const observed = await runStep(plugin, 'read', step, (ctx) => instance.observe(section, ctx));
      changes = instance.plan(section, observed);
      const pending = changes.filter((change) => change.action !== 'none');
      if (capture && pending.length > 0) {
        // On probation: keep (and persist) what is about to change, or change nothing.
        if (!instance.capture)
          throw terminalFailure(
            `the ${plugin.name} plugin cannot capture its state, so it cannot apply on probation`,
          );
        const { section: before, restore } = instance.capture(section, observed);
        await capture(plugin.name, before, restore);
      }
      const applied =
        pending.length > 0
          ? await runStep(plugin, 'apply', step, (ctx: PluginContext) =>
              instance.apply(pending, section, observed, ctx),
            )
          : [];
      return await verifyOutcomes(plugin, section, changes, applied, step);
    } catch (err) {
      // Cancelled or stopping: the job ends here. A deadline is a failure like any other.
      if (step.signal.aborted) throw err;
      const error = boundedText(errorMessage(err));
      const failure = failureKindOf(err);
      step.log.warn({ plugin: plugin.name, err: error, failure }, 'plugin failed');
      const resources = changes.length > 0 ? changes : [{ resource: '', action: 'none' }];
      return resources.map((change) => ({
        resource: change.resource,
        outcome: 'failed',
        action: change.action,
        error,
        failure,
      }));
    }
  }

  /**
   * The current state of the named plugins (all when none are named), as a
   * document of every section that could be read, and the reason for each that
   * could not: one unreachable service never hides the others.
   */
  async query(names: readonly string[], options: ReadOptions): Promise<QueryAnswer> {
    const chosen = this.plugins.filter((p) => names.length === 0 || names.includes(p.name));
    const plugins: Record<string, unknown> = {};
    const unreadable: Record<string, string> = {};
    for (const plugin of chosen) {
      try {
        plugins[plugin.name] = await runStep(plugin, 'read', options, (ctx) =>
          plugin.instance.query(ctx),
        );
      } catch (err) {
        if (options.signal.aborted) throw err;
        unreadable[plugin.name] = boundedText(errorMessage(err));
        options.log.warn(
          { plugin: plugin.name, err: unreadable[plugin.name] },
          'plugin unreadable',
        );
      }
    }
    return { document: { version: 1, plugins }, unreadable };
  }
}

/** The public part of a planned change (plugins may carry more, e.g. package ids). */
function planRow(change: PlannedChange): PlannedChange {
  const { resource, action, from, to, reason } = change;
  return reason === undefined
    ? { resource, action, from, to }
    : { resource, action, from, to, reason };
}

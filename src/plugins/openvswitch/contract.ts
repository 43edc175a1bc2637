import type { Logger } from 'pino';
import type { FailureKind } from '../../errors.js';

/*
 * The parts of the NEW plugin contract (the lead's engine/plugin.ts redesign)
 * this plugin uses, typed here structurally so that the plugin compiles in a
 * tree whose engine still has the old contract. When the engine has the new
 * one, import these from '../../engine/plugin.js' instead and delete this file.
 */

export interface PlannedChange {
  resource: string;
  action: string;
  from: unknown;
  to: unknown;
  reason?: string;
}

export interface ResourceOutcome {
  resource: string;
  outcome: 'changed' | 'unchanged' | 'failed';
  action: string;
  error?: string;
  failure?: FailureKind;
}

export interface ProgressReport {
  resource: string;
  phase: string;
  percent: number;
  message: string;
}

export type WorkPriority = 'job' | 'read';

export interface PluginContext {
  log: Logger;
  signal: AbortSignal;
  deadline: number;
  priority: WorkPriority;
  progress(report: ProgressReport): void;
}

export type ChangeScope = readonly string[] | 'all';

export interface ChangeSource {
  subscribe(listener: (scope: ChangeScope) => void): () => void;
}

/** The new contract's Plugin, as far as this plugin implements it. */
export interface Plugin<Section, Observed> {
  start(): Promise<void>;
  stop(): Promise<void>;
  observe(desired: Section, ctx: PluginContext): Promise<Observed>;
  plan(desired: Section, observed: Observed): PlannedChange[];
  apply(
    changes: PlannedChange[],
    desired: Section,
    observed: Observed,
    ctx: PluginContext,
  ): Promise<ResourceOutcome[]>;
  query(ctx: PluginContext): Promise<Section>;
  readonly changes?: ChangeSource;
  narrow?(desired: Section, resources: readonly string[]): Section;
}

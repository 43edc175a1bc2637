import type { TSchema } from '@sinclair/typebox';
import type { Logger } from 'pino';

/** One change the engine would make (Plan) or made (Apply) to one resource. */
export interface PlannedChange {
  /** The resource's name within its plugin: a package name, a unit name, ... */
  resource: string;
  /** A verb the plugin defines (install, remove, upgrade, start, ...); 'none' if already as desired. */
  action: string;
  /** What the resource is now, as a JSON value (null when it does not exist). */
  from: unknown;
  /** What it will be, as a JSON value (null when it will not exist). */
  to: unknown;
}

/** What happened to one resource; `error` (the service's own words) when it failed. */
export interface ResourceOutcome {
  resource: string;
  outcome: 'changed' | 'unchanged' | 'failed';
  action: string;
  error?: string;
}

/** Progress a plugin reports while it works; resource '' means the whole step. */
export interface ProgressReport {
  resource: string;
  phase: string;
  percent: number;
  message: string;
}

/** Everything the engine hands a plugin for one operation: no globals. */
export interface PluginContext {
  log: Logger;
  /** Aborted when the job is cancelled or the daemon stops: stop early, cancel what you started. */
  signal: AbortSignal;
  progress(report: ProgressReport): void;
}

/**
 * The one interface between the engine and a plugin. The engine owns ordering,
 * the job queue, cancellation and verification; a plugin only reads and changes
 * its corner of the machine, and never sleeps, retries or loops by itself.
 *
 * `Section` is the plugin's part of a desired-state document (validated by
 * `schema` before the plugin ever sees it); `Observed` is whatever the plugin
 * needs to know about the machine to plan.
 */
export interface Plugin<Section = unknown, Observed = unknown> {
  /** The key of this plugin under "plugins" in a document. */
  readonly name: string;
  /** JSON Schema (TypeBox) of the plugin's section: the validation and the TypeScript type. */
  readonly schema: TSchema;

  /** Start talking to the system service (subscriptions, clients). Called once. */
  start(): Promise<void>;
  /** Release everything start() took. */
  stop(): Promise<void>;

  /** Reads the current state of the resources the section names. Changes nothing. */
  observe(desired: Section, ctx: PluginContext): Promise<Observed>;

  /**
   * Pure: the changes that take the machine from `observed` to `desired`, one per
   * resource named in `desired`, with action 'none' where nothing is to be done.
   */
  plan(desired: Section, observed: Observed): PlannedChange[];

  /**
   * Makes the changes (never 'none'), batched as the service allows, and reports an
   * outcome for each. The engine verifies afterwards by observing and planning again.
   */
  apply(
    changes: PlannedChange[],
    desired: Section,
    observed: Observed,
    ctx: PluginContext,
  ): Promise<ResourceOutcome[]>;

  /** The machine's current state as a section that Apply accepts and that plans no change. */
  query(ctx: PluginContext): Promise<Section>;

  /**
   * Optional: calls `notify` when the machine may have changed behind the daemon's
   * back (a service announced it), naming the resources when it can. Level-based:
   * a notification only says "look again", never what the new state is. Returns
   * the function that stops watching. Subscriptions go through the plugin's
   * router, never one match rule per resource.
   */
  watch?(notify: (resources?: readonly string[]) => void): () => void;

  /** Optional: the part of `desired` that covers only `resources`, so only those are re-read. */
  narrow?(desired: Section, resources: readonly string[]): Section;
}

/**
 * A plugin with its types erased, as the engine holds it. Method parameters are
 * bivariant in TypeScript, so every Plugin<S, O> is assignable to this.
 */
export type AnyPlugin = Plugin<unknown, unknown>;

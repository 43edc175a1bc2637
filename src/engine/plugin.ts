import type { Logger } from 'pino';
import type { FailureKind } from '../errors.js';

/**
 * The contract between the engine and a plugin. It is all the engine knows of
 * a plugin; a plugin knows nothing of the engine beyond it. docs/architecture.md
 * repeats it with the reasons.
 *
 * Division of labour (as mgmt's resources and controller-runtime's reconcilers):
 * the ENGINE owns ordering, the job queue, deadlines, cancellation, verification,
 * retries and back-off, dry runs (Plan) and drift policy. A PLUGIN reads and
 * changes its corner of the machine through its service, and never sleeps,
 * retries, loops or keeps its own timers for those purposes.
 */

/** One change the engine would make (Plan) or made (Apply) to one resource. */
export interface PlannedChange {
  /** The resource's name within its plugin: a package name, a unit name, ... */
  resource: string;
  /**
   * A verb the plugin defines (install, remove, start, set, ...); 'none' when the
   * resource is as desired. A change that cannot be made as the machine stands
   * (no package by that name anywhere) is planned with an action that says so,
   * e.g. 'unresolvable', and a `reason`: Plan must never show it as a plain change.
   */
  action: string;
  /** What the resource is now, as a JSON value (null when it does not exist). */
  from: unknown;
  /** What it will be, as a JSON value (null when it will not exist). */
  to: unknown;
  /** Why the action is what it is, when that is not obvious (e.g. why unresolvable). */
  reason?: string;
}

/** What happened to one resource. */
export interface ResourceOutcome {
  resource: string;
  outcome: 'changed' | 'unchanged' | 'failed';
  action: string;
  /** When failed: the service's own words (bounded; see errors.boundedText). */
  error?: string;
  /** When failed: whether retrying can help (unset means retryable). */
  failure?: FailureKind;
}

/** Progress a plugin reports while it works; resource '' means the whole step. */
export interface ProgressReport {
  resource: string;
  phase: string;
  percent: number;
  message: string;
}

/**
 * Whose work a call is. Job work (Apply, reconcile, drift correction) is served
 * before reads (Plan, Query, Verify) wherever a plugin limits its calls to a
 * service: a flood of reads must never starve the daemon's own changes.
 */
export type WorkPriority = 'job' | 'read';

/** Everything the engine hands a plugin for one operation: no globals. */
export interface PluginContext {
  log: Logger;
  /**
   * Aborted when the job is cancelled, the daemon stops, or the deadline passes
   * (its reason then says which). Pass it to every call: a call still running
   * when it fires must give up (and cancel what it started where it can).
   */
  signal: AbortSignal;
  /** Milliseconds since the epoch by which this step must be done (= when `signal` fires). */
  deadline: number;
  priority: WorkPriority;
  progress(report: ProgressReport): void;
}

/** How faithfully a captured section restores what it describes. */
export type Restore = 'exact' | 'approximate';

/** What `capture` returns: the section that restores the resources, and how exactly. */
export interface Capture<Section> {
  section: Section;
  restore: Restore;
}

/** Which resources may have changed: names, or 'all' when the plugin cannot say. */
export type ChangeScope = readonly string[] | 'all';

/** A plugin's one feed of "look again" notices; its cache and the drift monitor both listen. */
export interface ChangeSource {
  /** Calls `listener` until the returned function is called. */
  subscribe(listener: (scope: ChangeScope) => void): () => void;
}

/**
 * A plugin instance, made by its definition (src/plugins/definition.ts). `Section`
 * is the plugin's part of a document, already valid against the plugin's schema
 * and frozen; `Observed` is whatever the plugin needs to know to plan.
 */
export interface Plugin<Section = unknown, Observed = unknown> {
  /**
   * Takes what the plugin needs for its life: match rules, subscriptions, clients.
   * Must not require the service to be up (the daemon starts without it and the
   * plugin's resources fail, retryable, until it comes). Called once.
   */
  start(): Promise<void>;
  /** Releases everything start() took: every subscription, timer and connection. */
  stop(): Promise<void>;

  /**
   * Reads the current state of the resources `desired` names; changes nothing.
   * May run at any time, also while apply() of the same plugin runs: Plan, Verify
   * and Query do not wait for the job queue. A cache must therefore never hide a
   * change that landed while it was being read (see shared/observation-cache.ts).
   * Throws (typed: errors.PluginFailure) when the service cannot be read at all.
   */
  observe(desired: Section, ctx: PluginContext): Promise<Observed>;

  /**
   * Pure: the changes from `observed` to `desired`, exactly one per resource
   * `desired` names, in the order apply should take them, 'none' where nothing
   * is to be done. A resource the document does not name is never in the plan.
   */
  plan(desired: Section, observed: Observed): PlannedChange[];

  /**
   * Makes the changes (never 'none' ones), batched as the service allows, and
   * returns one outcome per change. A refusal that concerns one resource is a
   * `failed` outcome with the service's words and a `failure` kind; a failure of
   * the whole step (service gone, deadline) is thrown. Returns only when the
   * service says the work is done; the engine then verifies by observing and
   * planning again, so a 'changed' that did not stick is caught there.
   */
  apply(
    changes: PlannedChange[],
    desired: Section,
    observed: Observed,
    ctx: PluginContext,
  ): Promise<ResourceOutcome[]>;

  /**
   * The machine's current state as a section that Apply accepts and that plans
   * no change (what `op-dbus init --introspect` writes). Throws when the service
   * cannot be read; the engine then names this plugin as unreadable.
   */
  query(ctx: PluginContext): Promise<Section>;

  /**
   * Optional: notices that the machine may have changed behind the daemon's back.
   * Level-based: a notice only says "look at these again", never what the state
   * is now; the engine re-reads through observe(). One feed per plugin, whose
   * notices come only from the real service (see dbus/service-peer.ts).
   */
  readonly changes?: ChangeSource;

  /** Optional: the part of `desired` that covers only `resources`, so only those are re-read. */
  narrow?(desired: Section, resources: readonly string[]): Section;

  /**
   * Optional, and needed to apply on probation (ApplyConfirmed): pure, the
   * section that puts back the resources `desired` names as `observed` shows
   * them now, so that applying it later is the rollback; `restore` says whether
   * that is exact or only approximate (packages: maintainer scripts' effects
   * stay). A plugin without it cannot take part in a probationary apply: its
   * changes then fail (terminal) rather than go unguarded.
   */
  capture?(desired: Section, observed: Observed): Capture<Section>;

  /**
   * Optional, pure: `higher` laid over `lower` (fleet layers: node over groups
   * over local), per resource. The default merges fields that are maps of
   * resources per key and takes any other field from `higher`; a section with
   * lists keyed by name (interfaces) needs its own.
   */
  merge?(lower: Section, higher: Section): Section;

  /** Optional, pure: the resource names a section names (default: see merge). */
  resources?(section: Section): string[];
}

/**
 * A plugin with its types erased, as the engine holds it. Method parameters are
 * bivariant in TypeScript, so every Plugin<S, O> is assignable to this.
 */
export type AnyPlugin = Plugin<unknown, unknown>;

/** Engine-owned limits of a plugin's steps ("meta params"), declared by its definition. */
export interface PluginDeadlines {
  /** observe and query (default 60 s). */
  readMs: number;
  /** one apply, e.g. a package transaction or a locale-gen run (default 30 min). */
  applyMs: number;
}

/** A plugin as the engine holds it: its name (declared once, in its definition) and instance. */
export interface EnginePlugin {
  readonly name: string;
  readonly instance: AnyPlugin;
  readonly deadlines: PluginDeadlines;
}

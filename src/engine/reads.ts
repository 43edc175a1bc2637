import type { Logger } from 'pino';
import type { DesiredDocument } from '../document/document.js';
import type { DocumentValidator } from '../document/validator.js';
import { ErrorName, OpdbusError } from '../errors.js';
import type { DesiredState } from './desired/desired-state.js';
import type { Health } from './health/health.js';
import type { WorkPriority } from './plugin.js';
import type { PlanAction, QueryAnswer, Reconciler } from './reconciler.js';

/** What Verify() answers: what differs from the desired state right now. */
export interface VerifyReport {
  generation: number;
  checkedAt: string;
  inSync: boolean;
  drifted: PlanAction[];
}

export interface ReadsOptions {
  reconciler: Reconciler;
  desired: DesiredState;
  health: Health;
  validator: DocumentValidator;
  pluginNames: readonly string[];
  log: Logger;
  /** Aborted when the daemon stops: reads in flight give up. */
  stopping: AbortSignal;
}

/**
 * Plan, Verify and Query: reads of the machine that change nothing and never
 * wait for the job queue (the plugin contract allows observe during apply).
 * With fleet layers present, each row names the layer its resource came from.
 */
export class Reads {
  constructor(private readonly options: ReadsOptions) {}

  /** What Apply(text) would change: the document as the local layer, under the fleet's. */
  async plan(text: string): Promise<PlanAction[]> {
    const local = this.options.validator.parse(text);
    const rows = await this.planDocument(this.options.desired.withLocal(local), 'read');
    return this.withLayers(rows, local);
  }

  planDocument(document: DesiredDocument, priority: WorkPriority): Promise<PlanAction[]> {
    return this.options.reconciler.plan(document, this.readOptions(priority));
  }

  /** What differs from the whole desired state now; changes nothing on the machine. */
  async verify(): Promise<VerifyReport> {
    const { desired, health } = this.options;
    const generation = desired.generation;
    const drifted = (await this.planDocument(desired.effective, 'read')).filter(
      (a) => a.action !== 'none',
    );
    health.recordCheck(drifted, true);
    return {
      generation,
      checkedAt: new Date().toISOString(),
      inSync: drifted.length === 0,
      drifted: this.withLayers(drifted),
    };
  }

  /** The machine's current state of the named plugins (all when none), and what could not be read. */
  query(pluginNames: readonly string[]): Promise<QueryAnswer> {
    const known = this.options.pluginNames;
    const unknown = pluginNames.filter((name) => !known.includes(name));
    if (unknown.length > 0) {
      throw new OpdbusError(
        ErrorName.UnknownPlugin,
        `unknown plugin ${unknown.map((n) => `'${n}'`).join(', ')} (known: ${known.join(', ')})`,
      );
    }
    return this.options.reconciler.query(pluginNames, this.readOptions('read'));
  }

  private withLayers(rows: PlanAction[], local?: DesiredDocument): PlanAction[] {
    const { desired } = this.options;
    if (desired.layers().length === 1) return rows;
    return rows.map((row) => ({
      ...row,
      layer: desired.sourceOf(row.plugin, row.resource, local) ?? 'local',
    }));
  }

  private readOptions(priority: WorkPriority) {
    return { signal: this.options.stopping, log: this.options.log, priority };
  }
}

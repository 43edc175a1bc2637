import type { Logger } from 'pino';
import { errorMessage } from '../errors.js';
import type { FleetLayers, JobEnd } from './fleet-layers.js';
import type { LayerSource } from './keys.js';
import { decodeLayerValue, problemsOf } from './layer-value.js';
import { problemsForReport, type LayerReport } from './report.js';

/** How a group layer waits for, and gives back, a rollout slot. */
export interface RolloutGate {
  /** Resolves once this node holds a slot for `revision` (waits while all are held); rejects on abort. */
  acquire(
    group: string,
    revision: number,
    maxUnavailable: number,
    signal: AbortSignal,
  ): Promise<void>;
  /** The job ended: release the slot when done, keep it (marked failed) otherwise. */
  finish(group: string, revision: number, end: JobEnd['state']): Promise<void>;
  /** Not applied after all (refused): give the slot back. */
  abandon(group: string): Promise<void>;
}

type Published = { readonly revision: number; readonly value: Buffer | undefined };

/**
 * One layer's path from etcd to the engine, one revision at a time: decode, wait
 * for a rollout slot if a group asks for one, hand the document to the engine, and
 * wait for its job. A newer revision published meanwhile is taken next (the ones in
 * between are skipped: only the newest matters). The layer the node holds changes
 * only when the engine accepted the new one: a refused revision leaves it as it was.
 */
export class LayerWorker {
  readonly state: LayerReport;
  private latest: Published | undefined;
  private running = false;

  constructor(
    readonly source: LayerSource,
    heldRevision: number | undefined,
    private readonly fleet: FleetLayers,
    private readonly gate: RolloutGate,
    private readonly changed: () => void,
    private readonly log: Logger,
    private readonly signal: AbortSignal,
  ) {
    this.state = { revision: heldRevision ?? null };
  }

  /** What etcd holds now for this layer's key (`value` undefined: no such key). */
  published(revision: number, value: Buffer | undefined): void {
    const publishedRevision = value === undefined ? null : revision;
    if (this.state.published !== publishedRevision) {
      this.state.published = publishedRevision;
      this.changed();
    }
    // A deleted key removes the layer (the node no longer takes that part of the state).
    this.latest = { revision, value };
    if (!this.running) void this.run();
  }

  /** Settled when no revision is being processed (for stop and tests). */
  get busy(): boolean {
    return this.running;
  }

  private wanted(): Published | undefined {
    const latest = this.latest;
    if (latest === undefined) return undefined;
    if (latest.value === undefined) return this.state.revision === null ? undefined : latest;
    if (latest.revision === this.state.revision) return undefined;
    if (latest.revision === this.state.refused?.revision) return undefined;
    return latest;
  }

  private async run(): Promise<void> {
    this.running = true;
    try {
      for (let target = this.wanted(); target && !this.signal.aborted; target = this.wanted()) {
        if (target.value === undefined) await this.remove(target.revision);
        else await this.process(target.revision, target.value);
      }
    } catch (err) {
      if (!this.signal.aborted) {
        this.log.error(
          { layer: this.source.layer, err: errorMessage(err) },
          'fleet layer worker failed',
        );
      }
    } finally {
      this.running = false;
    }
  }

  /** The key was deleted: the engine drops the layer, and a job applies what remains. */
  private async remove(revision: number): Promise<void> {
    const { layer } = this.source;
    const job = await this.fleet.setLayer({ name: layer, document: undefined, revision });
    this.state.revision = null;
    this.state.outcome = 'pending';
    this.state.job = job.id;
    delete this.state.refused;
    this.log.info({ layer, revision, job: job.id }, 'fleet layer removed');
    this.changed();
    this.state.outcome = (await job.finished.catch(() => ({ state: 'failed' as const }))).state;
    this.changed();
  }

  private refuse(revision: number, problems: readonly string[]): void {
    this.state.refused = { revision, problems: problemsForReport(problems) };
    delete this.state.waiting;
    this.log.warn(
      { layer: this.source.layer, revision, problems: this.state.refused.problems },
      'fleet layer refused',
    );
    this.changed();
  }

  private async process(revision: number, value: Buffer): Promise<void> {
    const { layer, kind } = this.source;
    const decoded = decodeLayerValue(value, kind);
    if (!decoded.ok) return this.refuse(revision, decoded.problems);
    const group = kind === 'group' ? layer.slice('group:'.length) : undefined;
    const max = decoded.rollout.max_unavailable;
    const gated = group !== undefined && max !== undefined;
    if (gated) {
      this.state.waiting = { revision };
      this.changed();
      await this.gate.acquire(group, revision, max, this.signal);
      delete this.state.waiting;
    }
    let job: Awaited<ReturnType<FleetLayers['setLayer']>>;
    try {
      job = await this.fleet.setLayer({ name: layer, document: decoded.document, revision });
    } catch (err) {
      if (gated) await this.gate.abandon(group).catch(() => undefined);
      return this.refuse(revision, problemsOf(err));
    }
    this.state.revision = revision;
    this.state.outcome = 'pending';
    this.state.job = job.id;
    delete this.state.refused;
    this.log.info({ layer, revision, job: job.id }, 'fleet layer accepted');
    this.changed();
    let end: JobEnd['state'];
    try {
      end = (await job.finished).state;
    } catch (err) {
      this.log.error({ layer, revision, err: errorMessage(err) }, 'fleet layer job lost');
      end = 'failed';
    }
    this.state.outcome = end;
    this.changed();
    if (gated) await this.gate.finish(group, revision, end);
  }
}

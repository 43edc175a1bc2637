import { Type } from '@sinclair/typebox';
import pino from 'pino';
import { buildDocumentSchema } from '../../src/document/document.js';
import { DocumentValidator } from '../../src/document/validator.js';
import type { FleetLayers, JobEnd } from '../../src/fleet/fleet-layers.js';

/** A document schema with one small section, validated by the daemon's own validator. */
const validator = new DocumentValidator(
  buildDocumentSchema([
    {
      name: 'motd',
      schema: Type.Object(
        { text: Type.String({ maxLength: 200 }) },
        { additionalProperties: false },
      ),
    },
  ]),
);

export function validateDocument(document: unknown): void {
  validator.check(document);
}

export function motd(text: string, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({ version: 1, plugins: { motd: { text } }, ...extra });
}

export interface AppliedLayer {
  readonly name: string;
  readonly revision: number;
  readonly document: unknown;
}

/**
 * The engine as the fleet sees it: validates with the real validator, keeps the
 * layers ("persisted"), and runs a job per setLayer whose end the test decides.
 */
export class FakeFleetLayers implements FleetLayers {
  readonly applied: AppliedLayer[] = [];
  private readonly held = new Map<string, AppliedLayer>();
  private generation = 0;
  private nextJob = 1;
  private lastEnd: JobEnd | undefined;
  /** How a job ends (default: done after `jobMs`). */
  outcome: (layer: AppliedLayer) => JobEnd['state'] = () => 'done';
  jobMs = 0;
  /** Jobs running now, and the most at once (shared between fakes through `shared`). */
  constructor(
    persisted: readonly AppliedLayer[] = [],
    private readonly shared: { running: number; most: number } = { running: 0, most: 0 },
  ) {
    for (const layer of persisted) this.held.set(layer.name, layer);
  }

  get running(): { running: number; most: number } {
    return this.shared;
  }

  current(name: string): AppliedLayer | undefined {
    return this.held.get(name);
  }

  setLayer(layer: { name: string; document: unknown; revision: number }) {
    if (layer.document === undefined) {
      this.held.delete(layer.name);
      this.generation++;
      const end: JobEnd = { state: 'done', result: { removed: layer.name } };
      return Promise.resolve({ id: this.nextJob++, finished: Promise.resolve(end) });
    }
    const document = validator.check(layer.document); // throws InvalidDocument with paths
    const accepted = { name: layer.name, revision: layer.revision, document };
    this.held.set(layer.name, accepted);
    this.applied.push(accepted);
    this.generation++;
    const id = this.nextJob++;
    this.shared.running++;
    this.shared.most = Math.max(this.shared.most, this.shared.running);
    const finished = new Promise<JobEnd>((resolve) => {
      setTimeout(() => {
        this.shared.running--;
        const end: JobEnd = { state: this.outcome(accepted), result: { job: id } };
        this.lastEnd = end;
        resolve(end);
      }, this.jobMs);
    });
    return Promise.resolve({ id, finished });
  }

  layers(): { name: string; revision: number }[] {
    return [...this.held.values()].map(({ name, revision }) => ({ name, revision }));
  }

  status() {
    return {
      generation: this.generation,
      conditions: {
        Ready: { status: 'True', reason: 'Idle', message: '', lastTransitionTime: '' },
      },
      lastResult: this.lastEnd ?? null,
      ledgerHead: 'f'.repeat(64),
    };
  }
}

export const quietLog = pino({ level: process.env.FLEET_TEST_LOG ?? 'silent' });

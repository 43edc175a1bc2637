import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { DesiredDocument } from '../document/document.js';
import type { DocumentValidator } from '../document/validator.js';
import { ErrorName, OpdbusError, errorMessage } from '../errors.js';
import { LAYER_NAME_PATTERN, type Layer } from '../engine/desired/layers.js';
import { writeFileAtomically } from './atomic-file.js';

export const DESIRED_STATE_FILE = 'desired.json';
/** The fleet's layers, beside the local one, so a node that boots without etcd converges. */
export const LAYERS_FILE = 'layers.json';

/**
 * The last accepted document, on disk. Writes are atomic (writeFileAtomically),
 * so a crash or power cut at any point leaves the old document or the new one,
 * never a torn one. Writes are serialized: the file always ends as the last accepted.
 */
export class DesiredStateFile {
  readonly path: string;
  readonly layersPath: string;
  private queue: Promise<void> = Promise.resolve();

  constructor(
    stateDir: string,
    private readonly log: Logger,
  ) {
    this.path = join(stateDir, DESIRED_STATE_FILE);
    this.layersPath = join(stateDir, LAYERS_FILE);
  }

  /** Persists the local layer; rejects (PersistFailed) when the disk refuses. */
  save(document: DesiredDocument): Promise<void> {
    return this.write(this.path, `${JSON.stringify(document, null, 2)}\n`);
  }

  /** Persists every fleet layer with its revision. */
  saveLayers(layers: readonly Layer[]): Promise<void> {
    return this.write(this.layersPath, `${JSON.stringify({ layers }, null, 2)}\n`);
  }

  /** The persisted fleet layers; one that no longer validates is dropped, loudly. */
  async loadLayers(validator: DocumentValidator): Promise<Layer[]> {
    let parsed: unknown;
    try {
      parsed = JSON.parse(await readFile(this.layersPath, 'utf8'));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT')
        this.log.error(
          { path: this.layersPath, err: errorMessage(err) },
          'cannot read the fleet layers; starting without them',
        );
      return [];
    }
    const entries = (parsed as { layers?: unknown }).layers;
    if (!Array.isArray(entries)) return [];
    const layers: Layer[] = [];
    for (const entry of entries as { name?: unknown; revision?: unknown; document?: unknown }[]) {
      try {
        if (typeof entry.name !== 'string' || !LAYER_NAME_PATTERN.test(entry.name))
          throw new Error('no valid layer name');
        const revision = Number(entry.revision);
        if (!Number.isSafeInteger(revision) || revision < 0) throw new Error('no valid revision');
        layers.push({ name: entry.name, revision, document: validator.check(entry.document) });
      } catch (err) {
        this.log.error(
          { path: this.layersPath, layer: entry.name, err: errorMessage(err) },
          'a persisted fleet layer is invalid; dropped',
        );
      }
    }
    return layers;
  }

  /** Writes are serialized: each file always ends as the last accepted. */
  private write(path: string, text: string): Promise<void> {
    const write = this.queue.then(() => this.writeNow(path, text));
    this.queue = write.catch(() => undefined);
    return write;
  }

  private async writeNow(path: string, text: string): Promise<void> {
    try {
      await writeFileAtomically(path, text);
    } catch (err) {
      throw new OpdbusError(
        ErrorName.PersistFailed,
        `cannot persist the desired state to ${path}: ${errorMessage(err)}; the document was not accepted`,
      );
    }
  }

  /**
   * The persisted document, validated like any other; undefined when there is none
   * or it is unusable (reported loudly: the daemon then starts with no desired state).
   */
  async load(validator: DocumentValidator): Promise<DesiredDocument | undefined> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      this.log.error(
        { path: this.path, err: errorMessage(err) },
        'cannot read the persisted desired state; starting without one',
      );
      return undefined;
    }
    try {
      return validator.parse(text);
    } catch (err) {
      this.log.error(
        { path: this.path, err: errorMessage(err) },
        'the persisted desired state is corrupt or invalid; starting without one',
      );
      return undefined;
    }
  }
}

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { DesiredDocument } from '../document/document.js';
import type { DocumentValidator } from '../document/validator.js';
import { ErrorName, OpdbusError, errorMessage } from '../errors.js';
import { writeFileAtomically } from './atomic-file.js';

export const DESIRED_STATE_FILE = 'desired.json';

/**
 * The last accepted document, on disk. Writes are atomic (writeFileAtomically),
 * so a crash or power cut at any point leaves the old document or the new one,
 * never a torn one. Writes are serialized: the file always ends as the last accepted.
 */
export class DesiredStateFile {
  readonly path: string;
  private queue: Promise<void> = Promise.resolve();

  constructor(
    stateDir: string,
    private readonly log: Logger,
  ) {
    this.path = join(stateDir, DESIRED_STATE_FILE);
  }

  /** Persists the document; rejects (PersistFailed) when the disk refuses. */
  save(document: DesiredDocument): Promise<void> {
    const write = this.queue.then(() => this.write(`${JSON.stringify(document, null, 2)}\n`));
    this.queue = write.catch(() => undefined);
    return write;
  }

  private async write(text: string): Promise<void> {
    try {
      await writeFileAtomically(this.path, text);
    } catch (err) {
      throw new OpdbusError(
        ErrorName.PersistFailed,
        `cannot persist the desired state to ${this.path}: ${errorMessage(err)}; the document was not accepted`,
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

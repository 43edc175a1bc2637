import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { SchemaChecker } from '../../document/validator.js';
import { errorMessage } from '../../errors.js';
import { writeFileAtomically } from '../../state/atomic-file.js';
import { CheckpointRecord } from './checkpoint.js';

export const CHECKPOINT_FILE = 'checkpoint.json';

const checker = new SchemaChecker(CheckpointRecord);

/** What the state directory says about a checkpoint at start-up. */
export type LoadedCheckpoint =
  | { kind: 'none' }
  | { kind: 'loaded'; record: CheckpointRecord }
  | { kind: 'corrupt'; reason: string };

/** Where the pending checkpoint is kept (the file; memory in tests). */
export interface CheckpointStore {
  save(record: CheckpointRecord): Promise<void>;
  remove(): Promise<void>;
}

/** A store that forgets on restart: for tests of the engine alone. */
export class MemoryCheckpointStore implements CheckpointStore {
  saved: CheckpointRecord | undefined;

  save(record: CheckpointRecord): Promise<void> {
    this.saved = structuredClone(record);
    return Promise.resolve();
  }

  remove(): Promise<void> {
    this.saved = undefined;
    return Promise.resolve();
  }
}

/**
 * The pending checkpoint on disk, written atomically (as the desired state is)
 * before the probationary apply starts and after every change, so that a
 * daemon killed during the window finds it at start-up.
 */
export class CheckpointFile implements CheckpointStore {
  readonly path: string;

  constructor(
    stateDir: string,
    private readonly log: Logger,
  ) {
    this.path = join(stateDir, CHECKPOINT_FILE);
  }

  save(record: CheckpointRecord): Promise<void> {
    return writeFileAtomically(this.path, `${JSON.stringify(record, null, 2)}\n`);
  }

  async remove(): Promise<void> {
    await rm(this.path, { force: true });
  }

  /** A torn or corrupt file is reported (and kept aside), never a crash. */
  async load(): Promise<LoadedCheckpoint> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'none' };
      return { kind: 'corrupt', reason: errorMessage(err) };
    }
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (err) {
      return { kind: 'corrupt', reason: `not JSON: ${errorMessage(err)}` };
    }
    const problems = checker.problems(value);
    if (problems.length > 0) return { kind: 'corrupt', reason: problems.join('; ') };
    this.log.debug({ path: this.path }, 'checkpoint loaded');
    return { kind: 'loaded', record: value as CheckpointRecord };
  }
}

import { rename } from 'node:fs/promises';
import type { Logger } from 'pino';
import type { CheckpointFile } from '../engine/checkpoints/checkpoint-file.js';
import type { StateManager } from '../engine/state-manager.js';
import { errorMessage } from '../errors.js';

/**
 * At start-up, after the desired state is back: a checkpoint left by a daemon
 * that was killed (or a machine that restarted) during its window is re-armed,
 * or rolled back at once when its deadline has passed. A torn or corrupt file
 * is reported loudly, kept aside for the administrator, and never a crash.
 */
export async function recoverCheckpoint(
  engine: StateManager,
  file: CheckpointFile,
  log: Logger,
): Promise<void> {
  const loaded = await file.load();
  switch (loaded.kind) {
    case 'none':
      return;
    case 'corrupt': {
      const aside = `${file.path}.corrupt-${Date.now()}`;
      await rename(file.path, aside).catch(() => undefined);
      log.error(
        { path: file.path, movedTo: aside, reason: loaded.reason },
        'the checkpoint file is corrupt: the change it guarded cannot be rolled back automatically',
      );
      engine.health.reportCheckpointLost(loaded.reason);
      return;
    }
    case 'loaded':
      try {
        await engine.checkpoints.recover(loaded.record);
        log.warn(
          {
            checkpoint: loaded.record.id,
            deadline: new Date(loaded.record.deadline).toISOString(),
          },
          'a checkpoint was pending at start-up',
        );
      } catch (err) {
        log.error({ err: errorMessage(err) }, 'cannot recover the pending checkpoint');
      }
  }
}

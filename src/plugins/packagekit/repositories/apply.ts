import type { Logger } from 'pino';
import type { ResourceOutcome } from '../../../engine/plugin.js';
import { boundedText, errorMessage, type FailureKind } from '../../../errors.js';
import type { RepositoryChange } from './plan.js';
import type { SourcesLocation } from './sources-state.js';
import { removeManagedSource, writeManagedSource } from './writer.js';

/** File errors that stay until someone changes the machine (permissions, a read-only or missing folder). */
const TERMINAL_CODES = new Set(['EACCES', 'EPERM', 'EROFS', 'ENOENT', 'ENOTDIR', 'EISDIR']);

function failed(change: RepositoryChange, error: string, failure: FailureKind): ResourceOutcome {
  return { resource: change.resource, outcome: 'failed', action: change.action, error, failure };
}

/**
 * Makes the planned repository changes, one file each, in plan order. Changes
 * that cannot be made as the machine stands (conflict, invalid-key,
 * missing-keyring) fail terminally with the plan's reason and touch nothing.
 * 'refresh' writes nothing: it counts as changed here, and the refresh that
 * follows (refresh-outcomes.ts) says whether it really was.
 * Throws only when the whole step is cancelled.
 */
export async function applyRepositoryChanges(
  changes: readonly RepositoryChange[],
  location: SourcesLocation,
  ctx: { log: Logger; signal: AbortSignal },
): Promise<ResourceOutcome[]> {
  const outcomes: ResourceOutcome[] = [];
  for (const change of changes) {
    ctx.signal.throwIfAborted();
    try {
      switch (change.action) {
        case 'none':
          outcomes.push({ resource: change.resource, outcome: 'unchanged', action: 'none' });
          continue;
        case 'refresh':
          break;
        case 'conflict':
        case 'invalid-key':
        case 'missing-keyring':
          outcomes.push(failed(change, change.reason ?? change.action, 'terminal'));
          continue;
        case 'add':
        case 'update': {
          if (change.content === undefined) throw new Error('planned without the file content');
          const path = await writeManagedSource(
            location.sourcesDir,
            change.repository,
            change.content,
            ctx.signal,
          );
          ctx.log.info(
            { repository: change.repository, path, action: change.action },
            'repository written',
          );
          break;
        }
        case 'remove': {
          await removeManagedSource(location.sourcesDir, change.repository, ctx.signal);
          ctx.log.info({ repository: change.repository }, 'repository removed');
          break;
        }
      }
      outcomes.push({ resource: change.resource, outcome: 'changed', action: change.action });
    } catch (err) {
      if (ctx.signal.aborted) throw err;
      const code = (err as NodeJS.ErrnoException).code ?? '';
      outcomes.push(
        failed(
          change,
          boundedText(errorMessage(err)),
          TERMINAL_CODES.has(code) ? 'terminal' : 'retryable',
        ),
      );
    }
  }
  return outcomes;
}

import { runJobAndWait, type StateManagerClient } from './client.js';
import { formatProbation, formatProgress, formatResult } from './format.js';

/** The pending checkpoint's path, or an error a person understands. */
async function pendingCheckpoint(client: StateManagerClient): Promise<string> {
  const path = String(await client.managerProperty('PendingCheckpoint'));
  if (path === '/') throw new Error('no checkpoint is pending');
  return path;
}

/**
 * `apply --confirm-timeout SECONDS FILE`: applies on probation, follows the job,
 * then says when the checkpoint rolls back and how to confirm it.
 */
export async function applyOnProbation(
  client: StateManagerClient,
  document: string,
  timeoutSeconds: number,
  json: boolean,
): Promise<number> {
  let checkpoint = '';
  const outcome = await runJobAndWait(
    client,
    async () => {
      const [job, path] = await client.applyConfirmed(document, timeoutSeconds);
      checkpoint = path;
      return job;
    },
    (body) => {
      if (!json) process.stderr.write(`${formatProgress(body)}\n`);
    },
  );
  const properties = await client.checkpointProperties(checkpoint);
  if (json) {
    process.stdout.write(
      `${JSON.stringify({ result: JSON.parse(outcome.result) as unknown, checkpoint })}\n`,
    );
  } else {
    process.stdout.write(`${formatResult(outcome.state, outcome.result)}\n`);
    process.stdout.write(`${formatProbation(properties)}\n`);
  }
  return outcome.state === 'done' ? 0 : 1;
}

/** `confirm`, `rollback`, `extend SECONDS`: on the pending checkpoint. */
export async function onPendingCheckpoint(
  client: StateManagerClient,
  member: 'Confirm' | 'Rollback' | 'Extend',
  seconds?: number,
): Promise<number> {
  const path = await pendingCheckpoint(client);
  await client.checkpointCall(path, member, seconds);
  const done = { Confirm: 'confirmed', Rollback: 'rolling back', Extend: 'extended' }[member];
  process.stdout.write(`Checkpoint ${path.split('/').pop() ?? ''} ${done}.\n`);
  return 0;
}

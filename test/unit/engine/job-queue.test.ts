import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { emptyDocument } from '../../../src/document/document.js';
import { Job } from '../../../src/engine/jobs/job.js';
import { JobQueue } from '../../../src/engine/jobs/job-queue.js';

const job = (id: number) => new Job(id, 'apply', emptyDocument(), id, { sender: ':1.1', uid: 0 });

describe('job queue', () => {
  it('runs jobs one at a time in the order queued', async () => {
    const log: string[] = [];
    let active = 0;
    let mostAtOnce = 0;
    // Recorded, not asserted in the job: the queue catches what a job throws.
    const queue = new JobQueue(async (j) => {
      active += 1;
      mostAtOnce = Math.max(mostAtOnce, active);
      log.push(`start ${j.id}`);
      await new Promise((resolve) => setTimeout(resolve, 5 * (4 - j.id)));
      log.push(`end ${j.id}`);
      active -= 1;
    });
    [1, 2, 3].forEach((id) => queue.enqueue(job(id)));
    await queue.whenIdle();
    assert.equal(mostAtOnce, 1, 'two jobs ran at once');
    assert.deepEqual(log, ['start 1', 'end 1', 'start 2', 'end 2', 'start 3', 'end 3']);
  });

  it('removes a waiting job but not the running one', async () => {
    const ran: number[] = [];
    let release: () => void = () => undefined;
    const queue = new JobQueue(async (j) => {
      ran.push(j.id);
      if (j.id === 1) await new Promise<void>((resolve) => (release = resolve));
    });
    const first = job(1);
    const second = job(2);
    queue.enqueue(first);
    queue.enqueue(second);
    assert.equal(queue.remove(first), false);
    assert.equal(queue.remove(second), true);
    release();
    await queue.whenIdle();
    assert.deepEqual(ran, [1]);
  });

  it('stop drops waiting jobs, waits for the running one, and refuses new ones', async () => {
    const ran: number[] = [];
    let release: () => void = () => undefined;
    const queue = new JobQueue(async (j) => {
      ran.push(j.id);
      if (j.id === 1) await new Promise<void>((resolve) => (release = resolve));
    });
    queue.enqueue(job(1));
    queue.enqueue(job(2));
    const stopped = queue.stop();
    release();
    assert.deepEqual(
      (await stopped).map((j) => j.id),
      [2],
    );
    assert.deepEqual(ran, [1]);
    assert.throws(() => queue.enqueue(job(3)), /stopped/);
  });

  it('keeps running after a job throws', async () => {
    const ran: number[] = [];
    const errors: string[] = [];
    const queue = new JobQueue(
      async (j) => {
        ran.push(j.id);
        await Promise.resolve();
        if (j.id === 1) throw new Error('boom');
      },
      (j, err) => errors.push(`${j.id}: ${(err as Error).message}`),
    );
    queue.enqueue(job(1));
    queue.enqueue(job(2));
    await queue.whenIdle();
    assert.deepEqual(ran, [1, 2]);
    assert.deepEqual(errors, ['1: boom']);
  });
});

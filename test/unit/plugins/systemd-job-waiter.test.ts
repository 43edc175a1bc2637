import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Message } from '../../../src/dbus/bus.js';
import { ErrorName, OpdbusError } from '../../../src/errors.js';
import { JobWaiter } from '../../../src/plugins/systemd/job-waiter.js';

describe('JobWaiter', () => {
  const removed = (id: number, job: string, result: string) =>
    ({ body: [id, job, 'x.service', result] }) as unknown as Message;
  const options = (signal = new AbortController().signal, abandoned: string[] = []) => ({
    signal,
    abandon: (job: string) => {
      abandoned.push(job);
      return Promise.resolve();
    },
  });

  it('keeps a JobRemoved that arrives before the call that queued the job has returned', async () => {
    const waiter = new JobWaiter();
    const result = await waiter.run(() => {
      waiter.onJobRemoved(removed(7, '/job/7', 'done'));
      return Promise.resolve('/job/7');
    }, options());
    assert.equal(result, 'done');
  });

  it('waits for a JobRemoved that comes later, ignoring other jobs', async () => {
    const waiter = new JobWaiter();
    const pending = waiter.run(() => Promise.resolve('/job/8'), options());
    await Promise.resolve();
    waiter.onJobRemoved(removed(9, '/job/9', 'failed'));
    waiter.onJobRemoved(removed(8, '/job/8', 'canceled'));
    assert.equal(await pending, 'canceled');
  });

  it('an abort stops the wait and abandons (cancels) the job', async () => {
    const waiter = new JobWaiter();
    const controller = new AbortController();
    const abandoned: string[] = [];
    const pending = waiter.run(
      () => Promise.resolve('/job/10'),
      options(controller.signal, abandoned),
    );
    await new Promise((resolve) => setImmediate(resolve));
    controller.abort(new Error('job cancelled by the user'));
    await assert.rejects(pending, /cancelled by the user/);
    assert.deepEqual(abandoned, ['/job/10']);
  });

  it("a job still running at the engine's deadline is abandoned with the deadline's reason", async () => {
    const waiter = new JobWaiter();
    const abandoned: string[] = [];
    const deadline = new AbortController();
    setTimeout(() => deadline.abort(new OpdbusError(ErrorName.Timeout, 'deadline passed')), 20);
    const pending = waiter.run(
      () => Promise.resolve('/job/11'),
      options(deadline.signal, abandoned),
    );
    await assert.rejects(
      pending,
      (err: unknown) => err instanceof OpdbusError && err.dbusName === ErrorName.Timeout,
    );
    assert.deepEqual(abandoned, ['/job/11']);
  });
});

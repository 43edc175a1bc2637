import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { MemoryCheckpointStore } from '../../../src/engine/checkpoints/checkpoint-file.js';
import { ErrorName, OpdbusError } from '../../../src/errors.js';
import { doc, fakeEngine, finished, ROOT } from '../../helpers/fake-engine.js';
import { waitFor } from '../../harness/processes.js';

const pendingError = (err: unknown) =>
  err instanceof OpdbusError && err.dbusName === ErrorName.CheckpointPending;

/** An engine over fakes a and b, converged on x=1 (a) and y=1 (b). */
async function converged(store = new MemoryCheckpointStore()) {
  const setup = fakeEngine(['a', 'b'], store);
  await finished(
    setup.engine,
    await setup.engine.apply(doc({ a: { x: '1' }, b: { y: '1' } }), ROOT),
  );
  return { ...setup, store };
}

describe('checkpoints: apply on probation (fake plugins)', () => {
  it('not confirmed by the deadline: the machine and the desired document come back', async () => {
    const { engine, plugins, store } = await converged();
    const generation = engine.desiredGeneration;
    const { job, checkpoint } = await engine.applyConfirmed(
      doc({ a: { x: '2', z: 'new' } }),
      1,
      ROOT,
    );
    assert.ok(store.saved, 'persisted before the apply');
    await finished(engine, job);
    assert.equal(plugins.a?.machine.get('x'), '2');
    assert.equal(store.saved?.snapshot[0]?.plugin, 'a', 'what a was, captured before it applied');
    await waitFor(
      'the rollback',
      () => engine.checkpoints.current === undefined && !engine.jobs.busy,
      5_000,
    );
    assert.equal(plugins.a?.machine.get('x'), '1');
    assert.equal(plugins.a?.machine.get('z'), '', 'what the probation added is gone');
    assert.deepEqual(engine.desiredDocument, JSON.parse(doc({ a: { x: '1' }, b: { y: '1' } })));
    assert.ok(engine.desiredGeneration > generation + 1, 'the generation goes forward');
    assert.equal(checkpoint.state, 'rolled-back');
    assert.equal(store.saved, undefined);
  });

  it('confirmed: the change stays after the deadline', async () => {
    const { engine, plugins } = await converged();
    const { job } = await engine.applyConfirmed(doc({ a: { x: '2' } }), 1, ROOT);
    await finished(engine, job);
    await engine.checkpoints.confirm(ROOT);
    await sleep(1300);
    assert.equal(plugins.a?.machine.get('x'), '2');
    assert.equal(engine.checkpoints.current, undefined);
  });

  it('Rollback before the deadline, and Extend pushes the deadline', async () => {
    const { engine, plugins } = await converged();
    const { job, checkpoint } = await engine.applyConfirmed(doc({ a: { x: '2' } }), 1, ROOT);
    await finished(engine, job);
    await engine.checkpoints.extend(60, ROOT);
    assert.ok(checkpoint.deadline > Date.now() + 50_000);
    await sleep(1300);
    assert.equal(plugins.a?.machine.get('x'), '2', 'not rolled back at the old deadline');
    await engine.checkpoints.rollback(ROOT);
    await waitFor('the rollback', () => plugins.a?.machine.get('x') === '1', 5_000);
  });

  it('a document with nothing to do: the window is armed and Rollback ends the checkpoint', async () => {
    // Such jobs can end before the caller's await resumes; the checkpoint must still see them.
    const { engine } = await converged();
    const { job, checkpoint } = await engine.applyConfirmed('{"version":1,"plugins":{}}', 1, ROOT);
    await finished(engine, job);
    await engine.checkpoints.rollback(ROOT);
    await waitFor('the rollback', () => engine.checkpoints.current === undefined, 5_000);
    assert.equal(checkpoint.state, 'rolled-back');
    const armed = await engine.applyConfirmed('{"version":1,"plugins":{}}', 1, ROOT);
    await waitFor('the deadline', () => engine.checkpoints.current === undefined, 5_000);
    assert.equal(armed.checkpoint.state, 'rolled-back', 'rolled back at the deadline');
  });

  it('refuses Apply and a second ApplyConfirmed while one is pending', async () => {
    const { engine } = await converged();
    const { job } = await engine.applyConfirmed(doc({ a: { x: '2' } }), 60, ROOT);
    await finished(engine, job);
    await assert.rejects(engine.apply(doc({ a: { x: '3' } }), ROOT), pendingError);
    await assert.rejects(engine.applyConfirmed(doc({ a: { x: '3' } }), 60, ROOT), pendingError);
    await engine.checkpoints.confirm(ROOT);
    await finished(engine, await engine.apply(doc({ a: { x: '3' } }), ROOT));
  });

  it('a plugin that cannot capture its state changes nothing on probation (terminal)', async () => {
    const { engine, plugins } = await converged();
    const b = plugins.b;
    assert.ok(b);
    b.capture = undefined;
    const { job } = await engine.applyConfirmed(doc({ a: { x: '2' }, b: { y: '2' } }), 60, ROOT);
    await finished(engine, job);
    const outcome = job.result?.resources.find((r) => r.plugin === 'b');
    assert.equal(outcome?.failure, 'terminal');
    assert.match(String(outcome?.error), /cannot apply on probation/);
    assert.equal(b.machine.get('y'), '1');
    await engine.checkpoints.rollback(ROOT);
  });

  it('recovers a checkpoint whose deadline passed while the daemon was down: rolled back at once', async () => {
    const store = new MemoryCheckpointStore();
    const first = await converged(store);
    const { job } = await first.engine.applyConfirmed(doc({ a: { x: '2' } }), 60, ROOT);
    await finished(first.engine, job);
    const saved = store.saved;
    assert.ok(saved);
    // A new daemon on the same machine (the fakes' state carried over), after the deadline.
    const second = fakeEngine(['a', 'b'], store);
    second.plugins.a?.machine.set('x', '2');
    second.engine.restore(JSON.parse(doc({ a: { x: '2' } })) as never);
    await second.engine.checkpoints.recover({ ...saved, deadline: Date.now() - 1 });
    await waitFor(
      'the rollback at start-up',
      () => second.plugins.a?.machine.get('x') === '1',
      5_000,
    );
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ManagerFact } from '../../../src/engine/events.js';
import { retryableFailure } from '../../../src/errors.js';
import { doc, fakeEngine, finished, ROOT } from '../../helpers/fake-engine.js';

describe('state manager: jobs and health (fake plugins)', () => {
  it('a queued job cancelled before it runs never runs and ends cancelled', async () => {
    const { engine, plugins } = fakeEngine(['a']);
    const first = await engine.apply(doc({ a: { x: '1' } }), ROOT);
    const second = await engine.apply(doc({ a: { x: '2' } }), ROOT);
    engine.cancel(second);
    await finished(engine, first);
    await finished(engine, second);
    assert.equal(second.state, 'cancelled');
    assert.equal(plugins.a?.applyCount, 1, 'only the first job applied');
    assert.equal(plugins.a?.machine.get('x'), '1');
    assert.throws(() => engine.cancel(second), /already finished/);
  });

  it('the running job is cancelled through its signal', async () => {
    const { engine, plugins } = fakeEngine(['a', 'b']);
    const a = plugins.a;
    assert.ok(a);
    const apply = a.apply.bind(a);
    // The job cancels itself from inside plugin a's apply (the engine runs it later).
    a.apply = async (...args) => {
      const outcomes = await apply(...args);
      const running = engine.jobs.current;
      if (running) engine.cancel(running);
      return outcomes;
    };
    const job = await engine.apply(doc({ a: { x: '1' }, b: { y: '1' } }), ROOT);
    await finished(engine, job);
    assert.equal(job.state, 'cancelled');
    assert.equal(plugins.b?.applyCount, 0, 'the job stopped before the next plugin');
  });

  it('conditions tell the truth after documents are applied (no stale "no desired state")', async () => {
    const { engine } = fakeEngine(['a']);
    engine.markReady();
    const ok = await finished(engine, await engine.apply(doc({ a: { x: '1' } }), ROOT));
    assert.equal(ok.state, 'done');
    const conditions = {
      Ready: engine.health.conditions.get('Ready'),
      Degraded: engine.health.conditions.get('Degraded'),
      Drifted: engine.health.conditions.get('Drifted'),
    };
    assert.equal(conditions.Ready.status, 'True');
    assert.doesNotMatch(conditions.Ready.message, /no desired state/);
    assert.equal(conditions.Degraded.status, 'False');
    assert.equal(conditions.Drifted.reason, 'InSync');
    assert.equal(engine.appliedGeneration, engine.desiredGeneration);
  });

  it('a failed job sets Degraded naming the resource and whether it is terminal', async () => {
    const { engine, plugins } = fakeEngine(['a']);
    plugins.a?.refuse.set('x', 'terminal');
    const job = await finished(engine, await engine.apply(doc({ a: { x: '1' } }), ROOT));
    assert.equal(job.state, 'failed');
    const degraded = engine.health.conditions.get('Degraded');
    assert.equal(degraded.status, 'True');
    assert.match(degraded.message, /a\/x \(terminal\)/);
    assert.equal(engine.appliedGeneration, 0, 'a failed job applies no generation');
  });

  it('announces generations and status as facts; the engine knows no property names', async () => {
    const { engine } = fakeEngine(['a']);
    const facts = new Set<ManagerFact>();
    engine.events.on('changed', (changed) => changed.forEach((fact) => facts.add(fact)));
    await finished(engine, await engine.apply(doc({ a: { x: '1' } }), ROOT));
    for (const fact of [
      'desiredGeneration',
      'appliedGeneration',
      'status',
      'conditions',
      'lastReconcile',
    ])
      assert.ok(facts.has(fact as ManagerFact), fact);
  });

  it('reads answer partially: Query names the plugin it could not read', async () => {
    const { engine, plugins } = fakeEngine(['a', 'b']);
    plugins.a?.machine.set('x', '1');
    const b = plugins.b;
    assert.ok(b);
    b.observeFails = retryableFailure('b is down');
    const answer = await engine.query([]);
    assert.deepEqual(Object.keys(answer.document.plugins), ['a']);
    assert.deepEqual(answer.unreadable, { b: 'b is down' });
  });
});

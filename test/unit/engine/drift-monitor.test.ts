import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { DriftMonitor } from '../../../src/engine/drift/drift-monitor.js';
import type { PlanAction } from '../../../src/engine/reconciler.js';
import { doc, fakeEngine, finished, ROOT } from '../../helpers/fake-engine.js';
import { silentLog } from '../../helpers/plugin-host.js';
import { waitFor } from '../../harness/processes.js';

const TIMING = { debounceMs: 10, initialBackoffMs: 100, maxBackoffMs: 400 };

/** A converged engine over one fake plugin `a`, with a running drift monitor. */
async function converged(items: Record<string, string>) {
  const { engine, plugins } = fakeEngine(['a']);
  const plugin = plugins.a;
  assert.ok(plugin);
  await finished(engine, await engine.apply(doc({ a: items }), ROOT));
  const monitor = new DriftMonitor(engine, { log: silentLog, correct: true, timing: TIMING });
  monitor.start();
  const detected: PlanAction[] = [];
  engine.events.on('drift-detected', (drift) => detected.push(drift));
  const driftJobs = () =>
    [...Array(50).keys()].map((id) => engine.jobs.get(id + 1)).filter((j) => j?.kind === 'drift');
  return { engine, plugin, monitor, detected, driftJobs };
}

describe('drift monitor (fake plugins)', () => {
  const monitors: DriftMonitor[] = [];
  afterEach(() => monitors.splice(0).forEach((m) => m.stop()));

  it('a change announced by the feed is detected, announced once, and corrected', async () => {
    const setup = await converged({ x: '1' });
    monitors.push(setup.monitor);
    setup.plugin.changeBehindTheBack('x', 'tampered');
    await waitFor('the correction', () => setup.plugin.machine.get('x') === '1', 5_000);
    assert.equal(setup.detected.length, 1);
    assert.deepEqual([setup.detected[0]?.from, setup.detected[0]?.to], ['tampered', '1']);
    assert.equal(setup.engine.health.driftCount, 1);
  });

  it('the same drift retried with back-off is counted once; a retryable failure is retried', async () => {
    const setup = await converged({ x: '1' });
    monitors.push(setup.monitor);
    setup.plugin.refuse.set('x', 'retryable');
    setup.plugin.changeBehindTheBack('x', 'tampered');
    // Let it fail and retry a few times (back-off 100, 200, 400 ms).
    await waitFor(
      'three failed corrections',
      () => setup.driftJobs().filter((j) => j?.state === 'failed').length >= 3,
      5_000,
    );
    assert.equal(setup.engine.health.driftCount, 1, 'one drift, however many retries');
    assert.equal(setup.detected.length, 1);
    setup.plugin.refuse.delete('x');
    await waitFor('the retry that succeeds', () => setup.plugin.machine.get('x') === '1', 5_000);
  });

  it('a terminal failure is not retried while the drift stays the same, even when notices keep coming', async () => {
    const setup = await converged({ x: '1' });
    monitors.push(setup.monitor);
    setup.plugin.refuse.set('x', 'terminal');
    setup.plugin.changeBehindTheBack('x', 'tampered');
    await waitFor(
      'the failed correction',
      () => setup.driftJobs().some((j) => j?.state === 'failed'),
      5_000,
    );
    const attempts = setup.plugin.applyCount;
    for (let i = 0; i < 5; i += 1) {
      setup.plugin.changes.publish(['x']);
      await sleep(60);
    }
    assert.equal(setup.plugin.applyCount, attempts, 'no hot loop on a terminal failure');
    assert.equal(setup.engine.health.driftCount, 1);
    // Something relevant changes (a different drift): tried again, and it works now.
    setup.plugin.refuse.delete('x');
    setup.plugin.changeBehindTheBack('x', 'other');
    await waitFor(
      'the correction after the change',
      () => setup.plugin.machine.get('x') === '1',
      5_000,
    );
    assert.equal(setup.engine.health.driftCount, 2, 'a different drift counts again');
  });

  it('the periodic full check tries a parked terminal failure once more', async () => {
    const setup = await converged({ x: '1' });
    monitors.push(setup.monitor);
    setup.plugin.refuse.set('x', 'terminal');
    setup.plugin.changeBehindTheBack('x', 'tampered');
    await waitFor(
      'the failed correction',
      () => setup.driftJobs().some((j) => j?.state === 'failed'),
      5_000,
    );
    await setup.engine.jobs.whenIdle();
    const attempts = setup.plugin.applyCount;
    setup.plugin.refuse.delete('x');
    await setup.monitor.checkAll();
    await waitFor('the periodic retry', () => setup.plugin.machine.get('x') === '1', 5_000);
    assert.equal(setup.plugin.applyCount, attempts + 1);
  });

  it('a steady stream of notices never postpones the check (the debounce does not slide)', async () => {
    const setup = await converged({ x: '1' });
    monitors.push(setup.monitor);
    setup.plugin.changeBehindTheBack('x', 'tampered');
    // Notices every 5 ms, far inside the 10 ms debounce, for 500 ms.
    const stream = setInterval(() => setup.plugin.changes.publish(['other']), 5);
    try {
      await waitFor(
        'the correction while notices keep coming',
        () => setup.plugin.machine.get('x') === '1',
        400,
      );
    } finally {
      clearInterval(stream);
    }
  });

  it('audit mode reports drift and never corrects it', async () => {
    const { engine, plugins } = fakeEngine(['a']);
    const plugin = plugins.a;
    assert.ok(plugin);
    await finished(engine, await engine.apply(doc({ a: { x: '1' } }), ROOT));
    const monitor = new DriftMonitor(engine, { log: silentLog, correct: false, timing: TIMING });
    monitors.push(monitor);
    monitor.start();
    plugin.changeBehindTheBack('x', 'tampered');
    await waitFor('the drift to be seen', () => engine.health.driftCount === 1, 5_000);
    await sleep(100);
    assert.equal(plugin.machine.get('x'), 'tampered');
    assert.equal(engine.health.conditions.get('Drifted').status, 'True');
  });
});

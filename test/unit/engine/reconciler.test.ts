import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Reconciler } from '../../../src/engine/reconciler.js';
import { ErrorName, OpdbusError, retryableFailure, terminalFailure } from '../../../src/errors.js';
import { FakePlugin, fakeDocument, fakeEnginePlugin } from '../../helpers/fake-plugin.js';
import { silentLog } from '../../helpers/plugin-host.js';

const run = () => ({
  signal: new AbortController().signal,
  log: silentLog,
  progress: () => undefined,
});
const read = () => ({
  signal: new AbortController().signal,
  log: silentLog,
  priority: 'read' as const,
});

describe('reconciler (fake plugins)', () => {
  it('runs the plugins in registry order, only those the document names', async () => {
    const [a, b, c] = [new FakePlugin('a'), new FakePlugin('b'), new FakePlugin('c')];
    const order: string[] = [];
    for (const plugin of [a, b, c]) {
      const observe = plugin.observe.bind(plugin);
      plugin.observe = (desired, ctx) => {
        order.push(plugin.name);
        return observe(desired, ctx);
      };
    }
    const reconciler = new Reconciler([a, b, c].map((p) => fakeEnginePlugin(p)));
    // The document lists c before a: the registry's order wins; b is not named.
    const outcomes = await reconciler.reconcile(
      fakeDocument({ c: { z: '1' }, a: { x: '1' } }),
      run(),
    );
    assert.deepEqual([...new Set(order)], ['a', 'c']);
    assert.deepEqual(
      outcomes.map((o) => [o.plugin, o.resource, o.outcome]),
      [
        ['a', 'x', 'changed'],
        ['c', 'z', 'changed'],
      ],
    );
    assert.equal(b.calls.length, 0);
  });

  it('verifies after apply: a change the service said it made but did not stick has failed', async () => {
    const plugin = new FakePlugin('a');
    plugin.doesNotStick.add('x');
    const reconciler = new Reconciler([fakeEnginePlugin(plugin)]);
    const [outcome] = await reconciler.reconcile(fakeDocument({ a: { x: '1' } }), run());
    assert.equal(outcome?.outcome, 'failed');
    assert.equal(outcome?.failure, 'retryable');
    assert.match(String(outcome?.error), /not as desired after set: still needs set/);
  });

  it("carries a refusal's failure kind; one plugin's failure leaves the others running", async () => {
    const [a, b] = [new FakePlugin('a'), new FakePlugin('b')];
    a.refuse.set('x', 'terminal');
    b.observeFails = retryableFailure('b is not reachable');
    const c = new FakePlugin('c');
    const reconciler = new Reconciler([a, b, c].map((p) => fakeEnginePlugin(p)));
    const outcomes = await reconciler.reconcile(
      fakeDocument({ a: { x: '1', y: '2' }, b: { q: '1' }, c: { z: '3' } }),
      run(),
    );
    const by = (plugin: string, resource: string) =>
      outcomes.find((o) => o.plugin === plugin && o.resource === resource);
    assert.deepEqual([by('a', 'x')?.outcome, by('a', 'x')?.failure], ['failed', 'terminal']);
    assert.equal(by('a', 'y')?.outcome, 'changed');
    assert.deepEqual([by('b', '')?.outcome, by('b', '')?.failure], ['failed', 'retryable']);
    assert.match(String(by('b', '')?.error), /b is not reachable/);
    assert.equal(by('c', 'z')?.outcome, 'changed');
    assert.equal(c.machine.get('z'), '3');
  });

  it('a terminal failure thrown by a whole step is terminal for its resources', async () => {
    const plugin = new FakePlugin('a');
    plugin.observeFails = terminalFailure('impossible');
    const reconciler = new Reconciler([fakeEnginePlugin(plugin)]);
    const [outcome] = await reconciler.reconcile(fakeDocument({ a: { x: '1' } }), run());
    assert.equal(outcome?.failure, 'terminal');
  });

  it("a read that outlives the plugin's deadline fails with Timeout, whatever the plugin does", async () => {
    const plugin = new FakePlugin('a');
    plugin.observeHangs = true;
    const reconciler = new Reconciler([fakeEnginePlugin(plugin, { readMs: 50 })]);
    await assert.rejects(
      reconciler.plan(fakeDocument({ a: { x: '1' } }), read()),
      (err: unknown) =>
        err instanceof OpdbusError &&
        err.dbusName === ErrorName.Timeout &&
        /a plugin's read did not finish within 0.05 s/.test(err.message),
    );
  });

  it('a cancelled job stops before the next plugin and says so by throwing', async () => {
    const [a, b] = [new FakePlugin('a'), new FakePlugin('b')];
    const controller = new AbortController();
    const apply = a.apply.bind(a);
    a.apply = (...args) => {
      controller.abort(new Error('cancelled'));
      return apply(...args);
    };
    const reconciler = new Reconciler([a, b].map((p) => fakeEnginePlugin(p)));
    await assert.rejects(
      reconciler.reconcile(fakeDocument({ a: { x: '1' }, b: { y: '1' } }), {
        ...run(),
        signal: controller.signal,
      }),
      /cancelled/,
    );
    assert.equal(b.calls.length, 0);
  });

  it('Query returns every section it can read and names the ones it cannot', async () => {
    const [a, b] = [new FakePlugin('a'), new FakePlugin('b')];
    a.machine.set('x', '1');
    b.observeFails = retryableFailure('PackageKit is not reachable');
    const reconciler = new Reconciler([a, b].map((p) => fakeEnginePlugin(p)));
    const answer = await reconciler.query([], read());
    assert.deepEqual(answer.document.plugins, { a: { items: { x: '1' } } });
    assert.deepEqual(answer.unreadable, { b: 'PackageKit is not reachable' });
  });
});

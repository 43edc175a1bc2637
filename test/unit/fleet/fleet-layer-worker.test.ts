import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FleetKeys } from '../../../src/fleet/keys.js';
import { LayerWorker, type RolloutGate } from '../../../src/fleet/layer-worker.js';
import { waitFor } from '../../harness/processes.js';
import { FakeFleetLayers, motd, quietLog } from '../../helpers/fake-fleet-layers.js';

const keys = new FleetKeys('/opdbus');
const [groupSource, nodeSource] = keys.layerSources('n1', ['web']) as [
  ReturnType<FleetKeys['layerSources']>[number],
  ReturnType<FleetKeys['layerSources']>[number],
];

class RecordingGate implements RolloutGate {
  readonly calls: string[] = [];
  acquire(group: string, revision: number, max: number): Promise<void> {
    this.calls.push(`acquire ${group} ${revision} max ${max}`);
    return Promise.resolve();
  }
  finish(group: string, revision: number, end: string): Promise<void> {
    this.calls.push(`finish ${group} ${revision} ${end}`);
    return Promise.resolve();
  }
  abandon(group: string): Promise<void> {
    this.calls.push(`abandon ${group}`);
    return Promise.resolve();
  }
}

function worker(
  source = groupSource,
  fake = new FakeFleetLayers(),
  held?: number,
  gate = new RecordingGate(),
) {
  let changes = 0;
  const w = new LayerWorker(
    source,
    held,
    fake,
    gate,
    () => changes++,
    quietLog,
    new AbortController().signal,
  );
  return { w, fake, gate, changes: () => changes };
}

const idle = (w: LayerWorker) => waitFor('worker idle', () => !w.busy, 5_000);

describe('a layer worker', () => {
  it('takes only the newest revision published while a job runs', async () => {
    const { w, fake } = worker();
    fake.jobMs = 100;
    w.published(5, Buffer.from(motd('five')));
    w.published(6, Buffer.from(motd('six')));
    w.published(7, Buffer.from(motd('seven')));
    await waitFor('seven applied', () => fake.current('group:web')?.revision === 7 && !w.busy);
    assert.deepEqual(
      fake.applied.map((a) => a.revision),
      [5, 7],
    );
    assert.equal(w.state.outcome, 'done');
  });

  it('does not apply a revision the node already holds (persisted)', async () => {
    const { w, fake } = worker(groupSource, new FakeFleetLayers(), 9);
    w.published(9, Buffer.from(motd('nine')));
    await idle(w);
    assert.equal(fake.applied.length, 0);
    assert.equal(w.state.published, 9);
  });

  it('refuses an invalid revision once, keeps the layer, and takes the next valid one', async () => {
    const { w, fake } = worker();
    w.published(3, Buffer.from(motd('three')));
    await idle(w);
    w.published(4, Buffer.from(JSON.stringify({ version: 1, plugins: { motd: { text: 1 } } })));
    await idle(w);
    assert.equal(w.state.revision, 3);
    assert.equal(w.state.refused?.revision, 4);
    assert.ok(w.state.refused?.problems.some((p) => p.startsWith('/plugins/motd/text')));
    w.published(4, Buffer.from('{}')); // seen again after a re-read: not retried
    await idle(w);
    w.published(5, Buffer.from(motd('five')));
    await waitFor('five', () => w.state.revision === 5 && !w.busy);
    assert.equal(w.state.refused, undefined);
    assert.deepEqual(
      fake.applied.map((a) => a.revision),
      [3, 5],
    );
  });

  it('drops the layer when its key is deleted (the node no longer takes it)', async () => {
    const { w, fake } = worker(nodeSource);
    w.published(3, Buffer.from(motd('three')));
    await idle(w);
    assert.equal(fake.layers().length, 1);
    w.published(8, undefined);
    await idle(w);
    assert.equal(w.state.revision, null);
    assert.equal(w.state.published, null);
    assert.equal(w.state.outcome, 'done');
    assert.deepEqual(fake.layers(), []);
    // Deleted again (or never there): nothing more to do.
    w.published(9, undefined);
    await idle(w);
    assert.equal(fake.applied.length, 1);
  });

  it('takes a slot before a group revision with max_unavailable, and hands back how the job ended', async () => {
    const { w, fake, gate } = worker();
    fake.outcome = () => 'failed';
    w.published(3, Buffer.from(motd('x', { rollout: { max_unavailable: 2 } })));
    await waitFor('finished', () => w.state.outcome === 'failed');
    await idle(w);
    assert.deepEqual(gate.calls, ['acquire web 3 max 2', 'finish web 3 failed']);
    w.published(
      4,
      Buffer.from(
        JSON.stringify({ version: 1, plugins: { nope: {} }, rollout: { max_unavailable: 2 } }),
      ),
    );
    await idle(w);
    assert.deepEqual(gate.calls.slice(2), ['acquire web 4 max 2', 'abandon web']);
  });

  it('takes no slot without rollout settings', async () => {
    const { w, gate } = worker();
    w.published(3, Buffer.from(motd('x')));
    await waitFor('done', () => w.state.outcome === 'done' && !w.busy);
    assert.deepEqual(gate.calls, []);
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ServiceSlots, SingleFlight } from '../../../src/plugins/shared/service-slots.js';
import { ResolveBatcher } from '../../../src/plugins/packagekit/resolve-batcher.js';
import { parsePackageId } from '../../../src/plugins/packagekit/transaction-error.js';

const never = new AbortController().signal;

function gate(): { wait: Promise<void>; open: () => void } {
  let open: () => void = () => undefined;
  const wait = new Promise<void>((resolve) => (open = resolve));
  return { wait, open };
}

describe('service slots', () => {
  it('reads never hold the last slot, and a waiting job goes before waiting reads', async () => {
    const slots = new ServiceSlots(2);
    const order: string[] = [];
    const first = gate();
    const read1 = slots.run('read', never, async () => {
      order.push('read1');
      await first.wait;
    });
    // A second read waits although a slot is free: that one is kept for jobs.
    const read2 = slots.run('read', never, () => Promise.resolve(order.push('read2')));
    const blocker = gate();
    const job1 = slots.run('job', never, async () => {
      order.push('job1');
      await blocker.wait;
    });
    const job2 = slots.run('job', never, () => Promise.resolve(order.push('job2')));
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(order, ['read1', 'job1']);
    assert.equal(slots.waiting, 2);
    first.open();
    await read1;
    // read1's slot goes to the waiting job, not to the read that waited longer;
    // the read runs once the job is done (job1 still holds the other slot).
    await job2;
    await read2;
    assert.deepEqual(order, ['read1', 'job1', 'job2', 'read2']);
    blocker.open();
    await job1;
    assert.equal(slots.inUse, 0);
  });

  it('a waiter whose signal fires stops waiting and takes no slot', async () => {
    const slots = new ServiceSlots(2);
    const hold = gate();
    const job = slots.run('job', never, () => hold.wait);
    const read = slots.run('read', never, () => hold.wait);
    const controller = new AbortController();
    const waiting = slots.run('read', controller.signal, () => Promise.resolve('ran'));
    controller.abort(new Error('caller left'));
    await assert.rejects(waiting, /caller left/);
    hold.open();
    await Promise.all([job, read]);
    assert.equal(slots.waiting, 0);
    assert.equal(slots.inUse, 0);
  });

  it('identical reads in flight share one answer', async () => {
    const flight = new SingleFlight<number>();
    let reads = 0;
    const hold = gate();
    const read = async () => {
      reads += 1;
      await hold.wait;
      return reads;
    };
    const answers = [flight.run('k', read), flight.run('k', read), flight.run('k', read)];
    hold.open();
    assert.deepEqual(await Promise.all(answers), [1, 1, 1]);
    assert.equal(await flight.run('k', read), 2, 'a later read reads again');
  });
});

describe('ResolveBatcher', () => {
  const pkg = (name: string) => parsePackageId(2, `${name};1.0;all;repo`, '');

  it('coalesces concurrent readers into one Resolve, and names in flight join it', async () => {
    const sent: string[][] = [];
    const hold = gate();
    const batcher = new ResolveBatcher(async (takeNames) => {
      const names = takeNames();
      sent.push(names);
      await hold.wait;
      return names.map(pkg);
    });
    const answers = [
      batcher.resolve(['a', 'b'], never),
      batcher.resolve(['b', 'c'], never),
      batcher.resolve(['d'], never),
    ];
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setImmediate(resolve));
    const late = batcher.resolve(['a', 'e'], never);
    hold.open();
    const [ab, bc, d] = await Promise.all(answers);
    assert.deepEqual(
      [ab, bc, d].map((list) => list?.map((p) => p.name).sort()),
      [['a', 'b'], ['b', 'c'], ['d']],
    );
    assert.deepEqual((await late).map((p) => p.name).sort(), ['a', 'e']);
    // One Resolve for a-d; 'a' was in flight, so only 'e' needed another.
    assert.deepEqual(sent, [['a', 'b', 'c', 'd'], ['e']]);
  });

  it('takes names only when the Resolve can be sent: a batch waiting for a slot keeps growing', async () => {
    const sent: string[][] = [];
    const slots = new ServiceSlots(2);
    const hold = gate();
    const blocker = slots.run('read', never, () => hold.wait);
    const batcher = new ResolveBatcher((takeNames) =>
      slots.run('read', never, () => {
        const names = takeNames();
        sent.push(names);
        return Promise.resolve(names.map(pkg));
      }),
    );
    const answers: Promise<unknown>[] = [];
    for (const name of ['a', 'b', 'c']) {
      answers.push(batcher.resolve([name], never));
      await new Promise((resolve) => setImmediate(resolve));
    }
    hold.open();
    await blocker;
    await Promise.all(answers);
    assert.deepEqual(sent, [['a', 'b', 'c']]);
  });
});

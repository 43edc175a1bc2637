import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { connectBus, type MessageBus } from '../../src/dbus/bus.js';
import { StateManagerClient } from '../../src/cli/client.js';
import { BUS_NAME, JOB_INTERFACE } from '../../src/dbus/api.js';
import { startStack, type Stack } from '../harness/stack.js';
import { jobIdOf, matchRuleCount, ownerOf, SignalRecorder } from '../helpers/bus-client.js';
import { packagesDocument } from '../helpers/documents.js';

const CLIENTS = 50;

/** Resident memory of a process, from /proc. */
async function rssKiB(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1]);
}

describe('load: 50 clients at once', () => {
  let stack: Stack;
  let clients: { bus: MessageBus; client: StateManagerClient }[] = [];
  before(async () => {
    stack = await startStack({ daemonArgs: ['--no-drift-correction'] });
    clients = await Promise.all(
      Array.from({ length: CLIENTS }, async () => {
        const bus = await connectBus(stack.bus.address);
        return { bus, client: new StateManagerClient(bus) };
      }),
    );
  });
  after(async () => {
    for (const { bus } of clients) bus.disconnect();
    await stack?.stop();
  });

  it('every Apply and Query is answered, jobs run one at a time in order, nothing is lost', async () => {
    const recorder = await SignalRecorder.start(stack.clientBus);
    const documents = clients.map((_, i) =>
      packagesDocument({ glib2: 'installed', [`pkg${i}`]: 'removed' }),
    );
    const answers = await Promise.all(
      clients.map(async ({ client }, i) => {
        const [path, state] = await Promise.all([
          client.apply(documents[i] as string),
          client.query(['packagekit']),
        ]);
        return { path, state };
      }),
    );
    // Every Query answers with the whole packagekit section, the same as one Query alone
    // (the dummy backend's installed list does not depend on what the jobs do).
    const alone = await stack.client.query(['packagekit']);
    const aloneDocument = JSON.parse(alone) as { plugins: { packagekit?: { packages?: object } } };
    assert.ok(Object.keys(aloneDocument.plugins.packagekit?.packages ?? {}).length > 0);
    for (const { state } of answers) assert.equal(state, alone);
    const ids = answers.map(({ path }) => jobIdOf(path));
    assert.equal(new Set(ids).size, CLIENTS, 'one job per Apply');
    for (const id of ids) await recorder.waitForJobRemoved(id, 60_000);

    // Replay: a job starts only after the previous one was removed, in id order.
    const started: number[] = [];
    let running: number | undefined;
    for (const s of recorder.signals) {
      const changed =
        s.member === 'PropertiesChanged' && s.body[0] === JOB_INTERFACE
          ? (s.body[1] as Record<string, { value: unknown }>)
          : {};
      if (changed.State?.value === 'running') {
        assert.equal(running, undefined, 'two jobs ran at once');
        running = jobIdOf(s.path);
        started.push(running);
      } else if (s.member === 'JobRemoved' && s.body[0] === running) {
        running = undefined;
      }
    }
    assert.deepEqual(
      started,
      [...ids].sort((a, b) => a - b),
    );
    assert.ok(recorder.named('JobRemoved').every((s) => s.body[2] === 'done'));
    // The desired state is the document of the last job queued.
    const last = ids.indexOf(Math.max(...ids));
    assert.deepEqual(
      JSON.parse(await stack.client.desiredState()),
      JSON.parse(documents[last] as string),
    );
    assert.equal(await stack.client.managerProperty('DesiredGeneration'), BigInt(CLIENTS));
    recorder.stop();
  });
});

describe('soak: 1,000 applies in a row', () => {
  it('keep the daemon’s memory and match rules flat', async (t) => {
    const stack = await startStack({
      daemonArgs: ['--no-drift-correction', '--max-retained-jobs', '100'],
    });
    try {
      const recorder = await SignalRecorder.start(stack.clientBus);
      const daemonName = await ownerOf(stack.clientBus, BUS_NAME);
      const run = async (count: number): Promise<void> => {
        for (let i = 0; i < count; i += 1) {
          const path = await stack.client.apply(
            packagesDocument({ glib2: 'installed', [`p${i % 7}`]: 'removed' }),
          );
          await recorder.waitForJobRemoved(jobIdOf(path));
          if (recorder.signals.length > 5_000) recorder.signals.splice(0, 4_000);
        }
      };
      await run(200); // warm-up: JIT, caches, retained jobs filled to their limit
      const rulesBefore = await matchRuleCount(stack.clientBus, daemonName);
      const rssBefore = await rssKiB(stack.daemon.pid);
      await run(800);
      const rulesAfter = await matchRuleCount(stack.clientBus, daemonName);
      const rssAfter = await rssKiB(stack.daemon.pid);
      t.diagnostic(`daemon RSS ${rssBefore} KiB after 200 applies, ${rssAfter} KiB after 1,000`);
      assert.equal(rulesAfter, rulesBefore);
      // Flat, with room for the garbage collector's rhythm: a leak of even 20 KiB
      // per job would add 16 MiB over these 800.
      assert.ok(rssAfter - rssBefore < 12 * 1024, `RSS grew ${rssAfter - rssBefore} KiB`);
      recorder.stop();
    } finally {
      await stack.stop();
    }
  });
});

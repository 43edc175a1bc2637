import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { BUS_NAME } from '../../src/dbus/api.js';
import { startStack, type Stack } from '../harness/stack.js';
import { jobIdOf, matchRuleCount, ownerOf, SignalRecorder } from '../helpers/bus-client.js';
import { packagesDocument } from '../helpers/documents.js';

// dbus-next never sends RemoveMatch: a daemon that subscribed once per PackageKit
// transaction would gain a rule per job and die at the bus limit (512) after ~256.
describe('300 consecutive applies (the dbus-next match-rule leak)', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack();
  });
  after(async () => stack?.stop());

  it("leave the daemon's match rules where they were", async () => {
    const daemonName = await ownerOf(stack.clientBus, BUS_NAME);
    const recorder = await SignalRecorder.start(stack.clientBus);
    // One warm-up job, so rules added lazily on first use are counted in the baseline.
    const first = await stack.client.apply(packagesDocument({ glib2: 'installed' }));
    await recorder.waitForJobRemoved(jobIdOf(first));
    const baseline = await matchRuleCount(stack.clientBus, daemonName);

    for (let i = 0; i < 300; i += 1) {
      const path = await stack.client.apply(
        packagesDocument({ glib2: 'installed', 'vips-doc': 'removed' }),
      );
      const removed = await recorder.waitForJobRemoved(jobIdOf(path));
      assert.equal(removed.body[2], 'done');
      // Plan and Query run transactions too.
      if (i % 50 === 0) {
        await stack.client.plan(packagesDocument({ powertop: 'installed' }));
        await stack.client.query(['packagekit']);
      }
    }
    recorder.stop();
    assert.equal(await matchRuleCount(stack.clientBus, daemonName), baseline);
    // Two per service it listens to (its signals, its owner changes): PackageKit,
    // NetworkManager, systemd, hostname1, timedate1, locale1.
    assert.ok(baseline <= 12, `the daemon holds two broad rules per service, not ${baseline}`);
  });
});

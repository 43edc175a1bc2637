import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { PluginFailure } from '../../src/errors.js';
import type { ChangeScope } from '../../src/engine/plugin.js';
import type { OpenvswitchPlugin } from '../../src/plugins/openvswitch/plugin.js';
import type { OpenvswitchSection } from '../../src/plugins/openvswitch/schema.js';
import { startOpenvswitch, type OpenvswitchHarness } from '../harness/openvswitch.js';
import { waitFor } from '../harness/processes.js';
import {
  applyOnce,
  assertConverged,
  startedPlugin,
  summary,
} from '../helpers/openvswitch-plugin.js';
import { testContext } from '../helpers/plugin-host.js';

function isRetryable(err: unknown): boolean {
  return err instanceof PluginFailure && err.kind === 'retryable';
}

/**
 * ovsdb-server killed with SIGKILL and started again on the same database,
 * under a plugin that lives on: its own file, since it takes the server away.
 */
describe('openvswitch plugin across an ovsdb-server restart', () => {
  let ovs: OpenvswitchHarness;
  let plugin: OpenvswitchPlugin;

  before(async () => {
    ovs = await startOpenvswitch();
    plugin = startedPlugin(ovs.socketPath);
  });
  after(async () => {
    await plugin?.stop();
    await ovs?.stop();
  });

  it('fails retryable while ovsdb-server is gone, reconnects, and has the right replica again', async (t) => {
    const desired: OpenvswitchSection = {
      bridges: {
        'br-life': {
          datapath_type: 'netdev',
          ports: { 'life-p': { interface: { type: 'internal' }, tag: 3 } },
        },
      },
    };
    await applyOnce(plugin, desired);
    await ovs.killOvsdbServer();
    await waitFor('the client to notice', () => !plugin.client.connected);
    await assert.rejects(plugin.observe(desired, testContext()), isRetryable);
    await assert.rejects(plugin.query(testContext()), isRetryable);

    const notices: ChangeScope[] = [];
    const unsubscribe = plugin.changes.subscribe((scope) => notices.push(scope));
    const restarted = Date.now();
    await ovs.restartOvsdbServer();
    await waitFor('the background reconnect', () => plugin.client.connected, 10_000);
    t.diagnostic(`reconnected ${Date.now() - restarted} ms after ovsdb-server was restarted`);
    await waitFor("the 'all' notice of a rebuilt replica", () => notices.includes('all'));
    unsubscribe();

    // Someone else's change after the restart, and ours from before it, are both seen.
    await ovs.vsctl('set', 'Port', 'life-p', 'tag=4');
    const observed = await plugin.observe(desired, testContext());
    assert.equal(observed.ports.get('life-p')?.tag, 4);
    assert.equal(observed.bridges.get('br-life')?.datapathType, 'netdev');

    // ovs-vswitchd reconnected too: an apply after the restart completes and verifies.
    const run = await applyOnce(plugin, desired);
    assert.deepEqual(summary(run), ['br-life/life-p update changed']);
    await assertConverged(plugin, desired);
  });

  it('fails a committed change as retryable while ovs-vswitchd is not running to apply it', async () => {
    const patient = startedPlugin(ovs.socketPath, 1_000);
    const desired: OpenvswitchSection = {
      bridges: {
        'br-idle': {
          datapath_type: 'netdev',
          ports: { 'idle-p': { interface: { type: 'internal' } } },
        },
      },
    };
    await ovs.stopVswitchd();
    try {
      const run = await applyOnce(patient, desired);
      assert.deepEqual(summary(run), ['br-idle create failed', 'br-idle/idle-p create failed']);
      assert.equal(run.outcomes[0]?.failure, 'retryable');
      assert.match(
        run.outcomes[0]?.error ?? '',
        /committed to OVSDB, but ovs-vswitchd has not applied it/,
      );
    } finally {
      await ovs.restartVswitchd();
    }
    // Once ovs-vswitchd is back it applies what was committed: nothing left to do.
    await assertConverged(patient, desired);
    assert.ok(Number((await ovs.vsctl('get', 'Interface', 'idle-p', 'ofport')).trim()) > 0);
    await patient.stop();
  });

  it('starts without ovsdb-server and says "unavailable", retryable, naming the socket', async () => {
    const absent = startedPlugin(`${ovs.dir}/no-such.sock`);
    try {
      await assert.rejects(absent.observe({ bridges: {} }, testContext()), (err: unknown) => {
        return isRetryable(err) && String(err).includes(`unavailable at ${ovs.dir}/no-such.sock`);
      });
    } finally {
      await absent.stop();
    }
  });
});

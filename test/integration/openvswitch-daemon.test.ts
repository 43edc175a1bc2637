import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { OpenvswitchSection } from '../../src/plugins/openvswitch/schema.js';
import { waitFor } from '../harness/processes.js';
import { errorOf } from '../helpers/bus-client.js';
import {
  applyThroughDaemon,
  finishedJob,
  outcomes,
  ovsDocument,
  pendingChanges,
  startOvsDaemon,
  type OvsDaemon,
} from '../helpers/openvswitch-daemon.js';

/**
 * The real daemon (over D-Bus, from its built CLI) driving a real Open vSwitch
 * through its openvswitch plugin, configured with `--plugin-option
 * openvswitch.socket=...`. Each test applies its own document on its own bridges.
 */
describe('openvswitch through the daemon', () => {
  let daemon: OvsDaemon;
  before(async () => {
    daemon = await startOvsDaemon();
  });
  after(async () => {
    await daemon?.stop();
  });

  /** The drift job the daemon queued after signal index `start`, once it has ended. */
  async function driftJobAfter(start: number): Promise<ReturnType<typeof finishedJob>> {
    const isDriftJob = (s: { member: string; body: unknown[] }): boolean =>
      s.member === 'JobNew' && s.body[2] === 'drift';
    await waitFor('a drift job', () => daemon.recorder.signals.slice(start).some(isDriftJob));
    const jobNew = daemon.recorder.signals.slice(start).find(isDriftJob);
    return finishedJob(daemon, String(jobNew?.body[1]));
  }

  it('applies a bridge with a management port and an uplink in one Apply; Plan and Query then agree', async () => {
    await daemon.ovs.addVethPair('d1-up', 'd1-up-peer');
    const section: OpenvswitchSection = {
      bridges: {
        'br-d1': {
          datapath_type: 'netdev',
          fail_mode: 'standalone',
          external_ids: { owner: 'op-dbus-test' },
          ports: {
            'd1-mgmt': { interface: { type: 'internal' }, tag: 10 },
            'd1-up': { interface: { type: 'system' } },
          },
        },
      },
    };
    const job = await applyThroughDaemon(daemon, section);
    assert.equal(job.state, 'done', JSON.stringify(job.result));
    assert.deepEqual(outcomes(job), [
      'br-d1 changed',
      'br-d1/d1-mgmt changed',
      'br-d1/d1-up changed',
    ]);
    assert.deepEqual((await daemon.ovs.vsctl('list-ports', 'br-d1')).trim().split('\n'), [
      'd1-mgmt',
      'd1-up',
    ]);
    assert.equal((await daemon.ovs.vsctl('get', 'Port', 'd1-mgmt', 'tag')).trim(), '10');
    assert.match((await daemon.ovs.vsctl('get', 'Interface', 'd1-up', 'ofport')).trim(), /^[1-9]/);

    assert.deepEqual(await pendingChanges(daemon, ovsDocument(section)), []);

    const queried = await daemon.stack.client.query(['openvswitch']);
    const bridges = (JSON.parse(queried) as { plugins: { openvswitch: OpenvswitchSection } })
      .plugins.openvswitch.bridges;
    assert.deepEqual(bridges['br-d1']?.ports, {
      'd1-mgmt': { interface: { type: 'internal', options: {} }, tag: 10 },
      'd1-up': { interface: { type: 'system', options: {} } },
    });
    assert.equal(bridges['br-d1']?.external_ids?.owner, 'op-dbus-test');
    assert.deepEqual(await pendingChanges(daemon, queried), []);
  });

  it('restores a port deleted with ovs-vsctl del-port behind its back (drift correction)', async (t) => {
    const section: OpenvswitchSection = {
      bridges: {
        'br-d2': {
          datapath_type: 'netdev',
          ports: { 'd2-p': { interface: { type: 'internal' }, tag: 7 } },
        },
      },
    };
    assert.equal((await applyThroughDaemon(daemon, section)).state, 'done');
    const start = daemon.recorder.signals.length;
    const began = performance.now();
    await daemon.ovs.vsctl('del-port', 'br-d2', 'd2-p');
    const deleted = performance.now();
    const job = await driftJobAfter(start);
    const corrected = performance.now();
    assert.equal(job.state, 'done', JSON.stringify(job.result));
    assert.deepEqual(outcomes(job), ['br-d2 unchanged', 'br-d2/d2-p changed']);
    const drift = daemon.recorder.signals.slice(start).find((s) => s.member === 'DriftDetected');
    assert.deepEqual(drift?.body.slice(0, 2), ['openvswitch', 'br-d2/d2-p']);
    assert.equal((await daemon.ovs.vsctl('list-ports', 'br-d2')).trim(), 'd2-p');
    assert.equal((await daemon.ovs.vsctl('get', 'Port', 'd2-p', 'tag')).trim(), '7');
    t.diagnostic(
      `del-port to drift job done: ${Math.round(corrected - began)} ms from the command's start, ` +
        `${Math.round(corrected - deleted)} ms after ovs-vsctl returned (it waits for ovs-vswitchd)`,
    );
  });

  it('fails a "system" bridge terminally with the reason (no kernel datapath here)', async () => {
    const job = await applyThroughDaemon(daemon, {
      bridges: { 'br-sys': { datapath_type: 'system' } },
    });
    try {
      assert.equal(job.state, 'failed');
      const [bridge] = job.result.resources;
      assert.equal(bridge?.resource, 'br-sys');
      assert.equal(bridge?.outcome, 'failed');
      assert.equal(bridge?.failure, 'terminal');
      assert.match(
        String(bridge?.error),
        /did not create bridge br-sys.*datapath_type is "system".*kernel module.*"netdev"/,
      );
    } finally {
      const removed = await applyThroughDaemon(daemon, {
        bridges: { 'br-sys': { ensure: 'absent' } },
      });
      assert.equal(removed.state, 'done', JSON.stringify(removed.result));
    }
    assert.doesNotMatch(await daemon.ovs.vsctl('list-br'), /br-sys/);
  });

  it('answers Plan with PluginUnavailable while ovsdb-server is down, and recovers when it is back', async (t) => {
    const section: OpenvswitchSection = {
      bridges: { 'br-d4': { datapath_type: 'netdev', ports: { 'd4-p': {} } } },
    };
    await daemon.ovs.addVethPair('d4-p', 'd4-p-peer');
    assert.equal((await applyThroughDaemon(daemon, section)).state, 'done');
    await daemon.ovs.killOvsdbServer();
    let restarted = false;
    try {
      const failure = await errorOf(daemon.stack.client.plan(ovsDocument(section)));
      assert.equal(failure.type, 'org.opdbus.Error.PluginUnavailable');
      assert.match(failure.text, /ovsdb-server|db\.sock/);
      assert.equal(daemon.stack.daemon.running, true, 'the daemon is still running');
      t.diagnostic(`Plan with ovsdb-server down: ${failure.type}: ${failure.text}`);
      await daemon.ovs.restartOvsdbServer();
      restarted = true;
    } finally {
      if (!restarted) await daemon.ovs.restartOvsdbServer();
    }
    await waitFor('Plan to work again', async () => {
      await daemon.stack.client.plan(ovsDocument(section));
      return true;
    });
    assert.deepEqual(await pendingChanges(daemon, ovsDocument(section)), []);
    // Its monitor is back too: a port deleted now is restored by drift correction.
    const start = daemon.recorder.signals.length;
    await daemon.ovs.vsctl('--no-wait', 'del-port', 'br-d4', 'd4-p');
    const job = await driftJobAfter(start);
    assert.deepEqual(outcomes(job), ['br-d4 unchanged', 'br-d4/d4-p changed']);
    assert.equal(job.state, 'done', JSON.stringify(job.result));
    assert.equal((await daemon.ovs.vsctl('list-ports', 'br-d4')).trim(), 'd4-p');
  });
});

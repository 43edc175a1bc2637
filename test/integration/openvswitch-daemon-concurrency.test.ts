import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { OpenvswitchSection } from '../../src/plugins/openvswitch/schema.js';
import { waitFor } from '../harness/processes.js';
import {
  applyThroughDaemon,
  finishedJob,
  ovsDocument,
  startOvsDaemon,
  type OvsDaemon,
} from '../helpers/openvswitch-daemon.js';
import { OvsdbGate } from '../helpers/ovsdb-gate.js';

/**
 * Someone else changes Open vSwitch between the daemon's observe and its
 * transaction. The daemon talks to ovsdb-server through a gate (a proxy) that
 * holds its transaction until the other change is committed: no timing luck.
 */
describe('openvswitch through the daemon, with a concurrent change during an apply', () => {
  let daemon: OvsDaemon;
  let gate: OvsdbGate | undefined;
  before(async () => {
    daemon = await startOvsDaemon(async (ovs) => {
      gate = await OvsdbGate.start(ovs.socketPath);
      return gate.path;
    });
  });
  after(async () => {
    await daemon?.stop();
    await gate?.stop();
  });

  it('fails the resource retryable instead of overwriting, and the drift retry converges', async () => {
    const initial: OpenvswitchSection = {
      bridges: {
        'br-cc': {
          datapath_type: 'netdev',
          ports: { 'cc-p': { interface: { type: 'internal' }, tag: 10 } },
        },
      },
    };
    assert.equal((await applyThroughDaemon(daemon, initial)).state, 'done');
    const wanted: OpenvswitchSection = {
      bridges: { 'br-cc': { ports: { 'cc-p': { tag: 20 } } } },
    };

    const ovsGate = gate as OvsdbGate;
    ovsGate.close();
    const path = await daemon.stack.client.apply(ovsDocument(wanted));
    await ovsGate.held();
    // Committed directly on ovsdb-server while the daemon's transaction waits.
    await daemon.ovs.vsctl('set', 'Port', 'cc-p', 'tag=30');
    ovsGate.open();

    const job = await finishedJob(daemon, path);
    assert.equal(job.state, 'failed');
    const port = job.result.resources.find((r) => r.resource === 'br-cc/cc-p');
    assert.equal(port?.outcome, 'failed');
    assert.equal(port?.failure, 'retryable');
    assert.match(String(port?.error), /changed since it was read \(port cc-p\)/);
    assert.equal(
      job.result.resources.find((r) => r.resource === 'br-cc')?.outcome,
      'unchanged',
      'a resource that needed nothing is not reported failed',
    );

    // Not overwritten: the other party's value stands until the retry (2 s of back-off away).
    assert.equal((await daemon.ovs.vsctl('get', 'Port', 'cc-p', 'tag')).trim(), '30');

    // The drift monitor retries after its back-off, plans afresh (30 -> 20) and converges.
    await waitFor(
      'the retry to set the tag',
      async () => (await daemon.ovs.vsctl('get', 'Port', 'cc-p', 'tag')).trim() === '20',
      30_000,
    );
    assert.match(daemon.stack.daemon.output.join(''), /retrying failed resources after back-off/);
    const verify = JSON.parse(await daemon.stack.client.verify()) as { inSync: boolean };
    assert.equal(verify.inSync, true);
  });
});

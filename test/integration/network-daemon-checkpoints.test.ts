import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { getProperty } from '../../src/dbus/bus.js';
import { CHECKPOINT_RECORD_FILE } from '../../src/plugins/network/plugin.js';
import type { NetworkSection } from '../../src/plugins/network/schema.js';
import { waitFor } from '../harness/processes.js';
import {
  applyThroughDaemon,
  checkpointsOf,
  ipv4Of,
  networkDocument,
  pending,
  planThroughDaemon,
  startNetworkStack,
  type NetworkStack,
} from '../helpers/network-stack.js';
import { bridge, unverifiableMacVlan } from '../helpers/network-documents.js';

const BEFORE: NetworkSection = { interfaces: [bridge('192.0.2.10')] };

describe('network checkpoints through the daemon', () => {
  let net: NetworkStack;

  beforeEach(async () => {
    net = await startNetworkStack();
    await net.nm.addVethPair('veth-a', 'veth-b');
    const job = await applyThroughDaemon(net.stack, BEFORE);
    assert.equal(job.state, 'done', JSON.stringify(job.resources));
  });
  afterEach(async () => {
    await net?.stop();
  });

  it('rolls back an apply that cannot verify: the resources fail with the reason, the previous address is back', async () => {
    const failing = unverifiableMacVlan('192.0.2.20');
    const job = await applyThroughDaemon(net.stack, failing);
    assert.equal(job.state, 'failed');
    assert.deepEqual(
      job.resources.map((row) => [row.resource, row.outcome, row.failure]),
      [
        ['br0', 'failed', 'terminal'],
        ['mv0', 'failed', 'terminal'],
      ],
    );
    for (const row of job.resources) {
      assert.match(
        row.error ?? '',
        /did not verify: mv0 .*"mtu":1500.*"mtu":9000.*\(rolled back\)/,
      );
    }
    const addresses = await ipv4Of(net.nm, 'br0');
    assert.match(addresses, /inet 192\.0\.2\.10\/24 /, 'the previous address is back');
    assert.doesNotMatch(addresses, /192\.0\.2\.20/);
    await assert.rejects(net.nm.ip('link', 'show', 'mv0'), /does not exist/);
    assert.deepEqual(await checkpointsOf(net.nm), [], 'no checkpoint left behind');
    assert.deepEqual(pending(await planThroughDaemon(net.stack, BEFORE)), []);
  });

  it('destroys at start-up the checkpoint of a daemon killed mid-apply, then converges', async (t) => {
    // A second bridge without ports takes about 2 s to activate: the checkpoint
    // is open that long.
    const next: NetworkSection = {
      interfaces: [
        bridge('192.0.2.20'),
        {
          name: 'br1',
          type: 'linux-bridge',
          ipv4: { enabled: true, address: [{ ip: '198.51.100.1', 'prefix-length': 24 }] },
          ipv6: { enabled: false },
        },
      ],
    };
    await net.stack.client.apply(networkDocument(next));
    const nmCheckpoints = async (): Promise<string[]> =>
      (await getProperty(
        net.stack.clientBus,
        'org.freedesktop.NetworkManager',
        '/org/freedesktop/NetworkManager',
        'org.freedesktop.NetworkManager',
        'Checkpoints',
      )) as string[];
    const recordFile = join(net.stack.bus.dir, 'state', CHECKPOINT_RECORD_FILE);
    const recorded = async (): Promise<unknown> =>
      JSON.parse(await readFile(recordFile, 'utf8').catch(() => '[]')) as unknown;
    let stale = '';
    // Killed while the apply runs: after the daemon recorded the checkpoint (it
    // does so before it changes anything) and before it destroyed it.
    await waitFor('the apply to take and record a checkpoint', async () => {
      const [path] = await nmCheckpoints();
      const record = JSON.stringify(await recorded());
      stale = path ?? '';
      return stale !== '' && record.includes(`"${stale}"`);
    });
    net.stack.daemon.kill('SIGKILL');
    await waitFor('the daemon to die', () => !net.stack.daemon.running);
    assert.ok((await nmCheckpoints()).includes(stale), 'the checkpoint outlives the daemon');

    const started = Date.now();
    const daemon = await net.stack.restartDaemon();
    await waitFor(
      'the stale checkpoint to go',
      async () => !(await nmCheckpoints()).includes(stale),
    );
    t.diagnostic(`stale checkpoint gone ${Date.now() - started} ms after the restart began`);
    assert.match(daemon.output.join(''), /"msg":"stale network checkpoint destroyed"/);
    // NetworkManager refuses a checkpoint over devices already in one: the
    // start-up reconcile converges only because the stale one is gone.
    await waitFor(
      'the start-up reconcile to converge',
      async () => pending(await planThroughDaemon(net.stack, next)).length === 0,
      30_000,
    );
    assert.match(await ipv4Of(net.nm, 'br0'), /inet 192\.0\.2\.20\/24 /);
    assert.deepEqual(await checkpointsOf(net.nm), []);
  });

  it('on probation (ApplyConfirmed), Rollback() puts back what the network section changed', async () => {
    const probation: NetworkSection = {
      interfaces: [
        bridge('192.0.2.20'),
        {
          name: 'br1',
          type: 'linux-bridge',
          ipv4: { enabled: true, address: [{ ip: '198.51.100.1', 'prefix-length': 24 }] },
          ipv6: { enabled: false },
        },
      ],
    };
    const [job, checkpoint] = await net.stack.client.applyConfirmed(networkDocument(probation), 60);
    await waitFor('the probationary apply', async () =>
      ['done', 'failed'].includes(String(await net.stack.client.jobProperty(job, 'State'))),
    );
    assert.equal(await net.stack.client.jobProperty(job, 'State'), 'done');
    assert.match(await ipv4Of(net.nm, 'br0'), /inet 192\.0\.2\.20\/24 /);
    const snapshot = String((await net.stack.client.checkpointProperties(checkpoint)).Snapshot);
    assert.match(snapshot, /network/);
    assert.match(snapshot, /exact/);

    await net.stack.client.checkpointCall(checkpoint, 'Rollback');
    await waitFor(
      'the previous address back and br1 gone',
      async () =>
        /inet 192\.0\.2\.10\/24 /.test(await ipv4Of(net.nm, 'br0')) &&
        !(await net.nm.ip('-o', 'link').catch(() => '')).includes('br1'),
      60_000,
    );
    await waitFor(
      'the previous document to plan nothing',
      async () => pending(await planThroughDaemon(net.stack, BEFORE)).length === 0,
      30_000,
    );
  });
});

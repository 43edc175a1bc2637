import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { CheckpointKeeper } from '../../src/plugins/network/checkpoint.js';
import { NmClient, type NmCallOptions } from '../../src/plugins/network/nm-client.js';
import { CHECKPOINT_RECORD_FILE } from '../../src/plugins/network/plugin.js';
import type { NetworkSection } from '../../src/plugins/network/schema.js';
import {
  applyOnce,
  assertAllChanged,
  pendingChanges,
  startNetworkFixture,
  type NetworkFixture,
  type PluginHandle,
} from '../helpers/network.js';
import { bridge, unverifiableMacVlan } from '../helpers/network-documents.js';

const job = (): NmCallOptions => ({ signal: AbortSignal.timeout(10_000), priority: 'job' });

async function devicePath(client: NmClient, name: string): Promise<string> {
  for (const path of await client.getAllDevices(job())) {
    if ((await client.deviceProperties(path, job())).Interface === name) return path;
  }
  throw new Error(`no device ${name}`);
}

async function checkpoints(fx: NetworkFixture): Promise<string> {
  return fx.nm.exec('busctl', [
    '--system',
    'get-property',
    'org.freedesktop.NetworkManager',
    '/org/freedesktop/NetworkManager',
    'org.freedesktop.NetworkManager',
    'Checkpoints',
  ]);
}

describe('network checkpoints: rollback when an apply cannot verify or fails, stale ones cleaned', () => {
  let fx: NetworkFixture;
  let handle: PluginHandle;

  beforeEach(async () => {
    fx = await startNetworkFixture();
    await fx.nm.addVethPair('veth-a', 'veth-b');
    handle = await fx.open();
    assertAllChanged(
      (await applyOnce(handle.plugin, { interfaces: [bridge('192.0.2.10')] }, fx.log)).outcomes,
    );
  });
  afterEach(async () => {
    await fx.stop();
  });

  it('rolls back an apply that cannot verify: the previous address is back, the new interface gone', async () => {
    const doc = unverifiableMacVlan('192.0.2.20');
    const { planned, outcomes } = await applyOnce(handle.plugin, doc, fx.log);
    assert.deepEqual(
      planned.map((change) => [change.resource, change.action]),
      [
        ['br0', 'update'],
        ['mv0', 'create'],
      ],
    );
    assert.deepEqual(
      outcomes.map((outcome) => [outcome.resource, outcome.outcome, outcome.failure]),
      [
        ['br0', 'failed', 'terminal'],
        ['mv0', 'failed', 'terminal'],
      ],
    );
    for (const outcome of outcomes) {
      assert.match(
        outcome.error ?? '',
        /did not verify: mv0 .*"mtu":1500.*"mtu":9000.*\(rolled back\)/,
      );
    }
    const addresses = await fx.nm.ip('-4', '-o', 'addr', 'show', 'dev', 'br0');
    assert.match(addresses, /inet 192\.0\.2\.10\/24 /, 'the previous address is back');
    assert.doesNotMatch(addresses, /192\.0\.2\.20/);
    await assert.rejects(fx.nm.ip('link', 'show', 'mv0'), /does not exist/);
    assert.doesNotMatch(await fx.nm.exec('nmcli', ['-t', '-f', 'NAME', 'connection']), /^mv0$/m);
    assert.equal((await checkpoints(fx)).trim(), 'ao 0', 'no checkpoint left behind');
    assert.deepEqual(
      await pendingChanges(handle.plugin, { interfaces: [bridge('192.0.2.10')] }, fx.log),
      [],
    );
  });

  it('rolls back an apply that fails midway: a VLAN this kernel cannot create', async () => {
    const doc: NetworkSection = {
      interfaces: [
        bridge('192.0.2.30'),
        {
          name: 'br0.7',
          type: 'vlan',
          vlan: { 'base-iface': 'br0', id: 7 },
          ipv4: { enabled: false },
          ipv6: { enabled: false },
        },
      ],
    };
    const { outcomes } = await applyOnce(handle.plugin, doc, fx.log);
    assert.deepEqual(
      outcomes.map((outcome) => [outcome.resource, outcome.outcome]),
      [
        ['br0', 'failed'],
        ['br0.7', 'failed'],
      ],
    );
    const vlan = outcomes.find((outcome) => outcome.resource === 'br0.7');
    assert.match(vlan?.error ?? '', /activating br0\.7: .*\(rolled back\)/);
    assert.match(outcomes[0]?.error ?? '', /rolled back because another change failed/);
    assert.match(
      await fx.nm.ip('-4', '-o', 'addr', 'show', 'dev', 'br0'),
      /inet 192\.0\.2\.10\/24 /,
    );
    assert.doesNotMatch(await fx.nm.exec('nmcli', ['-t', '-f', 'NAME', 'connection']), /^br0\.7$/m);
  });

  it('destroys at start a checkpoint its previous run left behind, and leaves others alone', async () => {
    const client = new NmClient(handle.bus);
    const devices = [await devicePath(client, 'br0'), await devicePath(client, 'veth-a')];
    const crashed = new CheckpointKeeper(client, join(fx.stateDir, CHECKPOINT_RECORD_FILE), fx.log);
    // The crash: a checkpoint taken and recorded, never destroyed nor rolled back.
    const stale = await crashed.create(devices, 600, job());
    const others = await client.checkpointCreate(
      [await devicePath(client, 'veth-b')],
      600,
      0x2,
      job(),
    );
    assert.match(await readFile(join(fx.stateDir, CHECKPOINT_RECORD_FILE), 'utf8'), /Checkpoint/);
    await handle.close();

    const restarted = await fx.open();
    const left = await checkpoints(fx);
    assert.doesNotMatch(left, new RegExp(`"${stale.path}"`), 'the stale checkpoint is destroyed');
    assert.match(left, new RegExp(`"${others}"`), "another tool's checkpoint stays");
    assert.equal(await readFile(join(fx.stateDir, CHECKPOINT_RECORD_FILE), 'utf8'), '[]\n');
    await new NmClient(restarted.bus).checkpointDestroy(others, job());
    // NetworkManager refuses a checkpoint over devices already in one: the next apply
    // over br0 and veth-a works only because the stale one is gone.
    const { outcomes } = await applyOnce(
      restarted.plugin,
      { interfaces: [bridge('192.0.2.40')] },
      fx.log,
    );
    assertAllChanged(outcomes);
  });
});

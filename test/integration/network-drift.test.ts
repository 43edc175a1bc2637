import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { ChangeScope } from '../../src/engine/plugin.js';
import type { NetworkSection } from '../../src/plugins/network/schema.js';
import { waitFor } from '../harness/processes.js';
import {
  applyOnce,
  assertAllChanged,
  pendingChanges,
  startNetworkFixture,
  type NetworkFixture,
  type PluginHandle,
} from '../helpers/network.js';

const DOC: NetworkSection = {
  interfaces: [
    {
      name: 'br0',
      type: 'linux-bridge',
      state: 'up',
      ipv4: { enabled: true, dhcp: false, address: [{ ip: '192.0.2.10', 'prefix-length': 24 }] },
      ipv6: { enabled: false },
      bridge: { options: { stp: { enabled: false } }, port: [{ name: 'veth-a' }] },
    },
  ],
};

/** Every notice the plugin's change feed gives from now on. */
function collectNotices(handle: PluginHandle): { notices: ChangeScope[]; stop: () => void } {
  const notices: ChangeScope[] = [];
  const stop = handle.plugin.changes.subscribe((scope) => notices.push(scope));
  return { notices, stop };
}

const names = (notices: ChangeScope[], name: string): boolean =>
  notices.some((scope) => scope !== 'all' && scope.includes(name));

describe('network drift: changes behind NetworkManager-user backs are noticed and undone', () => {
  let fx: NetworkFixture;
  let handle: PluginHandle;

  beforeEach(async () => {
    fx = await startNetworkFixture();
    await fx.nm.addVethPair('veth-a', 'veth-b');
    handle = await fx.open();
    const { outcomes } = await applyOnce(handle.plugin, DOC, fx.log);
    assertAllChanged(outcomes);
    // The feed maps object paths to names from the last observation.
    assert.deepEqual(await pendingChanges(handle.plugin, DOC, fx.log), []);
  });
  afterEach(async () => {
    await fx.stop();
  });

  it('an address deleted with `ip addr del`: the feed names br0, the re-plan shows it, an apply restores it', async () => {
    const feed = collectNotices(handle);
    await fx.nm.ip('addr', 'del', '192.0.2.10/24', 'dev', 'br0');
    await waitFor('a change notice naming br0', () => names(feed.notices, 'br0'), 5_000);
    feed.stop();
    const pending = await pendingChanges(handle.plugin, DOC, fx.log);
    assert.deepEqual(
      pending.map((change) => [change.resource, change.action]),
      [['br0', 'update']],
    );
    assert.deepEqual((pending[0]?.from as { ipv4: unknown }).ipv4, {
      enabled: true,
      dhcp: false,
      address: [],
    });
    const { outcomes } = await applyOnce(handle.plugin, DOC, fx.log);
    assertAllChanged(outcomes);
    assert.match(
      await fx.nm.ip('-4', '-o', 'addr', 'show', 'dev', 'br0'),
      /inet 192\.0\.2\.10\/24 /,
    );
  });

  it('a connection deactivated by someone else: the feed names br0, the re-plan activates it, an apply does', async () => {
    const feed = collectNotices(handle);
    await fx.nm.exec('nmcli', ['connection', 'down', 'br0']);
    await waitFor('a change notice naming br0', () => names(feed.notices, 'br0'), 5_000);
    feed.stop();
    const pending = await pendingChanges(handle.plugin, DOC, fx.log);
    assert.deepEqual(
      pending.map((change) => [change.resource, change.action]),
      [['br0', 'activate']],
    );
    const { outcomes } = await applyOnce(handle.plugin, DOC, fx.log);
    assertAllChanged(outcomes);
    assert.match(
      await fx.nm.ip('-4', '-o', 'addr', 'show', 'dev', 'br0'),
      /inet 192\.0\.2\.10\/24 /,
    );
    assert.deepEqual(await pendingChanges(handle.plugin, DOC, fx.log), []);
  });

  it('a profile edited by someone else: the feed names br0 and the re-plan shows the address it lost', async () => {
    const feed = collectNotices(handle);
    await fx.nm.exec('nmcli', ['connection', 'modify', 'br0', 'ipv4.addresses', '192.0.2.77/24']);
    await fx.nm.exec('nmcli', ['device', 'reapply', 'br0']);
    await waitFor('a change notice naming br0', () => names(feed.notices, 'br0'), 5_000);
    feed.stop();
    const pending = await pendingChanges(handle.plugin, DOC, fx.log);
    assert.deepEqual(
      pending.map((change) => [change.resource, change.action]),
      [['br0', 'update']],
    );
    await applyOnce(handle.plugin, DOC, fx.log);
    const addresses = await fx.nm.ip('-4', '-o', 'addr', 'show', 'dev', 'br0');
    assert.match(addresses, /192\.0\.2\.10\/24/);
    assert.doesNotMatch(addresses, /192\.0\.2\.77/);
  });

  it('NetworkManager restarts: the feed says "look at everything"; the saved profiles still plan nothing', async () => {
    const feed = collectNotices(handle);
    await fx.nm.restart();
    await waitFor('an "all" notice', () => feed.notices.includes('all'), 5_000);
    feed.stop();
    const saved = await readdir(fx.nm.keyfileDir);
    assert.ok(saved.includes('br0.nmconnection'), `saved to disk: ${saved.join(', ')}`);
    assert.deepEqual(await pendingChanges(handle.plugin, DOC, fx.log), []);
  });
});

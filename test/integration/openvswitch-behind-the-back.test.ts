import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ChangeScope } from '../../src/engine/plugin.js';
import type { OpenvswitchPlugin } from '../../src/plugins/openvswitch/plugin.js';
import type { OpenvswitchSection } from '../../src/plugins/openvswitch/schema.js';
import { snapshot, type OvsState } from '../../src/plugins/openvswitch/state.js';
import { startOpenvswitch, type OpenvswitchHarness } from '../harness/openvswitch.js';
import {
  applyOnce,
  assertConverged,
  startedPlugin,
  summary,
} from '../helpers/openvswitch-plugin.js';
import { testContext } from '../helpers/plugin-host.js';

/** Resolves with the first notice `accept` takes; fails after `timeoutMs`. */
function nextNotice(
  plugin: OpenvswitchPlugin,
  accept: (scope: ChangeScope) => boolean,
  timeoutMs = 5_000,
): Promise<ChangeScope> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      unsubscribe();
      reject(new Error(`no matching change notice within ${timeoutMs} ms`));
    }, timeoutMs);
    const unsubscribe = plugin.changes.subscribe((scope) => {
      if (!accept(scope)) return;
      clearTimeout(timer);
      unsubscribe();
      resolve(scope);
    });
  });
}

/** An OvsState with set orders made irrelevant, for comparing two replicas. */
function comparable(state: OvsState): unknown {
  const sorted = <T>(items: readonly T[]): T[] => [...items].sort();
  return {
    bridges: [...state.bridges.values()]
      .map((b) => ({ ...b, portUuids: sorted(b.portUuids), ports: sorted(b.ports) }))
      .sort((a, b) => a.name.localeCompare(b.name)),
    ports: [...state.ports.values()]
      .map((p) => ({ ...p, interfaceUuids: sorted(p.interfaceUuids) }))
      .sort((a, b) => a.name.localeCompare(b.name)),
  };
}

describe('openvswitch plugin with someone else changing Open vSwitch', () => {
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

  it('aborts the whole transaction when a port changed between observe and apply', async () => {
    const initial: OpenvswitchSection = {
      bridges: {
        'br-cc': {
          datapath_type: 'netdev',
          ports: { 'cc-p': { interface: { type: 'internal' }, tag: 10 } },
        },
      },
    };
    await applyOnce(plugin, initial);
    const desired: OpenvswitchSection = {
      bridges: {
        'br-cc': {
          ports: { 'cc-p': { tag: 20 }, 'cc-new': { interface: { type: 'internal' } } },
        },
      },
    };
    const ctx = testContext();
    const observed = await plugin.observe(desired, ctx);
    const changes = plugin.plan(desired, observed).filter((c) => c.action !== 'none');
    assert.deepEqual(
      changes.map((c) => `${c.resource} ${c.action}`),
      ['br-cc/cc-p update', 'br-cc/cc-new create'],
    );

    await ovs.vsctl('set', 'Port', 'cc-p', 'tag=30');
    const outcomes = await plugin.apply(changes, desired, observed, ctx);
    // Every change that was in the transaction failed, retryable, with why.
    assert.deepEqual(
      outcomes.map((o) => `${o.resource} ${o.outcome} ${o.failure}`),
      ['br-cc/cc-p failed retryable', 'br-cc/cc-new failed retryable'],
    );
    assert.match(
      String(outcomes[0]?.error),
      /changed since it was read \(port cc-p\).*nothing was changed/,
    );
    // Not clobbered, and atomic: the port that was to be created was not.
    assert.equal((await ovs.vsctl('get', 'Port', 'cc-p', 'tag')).trim(), '30');
    assert.doesNotMatch(await ovs.vsctl('list-ports', 'br-cc'), /cc-new/);

    // The engine's retry plans afresh and converges.
    const retry = await applyOnce(plugin, desired);
    assert.deepEqual(summary(retry), ['br-cc/cc-p update changed', 'br-cc/cc-new create changed']);
    await assertConverged(plugin, desired);
  });

  it('aborts when someone creates the port it was about to create', async () => {
    await applyOnce(plugin, { bridges: { 'br-race': { datapath_type: 'netdev' } } });
    const desired: OpenvswitchSection = {
      bridges: { 'br-race': { ports: { 'race-p': { interface: { type: 'internal' }, tag: 5 } } } },
    };
    const ctx = testContext();
    const observed = await plugin.observe(desired, ctx);
    const changes = plugin.plan(desired, observed).filter((c) => c.action !== 'none');
    await ovs.vsctl(
      'add-port',
      'br-race',
      'race-p',
      '--',
      'set',
      'Interface',
      'race-p',
      'type=internal',
    );
    const [outcome] = await plugin.apply(changes, desired, observed, ctx);
    assert.equal(outcome?.outcome, 'failed');
    assert.equal(outcome?.failure, 'retryable');
    assert.match(String(outcome?.error), /changed since it was read \(no port named race-p\)/);
    // One port of that name, the other party's, untagged.
    assert.equal(
      (await ovs.vsctl('--bare', '--columns=tag', 'find', 'Port', 'name=race-p')).trim(),
      '',
    );
  });

  it('sees a port deleted with ovs-vsctl through the monitor, and restores it', async (t) => {
    const desired: OpenvswitchSection = {
      bridges: {
        'br-drift': {
          datapath_type: 'netdev',
          ports: { 'drift-p': { interface: { type: 'internal' } } },
        },
      },
    };
    await applyOnce(plugin, desired);
    const notice = nextNotice(plugin, (scope) => scope !== 'all' && scope.includes('br-drift'));
    const started = Date.now();
    await ovs.vsctl('del-port', 'br-drift', 'drift-p');
    assert.deepEqual(await notice, ['br-drift']);
    t.diagnostic(`notice ${Date.now() - started} ms after ovs-vsctl del-port started`);

    const run = await applyOnce(plugin, desired);
    assert.deepEqual(summary(run), ['br-drift/drift-p create changed']);
    assert.match(await ovs.vsctl('list-ports', 'br-drift'), /drift-p/);
  });

  it('names a bridge deleted with ovs-vsctl del-br in its notice', async () => {
    await ovs.vsctl('add-br', 'br-gone', '--', 'set', 'Bridge', 'br-gone', 'datapath_type=netdev');
    const notice = nextNotice(plugin, (scope) => scope !== 'all' && scope.includes('br-gone'));
    await ovs.vsctl('del-br', 'br-gone');
    assert.deepEqual(await notice, ['br-gone']);
  });

  it('does not notify for bridges a change does not touch', async () => {
    await ovs.vsctl(
      'add-br',
      'br-quiet',
      '--',
      'set',
      'Bridge',
      'br-quiet',
      'datapath_type=netdev',
    );
    await ovs.vsctl(
      'add-br',
      'br-noisy',
      '--',
      'set',
      'Bridge',
      'br-noisy',
      'datapath_type=netdev',
    );
    const scopes: ChangeScope[] = [];
    const unsubscribe = plugin.changes.subscribe((scope) => scopes.push(scope));
    const notice = nextNotice(plugin, (scope) => scope !== 'all' && scope.includes('br-noisy'));
    await ovs.vsctl('set', 'Bridge', 'br-noisy', 'external_ids:x=1');
    await notice;
    unsubscribe();
    assert.ok(scopes.every((scope) => scope !== 'all' && !scope.includes('br-quiet')));
  });

  it('keeps a replica equal to a fresh read after many changes of every column kind', async () => {
    await ovs.vsctl('add-br', 'br-rep', '--', 'set', 'Bridge', 'br-rep', 'datapath_type=netdev');
    await ovs.vsctl(
      'add-port',
      'br-rep',
      'rep-p',
      'tag=10',
      '--',
      'set',
      'Interface',
      'rep-p',
      'type=internal',
    );
    const changes: string[][] = [
      ['set', 'Port', 'rep-p', 'tag=20'],
      ['clear', 'Port', 'rep-p', 'tag'],
      ['set', 'Port', 'rep-p', 'tag=7'],
      ['set', 'Bridge', 'br-rep', 'external_ids:a=1', 'external_ids:b=2', 'fail_mode=secure'],
      ['set', 'Bridge', 'br-rep', 'external_ids:a=9', 'stp_enable=true'],
      ['remove', 'Bridge', 'br-rep', 'external_ids', 'b'],
      ['clear', 'Bridge', 'br-rep', 'fail_mode'],
      ['set', 'Interface', 'rep-p', 'type=patch', 'options:peer=nowhere'],
      ['set', 'Interface', 'rep-p', 'options:peer=elsewhere', 'options:x=y'],
      ['add-port', 'br-rep', 'rep-q', '--', 'set', 'Interface', 'rep-q', 'type=internal'],
      ['del-port', 'br-rep', 'rep-q'],
    ];
    for (const args of changes) await ovs.vsctl(...args);
    const kept = snapshot(await plugin.client.sync());
    const fresh = startedPlugin(ovs.socketPath);
    try {
      const read = snapshot(await fresh.client.sync());
      assert.deepEqual(comparable(kept), comparable(read));
      assert.equal(kept.ports.get('rep-p')?.tag, 7);
    } finally {
      await fresh.stop();
    }
  });
});

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SchemaChecker } from '../../src/document/validator.js';
import type { OpenvswitchPlugin } from '../../src/plugins/openvswitch/plugin.js';
import { OpenvswitchSection } from '../../src/plugins/openvswitch/schema.js';
import { startOpenvswitch, type OpenvswitchHarness } from '../harness/openvswitch.js';
import {
  applyOnce,
  assertConverged,
  startedPlugin,
  summary,
} from '../helpers/openvswitch-plugin.js';
import { testContext } from '../helpers/plugin-host.js';

/**
 * Apply against a real ovsdb-server and ovs-vswitchd (userspace datapath) in a
 * network namespace. Each test uses bridge and port names of its own and
 * creates what it needs; ovs-vsctl plays "someone else" and the reader of truth.
 */
describe('openvswitch plugin on a real Open vSwitch', () => {
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

  const get = async (...args: string[]): Promise<string> =>
    (await ovs.vsctl('get', ...args)).trim();

  it('creates a netdev bridge with internal, system (veth) and patch ports in one apply', async (t) => {
    await ovs.addVethPair('veth-a', 'veth-a-peer');
    const desired: OpenvswitchSection = {
      bridges: {
        'br-a': {
          datapath_type: 'netdev',
          fail_mode: 'standalone',
          external_ids: { owner: 'op-dbus' },
          ports: {
            'a-mgmt': { interface: { type: 'internal' }, tag: 10 },
            'veth-a': { interface: { type: 'system' } },
            'patch-a': { interface: { type: 'patch', options: { peer: 'patch-b' } } },
          },
        },
        'br-b': {
          datapath_type: 'netdev',
          ports: { 'patch-b': { interface: { type: 'patch', options: { peer: 'patch-a' } } } },
        },
      },
    };
    const run = await applyOnce(plugin, desired);
    t.diagnostic(
      `apply of ${run.outcomes.length} changes took ${run.applyMs} ms (ofports included)`,
    );
    assert.deepEqual(summary(run), [
      'br-a create changed',
      'br-a/a-mgmt create changed',
      'br-a/veth-a create changed',
      'br-a/patch-a create changed',
      'br-b create changed',
      'br-b/patch-b create changed',
    ]);
    for (const iface of ['br-a', 'a-mgmt', 'veth-a', 'patch-a', 'patch-b']) {
      const ofport = Number(await get('Interface', iface, 'ofport'));
      assert.ok(ofport > 0, `${iface} has ofport ${ofport}`);
    }
    assert.equal(await get('Port', 'a-mgmt', 'tag'), '10');
    assert.equal(await get('Bridge', 'br-a', 'fail_mode'), 'standalone');
    assert.equal(await get('Bridge', 'br-a', 'external_ids:op-dbus-managed'), '"true"');
    assert.equal(await get('Port', 'veth-a', 'external_ids:op-dbus-managed'), '"true"');
    // The internal port is a real device in the namespace (a tap of the userspace datapath).
    assert.match(await ovs.ip('link', 'show', 'a-mgmt'), /a-mgmt/);
    await assertConverged(plugin, desired);
  });

  it('changes a tag, then removes it, touching only that port', async () => {
    const bridge = (tag: number | null): OpenvswitchSection => ({
      bridges: {
        'br-tag': {
          datapath_type: 'netdev',
          ports: {
            'tag-p': { interface: { type: 'internal' }, tag },
            'tag-q': { interface: { type: 'internal' } },
          },
        },
      },
    });
    await applyOnce(plugin, bridge(10));
    const run = await applyOnce(plugin, bridge(20));
    assert.deepEqual(
      run.plan.map((c) => `${c.resource} ${c.action}`),
      ['br-tag none', 'br-tag/tag-p update', 'br-tag/tag-q none'],
    );
    assert.deepEqual(summary(run), ['br-tag/tag-p update changed']);
    assert.equal(await get('Port', 'tag-p', 'tag'), '20');
    await applyOnce(plugin, bridge(null));
    assert.equal(await get('Port', 'tag-p', 'tag'), '[]');
    await assertConverged(plugin, bridge(null));
  });

  it('removes a port the document says is absent, and leaves the others', async () => {
    const ports = {
      'rm-keep': { interface: { type: 'internal' } },
      'rm-gone': { interface: { type: 'internal' } },
    };
    await applyOnce(plugin, { bridges: { 'br-rm': { datapath_type: 'netdev', ports } } });
    const desired: OpenvswitchSection = {
      bridges: { 'br-rm': { ports: { 'rm-keep': {}, 'rm-gone': { ensure: 'absent' } } } },
    };
    const run = await applyOnce(plugin, desired);
    assert.deepEqual(summary(run), ['br-rm/rm-gone remove changed']);
    assert.deepEqual((await ovs.vsctl('list-ports', 'br-rm')).trim().split('\n'), ['rm-keep']);
    // ovsdb-server collected the unreferenced Port and Interface rows.
    assert.equal(
      (await ovs.vsctl('--bare', '--columns=_uuid', 'find', 'Interface', 'name=rm-gone')).trim(),
      '',
    );
    await assertConverged(plugin, desired);
  });

  it('leaves ports and bridges it does not name alone, unless exclusive_ports', async () => {
    await ovs.vsctl(
      'add-br',
      'br-other',
      '--',
      'set',
      'Bridge',
      'br-other',
      'datapath_type=netdev',
    );
    const named = { 'ex-named': { interface: { type: 'internal' } } };
    await applyOnce(plugin, { bridges: { 'br-ex': { datapath_type: 'netdev', ports: named } } });
    await ovs.vsctl(
      'add-port',
      'br-ex',
      'ex-stray',
      '--',
      'set',
      'Interface',
      'ex-stray',
      'type=internal',
    );

    const relaxed = await applyOnce(plugin, { bridges: { 'br-ex': { ports: named } } });
    assert.deepEqual(
      relaxed.plan.map((c) => `${c.resource} ${c.action}`),
      ['br-ex none', 'br-ex/ex-named none'],
    );

    const exclusive: OpenvswitchSection = {
      bridges: { 'br-ex': { exclusive_ports: true, ports: named } },
    };
    const run = await applyOnce(plugin, exclusive);
    const removal = run.plan.find((c) => c.resource === 'br-ex/ex-stray');
    assert.equal(removal?.action, 'remove');
    assert.match(removal?.reason ?? '', /exclusive_ports \(not created by op-dbus\)/);
    assert.deepEqual(summary(run), ['br-ex/ex-stray remove changed']);
    // The bridge's own local port stays; someone else's bridge was never touched.
    assert.deepEqual((await ovs.vsctl('list-ports', 'br-ex')).trim().split('\n'), ['ex-named']);
    assert.equal(await get('Interface', 'br-ex', 'type'), 'internal');
    assert.match(await ovs.vsctl('list-br'), /^br-other$/m);
    await assertConverged(plugin, exclusive);
  });

  it('fails a "system" bridge at verification with a clear, terminal message', async (t) => {
    const run = await applyOnce(plugin, { bridges: { 'br-sys': { datapath_type: 'system' } } });
    const [outcome] = run.outcomes;
    assert.equal(outcome?.outcome, 'failed');
    assert.equal(outcome?.failure, 'terminal');
    assert.match(outcome?.error ?? '', /did not create bridge br-sys.*openvswitch kernel module/);
    // What ovs-vswitchd wrote: no ofport, no error; the reason is only in its log.
    const ofport = await get('Interface', 'br-sys', 'ofport');
    const error = await get('Interface', 'br-sys', 'error');
    t.diagnostic(`system bridge row: ofport=${ofport} error=${error}`);
    assert.equal(ofport, '[]');
    assert.equal(error, '[]');
    assert.match(await ovs.vswitchdLog(), /failed to open datapath br-sys/);
  });

  it('fails a port whose device does not exist, with ovs-vswitchd words', async () => {
    const desired: OpenvswitchSection = {
      bridges: { 'br-nodev': { datapath_type: 'netdev', ports: { 'no-such-dev': {} } } },
    };
    const run = await applyOnce(plugin, desired);
    const outcome = run.outcomes.find((o) => o.resource === 'br-nodev/no-such-dev');
    assert.equal(outcome?.outcome, 'failed');
    assert.match(outcome?.error ?? '', /could not open network device no-such-dev/);
  });

  it('queries a section that validates and re-plans empty', async () => {
    await ovs.vsctl(
      'add-br',
      'br-q',
      '--',
      'set',
      'Bridge',
      'br-q',
      'datapath_type=netdev',
      'external_ids:site=lab',
    );
    await ovs.vsctl(
      'add-port',
      'br-q',
      'q-tagged',
      'tag=7',
      '--',
      'set',
      'Interface',
      'q-tagged',
      'type=internal',
    );
    const section = await plugin.query(testContext());
    assert.deepEqual(new SchemaChecker(OpenvswitchSection).problems(section), []);
    assert.deepEqual(section.bridges['br-q'], {
      ensure: 'present',
      datapath_type: 'netdev',
      stp_enable: false,
      external_ids: { site: 'lab' },
      ports: { 'q-tagged': { interface: { type: 'internal', options: {} }, tag: 7 } },
    });
    await assertConverged(plugin, section);
  });
});

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { readFile, stat } from 'node:fs/promises';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { NetworkSection } from '../../src/plugins/network/schema.js';
import {
  applyOnce,
  context,
  pendingChanges,
  startNetworkFixture,
  type NetworkFixture,
  type PluginHandle,
} from '../helpers/network.js';
import { bridge } from '../helpers/network-documents.js';

const run = promisify(execFile);

const TEST_LINKS = ['br0', 'veth-a', 'veth-b', 'veth-c', 'veth-d', 'mv0', 'vx0'];

/**
 * The host's addresses on its own links (this process is in the host's
 * namespace), lifetimes left out. Other projects' tests may add links of their
 * own meanwhile: only the links there before are compared, and none of this
 * test's names may appear.
 */
async function hostInterfaces(): Promise<string> {
  const { stdout } = await run('ip', ['-o', 'addr']);
  return stdout.replace(/\\\s+valid_lft.*$/gm, '');
}

async function assertHostUntouched(before: string): Promise<void> {
  const links = new Set(before.split('\n').map((line) => line.split(/\s+/)[1]));
  const after = (await hostInterfaces()).split('\n');
  assert.deepEqual(
    after.filter((line) => links.has(line.split(/\s+/)[1])),
    before.split('\n'),
  );
  const { stdout } = await run('ip', ['-o', 'link']);
  for (const name of TEST_LINKS) assert.doesNotMatch(stdout, new RegExp(`^\\d+: ${name}[@:]`, 'm'));
}

async function applyAndExpectChanged(
  handle: PluginHandle,
  fx: NetworkFixture,
  doc: NetworkSection,
) {
  const { outcomes } = await applyOnce(handle.plugin, doc, fx.log);
  assert.ok(outcomes.length > 0, 'something to apply');
  for (const outcome of outcomes) assert.equal(outcome.outcome, 'changed', JSON.stringify(outcome));
  assert.deepEqual(await pendingChanges(handle.plugin, doc, fx.log), [], 're-plans empty');
}

describe('network plugin on a real NetworkManager, in its own namespace', () => {
  let fx: NetworkFixture;
  let handle: PluginHandle;
  let resolvConf: { text: string; mtimeMs: number };
  let hostNetwork: string;

  beforeEach(async () => {
    hostNetwork = await hostInterfaces();
    resolvConf = {
      text: await readFile('/etc/resolv.conf', 'utf8').catch(() => ''),
      mtimeMs: (await stat('/etc/resolv.conf').catch(() => ({ mtimeMs: 0 }))).mtimeMs,
    };
    fx = await startNetworkFixture();
    await fx.nm.addVethPair('veth-a', 'veth-b');
    handle = await fx.open();
  });
  afterEach(async () => {
    await fx.stop();
    // NetworkManager ran in its own namespace: the host's links and addresses are as they were.
    await assertHostUntouched(hostNetwork);
    // dns=none and rc-manager=unmanaged: the host's resolver file is never written.
    assert.equal(await readFile('/etc/resolv.conf', 'utf8').catch(() => ''), resolvConf.text);
    assert.equal(
      (await stat('/etc/resolv.conf').catch(() => ({ mtimeMs: 0 }))).mtimeMs,
      resolvConf.mtimeMs,
    );
  });

  it('creates a linux-bridge with a veth port and a static address (seen in the kernel)', async () => {
    const doc: NetworkSection = {
      interfaces: [
        bridge('192.0.2.10'),
        { name: 'veth-a', type: 'veth', state: 'up', veth: { peer: 'veth-b' } },
      ],
    };
    await applyAndExpectChanged(handle, fx, doc);
    assert.match(
      await fx.nm.ip('-4', '-o', 'addr', 'show', 'dev', 'br0'),
      /inet 192\.0\.2\.10\/24 /,
    );
    assert.match(await fx.nm.ip('-o', 'link', 'show', 'veth-a'), / master br0 /);
    assert.match(await fx.nm.ip('-d', 'link', 'show', 'br0'), /stp_state 0/);
  });

  it('changes the address: the old one leaves the kernel, the new one arrives', async () => {
    await applyAndExpectChanged(handle, fx, { interfaces: [bridge('192.0.2.10')] });
    const { planned } = await applyOnce(
      handle.plugin,
      { interfaces: [bridge('192.0.2.20')] },
      fx.log,
    );
    assert.deepEqual(
      planned.map((change) => [change.resource, change.action]),
      [['br0', 'update']],
    );
    const addresses = await fx.nm.ip('-4', '-o', 'addr', 'show', 'dev', 'br0');
    assert.match(addresses, /inet 192\.0\.2\.20\/24 /);
    assert.doesNotMatch(addresses, /192\.0\.2\.10/);
    assert.deepEqual(
      await pendingChanges(handle.plugin, { interfaces: [bridge('192.0.2.20')] }, fx.log),
      [],
    );
  });

  it('adds a route through the bridge, then removes it with state absent', async () => {
    const route = {
      destination: '198.51.100.0/24',
      'next-hop-address': '192.0.2.1',
      'next-hop-interface': 'br0',
    };
    await applyAndExpectChanged(handle, fx, {
      interfaces: [bridge('192.0.2.10')],
      routes: { config: [route] },
    });
    assert.match(
      await fx.nm.ip('-4', 'route', 'show', '198.51.100.0/24'),
      /via 192\.0\.2\.1 dev br0/,
    );
    await applyAndExpectChanged(handle, fx, {
      routes: { config: [{ ...route, state: 'absent' }] },
    });
    assert.equal((await fx.nm.ip('-4', 'route', 'show', '198.51.100.0/24')).trim(), '');
    assert.match(await fx.nm.ip('-4', '-o', 'addr', 'show', 'dev', 'br0'), /192\.0\.2\.10\/24/);
  });

  it('stores the DNS settings in NetworkManager (global DNS) and nowhere else', async () => {
    const doc: NetworkSection = {
      'dns-resolver': {
        config: { server: ['192.0.2.53', '2001:db8::53'], search: ['example.org'] },
      },
    };
    await applyAndExpectChanged(handle, fx, doc);
    const property = await fx.nm.exec('busctl', [
      '--system',
      '--json=short',
      'get-property',
      'org.freedesktop.NetworkManager',
      '/org/freedesktop/NetworkManager',
      'org.freedesktop.NetworkManager',
      'GlobalDnsConfiguration',
    ]);
    const data = (JSON.parse(property) as { data: Record<string, { data: unknown }> }).data;
    assert.deepEqual(data.searches?.data, ['example.org']);
    assert.match(JSON.stringify(data.domains), /"192\.0\.2\.53","2001:db8::53"/);
    const intern = await fx.nm.exec('cat', ['/var/lib/NetworkManager/NetworkManager-intern.conf']);
    assert.match(intern, /192\.0\.2\.53/);
  });

  it('removes the bridge with state absent: no profile, no link', async () => {
    await applyAndExpectChanged(handle, fx, { interfaces: [bridge('192.0.2.10')] });
    await applyAndExpectChanged(handle, fx, { interfaces: [{ name: 'br0', state: 'absent' }] });
    await assert.rejects(fx.nm.ip('link', 'show', 'br0'), /does not exist/);
    assert.doesNotMatch(await fx.nm.exec('nmcli', ['-t', '-f', 'NAME', 'connection']), /^br0$/m);
  });

  it('removes a veth somebody else created (state absent): its profile and both ends go', async () => {
    const doc: NetworkSection = {
      interfaces: [{ name: 'veth-a', type: 'veth', state: 'up', veth: { peer: 'veth-b' } }],
    };
    await applyAndExpectChanged(handle, fx, doc);
    await applyAndExpectChanged(handle, fx, { interfaces: [{ name: 'veth-a', state: 'absent' }] });
    await assert.rejects(fx.nm.ip('link', 'show', 'veth-a'), /does not exist/);
    await assert.rejects(fx.nm.ip('link', 'show', 'veth-b'), /does not exist/);
  });

  it('takes the bridge down with state down: the profile stays, the address goes', async () => {
    await applyAndExpectChanged(handle, fx, { interfaces: [bridge('192.0.2.10')] });
    const up = bridge('192.0.2.10');
    await applyAndExpectChanged(handle, fx, {
      interfaces: [{ ...up, name: 'br0', state: 'down' }],
    });
    assert.match(await fx.nm.exec('nmcli', ['-t', '-f', 'NAME', 'connection']), /^br0$/m);
    const addresses = await fx.nm.ip('-4', '-o', 'addr').catch(() => '');
    assert.doesNotMatch(addresses, /192\.0\.2\.10/);
  });

  it('lets NetworkManager create a veth pair named in the document', async () => {
    const doc: NetworkSection = {
      interfaces: [
        {
          name: 'veth-c',
          type: 'veth',
          state: 'up',
          veth: { peer: 'veth-d' },
          ipv4: { enabled: true, address: [{ ip: '198.51.100.7', 'prefix-length': 24 }] },
        },
      ],
    };
    await applyAndExpectChanged(handle, fx, doc);
    assert.match(await fx.nm.ip('-o', 'link', 'show', 'veth-c'), /veth-c@veth-d/);
    assert.match(
      await fx.nm.ip('-4', '-o', 'addr', 'show', 'dev', 'veth-c'),
      /198\.51\.100\.7\/24/,
    );
  });

  it('creates a mac-vlan and a vxlan on the kernel types this machine has', async () => {
    const doc: NetworkSection = {
      interfaces: [
        bridge('192.0.2.10'),
        {
          name: 'mv0',
          type: 'mac-vlan',
          'mac-vlan': { 'base-iface': 'veth-b', mode: 'bridge' },
          ipv4: { enabled: false },
          ipv6: { enabled: false },
        },
        {
          name: 'vx0',
          type: 'vxlan',
          vxlan: { id: 42, remote: '192.0.2.99', 'base-iface': 'br0', 'destination-port': 4789 },
          ipv4: { enabled: false },
          ipv6: { enabled: false },
        },
      ],
    };
    await applyAndExpectChanged(handle, fx, doc);
    assert.match(await fx.nm.ip('-d', 'link', 'show', 'mv0'), /macvlan mode bridge/);
    assert.match(
      await fx.nm.ip('-d', 'link', 'show', 'vx0'),
      /vxlan id 42 remote 192\.0\.2\.99 dev br0 .*dstport 4789/,
    );
  });

  it('queries a section that applies with an empty plan, and names only NetworkManager profiles', async () => {
    await applyAndExpectChanged(handle, fx, {
      interfaces: [bridge('192.0.2.10')],
      routes: {
        config: [
          {
            destination: '198.51.100.0/24',
            'next-hop-address': '192.0.2.1',
            'next-hop-interface': 'br0',
          },
        ],
      },
      'dns-resolver': { config: { server: ['192.0.2.53'], search: [] } },
    });
    const section = await handle.plugin.query(context(fx.log));
    assert.deepEqual(
      section.interfaces?.map((iface) => iface.name),
      ['br0', 'veth-a'],
      'veth-b has no profile: not in the query',
    );
    assert.equal(section.routes?.config?.length, 1);
    assert.deepEqual(await pendingChanges(handle.plugin, section, fx.log), []);
  });
});

import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  ConfigError,
  mergeConfig,
  parsePluginOptions,
  readConfigFile,
} from '../../../src/daemon/config.js';
import { PLUGINS } from '../../../src/plugins/registry.js';

/** `plugins.openvswitch` in the daemon's configuration, read as the daemon reads it. */
describe('openvswitch settings in the daemon configuration', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'opdbus-ovs-config-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function configFile(content: unknown): Promise<string> {
    const path = join(dir, `config-${Math.random().toString(36).slice(2)}.json`);
    await writeFile(path, JSON.stringify(content));
    return path;
  }

  it('defaults the socket to /run/openvswitch/db.sock', () => {
    assert.deepEqual(mergeConfig(PLUGINS, {}, {}, {}).plugins.openvswitch, {
      socket: '/run/openvswitch/db.sock',
    });
  });

  it('takes an absolute socket path from the file, and a flag over it', async () => {
    const file = await readConfigFile(
      await configFile({ plugins: { openvswitch: { socket: '/var/run/ovs/db.sock' } } }),
      true,
      PLUGINS,
    );
    assert.equal(
      mergeConfig(PLUGINS, file, {}, {}).plugins.openvswitch?.socket,
      '/var/run/ovs/db.sock',
    );
    const flags = { plugins: parsePluginOptions(['openvswitch.socket=/tmp/x/db.sock']) };
    assert.equal(
      mergeConfig(PLUGINS, file, flags, {}).plugins.openvswitch?.socket,
      '/tmp/x/db.sock',
    );
  });

  const invalid: [string, unknown, RegExp][] = [
    ['a relative path', { socket: 'db.sock' }, /openvswitch\/socket/],
    [
      'a path longer than a unix socket address allows',
      { socket: `/${'a'.repeat(107)}` },
      /openvswitch\/socket/,
    ],
    ['a number', { socket: 5 }, /openvswitch\/socket/],
    ['an unknown key', { sock: '/run/openvswitch/db.sock' }, /openvswitch.*sock/],
  ];
  for (const [what, section, message] of invalid) {
    it(`refuses ${what} in the file, naming the setting`, async () => {
      const path = await configFile({ plugins: { openvswitch: section } });
      await assert.rejects(readConfigFile(path, true, PLUGINS), (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        assert.match(err.message, message);
        return true;
      });
    });
  }

  it('refuses a relative socket given as a flag', () => {
    const flags = { plugins: parsePluginOptions(['openvswitch.socket=db.sock']) };
    assert.throws(() => mergeConfig(PLUGINS, {}, flags, {}), /plugins\.openvswitch: .*socket/);
  });
});

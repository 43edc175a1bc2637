import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { access, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

const ROOT = new URL('../../', import.meta.url).pathname;

describe('scripts/install.sh into a destination folder', () => {
  let destdir: string;
  before(async () => {
    destdir = await mkdtemp(join(tmpdir(), 'opdbus-install-'));
    const result = spawnSync('bash', ['scripts/install.sh', '--destdir', destdir], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    assert.equal(result.status, 0, result.stderr);
  });
  after(async () => rm(destdir, { recursive: true, force: true }));

  it('places the unit, the D-Bus policy, the activation file, the polkit actions and the program', async () => {
    for (const path of [
      'etc/systemd/system/op-dbus.service',
      'usr/share/dbus-1/system.d/org.opdbus.StateManager.conf',
      'usr/share/dbus-1/system-services/org.opdbus.StateManager.service',
      'usr/share/polkit-1/actions/org.opdbus.policy',
      'usr/lib/op-dbus/dist/cli/main.js',
      'usr/lib/op-dbus/dbus-interfaces/org.opdbus.StateManager.xml',
      'etc/op-dbus/op-dbus.json',
      'usr/bin/op-dbus',
    ]) {
      await access(join(destdir, path));
    }
    const activation = await readFile(
      join(destdir, 'usr/share/dbus-1/system-services/org.opdbus.StateManager.service'),
      'utf8',
    );
    assert.match(activation, /^SystemdService=op-dbus\.service$/m);
    assert.match(
      await readFile(join(destdir, 'usr/bin/op-dbus'), 'utf8'),
      /exec .*node \/usr\/lib\/op-dbus\/dist\/cli\/main\.js "\$@"/,
    );
  });

  it('installs a program that runs with production dependencies only', async () => {
    const help = spawnSync(
      process.execPath,
      [join(destdir, 'usr/lib/op-dbus/dist/cli/main.js'), 'daemon', '--help'],
      { encoding: 'utf8' },
    );
    assert.equal(help.status, 0, help.stderr);
    assert.match(help.stdout, /--drift-schedule CRON/);
    await assert.rejects(
      access(join(destdir, 'usr/lib/op-dbus/node_modules/typescript')),
      'dev dependencies are pruned',
    );
    await access(
      join(destdir, 'usr/lib/op-dbus/node_modules/unix-dgram/build/Release/unix_dgram.node'),
    );
  });
});

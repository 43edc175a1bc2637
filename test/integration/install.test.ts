import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { access, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
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

  it('installs the Cockpit page where cockpit-bridge finds it', async (t) => {
    const page = join(destdir, 'usr/share/cockpit/op-dbus');
    const files = [
      'manifest.json',
      'index.html',
      'op-dbus.css',
      ...(await readdir(join(ROOT, 'cockpit/op-dbus/js'))).map((name) => `js/${name}`),
    ];
    for (const file of files) {
      assert.equal(
        await readFile(join(page, file), 'utf8'),
        await readFile(join(ROOT, 'cockpit/op-dbus', file), 'utf8'),
        file,
      );
    }
    if (!existsSync('/usr/bin/cockpit-bridge')) {
      t.skip('cockpit-bridge is not installed: checked the files only');
      return;
    }
    // The bridge looks in XDG_DATA_DIRS/cockpit, as it does in /usr/share/cockpit.
    const listing = spawnSync('cockpit-bridge', ['--packages'], {
      encoding: 'utf8',
      env: { ...process.env, XDG_DATA_DIRS: join(destdir, 'usr/share'), XDG_DATA_HOME: destdir },
    });
    assert.equal(listing.status, 0, listing.stderr);
    assert.match(listing.stdout, new RegExp(`^op-dbus\\s.*\\s${page}$`, 'm'));
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

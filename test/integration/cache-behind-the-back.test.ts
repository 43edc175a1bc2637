import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import type { ManagedProcess } from '../harness/processes.js';
import { startStack, type Stack } from '../harness/stack.js';
import { startSystemdUser, type SystemdUser } from '../harness/systemd-user.js';
import { packagesDocument } from '../helpers/documents.js';
import { systemdBusArgs } from '../harness/daemon.js';

// The current-state caches must never hide a change made behind the daemon's back:
// each case warms the cache with a Plan, changes the machine without the daemon,
// and plans again at once (no sleep that would let a late signal arrive first).

interface PlanRow {
  plugin: string;
  resource: string;
  action: string;
}

async function actionOf(stack: Stack, document: string, resource: string): Promise<string> {
  const rows = JSON.parse(await stack.client.plan(document)) as PlanRow[];
  const row = rows.find((r) => r.resource === resource);
  assert.ok(row, `the plan names ${resource}`);
  return row.action;
}

/** How many observes of `message` the daemon answered at least partly from its cache. */
function cacheHits(daemon: ManagedProcess, message: string): number {
  return daemon.output
    .join('')
    .split('\n')
    .filter((line) => line.includes(`"msg":"${message}"`))
    .map((line) => (JSON.parse(line) as { hits?: number }).hits ?? 0)
    .filter((hits) => hits > 0).length;
}

describe('the unit cache never hides a change made with systemctl', () => {
  let stack: Stack;
  let systemd: SystemdUser;
  const UNIT = 'behind.service';
  const LISTED = 'listed.service';
  const document = JSON.stringify({
    version: 1,
    plugins: { systemd: { units: { [UNIT]: { active_state: 'active' } } } },
  });

  before(async () => {
    stack = await startStack({
      backend: 'none',
      services: async () => {
        systemd = await startSystemdUser();
        await systemd.writeUnit(UNIT, '[Service]\nExecStart=/bin/sleep infinity\n');
        await systemd.writeUnit(
          LISTED,
          '[Service]\nExecStart=/bin/sleep infinity\n[Install]\nWantedBy=default.target\n',
        );
        await systemd.systemctl('daemon-reload');
        return { daemonArgs: systemdBusArgs(systemd.address), stoppables: [systemd] };
      },
    });
  });
  after(async () => stack?.stop());

  it('sees every stop and start at once, 25 times over, while answering from the cache', async () => {
    await systemd.systemctl('start', UNIT);
    for (let round = 0; round < 25; round += 1) {
      // Warm: the second plan of an unchanged unit comes from the cache.
      assert.equal(await actionOf(stack, document, UNIT), 'none');
      assert.equal(await actionOf(stack, document, UNIT), 'none');
      await systemd.systemctl('stop', UNIT);
      assert.equal(await actionOf(stack, document, UNIT), 'start', `round ${round}: stop seen`);
      assert.equal(await actionOf(stack, document, UNIT), 'start');
      await systemd.systemctl('start', UNIT);
      assert.equal(await actionOf(stack, document, UNIT), 'none', `round ${round}: start seen`);
    }
    assert.ok(cacheHits(stack.daemon, 'units observed') >= 25, 'the cache was in use');
  });

  // systemctl enable/disable on a machine booted with systemd go through the
  // manager's API, which announces UnitFilesChanged. Here `systemctl --user`
  // edits the symlinks itself (checked: no signal at all), so the test calls
  // the API as the real systemctl would. A symlink made by hand is seen within
  // the cache's 60 s bound (docs/performance.md).
  const unitFiles = (member: 'EnableUnitFiles' | 'DisableUnitFiles'): void => {
    const args =
      member === 'EnableUnitFiles'
        ? ['asbb', '1', LISTED, 'false', 'false']
        : ['asb', '1', LISTED, 'false'];
    execFileSync(
      'busctl',
      [
        '--address',
        systemd.address,
        'call',
        'org.freedesktop.systemd1',
        '/org/freedesktop/systemd1',
        'org.freedesktop.systemd1.Manager',
        member,
        ...args,
      ],
      { stdio: 'ignore' },
    );
  };

  it("Query's listing, kept between queries, never hides a stop, start, enable or disable", async () => {
    const queried = async (): Promise<unknown> =>
      (
        JSON.parse(await stack.client.query(['systemd'])) as {
          plugins: { systemd: { units: Record<string, unknown> } };
        }
      ).plugins.systemd.units[LISTED];
    await systemd.systemctl('start', LISTED);
    unitFiles('DisableUnitFiles');
    for (let round = 0; round < 10; round += 1) {
      assert.deepEqual(await queried(), { enabled: false, active_state: 'active' });
      assert.deepEqual(await queried(), { enabled: false, active_state: 'active' });
      await systemd.systemctl('stop', LISTED);
      assert.deepEqual(
        await queried(),
        { enabled: false, active_state: 'inactive' },
        `round ${round}: stop seen`,
      );
      unitFiles('EnableUnitFiles');
      assert.deepEqual(
        await queried(),
        { enabled: true, active_state: 'inactive' },
        `round ${round}: enable seen`,
      );
      await systemd.systemctl('start', LISTED);
      unitFiles('DisableUnitFiles');
    }
    // 40 queries; the listing is read from systemd only after a change (about 21 times).
    const reads = stack.daemon.output.join('').split('"msg":"unit listing read"').length - 1;
    assert.ok(reads <= 30, `the listing was kept between queries (${reads} reads for 40 queries)`);
  });

  it('sees a unit killed behind its back', async () => {
    assert.equal(await actionOf(stack, document, UNIT), 'none');
    await systemd.systemctl('kill', '--signal=SIGKILL', UNIT);
    // systemctl kill returns before systemd has reaped the process: wait for systemd itself.
    for (let i = 0; i < 100; i += 1) {
      const state = (await systemd.systemctl('show', '-p', 'ActiveState', '--value', UNIT)).trim();
      if (state !== 'active') break;
    }
    assert.equal(await actionOf(stack, document, UNIT), 'start');
  });
});

function dpkgInstalled(name: string): boolean {
  const result = spawnSync('dpkg-query', ['-W', '-f=${Status}', name], { encoding: 'utf8' });
  return result.status === 0 && result.stdout.includes('install ok installed');
}

describe('the package cache never hides a change made with apt-get or dpkg', () => {
  let stack: Stack;
  const PACKAGE = 'sl';
  const wasInstalled = dpkgInstalled(PACKAGE);
  const document = packagesDocument({ [PACKAGE]: 'installed', hello: 'removed' });
  const apt = (...args: string[]): void => {
    execFileSync('apt-get', ['-y', '-q', ...args], { stdio: 'ignore' });
  };

  before(async () => {
    stack = await startStack({ backend: 'apt' });
  });
  after(async () => {
    await stack?.stop();
    // Leave the machine as found, whatever the test did.
    if (dpkgInstalled(PACKAGE) !== wasInstalled) apt(wasInstalled ? 'install' : 'remove', PACKAGE);
  });

  it('sees apt-get install and dpkg --remove at once', async () => {
    if (wasInstalled) execFileSync('dpkg', ['--remove', PACKAGE], { stdio: 'ignore' });
    assert.equal(await actionOf(stack, document, PACKAGE), 'install');
    // Something else on the machine (apt's own files, a PackageKit transaction) may
    // drop the cache once; within a few plans it must be in use.
    for (let i = 0; i < 5 && cacheHits(stack.daemon, 'packages observed') < 1; i += 1) {
      assert.equal(await actionOf(stack, document, PACKAGE), 'install');
    }
    assert.ok(cacheHits(stack.daemon, 'packages observed') >= 1, 'a later plan was cached');

    apt('install', '--no-install-recommends', PACKAGE);
    assert.equal(await actionOf(stack, document, PACKAGE), 'none', 'apt-get install seen');
    assert.equal(await actionOf(stack, document, PACKAGE), 'none');

    execFileSync('dpkg', ['--remove', PACKAGE], { stdio: 'ignore' });
    assert.equal(await actionOf(stack, document, PACKAGE), 'install', 'dpkg --remove seen');
  });

  it("Query's installed list, kept between queries, never hides apt-get install or dpkg --remove", async () => {
    const installedNow = async (): Promise<boolean> => {
      const answer = JSON.parse(await stack.client.query(['packagekit'])) as {
        plugins: { packagekit: { packages: Record<string, unknown> } };
      };
      return PACKAGE in answer.plugins.packagekit.packages;
    };
    const reads = (): number =>
      stack.daemon.output.join('').split('"msg":"installed packages read"').length - 1;
    if (dpkgInstalled(PACKAGE)) execFileSync('dpkg', ['--remove', PACKAGE], { stdio: 'ignore' });
    assert.equal(await installedNow(), false);
    const before = reads();
    for (let i = 0; i < 5; i += 1) assert.equal(await installedNow(), false);
    // apt's own files may change once on their own (a timer, a lock); most queries are kept.
    assert.ok(reads() - before <= 1, `${reads() - before} of 5 queries read PackageKit again`);

    apt('install', '--no-install-recommends', PACKAGE);
    assert.equal(await installedNow(), true, 'apt-get install seen');
    execFileSync('dpkg', ['--remove', PACKAGE], { stdio: 'ignore' });
    assert.equal(await installedNow(), false, 'dpkg --remove seen');
  });
});

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
});

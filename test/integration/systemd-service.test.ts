import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { BUS_NAME } from '../../src/dbus/api.js';

// The unit hardens the daemon with PrivateTmp=yes: a bus socket under /tmp would be
// invisible to it, so this file keeps every scratch folder under /run.
const SCRATCH = '/run/opdbus-tests';
mkdirSync(SCRATCH, { recursive: true });
process.env.TMPDIR = SCRATCH;

const { CLI } = await import('../harness/daemon.js');
const { nameHasOwner, startPackageKit } = await import('../harness/packagekit.js');
const { waitFor } = await import('../harness/processes.js');
const { startSystemBus } = await import('../harness/system-bus.js');
const { startSystemdUser } = await import('../harness/systemd-user.js');

type SystemBus = Awaited<ReturnType<typeof startSystemBus>>;
type SystemdUser = Awaited<ReturnType<typeof startSystemdUser>>;

const UNIT_FILE = new URL('../../systemd/op-dbus.service', import.meta.url);
// The one timing change: the shipped WatchdogSec=30s would make this test wait minutes.
const WATCHDOG_DROP_IN = '[Service]\nWatchdogSec=3s\n';

/**
 * Directives this container cannot honour (no systemd as PID 1): measured here, a
 * unit with any one of them fails with 226/NAMESPACE, or (ProtectControlGroups=)
 * starts in a namespace where /run's sockets are missing. Real hosts run them:
 * systemd's own hostnamed and timedated units use all four.
 */
const NOT_IN_THIS_CONTAINER = [
  'ProtectHome',
  'ProtectKernelTunables',
  'ProtectKernelLogs',
  'ProtectControlGroups',
];

/** The project's own unit file, adapted in the program's path and the bus addresses (and see above). */
async function adaptedUnit(bus: SystemBus, user: SystemdUser): Promise<string> {
  const unit = await readFile(UNIT_FILE, 'utf8');
  const execStart = `ExecStart=${process.execPath} ${CLI} daemon --bus ${bus.address} --plugin-option systemd.bus=${user.address}`;
  // PrivateTmp=yes hides /tmp: a checkout there (CI clones anywhere) is bound back in.
  const projectRoot = new URL('../../', import.meta.url).pathname.replace(/\/$/, '');
  const bindProject = /^\/(var\/)?tmp\//.test(projectRoot)
    ? `\nBindReadOnlyPaths=${projectRoot}`
    : '';
  const adapted = unit
    .replace(/^ExecStart=.*$/m, `${execStart}${bindProject}`)
    .split('\n')
    .filter((line) => !NOT_IN_THIS_CONTAINER.some((name) => line.startsWith(`${name}=`)))
    .join('\n');
  assert.notEqual(adapted, unit);
  assert.match(adapted, /^Type=notify$/m);
  assert.match(adapted, /^ProtectSystem=strict$/m);
  return adapted;
}

async function show(user: SystemdUser, ...properties: string[]): Promise<Record<string, string>> {
  const out = await user.systemctl(
    'show',
    'op-dbus.service',
    ...properties.map((p) => `--property=${p}`),
  );
  return Object.fromEntries(
    out
      .trim()
      .split('\n')
      .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
  );
}

describe('the daemon as a Type=notify service of a real systemd manager, from systemd/op-dbus.service', () => {
  let bus: SystemBus;
  let user: SystemdUser;
  let packagekit: Awaited<ReturnType<typeof startPackageKit>>;

  before(async () => {
    bus = await startSystemBus();
    packagekit = await startPackageKit(bus, 'dummy');
    user = await startSystemdUser();
    await user.writeUnit('op-dbus.service', await adaptedUnit(bus, user));
    mkdirSync(`${user.unitDir}/op-dbus.service.d`, { recursive: true });
    await user.writeUnit('op-dbus.service.d/watchdog.conf', WATCHDOG_DROP_IN);
    await user.systemctl('daemon-reload');
  });
  after(async () => {
    await user?.systemctl('stop', 'op-dbus.service').catch(() => undefined);
    await user?.stop();
    await packagekit?.stop();
    await bus?.stop();
  });

  it('is active only once READY=1 has come: the name is owned and STATUS= is set when start returns', async () => {
    await user.systemctl('start', 'op-dbus.service');
    assert.equal(await nameHasOwner(bus, BUS_NAME), true);
    const state = await show(user, 'ActiveState', 'StatusText', 'Type', 'NRestarts');
    assert.equal(state.ActiveState, 'active');
    assert.equal(state.Type, 'notify');
    assert.match(String(state.StatusText), /idle|serving org\.opdbus\.StateManager/);
  });

  it('is kept alive by its watchdog pings', async () => {
    const { MainPID: pid } = await show(user, 'MainPID');
    await sleep(8_000); // more than twice WatchdogSec
    const state = await show(user, 'ActiveState', 'MainPID', 'NRestarts');
    assert.deepEqual(state, { ActiveState: 'active', MainPID: pid, NRestarts: '0' });
  });

  it('reloads on systemctl reload without restarting', async () => {
    const { MainPID: pid } = await show(user, 'MainPID');
    await user.systemctl('reload', 'op-dbus.service');
    await sleep(500);
    assert.deepEqual(await show(user, 'ActiveState', 'MainPID'), {
      ActiveState: 'active',
      MainPID: pid,
    });
  });

  it('is restarted by systemd when it hangs (watchdog timeout)', async () => {
    const { MainPID: pid } = await show(user, 'MainPID');
    // kill(0) would stop this test's own process group.
    assert.ok(Number(pid) > 1, `a main PID to stop, got ${pid}`);
    process.kill(Number(pid), 'SIGSTOP');
    await waitFor(
      'systemd to restart the hung daemon',
      async () => {
        const state = await show(user, 'ActiveState', 'MainPID', 'NRestarts');
        return (
          state.NRestarts === '1' &&
          state.ActiveState === 'active' &&
          state.MainPID !== pid &&
          state.MainPID !== '0'
        );
      },
      45_000,
    );
    assert.equal(await nameHasOwner(bus, BUS_NAME), true);
  });

  it('stops cleanly on SIGTERM (exit status 0)', async () => {
    await user.systemctl('stop', 'op-dbus.service');
    const state = await show(user, 'ActiveState', 'Result', 'ExecMainStatus');
    assert.deepEqual(state, { ActiveState: 'inactive', Result: 'success', ExecMainStatus: '0' });
    await waitFor('the name to be released', async () => !(await nameHasOwner(bus, BUS_NAME)));
  });
});

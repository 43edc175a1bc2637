import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { allServices } from '../harness/all-services.js';
import { waitFor } from '../harness/processes.js';
import { startStack, type Stack } from '../harness/stack.js';
import type { SystemdUser } from '../harness/systemd-user.js';
import { jobIdOf, SignalRecorder } from '../helpers/bus-client.js';
import { dpkgInstalled, restorePackage } from '../helpers/dpkg.js';

// Every plugin against its real service: PackageKit's apt backend (a real Debian
// package), a systemd manager, hostnamed, timedated and localed.
const PACKAGE = 'sl';
const UNIT = 'opdbus-demo.service';
const UNIT_TEXT = `[Unit]
Description=op-dbus demo service
[Service]
ExecStart=/bin/sleep infinity
[Install]
WantedBy=default.target
`;

const DOCUMENT = {
  version: 1,
  plugins: {
    packagekit: { packages: { [PACKAGE]: { ensure: 'installed' } } },
    systemd: { units: { [UNIT]: { active_state: 'active', enabled: true } } },
    hostname: { static: 'web-01', pretty: 'Web server 1' },
    timedate: { timezone: 'Europe/Oslo' },
    locale: { LANG: 'C.UTF-8' },
  },
};

interface PlanRow {
  plugin: string;
  resource: string;
  action: string;
}

describe('a whole document, all five plugins, real services', () => {
  let stack: Stack;
  let systemd: SystemdUser | undefined;
  let recorder: SignalRecorder;
  const wasInstalled = dpkgInstalled(PACKAGE);

  before(async () => {
    if (wasInstalled) execFileSync('apt-get', ['remove', '-y', '-q', PACKAGE], { stdio: 'ignore' });
    stack = await startStack({
      backend: 'apt',
      services: allServices(async (manager) => {
        systemd = manager;
        await manager.writeUnit(UNIT, UNIT_TEXT);
      }),
    });
    recorder = await SignalRecorder.start(stack.clientBus);
  });
  after(async () => {
    recorder?.stop();
    await stack?.stop();
    restorePackage(PACKAGE, wasInstalled);
  });

  async function applyAndWait(document: unknown): Promise<{ state: string; result: string }> {
    const path = await stack.client.apply(JSON.stringify(document));
    const removed = await recorder.waitForJobRemoved(jobIdOf(path), 300_000);
    return {
      state: String(removed.body[2]),
      result: String(await stack.client.jobProperty(path, 'Result')),
    };
  }

  it('converges in one Apply: package, unit, hostname, time zone and locale', async () => {
    const { state, result } = await applyAndWait(DOCUMENT);
    assert.equal(state, 'done', result);
    const summary = (JSON.parse(result) as { summary: { changed: number; failed: number } })
      .summary;
    assert.equal(summary.failed, 0);
    assert.ok(summary.changed >= 5, result);
    assert.equal(dpkgInstalled(PACKAGE), true);
    assert.equal((await systemd?.systemctl('is-active', UNIT))?.trim(), 'active');
    assert.equal((await systemd?.systemctl('is-enabled', UNIT))?.trim(), 'enabled');
  });

  it('plans nothing on a second look, and a second Apply changes nothing', async () => {
    const plan = JSON.parse(await stack.client.plan(JSON.stringify(DOCUMENT))) as PlanRow[];
    assert.deepEqual(
      plan.filter((row) => row.action !== 'none'),
      [],
    );
    const { state, result } = await applyAndWait(DOCUMENT);
    assert.equal(state, 'done');
    assert.equal((JSON.parse(result) as { summary: { changed: number } }).summary.changed, 0);
  });

  it('notices a package removed with dpkg behind its back, and reinstalls it', async () => {
    const start = recorder.signals.length;
    execFileSync('dpkg', ['--remove', PACKAGE], { stdio: 'ignore' });
    await waitFor(
      'DriftDetected for the package',
      () =>
        recorder.signals
          .slice(start)
          .some(
            (s) =>
              s.member === 'DriftDetected' && s.body[0] === 'packagekit' && s.body[1] === PACKAGE,
          ),
      60_000,
    );
    const drift = recorder.signals.slice(start).find((s) => s.member === 'DriftDetected');
    // observed: not installed (null); desired: installed at the candidate version.
    assert.equal(drift?.body[2], 'null');
    const desired = JSON.parse(String(drift?.body[3])) as { ensure: string; version: string };
    assert.equal(desired.ensure, 'installed');
    assert.match(desired.version, /^[0-9]/);
    await waitFor('the correction to be queued', () =>
      recorder.signals.slice(start).some((s) => s.member === 'JobNew'),
    );
    const jobNew = recorder.signals.slice(start).find((s) => s.member === 'JobNew');
    assert.equal(jobNew?.body[2], 'drift', 'the correction is a job of kind drift');
    await waitFor('the package to be reinstalled', () => dpkgInstalled(PACKAGE), 120_000);
  });

  it("Query's document of every plugin re-applies with an empty plan", async () => {
    const queried = await stack.client.query([]);
    const plan = JSON.parse(await stack.client.plan(queried)) as PlanRow[];
    assert.deepEqual(
      plan.filter((row) => row.action !== 'none'),
      [],
    );
  });
});

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { applyAndWait } from '../../src/cli/client.js';
import { callMethod, connectBus } from '../../src/dbus/bus.js';
import { SignalRouter } from '../../src/dbus/signal-router.js';
import { ErrorName, OpdbusError } from '../../src/errors.js';
import { systemdPlugin } from '../../src/plugins/systemd/index.js';
import type { SystemdPlugin } from '../../src/plugins/systemd/plugin.js';
import type { SystemdSection, UnitSpec } from '../../src/plugins/systemd/schema.js';
import { waitFor } from '../harness/processes.js';
import { startStack, type Stack } from '../harness/stack.js';
import { startSystemdUser, type SystemdUser } from '../harness/systemd-user.js';
import { errorOf, SignalRecorder } from '../helpers/bus-client.js';
import { systemdBusArgs } from '../harness/daemon.js';
import { testContext, testHost } from '../helpers/plugin-host.js';

interface ResourceResult {
  plugin: string;
  resource: string;
  outcome: string;
  action: string;
  error?: string;
}

const INSTALL = '[Install]\nWantedBy=default.target\n';
const LONG_RUNNING = `[Service]\nExecStart=/bin/sleep infinity\n${INSTALL}`;

/** The test's units, written to the user manager's vendor folder before the daemon starts. */
const UNITS: Record<string, string> = {
  'web.service': LONG_RUNNING,
  'stoppable.service': LONG_RUNNING,
  'pair-a.service': LONG_RUNNING,
  'pair-b.service': LONG_RUNNING,
  'toggle.service': LONG_RUNNING,
  'maskme.service': LONG_RUNNING,
  'watched.service': LONG_RUNNING,
  'healthy.service': LONG_RUNNING,
  'batchmate.service': LONG_RUNNING,
  'drifter.service': LONG_RUNNING,
  'exit-fail.service': `[Service]\nType=oneshot\nExecStart=/bin/false\n${INSTALL}`,
  'skipped.service': `[Unit]\nConditionPathExists=/nonexistent\n[Service]\nExecStart=/bin/sleep infinity\n${INSTALL}`,
  'plain.service': '[Service]\nExecStart=/bin/sleep infinity\n',
  'slow.service': `[Service]\nType=oneshot\nExecStart=/bin/sleep 300\n${INSTALL}`,
};

function document(units: Record<string, UnitSpec>): string {
  return JSON.stringify({ version: 1, plugins: { systemd: { units } } });
}

describe('systemd plugin against a real systemd user manager', () => {
  let stack: Stack;
  let systemd: SystemdUser;

  before(async () => {
    stack = await startStack({
      backend: 'none',
      services: async () => {
        systemd = await startSystemdUser();
        for (const [name, text] of Object.entries(UNITS)) await systemd.writeUnit(name, text);
        await systemd.systemctl('daemon-reload');
        return { daemonArgs: systemdBusArgs(systemd.address), stoppables: [systemd] };
      },
    });
  });
  after(async () => stack?.stop());

  async function apply(units: Record<string, UnitSpec>) {
    const outcome = await applyAndWait(stack.client, document(units), () => undefined);
    const resources = (JSON.parse(outcome.result) as { resources: ResourceResult[] }).resources;
    const byUnit = new Map(resources.map((r) => [r.resource, r]));
    return { state: outcome.state, byUnit };
  }

  async function plannedActions(units: Record<string, UnitSpec>): Promise<Map<string, string>> {
    const actions = JSON.parse(await stack.client.plan(document(units))) as ResourceResult[];
    return new Map(actions.map((a) => [a.resource, a.action]));
  }

  /** `systemctl --user is-active/is-enabled` exits non-zero for "no": keep its answer. */
  async function ask(verb: 'is-active' | 'is-enabled', unit: string): Promise<string> {
    try {
      return (await systemd.systemctl(verb, unit)).trim();
    } catch (err) {
      return String((err as { stdout?: string }).stdout).trim();
    }
  }

  it('starts a stopped unit, and the next plan is empty', async () => {
    const wanted = { 'web.service': { active_state: 'active' } } as const;
    assert.equal(await ask('is-active', 'web.service'), 'inactive');
    assert.equal((await plannedActions(wanted)).get('web.service'), 'start');
    assert.equal(await ask('is-active', 'web.service'), 'inactive', 'Plan changed nothing');

    const { state, byUnit } = await apply(wanted);
    assert.equal(state, 'done');
    assert.deepEqual(byUnit.get('web.service')?.outcome, 'changed');
    assert.equal(await ask('is-active', 'web.service'), 'active');
    assert.equal((await plannedActions(wanted)).get('web.service'), 'none');
  });

  it('stops a running unit', async () => {
    await systemd.systemctl('start', 'stoppable.service');
    const { state, byUnit } = await apply({ 'stoppable.service': { active_state: 'inactive' } });
    assert.equal(state, 'done');
    assert.equal(byUnit.get('stoppable.service')?.action, 'stop');
    assert.equal(await ask('is-active', 'stoppable.service'), 'inactive');
  });

  it('enables two units with one Reload, and the plan after is empty', async () => {
    const user = await connectBus(systemd.address);
    const router = new SignalRouter(user);
    const reloads: boolean[] = [];
    try {
      await router.addMatch(
        "type='signal',interface='org.freedesktop.systemd1.Manager',member='Reloading'",
      );
      router.subscribe({ member: 'Reloading' }, (m) => reloads.push(m.body[0] as boolean));
      // systemd sends Reloading only while some client is subscribed.
      await callMethod(user, {
        destination: 'org.freedesktop.systemd1',
        path: '/org/freedesktop/systemd1',
        interface: 'org.freedesktop.systemd1.Manager',
        member: 'Subscribe',
      });
      const wanted = {
        'pair-a.service': { enabled: true, active_state: 'active' },
        'pair-b.service': { enabled: true },
      } as const;
      const { state, byUnit } = await apply(wanted);
      assert.equal(state, 'done');
      assert.equal(byUnit.get('pair-a.service')?.action, 'enable+start');
      assert.equal(byUnit.get('pair-b.service')?.action, 'enable');
      assert.equal(await ask('is-enabled', 'pair-a.service'), 'enabled');
      assert.equal(await ask('is-enabled', 'pair-b.service'), 'enabled');
      assert.equal(await ask('is-active', 'pair-a.service'), 'active');
      // Reloading(false) follows each reload's end; the reply to Reload comes after it.
      assert.deepEqual(
        reloads.filter((starting) => starting),
        [true],
        'exactly one daemon-reload for the apply',
      );
      const after = await plannedActions(wanted);
      assert.deepEqual([...after.values()], ['none', 'none']);
    } finally {
      router.stop();
      user.disconnect();
    }
  });

  it('disables an enabled unit', async () => {
    await systemd.systemctl('enable', 'toggle.service');
    const { state } = await apply({ 'toggle.service': { enabled: false } });
    assert.equal(state, 'done');
    assert.equal(await ask('is-enabled', 'toggle.service'), 'disabled');
  });

  it('stops and masks a running unit, then unmasks, enables and starts it again', async () => {
    await systemd.systemctl('start', 'maskme.service');
    const masked = await apply({
      'maskme.service': { active_state: 'inactive', enabled: false, masked: true },
    });
    assert.equal(masked.state, 'done');
    assert.equal(masked.byUnit.get('maskme.service')?.action, 'stop+mask');
    assert.equal(await ask('is-enabled', 'maskme.service'), 'masked');
    assert.equal(await ask('is-active', 'maskme.service'), 'inactive');
    // The mask is live (reloaded), not only on disk: systemd refuses to start it.
    await assert.rejects(systemd.systemctl('start', 'maskme.service'), /masked/);

    const back = await apply({
      'maskme.service': { active_state: 'active', enabled: true, masked: false },
    });
    assert.equal(back.state, 'done');
    assert.equal(back.byUnit.get('maskme.service')?.action, 'unmask+enable+start');
    assert.equal(await ask('is-enabled', 'maskme.service'), 'enabled');
    assert.equal(await ask('is-active', 'maskme.service'), 'active');
  });

  it("fails a unit whose ExecStart fails, with systemd's Result, and still applies the others", async () => {
    const { state, byUnit } = await apply({
      'exit-fail.service': { active_state: 'active' },
      'healthy.service': { active_state: 'active' },
    });
    assert.equal(state, 'failed');
    const failed = byUnit.get('exit-fail.service');
    assert.equal(failed?.outcome, 'failed');
    assert.match(String(failed?.error), /start job ended 'failed'/);
    assert.match(String(failed?.error), /Result=exit-code/);
    assert.equal(byUnit.get('healthy.service')?.outcome, 'changed');
    assert.equal(await ask('is-active', 'healthy.service'), 'active');
  });

  it('a unit systemd refuses fails alone: the rest of its batch is still enabled', async () => {
    const { byUnit } = await apply({
      'ghost.service': { enabled: true },
      'batchmate.service': { enabled: true },
    });
    assert.match(String(byUnit.get('ghost.service')?.error), /enable failed: .*does not exist/);
    assert.equal(byUnit.get('batchmate.service')?.outcome, 'changed');
    assert.equal(await ask('is-enabled', 'batchmate.service'), 'enabled');
  });

  it('fails a start that a Condition*= skipped, although its job says done', async () => {
    const { state, byUnit } = await apply({ 'skipped.service': { active_state: 'active' } });
    assert.equal(state, 'failed');
    const skipped = byUnit.get('skipped.service');
    assert.equal(skipped?.outcome, 'failed');
    assert.match(String(skipped?.error), /job ended 'done'/);
    assert.match(String(skipped?.error), /Condition\*= setting was not met/);
  });

  it('fails enabling a static unit with the reason, instead of passing silently', async () => {
    const { byUnit } = await apply({ 'plain.service': { enabled: true } });
    assert.match(String(byUnit.get('plain.service')?.error), /unit file state is 'static'/);
  });

  it('refuses at validation to stop or mask the units the daemon needs', async () => {
    for (const units of [
      { 'dbus.service': { active_state: 'inactive' } },
      { 'dbus.socket': { masked: true, active_state: 'inactive', enabled: false } },
    ] as Record<string, UnitSpec>[]) {
      const error = await errorOf(stack.client.apply(document(units)));
      assert.equal(error.type, ErrorName.InvalidDocument);
      assert.match(error.text, /\/plugins\/systemd\/units\/dbus\.(service|socket)\//);
    }
    assert.equal(await ask('is-active', 'dbus.socket'), 'active');
  });

  it('restarts a unit stopped behind its back (watch, DriftDetected, correction)', async (t) => {
    const recorder = await SignalRecorder.start(stack.clientBus);
    try {
      const { state } = await apply({ 'drifter.service': { active_state: 'active' } });
      assert.equal(state, 'done');
      const start = recorder.signals.length;
      const stoppedAt = Date.now();
      await systemd.systemctl('stop', 'drifter.service');
      await waitFor(
        'DriftDetected for systemd/drifter.service',
        () =>
          recorder.signals
            .slice(start)
            .some(
              (s) =>
                s.member === 'DriftDetected' &&
                s.body[0] === 'systemd' &&
                s.body[1] === 'drifter.service',
            ),
        30_000,
      );
      await waitFor(
        'drifter.service to run again',
        async () => (await ask('is-active', 'drifter.service')) === 'active',
        30_000,
      );
      // Measured, not asserted (timing goals live in `npm run bench`); the target is 2 s.
      t.diagnostic(`unit running again ${Date.now() - stoppedAt} ms after systemctl stop`);
    } finally {
      recorder.stop();
    }
  });

  it("Query's section re-applies with an empty plan, and names the units it changed", async () => {
    // Odd states too: enabled only until reboot, and masked behind the daemon's back.
    await systemd.systemctl('enable', '--runtime', 'web.service');
    await systemd.systemctl('mask', 'slow.service');
    const queried = JSON.parse(await stack.client.query(['systemd'])) as {
      plugins: { systemd: SystemdSection };
    };
    const units = queried.plugins.systemd.units;
    assert.deepEqual(units['pair-a.service'], { enabled: true, active_state: 'active' });
    assert.deepEqual(units['toggle.service'], { enabled: false, active_state: 'inactive' });
    assert.deepEqual(units['web.service'], { active_state: 'active' });
    assert.deepEqual(units['slow.service'], { masked: true, active_state: 'inactive' });
    assert.equal(units['plain.service'], undefined, 'a static unit has no state of its own');
    const actions = await plannedActions(units);
    assert.ok(actions.size > 5, `Query lists the manager's units (${actions.size})`);
    const changes = [...actions].filter(([, action]) => action !== 'none');
    assert.deepEqual(changes, []);
  });
});

/** The plugin alone, on its own connection: what the engine does not drive yet. */
describe('systemd plugin change feed, cancel and deadline', () => {
  let systemd: SystemdUser;
  const stops: (() => Promise<void>)[] = [];

  function plugin(): SystemdPlugin {
    const { host, stop } = testHost(systemdPlugin, { config: { bus: systemd.address } });
    stops.push(stop);
    return systemdPlugin.create(host) as SystemdPlugin;
  }

  before(async () => {
    systemd = await startSystemdUser();
    for (const [name, text] of Object.entries(UNITS)) await systemd.writeUnit(name, text);
    await systemd.systemctl('daemon-reload');
  });
  after(async () => {
    for (const stop of stops) await stop();
    await systemd?.stop();
  });

  it('announces a unit stopped behind its back, and a re-read sees it stopped', async () => {
    const watcher = plugin();
    await watcher.start();
    const desired: SystemdSection = { units: { 'watched.service': { active_state: 'active' } } };
    const seen: string[] = [];
    const stopWatching = watcher.changes.subscribe((scope) => {
      if (scope !== 'all' && !scope.includes('watched.service')) return;
      // Level-based, as the engine does: re-read the named unit, ignore the signal's content.
      void watcher
        .observe(watcher.narrow(desired, ['watched.service']), testContext())
        .then((observed) => seen.push(String(observed.get('watched.service')?.activeState)));
    });
    try {
      await systemd.systemctl('start', 'watched.service');
      await waitFor('a notice while running', () => seen.includes('active'));
      await systemd.systemctl('stop', 'watched.service');
      await waitFor('a notice after the stop', () => seen.at(-1) === 'inactive');
    } finally {
      stopWatching();
      await watcher.stop();
    }
  });

  it('an abort while waiting for the job cancels it in systemd', async () => {
    const runner = plugin();
    await runner.start();
    const desired: SystemdSection = { units: { 'slow.service': { active_state: 'active' } } };
    const controller = new AbortController();
    const ctx = testContext(controller.signal);
    const observed = await runner.observe(desired, ctx);
    const applying = runner.apply(runner.plan(desired, observed), desired, observed, ctx);
    await waitFor('the start job in systemd', async () =>
      (await systemd.systemctl('list-jobs')).includes('slow.service'),
    );
    controller.abort(new Error('cancelled by the test'));
    await assert.rejects(applying, /cancelled by the test/);
    await waitFor('no job left in systemd', async () =>
      (await systemd.systemctl('list-jobs')).includes('No jobs running'),
    );
    await runner.stop();
  });

  it("a job still running at the engine's deadline is cancelled in systemd", async () => {
    const runner = plugin();
    await runner.start();
    const desired: SystemdSection = { units: { 'slow.service': { active_state: 'active' } } };
    const deadline = new AbortController();
    const ctx = testContext(deadline.signal);
    const observed = await runner.observe(desired, ctx);
    setTimeout(() => deadline.abort(new OpdbusError(ErrorName.Timeout, 'deadline passed')), 300);
    await assert.rejects(
      runner.apply(runner.plan(desired, observed), desired, observed, ctx),
      /deadline passed/,
    );
    await waitFor('no job left in systemd', async () =>
      (await systemd.systemctl('list-jobs')).includes('No jobs running'),
    );
    await runner.stop();
  });
});

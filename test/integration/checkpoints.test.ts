import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, beforeEach, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { getProperty } from '../../src/dbus/bus.js';
import { allServices } from '../harness/all-services.js';
import { waitFor } from '../harness/processes.js';
import { startStack, type Stack } from '../harness/stack.js';
import type { SystemdUser } from '../harness/systemd-user.js';
import { errorOf, jobIdOf, SignalRecorder } from '../helpers/bus-client.js';
import { runCli } from '../helpers/cli.js';

const UNIT = 'probe.service';

/** Where the machine starts every test: the previous desired document. */
const BASELINE = {
  version: 1,
  plugins: {
    hostname: { static: 'baseline-host' },
    timedate: { timezone: 'Etc/UTC' },
    systemd: { units: { [UNIT]: { active_state: 'inactive', enabled: false } } },
  },
};

/** The change applied on probation. */
const PROBATION = JSON.stringify({
  version: 1,
  plugins: {
    hostname: { static: 'probation-host' },
    timedate: { timezone: 'Europe/Oslo' },
    systemd: { units: { [UNIT]: { active_state: 'active', enabled: true } } },
  },
});

describe('confirm or roll back, on real services', () => {
  let stack: Stack;
  let systemd: SystemdUser;
  let recorder: SignalRecorder;

  before(async () => {
    stack = await startStack({
      backend: 'none',
      services: allServices(async (user) => {
        systemd = user;
        await user.writeUnit(
          UNIT,
          '[Service]\nExecStart=/bin/sleep infinity\n[Install]\nWantedBy=default.target\n',
        );
      }),
    });
    recorder = await SignalRecorder.start(stack.clientBus);
  });
  after(async () => {
    recorder?.stop();
    await stack?.stop();
  });

  beforeEach(async () => {
    const path = await stack.client.apply(JSON.stringify(BASELINE));
    const removed = await recorder.waitForJobRemoved(jobIdOf(path));
    assert.equal(removed.body[2], 'done', String(await stack.client.jobProperty(path, 'Result')));
  });

  async function machine(): Promise<{
    hostname: unknown;
    timezone: unknown;
    active: string;
    enabled: string;
  }> {
    const read = (service: string, name: string) =>
      getProperty(
        stack.clientBus,
        `org.freedesktop.${service}`,
        `/org/freedesktop/${service}`,
        `org.freedesktop.${service}`,
        name,
      );
    const state = async (...args: string[]) =>
      (
        await systemd.systemctl(...args).catch((err: { stdout?: string }) => err.stdout ?? '')
      ).trim();
    return {
      hostname: await read('hostname1', 'StaticHostname'),
      timezone: await read('timedate1', 'Timezone'),
      active: await state('is-active', UNIT),
      enabled: await state('is-enabled', UNIT),
    };
  }

  const BEFORE = {
    hostname: 'baseline-host',
    timezone: 'Etc/UTC',
    active: 'inactive',
    enabled: 'disabled',
  };
  const AFTER = {
    hostname: 'probation-host',
    timezone: 'Europe/Oslo',
    active: 'active',
    enabled: 'enabled',
  };

  function removedOutcome(id: number): string | undefined {
    const signal = recorder.named('CheckpointRemoved').find((s) => s.body[0] === id);
    return signal ? String(signal.body[2]) : undefined;
  }

  it('not confirmed within 5 s: everything is back as before, the previous document desired, the ledger says so', async () => {
    const run = await runCli(stack, ['apply', '--confirm-timeout', '5', '-'], PROBATION);
    assert.equal(run.code, 0, run.stderr);
    assert.match(
      run.stdout,
      /Applied on probation: checkpoint (\d+) rolls back at .* unless confirmed/,
    );
    const id = Number(/checkpoint (\d+)/.exec(run.stdout)?.[1]);
    assert.deepEqual(await machine(), AFTER);
    await waitFor('the rollback', () => removedOutcome(id) === 'rolled-back', 60_000);
    await waitFor(
      'the machine back as before',
      async () => JSON.stringify(await machine()) === JSON.stringify(BEFORE),
    );
    assert.deepEqual(JSON.parse(await stack.client.desiredState()), BASELINE);
    assert.equal(await stack.client.managerProperty('PendingCheckpoint'), '/');
    const ledger = await stack.client.history(10);
    assert.match(ledger, /"kind":"checkpoint","state":"created"/);
    assert.match(ledger, /"kind":"rollback"/);
  });

  it('confirmed: everything stays after the deadline', async () => {
    const run = await runCli(stack, ['apply', '--confirm-timeout', '10', '-'], PROBATION);
    assert.equal(run.code, 0, run.stderr);
    const status = await runCli(stack, ['status']);
    assert.match(status.stdout, /pending checkpoint: \/org\/opdbus\/StateManager\/checkpoint\/\d+/);
    const path = String(await stack.client.managerProperty('PendingCheckpoint'));
    const deadlineMs = Number(
      BigInt(String((await stack.client.checkpointProperties(path)).Deadline)) / 1000n,
    );
    const confirm = await runCli(stack, ['confirm']);
    assert.equal(confirm.code, 0, confirm.stderr);
    await sleep(Math.max(deadlineMs - Date.now(), 0) + 1000);
    assert.deepEqual(await machine(), AFTER);
    assert.deepEqual(JSON.parse(await stack.client.desiredState()), JSON.parse(PROBATION));
    assert.match(
      await stack.client.history(5),
      /"uid":0,"sender":"[^"]+","job":\d+,"kind":"checkpoint","state":"confirmed"/,
    );
  });

  it('Rollback() before the deadline, and Extend() pushes the deadline', async () => {
    const [job, path] = await stack.client.applyConfirmed(PROBATION, 3);
    const id = Number(path.split('/').pop());
    await recorder.waitForJobRemoved(jobIdOf(job));
    assert.deepEqual(await machine(), AFTER);
    await stack.client.checkpointCall(path, 'Extend', 60);
    await sleep(4000);
    assert.equal(removedOutcome(id), undefined, 'still pending after the first deadline');
    assert.equal((await stack.client.checkpointProperties(path)).State, 'pending');
    const run = await runCli(stack, ['rollback']);
    assert.equal(run.code, 0, run.stderr);
    await waitFor('the rollback', () => removedOutcome(id) === 'rolled-back', 60_000);
    await waitFor(
      'the machine back',
      async () => JSON.stringify(await machine()) === JSON.stringify(BEFORE),
    );
  });

  it('a plain Apply during the window is refused with CheckpointPending; nobody may not decide', async () => {
    const [, path] = await stack.client.applyConfirmed(PROBATION, 60);
    const refused = await errorOf(stack.client.apply(JSON.stringify(BASELINE)));
    assert.equal(refused.type, 'org.opdbus.Error.CheckpointPending');
    for (const [target, method, args] of [
      [path, 'org.opdbus.StateManager.Checkpoint.Confirm', []],
      [path, 'org.opdbus.StateManager.Checkpoint.Rollback', []],
      ['/org/opdbus/StateManager', 'org.opdbus.StateManager.ApplyConfirmed', [PROBATION, '30']],
    ] as const) {
      const result = spawnSync(
        'setpriv',
        [
          '--reuid=nobody',
          '--regid=nogroup',
          '--clear-groups',
          'gdbus',
          'call',
          '--system',
          '--dest',
          'org.opdbus.StateManager',
          '--object-path',
          target,
          '--method',
          method,
          ...args,
        ],
        { env: stack.bus.env, encoding: 'utf8' },
      );
      assert.notEqual(result.status, 0);
      assert.match(result.stderr, /AccessDenied/, `${method}: ${result.stderr}`);
    }
    assert.equal((await stack.client.checkpointProperties(path)).State, 'pending');
    await stack.client.checkpointCall(path, 'Rollback');
    await waitFor(
      'the rollback',
      () => removedOutcome(Number(path.split('/').pop())) === 'rolled-back',
      60_000,
    );
  });

  it('killed during the window and restarted after the deadline: rolled back at start-up', async () => {
    const [job] = await stack.client.applyConfirmed(PROBATION, 3);
    await recorder.waitForJobRemoved(jobIdOf(job));
    assert.deepEqual(await machine(), AFTER);
    stack.daemon.child.kill('SIGKILL');
    await waitFor('the daemon to die', () => !stack.daemon.running);
    await sleep(4000);
    await stack.restartDaemon();
    await waitFor(
      'the rollback at start-up',
      async () => JSON.stringify(await machine()) === JSON.stringify(BEFORE),
      60_000,
    );
    assert.deepEqual(JSON.parse(await stack.client.desiredState()), BASELINE);
    assert.match(stack.daemon.output.join(''), /a checkpoint was pending at start-up/);
  });
});

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { JobResult } from '../../src/engine/jobs/job.js';
import { startPackageKit } from '../harness/packagekit.js';
import { waitFor, type ManagedProcess } from '../harness/processes.js';
import { startStack, type Stack } from '../harness/stack.js';
import { startSystemdUser, type SystemdUser } from '../harness/systemd-user.js';
import { jobIdOf, SignalRecorder } from '../helpers/bus-client.js';
import { packagesDocument } from '../helpers/documents.js';
import { ALLOW_UNTRUSTED, systemdBusArgs } from '../harness/daemon.js';

describe('PackageKit killed in the middle of a transaction', () => {
  let stack: Stack;
  let recorder: SignalRecorder;
  before(async () => {
    stack = await startStack({ daemonArgs: [...ALLOW_UNTRUSTED, '--no-drift-correction'] });
    recorder = await SignalRecorder.start(stack.clientBus);
  });
  after(async () => {
    recorder?.stop();
    await stack?.stop();
  });

  it('fails the job with a clear message; after PackageKit is back, the next reconcile takes up the work', async () => {
    const path = await stack.client.apply(packagesDocument({ 'vips-doc': 'installed' }));
    await waitFor('the download to start', () =>
      recorder
        .named('Progress')
        .some((s) => s.body[0] === jobIdOf(path) && s.body[3] === 'downloading'),
    );
    stack.packagekit?.kill('SIGKILL');
    const removed = await recorder.waitForJobRemoved(jobIdOf(path), 60_000);
    assert.equal(removed.body[2], 'failed');
    const result = JSON.parse(String(await stack.client.jobProperty(path, 'Result'))) as JobResult;
    assert.match(String(result.resources[0]?.error), /PackageKit exited during the transaction/);

    const restarted = await startPackageKit(stack.bus, 'dummy');
    try {
      const reconcile = await stack.client.reconcile();
      await waitFor('the reconcile to reach the install again', () =>
        recorder
          .named('Progress')
          .some((s) => s.body[0] === jobIdOf(reconcile) && s.body[3] === 'downloading'),
      );
    } finally {
      await restarted.stop();
    }
  });
});

describe('PackageKit not running at all', () => {
  let stack: Stack;
  let systemd: SystemdUser | undefined;
  let packagekit: ManagedProcess | undefined;
  before(async () => {
    stack = await startStack({
      backend: 'none',
      services: async () => {
        systemd = await startSystemdUser();
        await systemd.writeUnit('sleeper.service', '[Service]\nExecStart=/bin/sleep infinity\n');
        return { daemonArgs: systemdBusArgs(systemd.address), stoppables: [systemd] };
      },
    });
  });
  after(async () => {
    await packagekit?.stop();
    await stack?.stop();
  });

  it('fails the package resources clearly, still applies the other plugins, and retries with back-off', async () => {
    const recorder = await SignalRecorder.start(stack.clientBus);
    const document = JSON.stringify({
      version: 1,
      plugins: {
        packagekit: { packages: { glib2: { ensure: 'installed' } } },
        systemd: { units: { 'sleeper.service': { active_state: 'active' } } },
      },
    });
    const path = await stack.client.apply(document);
    const removed = await recorder.waitForJobRemoved(jobIdOf(path), 120_000);
    assert.equal(removed.body[2], 'failed');
    const result = JSON.parse(String(await stack.client.jobProperty(path, 'Result'))) as JobResult;
    const packages = result.resources.find((r) => r.plugin === 'packagekit');
    assert.equal(packages?.outcome, 'failed');
    assert.match(String(packages?.error), /PackageKit|org\.freedesktop\.PackageKit/);
    assert.equal(
      result.resources.find((r) => r.resource === 'sleeper.service')?.outcome,
      'changed',
    );
    assert.equal((await systemd?.systemctl('is-active', 'sleeper.service'))?.trim(), 'active');

    packagekit = await startPackageKit(stack.bus, 'dummy');
    await waitFor(
      'a retry after the back-off to find the packages converged',
      async () =>
        /retrying failed resources after back-off/.test(stack.daemon.output.join('')) &&
        (JSON.parse(await stack.client.verify()) as { inSync: boolean }).inSync,
      120_000,
    );
    recorder.stop();
  });
});

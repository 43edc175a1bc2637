import assert from 'node:assert/strict';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { JobResult } from '../../src/engine/jobs/job.js';
import { startPackageKit } from '../harness/packagekit.js';
import { waitFor, type ManagedProcess } from '../harness/processes.js';
import { startStack, type Stack } from '../harness/stack.js';
import { startSystemdUser, type SystemdUser } from '../harness/systemd-user.js';
import { jobIdOf, SignalRecorder } from '../helpers/bus-client.js';
import { packagesDocument } from '../helpers/documents.js';
import { ALLOW_UNTRUSTED, systemdBusArgs } from '../harness/daemon.js';
import { runCli } from '../helpers/cli.js';

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

describe('Query and init --introspect with PackageKit absent', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack({
      backend: 'none',
      services: async () => {
        const systemd = await startSystemdUser();
        await systemd.writeUnit(
          'kept.service',
          '[Service]\nExecStart=/bin/sleep infinity\n[Install]\nWantedBy=default.target\n',
        );
        return { daemonArgs: systemdBusArgs(systemd.address), stoppables: [systemd] };
      },
    });
  });
  after(async () => stack?.stop());

  it('Query returns every section it can read and names the plugins it cannot, with the reason', async () => {
    const answer = JSON.parse(await stack.client.query([])) as {
      plugins: Record<string, unknown>;
      unreadable: Record<string, string>;
    };
    assert.ok(answer.plugins.systemd, 'the systemd section is there');
    assert.equal(answer.plugins.packagekit, undefined);
    assert.match(answer.unreadable.packagekit ?? '', /PackageKit is not reachable/);
    // Still a document Apply takes, and one that plans nothing.
    const plan = JSON.parse(await stack.client.plan(JSON.stringify(answer))) as {
      action: string;
    }[];
    assert.deepEqual(
      plan.filter((row) => row.action !== 'none'),
      [],
    );
  });

  it('init --introspect writes what it could read, names the skipped plugins on stderr, exits 1', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'opdbus-init-'));
    const output = join(dir, 'captured.json');
    const run = await runCli(stack, ['init', '--introspect', '--output', output]);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /plugin 'packagekit' skipped: PackageKit is not reachable/);
    const captured = JSON.parse(await readFile(output, 'utf8')) as {
      plugins: Record<string, unknown>;
    };
    assert.ok(captured.plugins.systemd);
    assert.equal('unreadable' in captured, false, 'the file is a plain document');
    const query = await runCli(stack, ['query', '-p', 'packagekit']);
    assert.equal(query.code, 1);
  });
});

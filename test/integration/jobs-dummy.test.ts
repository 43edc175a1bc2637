import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { callMethod } from '../../src/dbus/bus.js';
import { BUS_NAME, JOB_INTERFACE, MANAGER_INTERFACE } from '../../src/dbus/api.js';
import type { JobResult } from '../../src/engine/jobs/job.js';
import { ErrorName } from '../../src/errors.js';
import { waitFor } from '../harness/processes.js';
import { startStack, type Stack } from '../harness/stack.js';
import { errorOf, jobIdOf, SignalRecorder } from '../helpers/bus-client.js';
import { packagesDocument } from '../helpers/documents.js';
import { ALLOW_UNTRUSTED } from '../harness/daemon.js';

// The dummy backend installs nothing for real: its InstallPackages plays a scripted
// 10 s download/install of other packages, and vips-doc stays "available" after.
const SLOW_INSTALL = packagesDocument({ 'vips-doc': 'installed' });
const CONVERGED = packagesDocument({ glib2: 'installed', powertop: 'installed' });

function cancelJob(stack: Stack, path: string): Promise<unknown[]> {
  return callMethod(stack.clientBus, {
    destination: BUS_NAME,
    path,
    interface: JOB_INTERFACE,
    member: 'Cancel',
  });
}

async function resultOf(stack: Stack, path: string): Promise<JobResult> {
  return JSON.parse(String(await stack.client.jobProperty(path, 'Result'))) as JobResult;
}

describe('jobs on the dummy backend, watched by a separate client', () => {
  let stack: Stack;
  let recorder: SignalRecorder;

  before(async () => {
    // The dummy backend never really installs: without --no-drift-correction every
    // failed install would be retried as drift, and those jobs would join the queue.
    stack = await startStack({ daemonArgs: [...ALLOW_UNTRUSTED, '--no-drift-correction'] });
    recorder = await SignalRecorder.start(stack.clientBus);
  });
  after(async () => {
    recorder?.stop();
    await stack?.stop();
  });

  it('an already converged document ends done, with every resource unchanged', async () => {
    const path = await stack.client.apply(CONVERGED);
    const removed = await recorder.waitForJobRemoved(jobIdOf(path));
    assert.deepEqual(removed.body, [jobIdOf(path), path, 'done']);
    assert.equal(await stack.client.jobProperty(path, 'State'), 'done');
    assert.equal(await stack.client.jobProperty(path, 'Percentage'), 100);
    const result = await resultOf(stack, path);
    assert.deepEqual(result.summary, { changed: 0, unchanged: 2, failed: 0 });
    assert.equal(
      await stack.client.managerProperty('AppliedGeneration'),
      await stack.client.managerProperty('DesiredGeneration'),
    );
  });

  it('when a job ends, the Status announced in PropertiesChanged is idle again', async () => {
    const path = await stack.client.apply(CONVERGED);
    const announcedStatus = (from: number): unknown[] =>
      recorder.signals
        .slice(from)
        .filter((s) => s.member === 'PropertiesChanged' && s.body[0] === MANAGER_INTERFACE)
        .map((s) => (s.body[1] as Record<string, { value: unknown } | undefined>).Status?.value)
        .filter((value) => value !== undefined);
    await recorder.waitForJobRemoved(jobIdOf(path));
    const removedAt = recorder.signals.findIndex(
      (s) => s.member === 'JobRemoved' && s.body[0] === jobIdOf(path),
    );
    // A client that only listens (Cockpit's page) knows no more than these signals.
    await waitFor(
      'Status in a PropertiesChanged after JobRemoved',
      () => announcedStatus(removedAt).length > 0,
    );
    assert.equal(announcedStatus(removedAt).at(-1), 'idle');
    assert.equal(await stack.client.managerProperty('Status'), 'idle');
  });

  it('Apply returns before the install finishes, then JobNew, Progress and JobRemoved follow', async () => {
    const path = await stack.client.apply(SLOW_INSTALL);
    const id = jobIdOf(path);
    assert.ok(
      ['queued', 'running'].includes(String(await stack.client.jobProperty(path, 'State'))),
      'Apply did not wait for the job',
    );
    assert.equal(await stack.client.managerProperty('Status'), 'applying');
    const removed = await recorder.waitForJobRemoved(id);

    assert.deepEqual(recorder.named('JobNew').find((s) => s.body[0] === id)?.body, [
      id,
      path,
      'apply',
    ]);
    const progress = recorder.named('Progress').filter((s) => s.body[0] === id);
    const phases = new Set(progress.map((s) => s.body[3]));
    for (const phase of ['resolving', 'downloading', 'installing', 'verifying'])
      assert.ok(phases.has(phase), `phase ${phase} in ${[...phases].join(',')}`);
    const percents = progress
      .filter((s) => s.body[3] === 'downloading' || s.body[3] === 'installing')
      .map((s) => Number(s.body[4]));
    assert.ok(
      percents.some((p) => p > 0 && p < 100),
      "PackageKit's own percentages are forwarded",
    );
    assert.ok(progress.every((s) => s.body[1] === 'packagekit'));

    // The dummy backend reports success but leaves vips-doc uninstalled: verification must catch it.
    assert.equal(removed.body[2], 'failed');
    const result = await resultOf(stack, path);
    assert.equal(result.resources[0]?.resource, 'vips-doc');
    assert.match(String(result.resources[0]?.error), /not as desired after install/);
    assert.equal(await stack.client.managerProperty('Status'), 'idle');
  });

  it('a package PackageKit does not know is a failed resource with a message, not a silent no-op', async () => {
    const path = await stack.client.apply(
      packagesDocument({ glib2: 'installed', nosuchpackage: 'installed' }),
    );
    await recorder.waitForJobRemoved(jobIdOf(path));
    const result = await resultOf(stack, path);
    assert.deepEqual(result.summary, { changed: 0, unchanged: 1, failed: 1 });
    const failed = result.resources.find((r) => r.resource === 'nosuchpackage');
    assert.match(String(failed?.error), /no package named 'nosuchpackage' in any repository/);
    assert.equal(failed?.failure, 'terminal', 'retrying cannot make a package appear');
    assert.equal(await stack.client.jobProperty(path, 'State'), 'failed');
  });

  it('Plan says a package no repository has is unresolvable, and why; an install shows its target', async () => {
    const plan = JSON.parse(
      await stack.client.plan(
        packagesDocument({ nosuchpackage: 'installed', 'vips-doc': 'installed' }),
      ),
    ) as { resource: string; action: string; from: unknown; to: unknown; reason?: string }[];
    const missing = plan.find((row) => row.resource === 'nosuchpackage');
    assert.equal(missing?.action, 'unresolvable');
    assert.match(String(missing?.reason), /no package named 'nosuchpackage' in any repository/);
    const install = plan.find((row) => row.resource === 'vips-doc');
    assert.equal(install?.action, 'install');
    const to = install?.to as { ensure: string; version: string };
    assert.equal(to.ensure, 'installed');
    assert.match(to.version, /^\d/, 'the candidate version PackageKit offers');
  });

  it('Cancel stops a running install, the job ends cancelled, and a second Cancel is refused', async () => {
    const path = await stack.client.apply(SLOW_INSTALL);
    const id = jobIdOf(path);
    await waitFor('the download to start', () =>
      recorder.named('Progress').some((s) => s.body[0] === id && s.body[3] === 'downloading'),
    );
    await cancelJob(stack, path);
    const removed = await recorder.waitForJobRemoved(id, 20_000);
    assert.equal(removed.body[2], 'cancelled');
    assert.equal(await stack.client.jobProperty(path, 'State'), 'cancelled');
    const again = await errorOf(cancelJob(stack, path));
    assert.equal(again.type, ErrorName.JobFinished);
  });

  it('concurrent Applies queue in order and never interleave; a queued job can be cancelled', async () => {
    const start = recorder.signals.length;
    const slow = await stack.client.apply(SLOW_INSTALL);
    const paths = await Promise.all(
      [CONVERGED, CONVERGED, CONVERGED, CONVERGED].map((doc) => stack.client.apply(doc)),
    );
    const ids = paths.map(jobIdOf);
    assert.deepEqual(
      ids,
      [...ids].sort((a, b) => a - b),
    );
    assert.equal(await stack.client.jobProperty(paths[1] as string, 'State'), 'queued');
    await cancelJob(stack, paths[1] as string);
    await cancelJob(stack, slow);
    for (const id of ids) await recorder.waitForJobRemoved(id, 30_000);

    // Replay the signal log: a job may start only when the previous one has been removed.
    const events = recorder.signals.slice(start).flatMap((s) => {
      if (s.member === 'JobRemoved') return [{ id: Number(s.body[0]), what: 'removed' }];
      const changed =
        s.member === 'PropertiesChanged' && s.body[0] === JOB_INTERFACE
          ? (s.body[1] as Record<string, { value: unknown }>)
          : {};
      return changed.State?.value === 'running' ? [{ id: jobIdOf(s.path), what: 'running' }] : [];
    });
    let runningNow: number | undefined;
    const started: number[] = [];
    for (const event of events) {
      if (event.what === 'running') {
        assert.equal(
          runningNow,
          undefined,
          `job ${event.id} started while ${runningNow} was running`,
        );
        runningNow = event.id;
        started.push(event.id);
      } else if (event.id === runningNow) {
        runningNow = undefined;
      }
    }
    assert.deepEqual(
      started,
      [jobIdOf(slow), ids[0], ids[2], ids[3]],
      'jobs ran in order; the cancelled queued job never ran',
    );
    assert.equal(
      recorder.named('JobRemoved').find((s) => s.body[0] === ids[1])?.body[2],
      'cancelled',
    );
  });
});

describe('finished jobs are kept readable for a bounded time', () => {
  it('a finished job object disappears after the retention time', async () => {
    const stack = await startStack({ daemonArgs: ['--job-retention', '1'] });
    try {
      const path = await stack.client.apply(CONVERGED);
      await waitFor(
        'the job to finish',
        async () => (await stack.client.jobProperty(path, 'State')) === 'done',
      );
      await waitFor(
        'the job object to go (UnknownObject)',
        async () => {
          const error = await errorOf(stack.client.jobProperty(path, 'State')).catch(
            () => undefined,
          );
          return error?.type === ErrorName.UnknownObject;
        },
        5_000,
      );
    } finally {
      await stack.stop();
    }
  });
});

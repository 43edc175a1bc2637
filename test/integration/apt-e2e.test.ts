import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { startStack, type Stack } from '../harness/stack.js';
import { jobIdOf, SignalRecorder } from '../helpers/bus-client.js';
import { packagesDocument } from '../helpers/documents.js';
import { dpkgInstalled, restorePackage } from '../helpers/dpkg.js';

// A small real Debian package, installed and removed through PackageKit's apt backend.
const PACKAGE = 'sl';

interface PlanRow {
  plugin: string;
  resource: string;
  action: string;
}

describe('end to end on the real apt backend', () => {
  let stack: Stack;
  let recorder: SignalRecorder;
  const wasInstalled = dpkgInstalled(PACKAGE);

  before(async () => {
    stack = await startStack({ backend: 'apt' });
    recorder = await SignalRecorder.start(stack.clientBus);
  });
  after(async () => {
    recorder?.stop();
    await stack?.stop();
    // Leave the machine as found, whatever the test did.
    restorePackage(PACKAGE, wasInstalled);
  });

  async function applyAndWait(
    document: string,
  ): Promise<{ path: string; state: string; result: string }> {
    const path = await stack.client.apply(document);
    const removed = await recorder.waitForJobRemoved(jobIdOf(path), 300_000);
    return {
      path,
      state: String(removed.body[2]),
      result: String(await stack.client.jobProperty(path, 'Result')),
    };
  }

  it("Query's document re-applies unchanged: its plan is empty", async () => {
    const queried = await stack.client.query(['packagekit']);
    const packages = Object.keys(
      (JSON.parse(queried) as { plugins: { packagekit: { packages: object } } }).plugins.packagekit
        .packages,
    );
    const dpkgCount = execFileSync('dpkg-query', ['-W', '-f=${Status} ${Package}\\n'], {
      encoding: 'utf8',
    })
      .split('\n')
      .filter((line) => line.startsWith('install ok installed')).length;
    assert.ok(packages.length > 50, `Query lists the machine's packages (${packages.length})`);
    assert.ok(
      Math.abs(packages.length - dpkgCount) <= 5,
      `Query lists ${packages.length}, dpkg ${dpkgCount}`,
    );
    const plan = JSON.parse(await stack.client.plan(queried)) as PlanRow[];
    assert.deepEqual(
      plan.filter((row) => row.action !== 'none'),
      [],
    );
  });

  it(`installs ${PACKAGE} through Apply, as dpkg confirms`, async () => {
    if (wasInstalled) await applyAndWait(packagesDocument({ [PACKAGE]: 'removed' }));
    assert.equal(dpkgInstalled(PACKAGE), false);
    const plan = JSON.parse(
      await stack.client.plan(packagesDocument({ [PACKAGE]: 'installed' })),
    ) as PlanRow[];
    assert.deepEqual(
      plan.map((row) => [row.resource, row.action]),
      [[PACKAGE, 'install']],
    );

    const { path, state, result } = await applyAndWait(
      packagesDocument({ [PACKAGE]: 'installed' }),
    );
    assert.equal(state, 'done', result);
    assert.equal(dpkgInstalled(PACKAGE), true);
    const progress = recorder.named('Progress').filter((s) => s.body[0] === jobIdOf(path));
    // The .deb may already sit in apt's cache: then PackageKit's download phase has no per-package signal.
    assert.ok(
      progress.some((s) => s.body[3] === 'downloading'),
      'download phase',
    );
    assert.ok(
      progress.some((s) => s.body[2] === PACKAGE && s.body[3] === 'installing'),
      'per-package install progress',
    );
  });

  it(`a second Apply of the same document changes nothing`, async () => {
    await applyAndWait(packagesDocument({ [PACKAGE]: 'installed' }));
    const { state, result } = await applyAndWait(packagesDocument({ [PACKAGE]: 'installed' }));
    assert.equal(state, 'done');
    assert.deepEqual((JSON.parse(result) as { summary: object }).summary, {
      changed: 0,
      unchanged: 1,
      failed: 0,
    });
  });

  it(`removes ${PACKAGE} through Apply, as dpkg confirms`, async () => {
    await applyAndWait(packagesDocument({ [PACKAGE]: 'installed' }));
    assert.equal(dpkgInstalled(PACKAGE), true);
    const { state, result } = await applyAndWait(packagesDocument({ [PACKAGE]: 'removed' }));
    assert.equal(state, 'done', result);
    assert.equal(dpkgInstalled(PACKAGE), false);
  });

  it(`${PACKAGE} installed on probation and not confirmed is removed again (approximate restore)`, async () => {
    await applyAndWait(packagesDocument({ [PACKAGE]: 'removed' }));
    const [job, checkpoint] = await stack.client.applyConfirmed(
      packagesDocument({ [PACKAGE]: 'installed' }),
      3,
    );
    const removed = await recorder.waitForJobRemoved(jobIdOf(job), 300_000);
    assert.equal(removed.body[2], 'done');
    assert.equal(dpkgInstalled(PACKAGE), true);
    const snapshot = JSON.parse(
      String((await stack.client.checkpointProperties(checkpoint)).Snapshot),
    ) as { plugin: string; restore: string; section: unknown }[];
    assert.deepEqual(snapshot, [
      {
        plugin: 'packagekit',
        restore: 'approximate',
        section: { packages: { [PACKAGE]: { ensure: 'removed', autoremove: true } } },
      },
    ]);
    const id = Number(checkpoint.split('/').pop());
    await recorder.waitFor(
      'the rollback',
      (s) => s.member === 'CheckpointRemoved' && s.body[0] === id,
      300_000,
    );
    assert.equal(dpkgInstalled(PACKAGE), false);
  });
});

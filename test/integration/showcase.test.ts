// The original op-dbus's showcase, made real and offline: a Proxmox-style host
// from ONE document. A local signed apt archive stands in for Proxmox's (its
// meta-package depends on two real Debian packages and ships a user unit);
// PackageKit's apt backend runs with a private apt configuration (APT_CONFIG:
// its own sources folder, lists and cache; the host's dpkg), so the host's
// /etc/apt is never touched; the unit runs in a systemd user manager and the
// hostname is set by hostnamed in its own namespace. The packages are really
// installed and removed on this machine: after() puts it back as it was.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it, type TestContext } from 'node:test';
import { allServices } from '../harness/all-services.js';
import { buildAptArchive, type AptArchive } from '../harness/apt-archive.js';
import { packagekitAptConfig, type PackageKitAptConfig } from '../harness/packagekit-apt-config.js';
import { waitFor } from '../harness/processes.js';
import {
  SHOWCASE_HOSTNAME,
  showcaseCleanupDocument,
  showcaseDocument,
} from '../harness/showcase.js';
import { startStack, type Stack } from '../harness/stack.js';
import type { SystemdUser } from '../harness/systemd-user.js';
import { jobIdOf, SignalRecorder } from '../helpers/bus-client.js';
import { dpkgInstalled, dpkgKnows, restorePackageFully } from '../helpers/dpkg.js';

interface PlanRow {
  plugin: string;
  resource: string;
  action: string;
  reason?: string;
}
interface ResultRow {
  plugin: string;
  resource: string;
  outcome: string;
  action: string;
  error?: string;
  failure?: string;
}

const REPOSITORY = 'repository:pve';

function repositoriesOf(document: object): object {
  return (document as { plugins: { packagekit: { repositories: object } } }).plugins.packagekit
    .repositories;
}

describe('the showcase: a Proxmox-style host from one document (offline, signed local archive)', () => {
  let archive: AptArchive;
  let apt: PackageKitAptConfig;
  let stack: Stack;
  let systemd: SystemdUser | undefined;
  let recorder: SignalRecorder;
  let sourcesFile = '';
  /** What dpkg said of each package before the test: restored in after(). */
  const found = new Map<string, { installed: boolean; known: boolean }>();

  before(async () => {
    archive = await buildAptArchive();
    for (const name of [archive.packageName, ...archive.depends])
      found.set(name, { installed: dpkgInstalled(name), known: dpkgKnows(name) });
    assert.equal(dpkgKnows(archive.packageName), false, 'the demo package is not installed yet');
    apt = await packagekitAptConfig();
    sourcesFile = join(apt.sourcesDir, 'op-dbus-pve.sources');
    stack = await startStack({
      backend: 'apt',
      packagekitEnv: apt.env,
      daemonArgs: apt.daemonArgs,
      services: allServices((manager) => {
        systemd = manager;
        return Promise.resolve();
      }),
    });
    recorder = await SignalRecorder.start(stack.clientBus);
  });

  after(async () => {
    recorder?.stop();
    await stack?.stop();
    // Leave the machine as found: the meta-package, and what it pulled in.
    for (const [name, before] of found) restorePackageFully(name, before);
    await apt?.cleanup();
    await archive?.cleanup();
  });

  async function applyAndWait(
    document: object,
  ): Promise<{ state: string; rows: ResultRow[]; path: string; ms: number }> {
    const started = Date.now();
    const path = await stack.client.apply(JSON.stringify(document));
    const removed = await recorder.waitForJobRemoved(jobIdOf(path), 600_000);
    const result = JSON.parse(String(await stack.client.jobProperty(path, 'Result'))) as {
      resources: ResultRow[];
    };
    return {
      state: String(removed.body[2]),
      rows: result.resources,
      path,
      ms: Date.now() - started,
    };
  }

  async function plan(document: object): Promise<PlanRow[]> {
    return JSON.parse(await stack.client.plan(JSON.stringify(document))) as PlanRow[];
  }

  const row = (rows: ResultRow[], resource: string): ResultRow | undefined =>
    rows.find((r) => r.resource === resource);

  function staticHostname(): string {
    const hostname1 = 'org.freedesktop.hostname1';
    return execFileSync(
      'busctl',
      [
        '--system',
        'get-property',
        hostname1,
        '/org/freedesktop/hostname1',
        hostname1,
        'StaticHostname',
      ],
      { env: { ...process.env, ...stack.bus.env }, encoding: 'utf8' },
    ).trim();
  }

  it('Plan: the repository first, then the package, unresolvable until the refresh', async () => {
    await applyAndWait(showcaseCleanupDocument(archive));
    const rows = (await plan(showcaseDocument(archive))).filter((r) => r.plugin === 'packagekit');
    assert.deepEqual(
      rows.map((r) => [r.resource, r.action]),
      [
        [REPOSITORY, 'add'],
        [archive.packageName, 'unresolvable'],
      ],
    );
    assert.match(rows[1]?.reason ?? '', /looked for again after this apply refreshes/);
  });

  it("the wrong key: the refresh fails with apt's words, naming the archive; nothing is installed", async () => {
    await applyAndWait(showcaseCleanupDocument(archive));
    const { state, rows } = await applyAndWait(showcaseDocument(archive, archive.wrongKey.armored));
    assert.equal(state, 'failed');
    const repository = row(rows, REPOSITORY);
    assert.equal(repository?.outcome, 'failed', JSON.stringify(rows));
    assert.equal(repository?.failure, 'terminal');
    assert.match(repository?.error ?? '', /apt refused the repository/);
    assert.match(
      repository?.error ?? '',
      new RegExp(`NO_PUBKEY ${archive.key.fingerprint.slice(-16)}`),
    );
    assert.match(repository?.error ?? '', /file:\/tmp\/opdbus-archive-[^ ]*\/archive bookworm/);
    const demo = row(rows, archive.packageName);
    assert.equal(demo?.outcome, 'failed');
    assert.equal(demo?.failure, 'terminal');
    assert.match(demo?.error ?? '', /not found after refreshing the package lists/);
    for (const name of [archive.packageName, ...archive.depends])
      assert.equal(dpkgInstalled(name), found.get(name)?.installed, name);
    // The file is as the document says; apt has no lists for it, and Plan says so.
    const again = (await plan(showcaseDocument(archive, archive.wrongKey.armored))).find(
      (r) => r.resource === REPOSITORY,
    );
    assert.equal(again?.action, 'refresh');
  });

  it('one Apply converges: repository, package from it, its unit running, hostname', async (t: TestContext) => {
    // The package's maintainer scripts run for real: no systemd-as-PID-1 marker may mislead them.
    assert.equal(existsSync('/run/systemd/system'), false);
    const { state, rows, path, ms } = await applyAndWait(showcaseDocument(archive));
    t.diagnostic(`the converging Apply took ${ms} ms`);
    assert.equal(state, 'done', JSON.stringify(rows));
    assert.deepEqual(
      rows.filter((r) => r.outcome === 'failed'),
      [],
    );
    assert.equal(dpkgInstalled(archive.packageName), true);
    for (const name of archive.depends) assert.equal(dpkgInstalled(name), true, name);
    const policy = apt.policy(archive.packageName);
    assert.match(policy, /Installed: 1\.0-1/, policy);
    assert.match(
      policy,
      /file:\/tmp\/opdbus-archive-[^ ]*\/archive bookworm\/pve-no-subscription/,
      policy,
    );
    assert.equal((await systemd?.systemctl('is-active', archive.unitName))?.trim(), 'active');
    assert.equal((await systemd?.systemctl('is-enabled', archive.unitName))?.trim(), 'enabled');
    assert.equal(staticHostname(), `s "${SHOWCASE_HOSTNAME}"`);
    const refreshing = recorder
      .named('Progress')
      .filter((s) => s.body[0] === jobIdOf(path) && s.body[1] === 'packagekit')
      .map((s) => String(s.body[3]));
    assert.ok(refreshing.includes('refreshing'), `progress phases: ${refreshing.join(' ')}`);
    assert.deepEqual(
      (await plan(showcaseDocument(archive))).filter((r) => r.action !== 'none'),
      [],
    );
  });

  it('restores its .sources file when it is deleted or edited behind its back', async () => {
    // The repository alone: nothing else in this document changes or announces
    // anything, so only the sources folder's watch can see what follows.
    const repositoryOnly = {
      version: 1,
      plugins: { packagekit: { repositories: repositoriesOf(showcaseDocument(archive)) } },
    };
    await applyAndWait(repositoryOnly);
    // A refresh makes PackageKit send UpdatesChanged, which queues a check of every
    // resource once the job is over. Let that check pass first (it takes well under
    // a second), so the deletion below is seen by the sources folder's watch alone.
    // Correct code passes without this pause; it keeps the test able to fail.
    await sleep(2_000);
    const written = readFileSync(sourcesFile, 'utf8');
    const restored = (what: string) =>
      waitFor(
        `the .sources file to be restored after ${what}`,
        () => existsSync(sourcesFile) && readFileSync(sourcesFile, 'utf8') === written,
        120_000,
      );
    const start = recorder.signals.length;
    unlinkSync(sourcesFile);
    await restored('its deletion');
    const drift = recorder.signals
      .slice(start)
      .find((s) => s.member === 'DriftDetected' && s.body[1] === REPOSITORY);
    assert.ok(drift, 'DriftDetected names the repository');
    writeFileSync(sourcesFile, written.replace('Enabled: yes', 'Enabled: no'));
    await restored('an edit');
    await waitFor(
      'the daemon to be idle',
      async () => (await plan(repositoryOnly)).every((r) => r.action === 'none'),
      120_000,
    );
  });

  it('Query lists the repository and the package, and re-applies with an empty plan', async () => {
    await applyAndWait(showcaseDocument(archive));
    const queried = JSON.parse(await stack.client.query(['packagekit'])) as {
      plugins: {
        packagekit: { repositories?: Record<string, { signed_by?: string }>; packages: object };
      };
    };
    const section = queried.plugins.packagekit;
    assert.equal(section.repositories?.pve?.signed_by, archive.key.armored);
    assert.ok(archive.packageName in section.packages);
    const rows = await plan({ version: 1, plugins: { packagekit: section } });
    assert.deepEqual(
      rows.filter((r) => r.action !== 'none'),
      [],
    );
  });

  it('repository absent + package removed cleans it all up', async () => {
    await applyAndWait(showcaseDocument(archive));
    const { state, rows } = await applyAndWait(showcaseCleanupDocument(archive));
    assert.equal(state, 'done', JSON.stringify(rows));
    assert.deepEqual(
      rows.map((r) => [r.resource, r.outcome, r.action]),
      [
        [REPOSITORY, 'changed', 'remove'],
        [archive.packageName, 'changed', 'remove'],
      ],
    );
    assert.equal(existsSync(sourcesFile), false);
    assert.equal(dpkgInstalled(archive.packageName), false);
    assert.doesNotMatch(apt.policy(archive.packageName), /Candidate: 1\.0-1/);
    assert.deepEqual(
      (await plan(showcaseCleanupDocument(archive))).filter((r) => r.action !== 'none'),
      [],
    );
  });
});

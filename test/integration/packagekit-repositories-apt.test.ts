// apt itself judges the files op-dbus writes: the local signed archive (the
// stand-in for Proxmox's) is added through the rendered .sources file to an apt
// with a private configuration (its own sources, lists, cache and trusted keys;
// nothing of the host's apt is read or changed), and `apt-get update` and
// `apt-cache policy` say whether the repository and its signature are accepted.
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  aptListFileName,
  hasReleaseLists,
  releaseListFiles,
} from '../../src/plugins/packagekit/repositories/apt-lists.js';
import { planRepositories } from '../../src/plugins/packagekit/repositories/plan.js';
import {
  repositoryOf,
  type RepositorySpec,
} from '../../src/plugins/packagekit/repositories/schema.js';
import { renderRepository } from '../../src/plugins/packagekit/repositories/sources-file.js';
import { readSourcesState } from '../../src/plugins/packagekit/repositories/sources-state.js';
import { writeManagedSource } from '../../src/plugins/packagekit/repositories/writer.js';
import { buildAptArchive, type AptArchive } from '../harness/apt-archive.js';
import { privateApt, type PrivateApt } from '../helpers/private-apt.js';

let archive: AptArchive;
before(async () => {
  archive = await buildAptArchive();
});
after(async () => {
  await archive?.cleanup();
});

/** A private apt for one test, removed afterwards whatever happens. */
async function withApt(run: (apt: PrivateApt) => Promise<void>): Promise<void> {
  const apt = await privateApt();
  try {
    await run(apt);
  } finally {
    await apt.cleanup();
  }
}

function spec(signedBy: string, more: Partial<RepositorySpec> = {}): RepositorySpec {
  return {
    uris: [archive.uri],
    suites: [archive.suite],
    components: [archive.component],
    signed_by: signedBy,
    ...more,
  };
}

/** Writes the repository the way op-dbus does: rendered, then the atomic writer. */
async function addRepository(
  apt: PrivateApt,
  name: string,
  repositorySpec: RepositorySpec,
): Promise<void> {
  const repository = repositoryOf(repositorySpec);
  assert.ok(repository);
  await writeManagedSource(apt.sourcesDir, name, renderRepository(name, repository));
}

function assertAccepted(apt: PrivateApt, update: { status: number | null; output: string }): void {
  assert.equal(update.status, 0, update.output);
  assert.doesNotMatch(update.output, /^(W|E):/mu, update.output);
  const policy = apt.policy(archive.packageName);
  assert.match(
    policy,
    new RegExp(`Candidate: ${archive.version.replace(/\./gu, '\\.')}`, 'u'),
    policy,
  );
  assert.match(policy, /file:\/tmp\/opdbus-archive-/u, policy);
}

describe('the rendered .sources file, judged by apt 2.6 itself', () => {
  it('an embedded armored key: apt updates, verifies InRelease and offers the package', () =>
    withApt(async (apt) => {
      await addRepository(apt, 'pve', spec(archive.key.armored));
      assertAccepted(apt, apt.update());
    }));

  it('a binary keyring path (.gpg) is accepted', () =>
    withApt(async (apt) => {
      await addRepository(apt, 'pve', spec(archive.key.keyringPath));
      assertAccepted(apt, apt.update());
    }));

  it('an armored keyring path (.asc) is accepted', () =>
    withApt(async (apt) => {
      await addRepository(apt, 'pve', spec(archive.key.armoredPath));
      assertAccepted(apt, apt.update());
    }));

  it("the wrong embedded key: the update fails with apt's own NO_PUBKEY message and offers nothing", () =>
    withApt(async (apt) => {
      await addRepository(apt, 'pve', spec(archive.wrongKey.armored));
      const update = apt.update();
      assert.notEqual(update.status, 0, update.output);
      const keyId = archive.key.fingerprint.slice(-16);
      assert.match(update.output, new RegExp(`NO_PUBKEY ${keyId}`, 'u'), update.output);
      assert.match(update.output, /is not signed/u, update.output);
      assert.match(apt.policy(archive.packageName), /^$|Candidate: \(none\)/u);
    }));

  it('the wrong keyring file: the same refusal', () =>
    withApt(async (apt) => {
      await addRepository(apt, 'pve', spec(archive.wrongKey.keyringPath));
      const update = apt.update();
      assert.notEqual(update.status, 0, update.output);
      assert.match(update.output, /NO_PUBKEY/u, update.output);
    }));

  it('a flat repository (suite "./", no components) is accepted', () =>
    withApt(async (apt) => {
      await addRepository(apt, 'flat', {
        uris: [archive.flat.uri],
        suites: [archive.flat.suite],
        signed_by: archive.key.armored,
      });
      assertAccepted(apt, apt.update());
    }));

  it('Enabled: no keeps the file but apt fetches nothing from it', () =>
    withApt(async (apt) => {
      await addRepository(apt, 'pve', spec(archive.key.armored, { enabled: false }));
      const update = apt.update();
      assert.equal(update.status, 0, update.output);
      assert.doesNotMatch(apt.policy(archive.packageName), /Candidate: 1/u);
    }));

  it('names the lists files as apt does (classic and flat), so "lists missing" can be told', () =>
    withApt(async (apt) => {
      const pve = repositoryOf(spec(archive.key.armored));
      const flat = repositoryOf({
        uris: [archive.flat.uri],
        suites: ['./'],
        signed_by: archive.key.armored,
      });
      assert.ok(pve && flat);
      assert.equal(hasReleaseLists(pve, apt.listsDir), false);
      await writeManagedSource(apt.sourcesDir, 'pve', renderRepository('pve', pve));
      await writeManagedSource(apt.sourcesDir, 'flat', renderRepository('flat', flat));
      assert.equal(apt.update().status, 0);
      const [inRelease] = releaseListFiles(archive.uri, archive.suite);
      assert.ok(inRelease && existsSync(join(apt.listsDir, inRelease)), inRelease);
      assert.equal(hasReleaseLists(pve, apt.listsDir), true);
      assert.equal(hasReleaseLists(flat, apt.listsDir), true);
      assert.ok(aptListFileName(archive.uri).startsWith('_tmp_opdbus-archive-'));
    }));

  it('after writing, observing plans nothing for the repository', () =>
    withApt(async (apt) => {
      const desired = { pve: spec(archive.key.armored) };
      const location = { sourcesDir: apt.sourcesDir, mainList: join(apt.dir, 'sources.list') };
      const [first] = planRepositories(desired, await readSourcesState(location, []));
      assert.equal(first?.action, 'add');
      await writeManagedSource(apt.sourcesDir, 'pve', first.content ?? '');
      const [second] = planRepositories(desired, await readSourcesState(location, []));
      assert.equal(second?.action, 'none');
    }));

  it('why op-dbus never writes a duplicate: apt refuses the same archive with two different keys', () =>
    withApt(async (apt) => {
      writeFileSync(
        join(apt.sourcesDir, 'pve-install-repo.list'),
        `deb [signed-by=${archive.key.keyringPath}] ${archive.uri} ${archive.suite} ${archive.component}\n`,
      );
      await addRepository(apt, 'pve', spec(archive.key.armored));
      const update = apt.update();
      assert.notEqual(update.status, 0, update.output);
      assert.match(update.output, /Conflicting values set for option Signed-By/u, update.output);
      // And the plan says so instead of writing.
      const location = { sourcesDir: apt.sourcesDir, mainList: join(apt.dir, 'sources.list') };
      const [change] = planRepositories(
        { pve: spec(archive.key.armored) },
        await readSourcesState(location, []),
      );
      assert.equal(change?.action, 'conflict');
      assert.match(change?.reason ?? '', /pve-install-repo\.list \(line 1\)/u);
    }));
});

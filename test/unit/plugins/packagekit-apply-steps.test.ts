// The two halves of the packagekit plugin's apply, on a scratch sources folder
// with PackageKit replaced by recording fakes: repositories are written, then
// ONE refresh only when one changed or lacks lists; a failed refresh fails the
// repository apt names; packages still unresolvable after a refresh fail as
// "not found after refreshing", terminal. The real thing: test/integration/showcase.test.ts.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { retryableFailure } from '../../../src/errors.js';
import { applyPackageChanges } from '../../../src/plugins/packagekit/package-step.js';
import type { PackageChange } from '../../../src/plugins/packagekit/plan.js';
import { releaseListFiles } from '../../../src/plugins/packagekit/repositories/apt-lists.js';
import { observeRepositories } from '../../../src/plugins/packagekit/repositories/observe.js';
import { planRepositories } from '../../../src/plugins/packagekit/repositories/plan.js';
import type { RepositoriesMap } from '../../../src/plugins/packagekit/repositories/schema.js';
import { applyRepositoryStep } from '../../../src/plugins/packagekit/repository-step.js';
import { PackageKitError } from '../../../src/plugins/packagekit/transaction-error.js';
import { testContext } from '../../helpers/plugin-host.js';
import { FIXTURE_KEY } from '../../helpers/repositories.js';

let root: string;
let apt: { sourcesDir: string; mainList: string; listsDir: string };
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'opdbus-apply-steps-'));
  apt = {
    sourcesDir: join(root, 'sources.list.d'),
    mainList: join(root, 'sources.list'),
    listsDir: join(root, 'lists'),
  };
  mkdirSync(apt.sourcesDir);
  mkdirSync(apt.listsDir);
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

const URI = 'http://download.proxmox.com/debian/pve';
const DESIRED: RepositoriesMap = {
  pve: { uris: [URI], suites: ['bookworm'], components: ['main'], signed_by: FIXTURE_KEY },
};
/** apt's words for the wrong key, as PackageKit's ErrorCode 64 carried them. */
const NO_PUBKEY = `W: GPG error: ${URI} bookworm InRelease: The following signatures couldn't be verified because the public key is not available: NO_PUBKEY 7D888D62750E7F2A E: The repository '${URI} bookworm InRelease' is not signed.`;

/** What apt leaves in its lists folder after a good refresh of the repository. */
function downloadLists(): void {
  const [inRelease] = releaseListFiles(URI, 'bookworm');
  writeFileSync(join(apt.listsDir, inRelease as string), 'Origin: test\n');
}

async function step(desired: RepositoriesMap, refresh: () => Promise<void>) {
  const observed = await observeRepositories(desired, apt);
  const changes = planRepositories(desired, observed.sources, observed.listsMissing);
  let refreshes = 0;
  const result = await applyRepositoryStep(
    changes,
    desired,
    apt,
    async () => {
      refreshes += 1;
      await refresh();
    },
    testContext(),
  );
  return { ...result, refreshes, changes };
}

describe('the repository step of an apply', () => {
  it('adds the file, then refreshes once', async () => {
    const { outcomes, refreshes, refreshed } = await step(DESIRED, () =>
      Promise.resolve(downloadLists()),
    );
    assert.deepEqual(outcomes, [{ resource: 'repository:pve', outcome: 'changed', action: 'add' }]);
    assert.equal(refreshes, 1);
    assert.equal(refreshed, true);
    assert.deepEqual(await readdir(apt.sourcesDir), ['op-dbus-pve.sources']);
  });

  it('as desired with its lists: no refresh at all', async () => {
    await step(DESIRED, () => Promise.resolve(downloadLists()));
    const { outcomes, refreshes, refreshed } = await step(DESIRED, () => Promise.resolve());
    assert.deepEqual(
      outcomes.map((o) => o.outcome),
      ['unchanged'],
    );
    assert.equal(refreshes, 0);
    assert.equal(refreshed, false);
  });

  it('as desired but without lists: plans refresh and refreshes', async () => {
    await step(DESIRED, () => Promise.reject(retryableFailure('mirror down')));
    const { changes, outcomes, refreshes } = await step(DESIRED, () =>
      Promise.resolve(downloadLists()),
    );
    assert.equal(changes[0]?.action, 'refresh');
    assert.equal(refreshes, 1);
    assert.deepEqual(outcomes, [
      { resource: 'repository:pve', outcome: 'changed', action: 'refresh' },
    ]);
  });

  it("a refresh apt refuses fails the repository with apt's words, terminal for the key", async () => {
    const { outcomes, refreshError } = await step(DESIRED, () =>
      Promise.reject(new PackageKitError(64, NO_PUBKEY)),
    );
    assert.equal(outcomes[0]?.outcome, 'failed');
    assert.equal(outcomes[0]?.failure, 'terminal');
    assert.match(outcomes[0]?.error ?? '', /NO_PUBKEY 7D888D62750E7F2A/);
    assert.match(refreshError ?? '', /^W: GPG error/);
  });

  it('removing the file refreshes too (apt drops the lists of a source that is gone)', async () => {
    await step(DESIRED, () => Promise.resolve(downloadLists()));
    const { outcomes, refreshes } = await step({ pve: { ensure: 'absent' } }, () =>
      Promise.resolve(),
    );
    assert.deepEqual(outcomes, [
      { resource: 'repository:pve', outcome: 'changed', action: 'remove' },
    ]);
    assert.equal(refreshes, 1);
    assert.deepEqual(await readdir(apt.sourcesDir), []);
  });
});

describe('the package step of an apply', () => {
  const change = (
    resource: string,
    action: PackageChange['action'],
    id?: string,
  ): PackageChange => ({
    resource,
    action,
    from: null,
    to: null,
    packageId: id,
    ...(action === 'unresolvable' ? { reason: `no package named '${resource}'` } : {}),
  });
  function recording(fail?: Error) {
    const calls: string[][] = [];
    return {
      calls,
      transactions: {
        install: (ids: string[]) => {
          calls.push(['install', ...ids]);
          return fail ? Promise.reject(fail) : Promise.resolve([]);
        },
        remove: (ids: string[], autoremove: boolean) => {
          calls.push([autoremove ? 'remove+autoremove' : 'remove', ...ids]);
          return Promise.resolve([]);
        },
      },
    };
  }

  const noAutoremove = () => false;

  it('one install and one remove transaction per autoremove choice; unresolvable fails terminal without one', async () => {
    const { calls, transactions } = recording();
    const outcomes = await applyPackageChanges(
      [
        change('a', 'install', 'a;1;all;x'),
        change('b', 'unresolvable'),
        change('c', 'remove', 'c;1;all;installed'),
        change('d', 'upgrade', 'd;2;all;x'),
        change('e', 'remove', 'e;1;all;installed'),
      ],
      transactions,
      (name) => name === 'e',
      testContext(),
    );
    assert.deepEqual(calls, [
      ['install', 'a;1;all;x', 'd;2;all;x'],
      ['remove', 'c;1;all;installed'],
      ['remove+autoremove', 'e;1;all;installed'],
    ]);
    const b = outcomes.find((o) => o.resource === 'b');
    assert.deepEqual(b, {
      resource: 'b',
      outcome: 'failed',
      action: 'unresolvable',
      error: "no package named 'b'",
      failure: 'terminal',
    });
  });

  it('after a refresh: still unresolvable is "not found after refreshing", naming a failed refresh', async () => {
    const { transactions } = recording();
    const [outcome] = await applyPackageChanges(
      [change('proxmox-ve', 'unresolvable')],
      transactions,
      noAutoremove,
      testContext(),
      { error: 'E: NO_PUBKEY 7D888D62750E7F2A' },
    );
    assert.equal(outcome?.failure, 'terminal');
    assert.equal(
      outcome?.error,
      "not found after refreshing the package lists: no package named 'proxmox-ve' (the refresh failed: E: NO_PUBKEY 7D888D62750E7F2A)",
    );
  });

  it("a change planned again as 'none' is unchanged; a failed transaction fails its batch with its kind", async () => {
    const { transactions } = recording(new PackageKitError(13, 'dep-resolution-failed'));
    const outcomes = await applyPackageChanges(
      [
        change('a', 'none'),
        change('b', 'install', 'b;1;all;x'),
        change('c', 'install', 'c;1;all;x'),
      ],
      transactions,
      noAutoremove,
      testContext(),
    );
    assert.deepEqual(
      outcomes.map((o) => [o.resource, o.outcome, o.failure]),
      [
        ['a', 'unchanged', undefined],
        ['b', 'failed', 'terminal'],
        ['c', 'failed', 'terminal'],
      ],
    );
  });
});

// What a failed refresh means for each repository: apt's own messages (as
// PackageKit 1.2.6's apt backend passed them on, measured on this machine)
// mapped to the repository they name, terminal for a signature problem.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ResourceOutcome } from '../../../src/engine/plugin.js';
import type { RepositoryChange } from '../../../src/plugins/packagekit/repositories/plan.js';
import {
  namesRepository,
  outcomesAfterRefresh,
  refreshFailureKind,
} from '../../../src/plugins/packagekit/repositories/refresh-outcomes.js';
import {
  repositoryOf,
  type Repository,
  type RepositorySpec,
} from '../../../src/plugins/packagekit/repositories/schema.js';
import { FIXTURE_KEY } from '../../helpers/repositories.js';

const ARCHIVE = 'file:///tmp/opdbus-archive-g94ugG/archive';
/** The wrong key, no lists for the repository yet. */
const WRONG_KEY =
  "W: GPG error: file:/tmp/opdbus-archive-g94ugG/archive bookworm InRelease: The following signatures couldn't be verified because the public key is not available: NO_PUBKEY 7D888D62750E7F2A E: The repository 'file:/tmp/opdbus-archive-g94ugG/archive bookworm InRelease' is not signed.";
/** The wrong key after good lists: apt keeps the old lists. */
const WRONG_KEY_AFTER_LISTS =
  "W: An error occurred during the signature verification. The repository is not updated and the previous index files will be used. GPG error: file:/tmp/opdbus-archive-g94ugG/archive bookworm InRelease: The following signatures couldn't be verified because the public key is not available: NO_PUBKEY 7D888D62750E7F2A";
const UNREACHABLE =
  'E: http://127.0.0.1:9/debian bookworm InRelease is not (yet) available (Could not connect to 127.0.0.1:9 (127.0.0.1). - connect (111: Connection refused)) ';

function repository(uri: string, more: Partial<RepositorySpec> = {}): Repository {
  const spec: RepositorySpec = {
    uris: [uri],
    suites: ['bookworm'],
    components: ['main'],
    signed_by: FIXTURE_KEY,
    ...more,
  };
  const present = repositoryOf(spec);
  assert.ok(present);
  return present;
}

describe('a failed refresh, in apt’s words', () => {
  it('is terminal for a signature apt cannot check, retryable otherwise', () => {
    assert.equal(refreshFailureKind(WRONG_KEY), 'terminal');
    assert.equal(refreshFailureKind(WRONG_KEY_AFTER_LISTS), 'terminal');
    assert.equal(refreshFailureKind(UNREACHABLE), 'retryable');
    assert.equal(refreshFailureKind('PackageKit is not reachable: no owner'), 'retryable');
  });

  it('names the repository whose URI apt wrote (file:/// as file:/, any case, no trailing slash)', () => {
    assert.equal(namesRepository(WRONG_KEY, repository(ARCHIVE)), true);
    assert.equal(namesRepository(WRONG_KEY, repository(`${ARCHIVE}/`)), true);
    assert.equal(namesRepository(UNREACHABLE, repository('http://127.0.0.1:9/debian')), true);
    assert.equal(namesRepository(UNREACHABLE, repository('HTTP://127.0.0.1:9/debian/')), true);
  });

  it('does not name a repository whose URI is only a prefix of the one apt wrote', () => {
    assert.equal(
      namesRepository(WRONG_KEY, repository('file:///tmp/opdbus-archive-g94ugG/arch')),
      false,
    );
    assert.equal(namesRepository(UNREACHABLE, repository('http://127.0.0.1:9/deb')), false);
    assert.equal(namesRepository(UNREACHABLE, repository('http://127.0.0.1/debian')), false);
  });
});

describe('the repositories’ outcomes after the refresh', () => {
  const specs: Record<string, Repository> = {
    pve: repository(ARCHIVE),
    other: repository('http://other.example/debian'),
    off: repository('http://off.example/debian', { enabled: false }),
  };
  const change = (name: string, action: RepositoryChange['action']): RepositoryChange => ({
    resource: `repository:${name}`,
    repository: name,
    action,
    from: null,
    to: null,
  });
  const changed = (name: string, action: string): ResourceOutcome => ({
    resource: `repository:${name}`,
    outcome: 'changed',
    action,
  });
  const changes = [
    change('pve', 'add'),
    change('other', 'refresh'),
    change('off', 'add'),
    change('gone', 'remove'),
  ];
  const written = [
    changed('pve', 'add'),
    changed('other', 'refresh'),
    changed('off', 'add'),
    changed('gone', 'remove'),
  ];
  const run = (error: string | undefined, withLists: string[]) =>
    outcomesAfterRefresh(
      changes,
      written,
      { error },
      (name) => specs[name],
      (repo) => withLists.some((name) => specs[name] === repo),
    );

  it('a refresh that worked keeps every outcome', () => {
    assert.deepEqual(run(undefined, []), written);
  });

  it('fails the repository apt named, with its words (terminal for the key); keeps the others that have lists', () => {
    const outcomes = run(WRONG_KEY, ['other']);
    assert.deepEqual(
      outcomes.map((o) => [o.resource, o.outcome, o.failure]),
      [
        ['repository:pve', 'failed', 'terminal'],
        ['repository:other', 'changed', undefined],
        ['repository:off', 'changed', undefined],
        ['repository:gone', 'changed', undefined],
      ],
    );
    assert.match(outcomes[0]?.error ?? '', /^apt refused the repository while refreshing/);
    assert.match(outcomes[0]?.error ?? '', /NO_PUBKEY 7D888D62750E7F2A/);
  });

  it('fails a repository apt did not name but still has no lists for, with the refresh’s words', () => {
    const outcomes = run(UNREACHABLE, ['pve']);
    const other = outcomes.find((o) => o.resource === 'repository:other');
    assert.equal(other?.outcome, 'failed');
    assert.equal(other?.failure, 'retryable');
    assert.match(other?.error ?? '', /failed before apt had lists for this repository: E: http/);
    assert.equal(outcomes.find((o) => o.resource === 'repository:pve')?.outcome, 'changed');
  });

  it('fails the named repository even when apt kept its old lists (wrong key after good lists)', () => {
    const [pve] = run(WRONG_KEY_AFTER_LISTS, ['pve', 'other']);
    assert.equal(pve?.outcome, 'failed');
    assert.equal(pve?.failure, 'terminal');
  });

  it('never touches an outcome that already failed', () => {
    const failed: ResourceOutcome = {
      resource: 'repository:pve',
      outcome: 'failed',
      action: 'add',
      error: 'EACCES',
      failure: 'terminal',
    };
    const [pve] = outcomesAfterRefresh(
      [change('pve', 'add')],
      [failed],
      { error: UNREACHABLE },
      (name) => specs[name],
      () => false,
    );
    assert.deepEqual(pve, failed);
  });
});

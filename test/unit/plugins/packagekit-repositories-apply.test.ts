import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import pino from 'pino';
import { applyRepositoryChanges } from '../../../src/plugins/packagekit/repositories/apply.js';
import { planRepositories } from '../../../src/plugins/packagekit/repositories/plan.js';
import type { RepositoriesMap } from '../../../src/plugins/packagekit/repositories/schema.js';
import {
  readSourcesState,
  type SourcesLocation,
} from '../../../src/plugins/packagekit/repositories/sources-state.js';
import { FIXTURE_KEY } from '../../helpers/repositories.js';

let root: string;
let location: SourcesLocation;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'opdbus-sources-'));
  location = { sourcesDir: join(root, 'sources.list.d'), mainList: join(root, 'sources.list') };
  mkdirSync(location.sourcesDir);
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

const ctx = () => ({ log: pino({ level: 'silent' }), signal: new AbortController().signal });
const spec = (uri: string) => ({
  uris: [uri],
  suites: ['bookworm'],
  components: ['main'],
  signed_by: FIXTURE_KEY,
});

async function converge(desired: RepositoriesMap, where = location) {
  const changes = planRepositories(desired, await readSourcesState(where, []));
  return applyRepositoryChanges(changes, where, ctx());
}

describe('applying repository changes to a sources folder', () => {
  it('adds, then finds nothing to do, then removes: one outcome per repository', async () => {
    const desired: RepositoriesMap = { a: spec('http://a.example/x'), b: { ensure: 'absent' } };
    assert.deepEqual(
      (await converge(desired)).map((o) => [o.resource, o.outcome, o.action]),
      [
        ['repository:a', 'changed', 'add'],
        ['repository:b', 'unchanged', 'none'],
      ],
    );
    assert.match(
      await readFile(join(location.sourcesDir, 'op-dbus-a.sources'), 'utf8'),
      /URIs: http:\/\/a\.example\/x/,
    );
    assert.deepEqual(
      (await converge(desired)).map((o) => o.outcome),
      ['unchanged', 'unchanged'],
    );
    const removed = await converge({ a: { ensure: 'absent' } });
    assert.deepEqual(removed, [{ resource: 'repository:a', outcome: 'changed', action: 'remove' }]);
    assert.deepEqual(await readdir(location.sourcesDir), []);
  });

  it('a conflict fails terminally with the reason and writes nothing', async () => {
    const other = join(location.sourcesDir, 'pve-install-repo.list');
    writeFileSync(other, 'deb http://a.example/x bookworm main\n');
    const [outcome] = await converge({ a: spec('http://a.example/x') });
    assert.equal(outcome?.outcome, 'failed');
    assert.equal(outcome?.failure, 'terminal');
    assert.match(outcome?.error ?? '', /already configured in .*pve-install-repo\.list \(line 1\)/);
    assert.deepEqual(await readdir(location.sourcesDir), ['pve-install-repo.list']);
  });

  it('a folder that cannot be written fails the repository (terminal), not the step', async () => {
    const missing = { ...location, sourcesDir: join(root, 'missing') };
    const outcomes = await converge({ a: spec('http://a.example/x') }, missing);
    assert.equal(outcomes[0]?.outcome, 'failed');
    assert.equal(outcomes[0]?.failure, 'terminal');
    assert.match(outcomes[0]?.error ?? '', /ENOENT/);
  });

  it('a cancelled step throws and writes nothing', async () => {
    const changes = planRepositories(
      { a: spec('http://a.example/x') },
      await readSourcesState(location, []),
    );
    await assert.rejects(
      applyRepositoryChanges(changes, location, {
        log: pino({ level: 'silent' }),
        signal: AbortSignal.abort(new Error('cancelled')),
      }),
      /cancelled/,
    );
    assert.deepEqual(await readdir(location.sourcesDir), []);
  });
});

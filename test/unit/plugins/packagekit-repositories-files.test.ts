// The sources folder for real, in scratch folders: reading apt's sources,
// the atomic writer, and the inotify change feed. No service, no host path.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { mkdtemp, open, readdir, readFile, rm, stat, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import pino from 'pino';
import type { ChangeScope } from '../../../src/engine/plugin.js';
import { SourcesChangeFeed } from '../../../src/plugins/packagekit/repositories/change-feed.js';
import { repositoryOf } from '../../../src/plugins/packagekit/repositories/schema.js';
import { renderRepository } from '../../../src/plugins/packagekit/repositories/sources-file.js';
import {
  readSourcesState,
  type SourcesLocation,
} from '../../../src/plugins/packagekit/repositories/sources-state.js';
import {
  removeManagedSource,
  SOURCES_FILE_MODE,
  writeManagedSource,
} from '../../../src/plugins/packagekit/repositories/writer.js';
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

const CONTENT = (() => {
  const repository = repositoryOf({
    uris: ['http://download.proxmox.com/debian/pve'],
    suites: ['bookworm'],
    components: ['pve-no-subscription'],
    signed_by: FIXTURE_KEY,
  });
  assert.ok(repository);
  return renderRepository('pve', repository);
})();

const put = (name: string, text: string): void =>
  writeFileSync(join(location.sourcesDir, name), text);

describe("reading apt's sources", () => {
  it('keeps op-dbus files whole and reads the entries of every other file apt reads', async () => {
    put('op-dbus-pve.sources', CONTENT);
    put(
      'pve-install-repo.list',
      '# comment\ndeb http://download.proxmox.com/debian/pve bookworm pve-no-subscription\n',
    );
    put(
      'debian.sources',
      'Types: deb\nURIs: http://deb.debian.org/debian\nSuites: bookworm\nComponents: main\n\nTypes: deb\nURIs: http://off.example/x\nSuites: s\nEnabled: no\n',
    );
    // Not op-dbus's (upper case), but apt reads it: foreign.
    put('op-dbus-Other.sources', 'Types: deb\nURIs: http://other.example/x\nSuites: s\n');
    // apt skips these, so op-dbus does too.
    put('google.list.disabled', 'deb http://skipped.example/a s main\n');
    put('.hidden.list', 'deb http://skipped.example/b s main\n');
    put('op-dbus-pve.sources.save', 'Types: deb\nURIs: http://skipped.example/c\nSuites: s\n');
    mkdirSync(join(location.sourcesDir, 'folder.list'));
    writeFileSync(location.mainList, 'deb http://main.example/debian bookworm main\n');

    const observed = await readSourcesState(location, ['/nonexistent/key.gpg', location.mainList]);
    assert.deepEqual([...observed.managed.keys()], ['pve']);
    assert.equal(observed.managed.get('pve')?.content, CONTENT);
    assert.deepEqual(
      observed.foreign.map((entry) => [entry.path.slice(root.length), entry.line, entry.uris[0]]),
      [
        ['/sources.list.d/debian.sources', 1, 'http://deb.debian.org/debian'],
        ['/sources.list.d/op-dbus-Other.sources', 1, 'http://other.example/x'],
        ['/sources.list.d/pve-install-repo.list', 2, 'http://download.proxmox.com/debian/pve'],
        ['/sources.list', 1, 'http://main.example/debian'],
      ],
    );
    assert.deepEqual(
      [...observed.keyrings],
      [
        ['/nonexistent/key.gpg', false],
        [location.mainList, true],
      ],
    );
  });

  it('a missing folder and main list read as nothing configured', async () => {
    const observed = await readSourcesState(
      { sourcesDir: join(root, 'none'), mainList: join(root, 'none.list') },
      [],
    );
    assert.equal(observed.managed.size, 0);
    assert.equal(observed.foreign.length, 0);
  });
});

describe('the atomic writer', () => {
  it('writes mode 0644 whatever the umask, and leaves no temporary file', async () => {
    const previous = process.umask(0o077);
    try {
      const path = await writeManagedSource(location.sourcesDir, 'pve', CONTENT);
      assert.equal(path, join(location.sourcesDir, 'op-dbus-pve.sources'));
      assert.equal((await stat(path)).mode & 0o777, SOURCES_FILE_MODE);
      assert.equal(await readFile(path, 'utf8'), CONTENT);
      assert.deepEqual(await readdir(location.sourcesDir), ['op-dbus-pve.sources']);
    } finally {
      process.umask(previous);
    }
  });

  it('replaces by rename: a reader of the old file keeps reading the whole old content', async () => {
    const path = await writeManagedSource(location.sourcesDir, 'pve', 'Types: deb\n');
    const reader = await open(path, 'r');
    try {
      const before = (await stat(path)).ino;
      await writeManagedSource(location.sourcesDir, 'pve', CONTENT);
      assert.notEqual((await stat(path)).ino, before);
      assert.equal(await reader.readFile('utf8'), 'Types: deb\n');
      assert.equal(await readFile(path, 'utf8'), CONTENT);
    } finally {
      await reader.close();
    }
  });

  it('a failed write leaves the old state and no temporary file', async () => {
    // A folder where the file should go: the rename fails.
    mkdirSync(join(location.sourcesDir, 'op-dbus-pve.sources'));
    put('keep.list', 'deb http://a.example/x s main\n');
    await assert.rejects(writeManagedSource(location.sourcesDir, 'pve', CONTENT), /EISDIR/);
    assert.deepEqual((await readdir(location.sourcesDir)).sort(), [
      'keep.list',
      'op-dbus-pve.sources',
    ]);
  });

  it('never touches a file that is not op-dbus-<name>.sources', async () => {
    put('pve.list', 'deb http://a.example/x s main\n');
    for (const name of ['../pve', 'a/b', 'Pve', '', 'pve.list', '..'])
      await assert.rejects(
        writeManagedSource(location.sourcesDir, name, CONTENT),
        /refusing to touch/,
        name,
      );
    await assert.rejects(removeManagedSource(location.sourcesDir, '../x'), /refusing to touch/);
    assert.deepEqual(await readdir(location.sourcesDir), ['pve.list']);
    assert.deepEqual(await readdir(root), ['sources.list.d']);
  });

  it('removes only its own file, and says whether it was there', async () => {
    put('pve.list', 'deb http://a.example/x s main\n');
    await writeManagedSource(location.sourcesDir, 'pve', CONTENT);
    assert.equal(await removeManagedSource(location.sourcesDir, 'pve'), true);
    assert.equal(await removeManagedSource(location.sourcesDir, 'pve'), false);
    assert.deepEqual(await readdir(location.sourcesDir), ['pve.list']);
  });

  it('does nothing once the step is cancelled', async () => {
    const aborted = AbortSignal.abort(new Error('cancelled'));
    await assert.rejects(writeManagedSource(location.sourcesDir, 'pve', CONTENT, aborted));
    assert.deepEqual(await readdir(location.sourcesDir), []);
  });
});

describe('the change feed (inotify on the sources folder)', () => {
  /** Collects notices; `next()` waits for the next one (bounded, so a missing event fails). */
  function collect(feed: SourcesChangeFeed) {
    const seen: ChangeScope[] = [];
    let wake: (() => void) | undefined;
    const unsubscribe = feed.subscribe((scope) => {
      seen.push(scope);
      wake?.();
    });
    const until = async (what: string, done: () => boolean): Promise<void> => {
      const timeout = setTimeout(() => wake?.(), 5_000);
      try {
        while (!done()) {
          const before = seen.length;
          await new Promise<void>((resolve) => (wake = resolve));
          if (seen.length === before)
            assert.fail(`no notice for ${what}: saw ${JSON.stringify(seen)}`);
        }
      } finally {
        clearTimeout(timeout);
      }
    };
    return { seen, until, unsubscribe };
  }

  /** The feed names resources: repository:NAME. */
  const hasName = (seen: ChangeScope[], name: string) =>
    seen.some((scope) => scope !== 'all' && scope.includes(`repository:${name}`));

  it('names the repository whose file was written, edited or deleted behind the daemon', async () => {
    const feed = new SourcesChangeFeed(location, pino({ level: 'silent' }));
    feed.start();
    const notices = collect(feed);
    try {
      await writeManagedSource(location.sourcesDir, 'pve', CONTENT);
      await notices.until('the write', () => hasName(notices.seen, 'pve'));
      notices.seen.length = 0;
      writeFileSync(join(location.sourcesDir, 'op-dbus-pve.sources'), 'edited\n', { flag: 'a' });
      await notices.until('the edit', () => hasName(notices.seen, 'pve'));
      notices.seen.length = 0;
      await unlink(join(location.sourcesDir, 'op-dbus-pve.sources'));
      await notices.until('the deletion', () => hasName(notices.seen, 'pve'));
      assert.ok(
        notices.seen.every((scope) => scope !== 'all'),
        JSON.stringify(notices.seen),
      );
    } finally {
      notices.unsubscribe();
      feed.stop();
    }
  });

  it("says 'all' for someone else's sources file or sources.list, nothing for files apt skips", async () => {
    const feed = new SourcesChangeFeed(location, pino({ level: 'silent' }));
    feed.start();
    const notices = collect(feed);
    try {
      put('.op-dbus-pve.sources.1234.tmp', 'x');
      put('notes.txt', 'x');
      put('pve.list.disabled', 'x');
      // inotify keeps order: once this notice is in, the ones above would be too.
      await writeManagedSource(location.sourcesDir, 'marker', CONTENT);
      await notices.until('the marker', () => hasName(notices.seen, 'marker'));
      assert.ok(
        notices.seen.every(
          (scope) => scope !== 'all' && scope.every((name) => name === 'repository:marker'),
        ),
        JSON.stringify(notices.seen),
      );
      notices.seen.length = 0;
      put('pve-install-repo.list', 'deb http://a.example/x s main\n');
      await notices.until('a foreign file', () => notices.seen.includes('all'));
      notices.seen.length = 0;
      writeFileSync(location.mainList, 'deb http://a.example/x s main\n');
      await notices.until('sources.list', () => notices.seen.includes('all'));
    } finally {
      notices.unsubscribe();
      feed.stop();
    }
  });
});

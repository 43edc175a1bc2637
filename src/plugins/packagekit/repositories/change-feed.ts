import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import type { Logger } from 'pino';
import type { ChangeScope } from '../../../engine/plugin.js';
import { repositoryResource } from './resource-name.js';
import { APT_SOURCES_FILE, managedNameOf } from './sources-file.js';
import type { SourcesLocation } from './sources-state.js';

/** What any file in the sources folder means for op-dbus's repositories (resource names). */
export function scopeOfSourcesFile(fileName: string | null): ChangeScope | undefined {
  // inotify overflowed or the event has no name: anything may have changed.
  if (fileName === null) return 'all';
  // Dot files: op-dbus's own temporary files, and files apt skips.
  if (fileName.startsWith('.')) return undefined;
  const name = managedNameOf(fileName);
  if (name !== undefined) return [repositoryResource(name)];
  // Someone else's sources file: a conflict may have appeared or gone, for any repository.
  if (APT_SOURCES_FILE.test(fileName)) return 'all';
  return undefined;
}

/**
 * Level-based notices that apt's sources changed behind the daemon's back: an
 * op-dbus file edited, replaced or deleted names its repository's resource
 * (`repository:NAME`); any other
 * sources file (or sources.list) means 'all'. inotify on the folders, because
 * editors and apt tools replace files by rename. The daemon's own writes show
 * up too; observing again then finds nothing to do.
 */
export class SourcesChangeFeed {
  private readonly listeners = new Set<(scope: ChangeScope) => void>();
  private watchers: FSWatcher[] = [];

  constructor(
    private readonly location: SourcesLocation,
    private readonly log: Logger,
  ) {}

  subscribe(listener: (scope: ChangeScope) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  start(): void {
    if (this.watchers.length > 0) return;
    const mainList = basename(this.location.mainList);
    this.watchFolder(this.location.sourcesDir, scopeOfSourcesFile);
    this.watchFolder(dirname(this.location.mainList), (fileName) =>
      fileName === null || fileName === mainList ? 'all' : undefined,
    );
  }

  stop(): void {
    for (const watcher of this.watchers) watcher.close();
    this.watchers = [];
  }

  private notify(scope: ChangeScope): void {
    for (const listener of this.listeners) listener(scope);
  }

  private watchFolder(
    dir: string,
    scopeOf: (fileName: string | null) => ChangeScope | undefined,
  ): void {
    let watcher: FSWatcher;
    try {
      watcher = watch(dir, { persistent: false }, (_event, fileName) => {
        const scope = scopeOf(fileName);
        if (scope !== undefined) this.notify(scope);
      });
    } catch (err) {
      this.log.warn(
        { dir, err: String(err) },
        'cannot watch apt sources; changes made behind the daemon are seen only by the periodic check',
      );
      return;
    }
    watcher.on('error', (err) => {
      this.log.warn({ dir, err: String(err) }, 'apt sources watch failed');
      this.notify('all');
    });
    this.watchers.push(watcher);
  }
}

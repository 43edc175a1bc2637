import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import type { Logger } from 'pino';

/**
 * apt-get and dpkg change packages without telling PackageKit; dpkg rewrites its
 * status file on every install and removal. dpkg replaces the file by rename, so
 * the directory is watched (inotify), not the file.
 */
export function watchDpkgStatus(statusFile: string, log: Logger, onChange: () => void): () => void {
  let watcher: FSWatcher;
  try {
    watcher = watch(dirname(statusFile), (_event, filename) => {
      if (filename === basename(statusFile)) onChange();
    });
  } catch (err) {
    log.warn(
      { statusFile, err: String(err) },
      'cannot watch the dpkg status file; changes made with dpkg are seen only by the periodic check',
    );
    return () => undefined;
  }
  watcher.on('error', (err) =>
    log.warn({ statusFile, err: String(err) }, 'dpkg status watch failed'),
  );
  return () => watcher.close();
}

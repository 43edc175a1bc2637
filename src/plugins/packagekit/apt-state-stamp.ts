import { statSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * What apt and dpkg keep on disk that a Resolve answer depends on: dpkg's status
 * file and its journal folder (what is installed, even in the middle of a dpkg
 * run), apt's package lists (what is available) and apt's sources and
 * preferences (which candidate wins). dpkg and apt replace files by rename, so
 * each one's inode, size, mtime and ctime (nanoseconds) change with every write.
 */
export function aptStatePaths(
  dpkgStatusFile: string,
  apt: { sourcesDir: string; sourcesList: string; listsDir: string },
): string[] {
  return [
    dpkgStatusFile,
    join(dirname(dpkgStatusFile), 'updates'),
    apt.listsDir,
    apt.sourcesList,
    apt.sourcesDir,
    '/etc/apt/preferences',
    '/etc/apt/preferences.d',
  ];
}

/**
 * A fingerprint of those files, read synchronously (a few stat calls, tens of
 * microseconds). Unlike an inotify event, which Node may deliver after a D-Bus
 * call that arrived at the same time, the stamp is read when a Plan starts: a
 * change that dpkg finished before the Plan began always shows. Returns
 * undefined when a path cannot be read for a reason other than its absence
 * (then nothing may be cached).
 */
export function aptStateStamp(paths: readonly string[]): string | undefined {
  const parts: string[] = [];
  for (const path of paths) {
    try {
      const stat = statSync(path, { bigint: true });
      parts.push(`${stat.ino}:${stat.size}:${stat.mtimeNs}:${stat.ctimeNs}`);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') return undefined;
      parts.push('-');
    }
  }
  return parts.join('|');
}

import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { open, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { managedFileName, managedNameOf } from './sources-file.js';

/** apt and everyone else read sources files; only root writes them. */
export const SOURCES_FILE_MODE = 0o644;

/** The path of a managed file, refusing any name that would not be one (defence in depth). */
function managedPath(sourcesDir: string, name: string): string {
  const fileName = managedFileName(name);
  if (managedNameOf(fileName) !== name)
    throw new Error(`refusing to touch ${JSON.stringify(fileName)}: not an op-dbus sources file`);
  return join(sourcesDir, fileName);
}

async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Writes op-dbus-<name>.sources atomically: a dot file in the same folder (apt
 * skips dot files, so it never reads a half-written one), written, made 0644
 * whatever the umask, fsynced, renamed over the target, and the folder fsynced
 * so the rename survives a crash. Returns the path written.
 */
export async function writeManagedSource(
  sourcesDir: string,
  name: string,
  content: string,
  signal?: AbortSignal,
): Promise<string> {
  signal?.throwIfAborted();
  const target = managedPath(sourcesDir, name);
  const temporary = join(
    sourcesDir,
    `.${managedFileName(name)}.${randomBytes(6).toString('hex')}.tmp`,
  );
  const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;
  const handle = await open(temporary, flags, SOURCES_FILE_MODE);
  try {
    try {
      await handle.writeFile(content, 'utf8');
      await handle.chmod(SOURCES_FILE_MODE);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temporary, target);
  } catch (err) {
    await unlink(temporary).catch(() => undefined);
    throw err;
  }
  await syncDirectory(sourcesDir);
  return target;
}

/** Removes op-dbus-<name>.sources (already gone is fine) and fsyncs the folder. Returns whether it existed. */
export async function removeManagedSource(
  sourcesDir: string,
  name: string,
  signal?: AbortSignal,
): Promise<boolean> {
  signal?.throwIfAborted();
  const target = managedPath(sourcesDir, name);
  try {
    await unlink(target);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
  await syncDirectory(sourcesDir);
  return true;
}

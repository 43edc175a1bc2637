import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { retryableFailure } from '../../../errors.js';
import {
  APT_SOURCES_FILE,
  entriesOfListFile,
  entriesOfSourcesFile,
  managedNameOf,
  type SourceEntry,
} from './sources-file.js';

/** Where apt's sources are; configurable so tests and sandboxes use scratch folders. */
export interface SourcesLocation {
  /** apt's Dir::Etc::sourceparts (default /etc/apt/sources.list.d). */
  sourcesDir: string;
  /** apt's Dir::Etc::sourcelist (default /etc/apt/sources.list); read only, for duplicates. */
  mainList: string;
}

export const DEFAULT_SOURCES_LOCATION: SourcesLocation = {
  sourcesDir: '/etc/apt/sources.list.d',
  mainList: '/etc/apt/sources.list',
};

/** A file op-dbus wrote, as it is on disk now. */
export interface ManagedSourceFile {
  name: string;
  path: string;
  content: string;
}

/** An entry in a file op-dbus did not write: never changed, only reported. */
export interface ForeignEntry extends SourceEntry {
  path: string;
}

/** What apt's sources are now: op-dbus's own files by repository name, and everybody else's entries. */
export interface SourcesState {
  managed: Map<string, ManagedSourceFile>;
  foreign: ForeignEntry[];
  /** Whether each keyring path the document names exists (a missing one makes apt refuse the repository). */
  keyrings: Map<string, boolean>;
}

async function readIfPresent(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    // Gone between readdir and read, or not a regular file: apt would not read it either.
    if (code === 'ENOENT' || code === 'EISDIR') return undefined;
    throw retryableFailure(`cannot read ${path}: ${(err as Error).message}`);
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

function foreignEntries(path: string, text: string, oneLine: boolean): ForeignEntry[] {
  const entries = oneLine ? entriesOfListFile(text) : entriesOfSourcesFile(text);
  return entries.map((entry) => ({ ...entry, path }));
}

/**
 * Reads apt's sources: every op-dbus-*.sources file whole, and the entries of
 * every other file apt reads (so a repository configured by someone else is
 * seen). `keyringPaths` are the keyring files the document names. Changes
 * nothing. Throws a retryable failure when the folder cannot be read.
 */
export async function readSourcesState(
  location: SourcesLocation,
  keyringPaths: readonly string[],
): Promise<SourcesState> {
  const managed = new Map<string, ManagedSourceFile>();
  const foreign: ForeignEntry[] = [];
  let names: string[];
  try {
    names = (await readdir(location.sourcesDir)).sort();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT')
      throw retryableFailure(`cannot read ${location.sourcesDir}: ${(err as Error).message}`);
    names = [];
  }
  for (const fileName of names) {
    const kind = APT_SOURCES_FILE.exec(fileName)?.[1];
    if (kind === undefined) continue;
    const path = join(location.sourcesDir, fileName);
    const content = await readIfPresent(path);
    if (content === undefined) continue;
    const name = managedNameOf(fileName);
    if (name !== undefined) managed.set(name, { name, path, content });
    else foreign.push(...foreignEntries(path, content, kind === 'list'));
  }
  const main = await readIfPresent(location.mainList);
  if (main !== undefined) foreign.push(...foreignEntries(location.mainList, main, true));
  const keyrings = new Map<string, boolean>();
  for (const path of new Set(keyringPaths)) keyrings.set(path, await exists(path));
  return { managed, foreign, keyrings };
}

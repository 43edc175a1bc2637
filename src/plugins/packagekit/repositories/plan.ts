import type { PlannedChange } from '../../../engine/plugin.js';
import { inspectArmoredPublicKey } from './openpgp-key.js';
import {
  repositoryOf,
  type RepositoriesMap,
  type Repository,
  type RepositorySpec,
} from './schema.js';
import { repositoryResource } from './resource-name.js';
import { normalizedUri, parseManagedFile, renderRepository } from './sources-file.js';
import type { ForeignEntry, ManagedSourceFile, SourcesState } from './sources-state.js';

/**
 * add / update / remove: op-dbus writes or removes its own file.
 * conflict: the repository is configured in a file op-dbus did not write; op-dbus
 * never changes such a file, so it writes nothing (two entries for one archive
 * with different keys make apt refuse every update).
 * invalid-key: the embedded key is not a usable public key (damaged, secret).
 * missing-keyring: signed_by names a keyring file that does not exist.
 * refresh: the file is as desired but apt has no package lists for the
 * repository (never refreshed, or the last refresh failed): the apply refreshes.
 */
export type RepositoryAction =
  'none' | 'add' | 'update' | 'remove' | 'refresh' | 'conflict' | 'invalid-key' | 'missing-keyring';

export interface RepositoryChange extends PlannedChange {
  /** `repository:NAME` (see resource-name.ts). */
  resource: string;
  /** The repository's name in the document: the file is op-dbus-NAME.sources. */
  repository: string;
  action: RepositoryAction;
  reason?: string;
  /** add and update: the exact content of the file to write. */
  content?: string;
}

/** A repository as plans show it: the document's fields, a key by its fingerprints. */
export interface RepositoryView {
  types: string[];
  uris: string[];
  suites: string[];
  components?: string[];
  architectures?: string[];
  enabled: boolean;
  signed_by: string;
}

/** An embedded key shown by its primary keys' fingerprints, as `gpg --list-keys` would name it. */
export function keySummary(signedBy: string): string {
  if (!signedBy.startsWith('-----')) return signedBy;
  const inspection = inspectArmoredPublicKey(signedBy);
  return inspection.ok
    ? `embedded key ${inspection.info.fingerprints.join(', ')}`
    : `embedded key (${inspection.problem})`;
}

export function viewOf(repository: Repository): RepositoryView {
  const view: RepositoryView = {
    types: repository.types,
    uris: repository.uris,
    suites: repository.suites,
    enabled: repository.enabled,
    signed_by: keySummary(repository.signedBy),
  };
  if (repository.components.length > 0) view.components = repository.components;
  if (repository.architectures) view.architectures = repository.architectures;
  return view;
}

function fileView(file: ManagedSourceFile): RepositoryView | { file: string; problem: string } {
  const parsed = parseManagedFile(file.content);
  return parsed.ok ? viewOf(parsed.repository) : { file: file.path, problem: parsed.problem };
}

/** Foreign entries for the same archive: any of the same URIs with any of the same suites. */
function duplicatesOf(
  uris: readonly string[],
  suites: readonly string[],
  foreign: readonly ForeignEntry[],
): ForeignEntry[] {
  const wanted = new Set(
    uris.flatMap((uri) => suites.map((suite) => `${normalizedUri(uri)} ${suite}`)),
  );
  return foreign.filter((entry) =>
    entry.uris.some((uri) =>
      entry.suites.some((suite) => wanted.has(`${normalizedUri(uri)} ${suite}`)),
    ),
  );
}

function where(entries: readonly ForeignEntry[]): string {
  return entries.map((entry) => `${entry.path} (line ${entry.line})`).join(', ');
}

function planPresent(
  name: string,
  repository: Repository,
  file: ManagedSourceFile | undefined,
  state: SourcesState,
  listsMissing: boolean,
): RepositoryChange {
  const from = file ? fileView(file) : null;
  const to = viewOf(repository);
  const base = { resource: repositoryResource(name), repository: name, from, to };
  if (repository.signedBy.startsWith('-----')) {
    const inspection = inspectArmoredPublicKey(repository.signedBy);
    if (!inspection.ok)
      return { ...base, action: 'invalid-key', reason: `signed_by ${inspection.problem}` };
  } else if (state.keyrings.get(repository.signedBy) === false) {
    return {
      ...base,
      action: 'missing-keyring',
      reason: `the keyring file ${repository.signedBy} does not exist; apt would refuse the repository`,
    };
  }
  const duplicates = duplicatesOf(repository.uris, repository.suites, state.foreign);
  if (duplicates.length > 0) {
    return {
      ...base,
      action: 'conflict',
      reason:
        `already configured in ${where(duplicates)}, a file op-dbus did not write and never changes: ` +
        'remove that entry, or this repository from the document',
    };
  }
  const content = renderRepository(name, repository);
  if (!file) return { ...base, action: 'add', content };
  if (file.content === content) {
    if (!listsMissing) return { ...base, action: 'none' };
    return {
      ...base,
      action: 'refresh',
      reason:
        'apt has no package lists for it yet (never refreshed, or the last refresh failed): ' +
        'the apply refreshes them',
    };
  }
  const edited = JSON.stringify(from) === JSON.stringify(to);
  return {
    ...base,
    action: 'update',
    content,
    ...(edited ? { reason: `${file.path} was edited behind op-dbus's back` } : {}),
  };
}

function planAbsent(
  name: string,
  spec: RepositorySpec,
  file: ManagedSourceFile | undefined,
  state: SourcesState,
): RepositoryChange {
  const parsed = file ? parseManagedFile(file.content) : undefined;
  // Which archive "absent" is about: the document's fields if given, else what op-dbus's file said.
  const uris = spec.uris ?? (parsed?.ok ? parsed.repository.uris : []);
  const suites = spec.suites ?? (parsed?.ok ? parsed.repository.suites : []);
  const duplicates = duplicatesOf(uris, suites, state.foreign);
  const foreignNote =
    duplicates.length > 0
      ? `still configured in ${where(duplicates)}, a file op-dbus did not write and never changes`
      : undefined;
  const base = { resource: repositoryResource(name), repository: name };
  if (file) {
    return {
      ...base,
      action: 'remove',
      from: fileView(file),
      to: null,
      ...(foreignNote ? { reason: `${foreignNote}; op-dbus removes only its own file` } : {}),
    };
  }
  if (foreignNote)
    return { ...base, action: 'conflict', from: null, to: null, reason: foreignNote };
  return { ...base, action: 'none', from: null, to: null };
}

/**
 * Pure: one change per repository the document names, in the document's order.
 * `listsMissing`: the repositories apt has no package lists for (see apt-lists.ts).
 */
export function planRepositories(
  desired: RepositoriesMap,
  state: SourcesState,
  listsMissing: ReadonlySet<string> = new Set(),
): RepositoryChange[] {
  return Object.entries(desired).map(([name, spec]) => {
    const file = state.managed.get(name);
    const repository = repositoryOf(spec);
    return repository
      ? planPresent(name, repository, file, state, listsMissing.has(name))
      : planAbsent(name, spec, file, state);
  });
}

/** The keyring paths a document names, for readSourcesState. */
export function keyringPathsOf(desired: RepositoriesMap): string[] {
  return Object.values(desired)
    .map((spec) => repositoryOf(spec)?.signedBy ?? '')
    .filter((signedBy) => signedBy.startsWith('/'));
}

import { hasReleaseLists } from './apt-lists.js';
import { keyringPathsOf } from './plan.js';
import { repositoryOf, type RepositoriesMap } from './schema.js';
import { readSourcesState, type SourcesLocation, type SourcesState } from './sources-state.js';

/** Where apt keeps what the repositories' plan depends on (the plugin's settings). */
export interface AptLocation extends SourcesLocation {
  /** apt's Dir::State::Lists: the downloaded package lists. */
  listsDir: string;
}

/** What the repositories' plan needs to know about the machine. */
export interface ObservedRepositories {
  sources: SourcesState;
  /** Present, enabled repositories apt has no package lists for. */
  listsMissing: ReadonlySet<string>;
}

/**
 * Reads apt's sources (op-dbus's files whole, others' entries), whether the
 * keyring files the document names exist, and whether apt has lists for each
 * present repository. A few small file reads: never cached. Changes nothing.
 */
export async function observeRepositories(
  desired: RepositoriesMap,
  location: AptLocation,
): Promise<ObservedRepositories> {
  const sources = await readSourcesState(location, keyringPathsOf(desired));
  const listsMissing = new Set<string>();
  for (const [name, spec] of Object.entries(desired)) {
    const repository = repositoryOf(spec);
    if (repository && !hasReleaseLists(repository, location.listsDir)) listsMissing.add(name);
  }
  return { sources, listsMissing };
}

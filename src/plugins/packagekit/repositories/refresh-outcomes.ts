import type { ResourceOutcome } from '../../../engine/plugin.js';
import { boundedText, type FailureKind } from '../../../errors.js';
import type { RepositoryChange } from './plan.js';
import type { Repository } from './schema.js';
import { normalizedUri } from './sources-file.js';

/** Actions after which the package lists must be refreshed (when the change was made). */
export const REFRESHING_ACTIONS: ReadonlySet<string> = new Set([
  'add',
  'update',
  'remove',
  'refresh',
]);

/**
 * apt's words for a repository whose signature it cannot check (gpgv's status
 * keywords and apt's own sentences, apt 2.6): retrying cannot help until the
 * key or the archive changes. Anything else (unreachable, a missing file, a
 * timeout) may pass next time.
 */
const SIGNATURE_PROBLEM =
  /NO_PUBKEY|BADSIG|ERRSIG|EXPKEYSIG|REVKEYSIG|KEYEXPIRED|KEYREVOKED|NODATA|is not signed|signatures (?:were invalid|couldn't be verified)|Conflicting values set for option Signed-By/u;

export function refreshFailureKind(message: string): FailureKind {
  return SIGNATURE_PROBLEM.test(message) ? 'terminal' : 'retryable';
}

/**
 * Whether apt's message names one of the repository's URIs. apt writes them as
 * it normalises them (`file:/x` for `file:///x`, no trailing slash), followed
 * by the suite: a URI that is a prefix of another's does not count.
 */
export function namesRepository(message: string, repository: Repository): boolean {
  const text = message.toLowerCase();
  return repository.uris.some((uri) =>
    [normalizedUri(uri), uri.replace(/\/+$/u, '')].some((form) => {
      const needle = form.toLowerCase();
      for (let at = text.indexOf(needle); at >= 0; at = text.indexOf(needle, at + 1)) {
        const next = text.charAt(at + needle.length);
        if (next === '' || /[\s/]/u.test(next)) return true;
      }
      return false;
    }),
  );
}

export interface RefreshResult {
  /** undefined when the refresh succeeded. */
  error: string | undefined;
}

/**
 * The repositories' outcomes once the refresh is over. A refresh that failed
 * fails the repository apt's message names, with apt's words; a repository it
 * does not name fails too when apt still has no lists for it (the refresh
 * never got to it). Removals and repositories apt already has lists for keep
 * their outcome. `present(name)` is the desired repository (undefined for absent).
 */
export function outcomesAfterRefresh(
  changes: readonly RepositoryChange[],
  outcomes: readonly ResourceOutcome[],
  refresh: RefreshResult,
  present: (name: string) => Repository | undefined,
  hasLists: (repository: Repository) => boolean,
): ResourceOutcome[] {
  const { error } = refresh;
  if (error === undefined) return [...outcomes];
  const failure = refreshFailureKind(error);
  const byResource = new Map(changes.map((change) => [change.resource, change]));
  return outcomes.map((outcome) => {
    const change = byResource.get(outcome.resource);
    const repository = change && present(change.repository);
    if (outcome.outcome !== 'changed' || !repository || !repository.enabled) return outcome;
    const named = namesRepository(error, repository);
    if (!named && hasLists(repository)) return outcome;
    const what = named
      ? 'apt refused the repository while refreshing the package lists'
      : 'refreshing the package lists failed before apt had lists for this repository';
    return {
      ...outcome,
      outcome: 'failed',
      error: boundedText(`${what}: ${error}`),
      failure,
    };
  });
}

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Repository } from './schema.js';

/** apt's Dir::State::Lists. */
export const DEFAULT_LISTS_DIR = '/var/lib/apt/lists';

/** Characters apt's URItoFileName escapes as %xx (lower-case hex), besides controls, space and non-ASCII. */
const QUOTED = new Set('\\|{}[]<>"^~_=!@#$%&*');

/**
 * The name apt gives a downloaded index in its lists folder (apt-pkg's
 * URItoFileName): the URI without scheme and credentials, special characters
 * as %xx, `/` as `_`. Checked against apt 2.6's own file names in
 * test/integration/packagekit-repositories-apt.test.ts.
 */
export function aptListFileName(uri: string): string {
  const match = /^[A-Za-z][A-Za-z0-9+.-]*:(?:\/\/(?:[^/@]*@)?([^/]*))?(.*)$/u.exec(uri);
  const stripped = match ? `${match[1] ?? ''}${match[2] ?? ''}` : uri;
  let quoted = '';
  for (const char of stripped) {
    const code = char.codePointAt(0) ?? 0;
    if (code <= 0x20 || code >= 0x7f) {
      for (const byte of Buffer.from(char, 'utf8'))
        quoted += `%${byte.toString(16).padStart(2, '0')}`;
    } else if (QUOTED.has(char)) {
      quoted += `%${code.toString(16).padStart(2, '0')}`;
    } else {
      quoted += char;
    }
  }
  return quoted.replace(/\//gu, '_');
}

/** The InRelease (or Release) list files apt keeps for one URI and suite. */
export function releaseListFiles(uri: string, suite: string): string[] {
  const base = uri.endsWith('/') ? uri : `${uri}/`;
  // A flat repository's suite is a path below the URI (apt keeps "./" as is:
  // ".../flat_._InRelease"; a leading "/" joins the URI's own), a named suite lives under dists/.
  const dir = suite.endsWith('/')
    ? `${base}${suite.replace(/^\//u, '')}`
    : `${base}dists/${suite}/`;
  return [aptListFileName(`${dir}InRelease`), aptListFileName(`${dir}Release`)];
}

/**
 * Whether apt has downloaded the release file of every URI and suite of an
 * enabled repository (a repository whose lists are missing needs a refresh
 * even when its file did not change). True for a disabled repository.
 */
export function hasReleaseLists(repository: Repository, listsDir = DEFAULT_LISTS_DIR): boolean {
  if (!repository.enabled) return true;
  return repository.uris.every((uri) =>
    repository.suites.every((suite) =>
      releaseListFiles(uri, suite).some((file) => existsSync(join(listsDir, file))),
    ),
  );
}

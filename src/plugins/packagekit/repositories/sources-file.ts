import {
  booleanField,
  listField,
  parseDeb822,
  renderDeb822Field,
  type Deb822Stanza,
} from './deb822.js';
import type { Repository } from './schema.js';

/** op-dbus owns exactly the files named op-dbus-<name>.sources, and no other. */
export const MANAGED_PREFIX = 'op-dbus-';
export const MANAGED_SUFFIX = '.sources';
const MANAGED_NAME = /^op-dbus-([a-z0-9][a-z0-9-]{0,62})\.sources$/u;

/**
 * The files apt reads in sources.list.d (checked with apt 2.6): letters, digits,
 * _ . - ending in .list or .sources, not starting with a dot. It skips the
 * others silently (dot files, *.disabled, *.save, names with spaces, ...).
 */
export const APT_SOURCES_FILE = /^[A-Za-z0-9_-][A-Za-z0-9_.-]*\.(list|sources)$/u;

export function managedFileName(name: string): string {
  return `${MANAGED_PREFIX}${name}${MANAGED_SUFFIX}`;
}

/** The repository name of a managed file name, undefined for any other file. */
export function managedNameOf(fileName: string): string | undefined {
  return MANAGED_NAME.exec(fileName)?.[1];
}

/**
 * The file op-dbus writes for a repository. Deterministic: the same repository
 * always gives the same bytes, so "as desired" is a byte comparison and any
 * edit made behind op-dbus's back shows as a difference.
 */
export function renderRepository(name: string, repository: Repository): string {
  const fields: [string, string][] = [
    ['Types', repository.types.join(' ')],
    ['URIs', repository.uris.join(' ')],
    ['Suites', repository.suites.join(' ')],
  ];
  if (repository.components.length > 0)
    fields.push(['Components', repository.components.join(' ')]);
  if (repository.architectures) fields.push(['Architectures', repository.architectures.join(' ')]);
  fields.push(['Enabled', repository.enabled ? 'yes' : 'no']);
  // Last, because an embedded key runs over many lines.
  fields.push(['Signed-By', repository.signedBy.trimEnd()]);
  const header =
    `# Written by op-dbus for the repository "${name}" of its document.\n` +
    '# Changes made here are undone: change the document instead.\n';
  return header + fields.map(([field, value]) => renderDeb822Field(field, value)).join('');
}

export type ParsedRepository =
  { ok: true; repository: Repository } | { ok: false; problem: string };

/** Reads one stanza back into the repository it describes (the inverse of renderRepository). */
export function repositoryFromStanza(stanza: Deb822Stanza): ParsedRepository {
  const types = listField(stanza, 'Types');
  const stranger = types.find((type) => type !== 'deb' && type !== 'deb-src');
  if (types.length === 0 || stranger !== undefined)
    return { ok: false, problem: `Types must be deb and/or deb-src, not '${types.join(' ')}'` };
  const enabled = booleanField(stanza, 'Enabled');
  if (enabled === undefined) return { ok: false, problem: 'Enabled is neither yes nor no' };
  const signedBy = stanza.fields.get('signed-by')?.value ?? '';
  const architectures = listField(stanza, 'Architectures');
  return {
    ok: true,
    repository: {
      types: types as Repository['types'],
      uris: listField(stanza, 'URIs'),
      suites: listField(stanza, 'Suites'),
      components: listField(stanza, 'Components'),
      signedBy: signedBy.includes('\n') ? `${signedBy}\n` : signedBy,
      enabled,
      architectures: architectures.length > 0 ? architectures : undefined,
    },
  };
}

/** A file op-dbus wrote holds exactly one stanza. */
export function parseManagedFile(text: string): ParsedRepository {
  const { stanzas, problems } = parseDeb822(text);
  if (problems.length > 0) return { ok: false, problem: problems.join('; ') };
  const [stanza, ...more] = stanzas;
  if (!stanza || more.length > 0)
    return { ok: false, problem: `holds ${stanzas.length} stanzas, not one` };
  return repositoryFromStanza(stanza);
}

/** One enabled source entry of any file, as far as detecting a duplicate needs it. */
export interface SourceEntry {
  /** 1-based line of the entry (a .list line, or a stanza's first field). */
  line: number;
  types: string[];
  uris: string[];
  suites: string[];
}

/** The enabled entries of a deb822 .sources file (an Enabled: no stanza is not in use). */
export function entriesOfSourcesFile(text: string): SourceEntry[] {
  return parseDeb822(text)
    .stanzas.filter((stanza) => booleanField(stanza, 'Enabled') !== false)
    .map((stanza) => ({
      line: stanza.line,
      types: listField(stanza, 'Types'),
      uris: listField(stanza, 'URIs'),
      suites: listField(stanza, 'Suites'),
    }));
}

/**
 * The entries of a one-line-style .list file (and /etc/apt/sources.list):
 * `deb [ options ] uri suite [component...]`; apt drops everything after `#`.
 */
export function entriesOfListFile(text: string): SourceEntry[] {
  const entries: SourceEntry[] = [];
  text.split('\n').forEach((raw, index) => {
    const line = raw.split('#', 1)[0]?.trim() ?? '';
    if (line === '') return;
    // Options may be written [a=b c=d] or [ a=b ]: drop the bracketed part whole.
    const match = /^(deb|deb-src)\s+(?:\[[^\]]*\]\s*)?(\S+)\s+(\S+)/u.exec(line);
    if (!match) return;
    entries.push({
      line: index + 1,
      types: [match[1] as string],
      uris: [match[2] as string],
      suites: [match[3] as string],
    });
  });
  return entries;
}

/**
 * A URI as apt compares it: scheme and host in lower case, `file:/x`,
 * `file:///x` and `file://localhost/x` alike, and no trailing slash.
 */
export function normalizedUri(uri: string): string {
  const match = /^([A-Za-z][A-Za-z0-9+.-]*):(.*)$/u.exec(uri.trim());
  if (!match) return uri.trim();
  const scheme = (match[1] as string).toLowerCase();
  let rest = match[2] as string;
  if (scheme === 'file') {
    rest = rest.replace(/^\/\/(?:localhost)?(?=\/)/u, '');
    return `file:${rest.replace(/\/+$/u, '')}`;
  }
  const authority = /^\/\/([^/]*)(.*)$/u.exec(rest);
  if (authority)
    rest = `//${(authority[1] as string).toLowerCase()}${(authority[2] as string).replace(/\/+$/u, '')}`;
  return `${scheme}:${rest}`;
}

/**
 * The deb822 format as apt reads sources files (sources.list(5), deb822(5)):
 * stanzas separated by empty lines (a line of blanks does not separate), `Name: value` fields with case-insensitive
 * names, continuation lines that start with a space or tab, a continuation line
 * of a single `.` standing for an empty line, and `#` comment lines anywhere.
 */

export interface Deb822Field {
  /** The name as written. */
  name: string;
  /** The value; a multi-line value has its lines joined by \n, without the leading space. */
  value: string;
}

export interface Deb822Stanza {
  /** Fields by lower-case name (deb822 names are case-insensitive), in file order. */
  fields: Map<string, Deb822Field>;
  /** 1-based line of the stanza's first field, for messages. */
  line: number;
}

export interface Deb822Parse {
  stanzas: Deb822Stanza[];
  /** Lines that are neither fields, continuations, comments nor separators. */
  problems: string[];
}

/** Parses leniently: a malformed line is reported and skipped, the rest still counts. */
export function parseDeb822(text: string): Deb822Parse {
  const stanzas: Deb822Stanza[] = [];
  const problems: string[] = [];
  let current: Deb822Stanza | undefined;
  // The field being read: its first line (after the colon) and its continuation lines.
  let last: { field: Deb822Field; first: string; more: string[] } | undefined;
  const finish = (): void => {
    if (!last) return;
    const { field, first, more } = last;
    field.value = (first === '' && more.length > 0 ? more : [first, ...more]).join('\n');
    last = undefined;
  };
  text.split('\n').forEach((raw, index) => {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    const number = index + 1;
    if (line.startsWith('#')) return;
    // Only an empty line ends a stanza: apt 2.6 reads a line of blanks as a continuation.
    if (line === '') {
      finish();
      current = undefined;
      return;
    }
    if (line.startsWith(' ') || line.startsWith('\t')) {
      const content = line.trim();
      if (last) last.more.push(content === '.' ? '' : content);
      else if (content !== '') problems.push(`line ${number}: a continuation line outside a field`);
      return;
    }
    finish();
    const colon = line.indexOf(':');
    const name = colon > 0 ? line.slice(0, colon) : '';
    if (!/^[!-9;-~]+$/u.test(name)) {
      problems.push(`line ${number}: not a field`);
      return;
    }
    if (!current) {
      current = { fields: new Map(), line: number };
      stanzas.push(current);
    }
    const key = name.toLowerCase();
    if (current.fields.has(key)) problems.push(`line ${number}: field ${name} repeated`);
    const field: Deb822Field = { name, value: '' };
    current.fields.set(key, field);
    last = { field, first: line.slice(colon + 1).trim(), more: [] };
  });
  finish();
  return { stanzas, problems };
}

/** Writes one field; a multi-line value goes on continuation lines, an empty line as " .". */
export function renderDeb822Field(name: string, value: string): string {
  if (!value.includes('\n')) return `${name}: ${value}\n`;
  const lines = value.split('\n').map((line) => ` ${line === '' ? '.' : line}`);
  return `${name}:\n${lines.join('\n')}\n`;
}

/** A whitespace-separated list field (URIs, Suites, ...), or [] when absent. */
export function listField(stanza: Deb822Stanza, name: string): string[] {
  const value = stanza.fields.get(name.toLowerCase())?.value ?? '';
  return value.split(/\s+/u).filter((item) => item !== '');
}

/** apt's boolean spelling for Enabled: (yes/no, also true/false and 1/0); absent means yes. */
export function booleanField(stanza: Deb822Stanza, name: string): boolean | undefined {
  const value = stanza.fields.get(name.toLowerCase())?.value.toLowerCase();
  if (value === undefined) return true;
  if (['yes', 'true', 'with', 'on', 'enable', '1'].includes(value)) return true;
  if (['no', 'false', 'without', 'off', 'disable', '0'].includes(value)) return false;
  return undefined;
}

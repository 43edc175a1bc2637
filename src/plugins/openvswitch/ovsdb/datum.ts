/**
 * OVSDB values (RFC 7047 section 5.1): atoms, sets and maps as they travel in
 * JSON, decoded with every shape checked (what ovsdb-server sends is input like
 * any other) and encoded for transact requests.
 */

export type AtomType = 'string' | 'integer' | 'real' | 'boolean' | 'uuid';
/** A decoded atom: uuids are their 36-character text. */
export type Atom = string | number | boolean;

/**
 * The type of one column, as much of the schema as the replica needs. An
 * `optional` column is a set of at most one element (min 0, max 1): ovsdb-server
 * sends its new value in an update2 "modify", where a real set gets a diff.
 */
export type ColumnType =
  | { kind: 'atom'; type: AtomType }
  | { kind: 'optional'; type: AtomType }
  | { kind: 'set'; type: AtomType }
  | { kind: 'map'; key: AtomType; value: AtomType };

/** A decoded column value: an atom, a set (without duplicates), or a map. */
export type ColumnValue = Atom | readonly Atom[] | ReadonlyMap<Atom, Atom>;

/** ovsdb-server sent something that is not what RFC 7047 or the schema allows. */
export class OvsdbProtocolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OvsdbProtocolError';
  }
}

const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** RFC 7047 <id>: what a named-uuid may be called. */
const ID_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function isUuid(value: unknown): value is string {
  return typeof value === 'string' && UUID_PATTERN.test(value);
}

function fail(where: string, expected: string, got: unknown): never {
  const shown = JSON.stringify(got) ?? String(got);
  throw new OvsdbProtocolError(
    `${where}: expected ${expected}, got ${shown.length > 80 ? `${shown.slice(0, 80)}…` : shown}`,
  );
}

/** A two-element array whose first element is `tag`: ["uuid", ...], ["set", ...], ["map", ...]. */
function tagged(json: unknown, tag: string): unknown {
  if (Array.isArray(json) && json.length === 2 && json[0] === tag) return json[1];
  return undefined;
}

export function decodeAtom(json: unknown, type: AtomType, where: string): Atom {
  switch (type) {
    case 'string':
      if (typeof json === 'string') return json;
      return fail(where, 'a string', json);
    case 'integer':
      if (typeof json === 'number' && Number.isSafeInteger(json)) return json;
      return fail(where, 'an integer', json);
    case 'real':
      if (typeof json === 'number' && Number.isFinite(json)) return json;
      return fail(where, 'a number', json);
    case 'boolean':
      if (typeof json === 'boolean') return json;
      return fail(where, 'a boolean', json);
    case 'uuid': {
      const uuid = tagged(json, 'uuid');
      if (isUuid(uuid)) return uuid;
      return fail(where, 'a ["uuid", <uuid>]', json);
    }
  }
}

/** A set is ["set", [atoms]] or, for exactly one element, the bare atom. */
export function decodeSet(json: unknown, type: AtomType, where: string): Atom[] {
  const elements = tagged(json, 'set');
  if (elements === undefined) return [decodeAtom(json, type, where)];
  if (!Array.isArray(elements)) return fail(where, 'a ["set", [...]]', json);
  const atoms = elements.map((element) => decodeAtom(element, type, where));
  if (new Set(atoms).size !== atoms.length) fail(where, 'a set without duplicates', json);
  return atoms;
}

export function decodeMap(
  json: unknown,
  key: AtomType,
  value: AtomType,
  where: string,
): Map<Atom, Atom> {
  const pairs = tagged(json, 'map');
  if (!Array.isArray(pairs)) return fail(where, 'a ["map", [[key, value], ...]]', json);
  const map = new Map<Atom, Atom>();
  for (const pair of pairs) {
    if (!Array.isArray(pair) || pair.length !== 2) fail(where, 'a [key, value] pair', pair);
    const k = decodeAtom(pair[0], key, where);
    if (map.has(k)) fail(where, 'a map without duplicate keys', json);
    map.set(k, decodeAtom(pair[1], value, where));
  }
  return map;
}

function decodeOptional(json: unknown, type: AtomType, where: string): Atom[] {
  const atoms = decodeSet(json, type, where);
  if (atoms.length > 1) fail(where, 'at most one value', json);
  return atoms;
}

export function decodeColumn(json: unknown, column: ColumnType, where: string): ColumnValue {
  switch (column.kind) {
    case 'atom':
      return decodeAtom(json, column.type, where);
    case 'optional':
      return decodeOptional(json, column.type, where);
    case 'set':
      return decodeSet(json, column.type, where);
    case 'map':
      return decodeMap(json, column.key, column.value, where);
  }
}

/** The value a column has when a row leaves it out (RFC 7047 5.2.1 defaults). */
export function defaultColumnValue(column: ColumnType): ColumnValue {
  switch (column.kind) {
    case 'optional':
    case 'set':
      return [];
    case 'map':
      return new Map();
    case 'atom':
      switch (column.type) {
        case 'string':
          return '';
        case 'integer':
        case 'real':
          return 0;
        case 'boolean':
          return false;
        case 'uuid':
          return '00000000-0000-0000-0000-000000000000';
      }
  }
}

/**
 * Applies an update2 "modify" (ovsdb-server(7), monitor_cond): an atom or an
 * optional value comes as its new value (measured on ovsdb-server 3.1: a tag
 * going from 10 to 20 arrives as `20`, a cleared one as `["set", []]`); a set's
 * diff lists the elements whose membership flips; a map's diff adds a missing
 * key, removes a key given with its current value, and replaces the others.
 */
export function applyColumnDiff(
  old: ColumnValue,
  diff: unknown,
  column: ColumnType,
  where: string,
): ColumnValue {
  switch (column.kind) {
    case 'atom':
      return decodeAtom(diff, column.type, where);
    case 'optional':
      return decodeOptional(diff, column.type, where);
    case 'set': {
      const result = new Set(old as readonly Atom[]);
      for (const atom of decodeSet(diff, column.type, where)) {
        if (result.has(atom)) result.delete(atom);
        else result.add(atom);
      }
      return [...result];
    }
    case 'map': {
      const result = new Map(old as ReadonlyMap<Atom, Atom>);
      for (const [key, value] of decodeMap(diff, column.key, column.value, where)) {
        if (result.get(key) === value) result.delete(key);
        else result.set(key, value);
      }
      return result;
    }
  }
}

// ---- Encoding, for transact requests ----

/** A JSON value as it goes into a request. */
export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

export function uuidRef(uuid: string): Json {
  if (!isUuid(uuid)) throw new Error(`not a uuid: ${JSON.stringify(uuid)}`);
  return ['uuid', uuid];
}

/** A reference to a row inserted by the same transaction under `uuid-name`. */
export function namedUuid(name: string): Json {
  if (!ID_PATTERN.test(name)) throw new Error(`not a valid uuid-name: ${name}`);
  return ['named-uuid', name];
}

export function ovsSet(elements: readonly Json[]): Json {
  return ['set', [...elements]];
}

/** A set of zero or one element: how OVSDB writes an optional value. */
export function optional(value: Json | null | undefined): Json {
  return value === null || value === undefined ? ovsSet([]) : ovsSet([value]);
}

export function ovsMap(entries: Iterable<readonly [string, string]>): Json {
  return ['map', [...entries].map(([key, value]) => [key, value])];
}

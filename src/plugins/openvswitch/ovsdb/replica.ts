import {
  applyColumnDiff,
  decodeColumn,
  defaultColumnValue,
  isUuid,
  OvsdbProtocolError,
  type ColumnType,
  type ColumnValue,
} from './datum.js';

/** The tables and columns a client monitors: table name -> column name -> type. */
export type TableSpecs = Readonly<Record<string, Readonly<Record<string, ColumnType>>>>;

/** One row of the replica: every monitored column, defaults filled in. */
export type Row = Readonly<Record<string, ColumnValue>>;

/** Which rows an update touched: table name -> row uuids. */
export type TouchedRows = ReadonlyMap<string, ReadonlySet<string>>;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * A local copy of the monitored tables, kept by `monitor_cond` updates
 * ("table-updates2": initial, insert, modify, delete), as Open vSwitch's own IDL
 * keeps one. Every update is decoded and checked completely before any of it is
 * applied, so a malformed update leaves the replica as it was.
 */
export class Replica {
  private tables = new Map<string, Map<string, Row>>();

  constructor(private readonly specs: TableSpecs) {
    for (const table of Object.keys(specs)) this.tables.set(table, new Map());
  }

  /** The rows of `table` (empty for a table not monitored). */
  rows(table: string): ReadonlyMap<string, Row> {
    return this.tables.get(table) ?? new Map();
  }

  row(table: string, uuid: string): Row | undefined {
    return this.tables.get(table)?.get(uuid);
  }

  /** The `monitor_cond` reply: the replica becomes exactly these rows. */
  reset(updates: unknown): TouchedRows {
    const fresh = new Map<string, Map<string, Row>>();
    for (const table of Object.keys(this.specs)) fresh.set(table, new Map());
    const staged = this.stage(updates, fresh);
    const touched = this.commit(staged, fresh);
    // Everything that was here before and is gone now was touched too.
    for (const [table, rows] of this.tables) {
      const set = touched.get(table) ?? new Set<string>();
      for (const uuid of rows.keys()) set.add(uuid);
      touched.set(table, set);
    }
    this.tables = fresh;
    return touched;
  }

  /** An `update2` notification's table-updates2. */
  apply(updates: unknown): TouchedRows {
    return this.commit(this.stage(updates, this.tables), this.tables);
  }

  /** Decodes every row change against `base`; null means the row is deleted. */
  private stage(
    updates: unknown,
    base: Map<string, Map<string, Row>>,
  ): Map<string, Map<string, Row | null>> {
    if (updates === null) return new Map();
    if (!isObject(updates)) throw new OvsdbProtocolError('table-updates2: expected an object');
    const staged = new Map<string, Map<string, Row | null>>();
    for (const [table, tableUpdate] of Object.entries(updates)) {
      const columns = this.specs[table];
      // A table not asked for: not ours to keep (ovsdb-server never sends one).
      if (columns === undefined) continue;
      if (!isObject(tableUpdate)) throw new OvsdbProtocolError(`${table}: expected an object`);
      const changes = new Map<string, Row | null>();
      for (const [uuid, rowUpdate] of Object.entries(tableUpdate)) {
        if (!isUuid(uuid)) throw new OvsdbProtocolError(`${table}: row key is not a uuid`);
        const where = `${table} ${uuid}`;
        const old = changes.has(uuid) ? changes.get(uuid) : base.get(table)?.get(uuid);
        changes.set(uuid, this.stageRow(columns, rowUpdate, old ?? null, where));
      }
      staged.set(table, changes);
    }
    return staged;
  }

  private stageRow(
    columns: Readonly<Record<string, ColumnType>>,
    rowUpdate: unknown,
    old: Row | null,
    where: string,
  ): Row | null {
    if (!isObject(rowUpdate)) throw new OvsdbProtocolError(`${where}: expected a row update`);
    const keys = Object.keys(rowUpdate);
    if (keys.length !== 1) throw new OvsdbProtocolError(`${where}: expected one operation`);
    const operation = keys[0] as string;
    const body = rowUpdate[operation];
    switch (operation) {
      case 'initial':
      case 'insert':
        return this.fullRow(columns, body, where);
      case 'delete':
        return null;
      case 'modify': {
        if (old === null) throw new OvsdbProtocolError(`${where}: modify of an unknown row`);
        if (!isObject(body)) throw new OvsdbProtocolError(`${where}: expected a row diff`);
        const row: Record<string, ColumnValue> = { ...old };
        for (const [name, diff] of Object.entries(body)) {
          const column = columns[name];
          if (column === undefined) continue;
          row[name] = applyColumnDiff(old[name] as ColumnValue, diff, column, `${where} ${name}`);
        }
        return Object.freeze(row);
      }
      default:
        throw new OvsdbProtocolError(
          `${where}: unknown row operation ${JSON.stringify(operation)}`,
        );
    }
  }

  private fullRow(
    columns: Readonly<Record<string, ColumnType>>,
    body: unknown,
    where: string,
  ): Row {
    if (!isObject(body)) throw new OvsdbProtocolError(`${where}: expected a row`);
    const row: Record<string, ColumnValue> = {};
    for (const [name, column] of Object.entries(columns)) {
      const json = body[name];
      row[name] =
        json === undefined
          ? defaultColumnValue(column)
          : decodeColumn(json, column, `${where} ${name}`);
    }
    return Object.freeze(row);
  }

  private commit(
    staged: Map<string, Map<string, Row | null>>,
    target: Map<string, Map<string, Row>>,
  ): Map<string, Set<string>> {
    const touched = new Map<string, Set<string>>();
    for (const [table, changes] of staged) {
      const rows = target.get(table) as Map<string, Row>;
      for (const [uuid, row] of changes) {
        if (row === null) rows.delete(uuid);
        else rows.set(uuid, row);
      }
      touched.set(table, new Set(changes.keys()));
    }
    return touched;
  }
}

import type { PoolClient } from 'pg';
import { comparePositions, parsePosition, type RecordedEvent } from '@reclaim/event-store';
import { qualified, type TableSpec } from '../schema';

/** A read-model row as the reducers handle it: column name → JSON value (timestamps as ISO strings). */
export type Row = Record<string, unknown>;

export function keyOf(spec: TableSpec, row: Row): string {
  return JSON.stringify(spec.key.map((k) => row[k]));
}

function recordsetType(spec: TableSpec, columns: readonly string[]): string {
  return columns
    .map((name) => {
      const col = spec.columns.find((c) => c.name === name);
      if (!col) throw new Error(`${spec.name} has no column ${name}`);
      return `${name} ${col.type}`;
    })
    .join(', ');
}

function normalise(row: Row): Row {
  for (const [k, v] of Object.entries(row)) if (v instanceof Date) row[k] = v.toISOString();
  return row;
}

/** Loads the rows with the given keys (one query), keyed by {@link keyOf}. */
export async function loadRows(tx: PoolClient, spec: TableSpec, keys: readonly Row[]): Promise<Map<string, Row>> {
  const found = new Map<string, Row>();
  if (keys.length === 0) return found;
  const cols = spec.columns.map((c) => `t.${c.name}`).join(', ');
  const { rows } = await tx.query<Row>(
    `SELECT ${cols} FROM ${qualified(spec)} t
       JOIN jsonb_to_recordset($1::jsonb) AS k(${recordsetType(spec, spec.key)}) USING (${spec.key.join(', ')})`,
    [JSON.stringify(keys.map((k) => Object.fromEntries(spec.key.map((c) => [c, k[c]]))))],
  );
  for (const r of rows) found.set(keyOf(spec, r), normalise(r));
  return found;
}

/** Inserts or replaces the rows (one statement). */
export async function upsertRows(tx: PoolClient, spec: TableSpec, rows: readonly Row[]): Promise<void> {
  if (rows.length === 0) return;
  const names = spec.columns.map((c) => c.name);
  const updates = names.filter((n) => !spec.key.includes(n)).map((n) => `${n} = EXCLUDED.${n}`);
  await tx.query(
    `INSERT INTO ${qualified(spec)} (${names.join(', ')})
     SELECT ${names.join(', ')} FROM json_to_recordset($1::json) AS x(${recordsetType(spec, names)})
     ON CONFLICT (${spec.key.join(', ')}) DO ${updates.length ? `UPDATE SET ${updates.join(', ')}` : 'NOTHING'}`,
    // Only the table's columns (no jsonb columns: the replacer only meets the rows' own keys); a
    // missing or undefined column is left out, which json_to_recordset reads as NULL.
    [JSON.stringify(rows, names)],
  );
}

/** Rows per statement of {@link insertRows}. */
const INSERT_CHUNK = 5_000;

/**
 * Inserts rows into a table that holds none of their keys (a rebuild's truncated table): plain
 * `INSERT … SELECT FROM json_to_recordset($1)`, no conflict handling, in chunks of 5,000 rows.
 */
export async function insertRows(tx: PoolClient, spec: TableSpec, rows: readonly Row[]): Promise<void> {
  const names = spec.columns.map((c) => c.name);
  const sql = `INSERT INTO ${qualified(spec)} (${names.join(', ')})
     SELECT ${names.join(', ')} FROM json_to_recordset($1::json) AS x(${recordsetType(spec, names)})`;
  // The next chunk is serialised while the database inserts the previous one.
  let inserting: Promise<unknown> = Promise.resolve();
  for (let i = 0; i < rows.length; i += INSERT_CHUNK) {
    const json = JSON.stringify(rows.slice(i, i + INSERT_CHUNK), names);
    await inserting;
    inserting = tx.query(sql, [json]);
    inserting.catch(() => undefined); // awaited on the next turn or below
  }
  await inserting;
}

/** The event's position as stored on rows (`position` column). */
export function positionText(e: RecordedEvent): string {
  const { commit, prepare } = e.position;
  return commit === prepare ? commit.toString() : `${commit}/${prepare}`;
}

/** True when the row already reflects `e` (replayed or duplicated delivery): skip it. */
export function alreadyApplied(row: Row | undefined, e: RecordedEvent): boolean {
  const at = row?.position;
  return typeof at === 'string' && comparePositions(parsePosition(at), e.position) >= 0;
}

/**
 * Rows of one table touched by a batch: loaded once, changed in memory by pure reducers, written
 * back with one upsert. Deleted keys are remembered so a later `get` does not resurrect them.
 */
export class RowSet {
  private readonly rows = new Map<string, Row>();
  private readonly dirty = new Set<string>();
  /** `groupBy` value → keys of the rows held with it (see {@link RowSet.filterBy}). */
  private readonly groups = new Map<unknown, Set<string>>();

  /**
   * `complete`: the set holds every row of the table (a rebuild's rows, see RebuildSession): loads
   * and flushes are no-ops, the rebuild writes the rows once at its end. `groupBy`: a key column
   * indexed in memory for {@link RowSet.filterBy}.
   */
  constructor(
    readonly spec: TableSpec,
    private readonly options: { readonly complete?: boolean; readonly groupBy?: string } = {},
  ) {}

  /** Rows held in memory. */
  get size(): number {
    return this.rows.size;
  }

  async load(tx: PoolClient, keys: readonly Row[]): Promise<void> {
    if (this.options.complete) return;
    const missing = keys.filter((k) => !this.rows.has(keyOf(this.spec, k)));
    for (const [k, row] of await loadRows(tx, this.spec, missing)) this.hold(k, row);
  }

  /** Loads every row whose `column` is one of `values` (e.g. all messages of the batch's recoveries). */
  async loadBy(tx: PoolClient, column: string, values: readonly string[]): Promise<void> {
    if (values.length === 0 || this.options.complete) return;
    const cols = this.spec.columns.map((c) => c.name).join(', ');
    const { rows } = await tx.query<Row>(
      `SELECT ${cols} FROM ${qualified(this.spec)} WHERE ${column} = ANY($1::text[])`,
      [[...new Set(values)]],
    );
    for (const r of rows) {
      const k = keyOf(this.spec, r);
      if (!this.rows.has(k)) this.hold(k, normalise(r));
    }
  }

  /** Rows held in memory that match `predicate`. */
  filter(predicate: (row: Row) => boolean): Row[] {
    return [...this.rows.values()].filter(predicate);
  }

  /** Rows held in memory whose `groupBy` column is `value` and that match `predicate`. */
  filterBy(value: unknown, predicate: (row: Row) => boolean): Row[] {
    const group = this.options.groupBy;
    if (group === undefined) return this.filter((row) => predicate(row));
    const found: Row[] = [];
    for (const k of this.groups.get(value) ?? []) {
      const row = this.rows.get(k) as Row;
      if (row[group] === value && predicate(row)) found.push(row);
    }
    return found;
  }

  get(key: Row): Row | undefined {
    return this.rows.get(keyOf(this.spec, key));
  }

  put(row: Row): void {
    const k = keyOf(this.spec, row);
    if (this.rows.get(k) !== row) this.hold(k, row); // else changed in place: already held
    this.dirty.add(k);
  }

  /** Forgets every row matching `predicate` (after a SQL delete of the same rows). */
  forget(predicate: (row: Row) => boolean): void {
    for (const [k, row] of this.rows) {
      if (predicate(row)) {
        this.rows.delete(k);
        this.dirty.delete(k);
        if (this.options.groupBy !== undefined) this.groups.get(row[this.options.groupBy])?.delete(k);
      }
    }
  }

  /** Every row held (a rebuild's rows, written once at its end). */
  all(): Row[] {
    return [...this.rows.values()];
  }

  /** Forgets the row with this key (a complete set only: nothing else would delete it from the table). */
  remove(key: Row): void {
    if (!this.options.complete) throw new Error(`${this.spec.name}: remove() is for a rebuild's rows only`);
    const k = keyOf(this.spec, key);
    const row = this.rows.get(k);
    if (row === undefined) return;
    this.rows.delete(k);
    this.dirty.delete(k);
    if (this.options.groupBy !== undefined) this.groups.get(row[this.options.groupBy])?.delete(k);
  }

  async flush(tx: PoolClient): Promise<void> {
    if (this.options.complete) return; // written once by the rebuild (RebuildSession.write)
    if (this.dirty.size === 0) return;
    const rows = [...this.dirty].map((k) => this.rows.get(k) as Row);
    this.dirty.clear();
    await upsertRows(tx, this.spec, rows);
  }

  private hold(k: string, row: Row): void {
    this.rows.set(k, row);
    const group = this.options.groupBy;
    if (group === undefined) return;
    const value = row[group];
    let keys = this.groups.get(value);
    if (!keys) this.groups.set(value, (keys = new Set()));
    keys.add(k);
  }
}

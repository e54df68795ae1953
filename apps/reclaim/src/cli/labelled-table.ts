/**
 * A labelled table from CSV for `model evaluate`: the header names the columns; one column is the
 * label (0/1, true/false or yes/no, any case); every other column is a feature — numeric when each
 * present value is a number, boolean when each is true/false/yes/no, otherwise categorical. An
 * empty cell, NA, NaN or null is a missing value. A bad file is refused with a message naming the
 * line or column, never half-read.
 */
import { parse } from 'csv-parse/sync';
import type { FeatureRecord, FeatureValue } from '@reclaim/learning';

export type ColumnKind = 'numeric' | 'boolean' | 'categorical';

export interface LabelledTable {
  readonly label: string;
  readonly columns: readonly { readonly name: string; readonly kind: ColumnKind; readonly missing: number }[];
  readonly rows: FeatureRecord[];
  readonly labels: number[];
}

export class TableError extends Error {
  override readonly name = 'TableError';
}

const MISSING = new Set(['', 'na', 'n/a', 'nan', 'null']);
const TRUE = new Set(['1', 'true', 'yes']);
const FALSE = new Set(['0', 'false', 'no']);

function isMissingCell(cell: string): boolean {
  return MISSING.has(cell.trim().toLowerCase());
}

function booleanOf(cell: string): boolean | undefined {
  const v = cell.trim().toLowerCase();
  if (v === 'true' || v === 'yes') return true;
  if (v === 'false' || v === 'no') return false;
  return undefined;
}

function numberOf(cell: string): number | undefined {
  const v = cell.trim();
  if (v === '') return undefined;
  const n = Number(v);
  return Number.isFinite(n) ? n : undefined;
}

export function readLabelledTable(text: string, label: string): LabelledTable {
  let records: { record: string[]; info: { lines: number } }[];
  try {
    records = parse(text, { bom: true, relax_column_count: true, skip_empty_lines: true, info: true }) as unknown as {
      record: string[];
      info: { lines: number };
    }[];
  } catch (err) {
    throw new TableError(`not a readable CSV file: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (records.length === 0) throw new TableError('the file is empty (no header row)');
  const header = records[0].record.map((h) => h.trim());
  header.forEach((name, i) => {
    if (name === '') throw new TableError(`column ${i + 1} of the header has no name`);
    if (header.indexOf(name) !== i) throw new TableError(`column "${name}" appears twice in the header`);
  });
  const labelIndex = header.indexOf(label);
  if (labelIndex < 0) {
    throw new TableError(`no label column "${label}" in the header (columns: ${header.join(', ')})`);
  }
  const body = records.slice(1);
  if (body.length === 0) throw new TableError('the file has a header but no rows');
  for (const { record, info } of body) {
    if (record.length !== header.length) {
      throw new TableError(
        `ragged row at line ${info.lines}: ${record.length} fields where the header has ${header.length}`,
      );
    }
  }
  const labels = body.map(({ record, info }) => {
    const v = record[labelIndex].trim().toLowerCase();
    if (TRUE.has(v)) return 1;
    if (FALSE.has(v)) return 0;
    throw new TableError(
      `line ${info.lines}: label "${record[labelIndex]}" in column "${label}" is not 0/1, true/false or yes/no`,
    );
  });
  const featureIndexes = header.map((_, i) => i).filter((i) => i !== labelIndex);
  if (featureIndexes.length === 0) throw new TableError('the file has no feature column besides the label');
  const columns = featureIndexes.map((i) => {
    const cells = body.map(({ record }) => record[i]).filter((c) => !isMissingCell(c));
    const kind: ColumnKind =
      cells.length > 0 && cells.every((c) => booleanOf(c) !== undefined)
        ? 'boolean'
        : cells.every((c) => numberOf(c) !== undefined)
          ? 'numeric'
          : 'categorical';
    return { name: header[i], index: i, kind, missing: body.length - cells.length };
  });
  const rows = body.map(({ record }) => {
    const row: Record<string, FeatureValue> = {};
    for (const c of columns) {
      const cell = record[c.index];
      row[c.name] = isMissingCell(cell)
        ? null
        : c.kind === 'boolean'
          ? booleanOf(cell)
          : c.kind === 'numeric'
            ? numberOf(cell)
            : cell.trim();
    }
    return row;
  });
  return { label, columns: columns.map(({ name, kind, missing }) => ({ name, kind, missing })), rows, labels };
}

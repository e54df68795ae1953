/**
 * The training table as CSV for `model evaluate` (and for analysts): the model columns and
 * `purchased` (0/1). With `ids`, `recovery_id`, `shop_id`, `abandoned_at`, `holdout` and
 * `feature_schema` come first so a row can be looked up; they are not features, so the default
 * leaves them out and the file goes to `model evaluate --label purchased` as it is.
 * Quoting per RFC 4180: a field with a comma, quote or line break is quoted, quotes doubled.
 */
import { SCORE_COLUMNS } from '@reclaim/domain';
import type { TrainingRow } from './training-table';

function cell(v: unknown): string {
  if (v === null || v === undefined) return '';
  const s = typeof v === 'number' ? (Number.isFinite(v) ? String(v) : '') : String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export const TRAINING_CSV_ID_COLUMNS = ['recovery_id', 'shop_id', 'abandoned_at', 'holdout', 'feature_schema'] as const;
export const TRAINING_CSV_LABEL = 'purchased';

export function trainingTableCsv(rows: readonly TrainingRow[], options: { ids?: boolean } = {}): string {
  const ids = options.ids ?? false;
  const header = [...(ids ? TRAINING_CSV_ID_COLUMNS : []), ...SCORE_COLUMNS, TRAINING_CSV_LABEL];
  const lines = [header.join(',')];
  for (const r of rows) {
    const idCells = ids ? [r.recoveryId, r.shopId, r.abandonedAt, r.holdout, r.featureSchema] : [];
    lines.push([...idCells, ...SCORE_COLUMNS.map((c) => r.features[c]), r.label].map(cell).join(','));
  }
  return lines.join('\n') + '\n';
}

import type { SparseRows } from './logistic';
/**
 * Feature encoding, fitted on training rows only and stored in the model (models are data):
 * numerics (and booleans as 0/1) standardised with the training mean and standard deviation,
 * categoricals one-hot over their most frequent training levels (an unseen or rare level encodes
 * as all zeros), and a missing-value indicator for every column that had a missing value in
 * training (a missing numeric is imputed with the mean, i.e. 0 after standardising).
 */
export type FeatureValue = number | string | boolean | null | undefined;
export type FeatureRecord = Readonly<Record<string, FeatureValue>>;

export interface NumericColumn {
  readonly name: string;
  readonly kind: 'numeric';
  readonly mean: number;
  readonly scale: number;
  /** True when an indicator column `<name>:missing` follows. */
  readonly missingIndicator: boolean;
}

export interface CategoricalColumn {
  readonly name: string;
  readonly kind: 'categorical';
  /** One column `<name>=<level>` per level, in this order. */
  readonly levels: readonly string[];
  readonly missingIndicator: boolean;
}

export type ColumnEncoding = NumericColumn | CategoricalColumn;

export interface Encoder {
  readonly columns: readonly ColumnEncoding[];
}

export interface EncoderOptions {
  /** Columns to use, in this order (default: every key seen in the rows, sorted). */
  readonly columns?: readonly string[];
  /** Force a column's kind (e.g. decided once over a whole table); otherwise inferred from the rows. */
  readonly kinds?: Readonly<Record<string, 'numeric' | 'categorical'>>;
  /** Most frequent levels kept per categorical column (default 50); the rest encode as all zeros. */
  readonly maxLevels?: number;
}

export function isMissing(v: FeatureValue): v is null | undefined {
  return v === null || v === undefined || (typeof v === 'number' && Number.isNaN(v)) || v === '';
}

/** Numeric when every present value is a finite number or a boolean. */
export function inferKind(values: Iterable<FeatureValue>): 'numeric' | 'categorical' {
  for (const v of values) {
    if (isMissing(v)) continue;
    if (typeof v === 'boolean') continue;
    if (typeof v === 'number' && Number.isFinite(v)) continue;
    return 'categorical';
  }
  return 'numeric';
}

function numericValue(v: FeatureValue): number | undefined {
  if (isMissing(v)) return undefined;
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  return undefined;
}

function levelOf(v: FeatureValue): string | undefined {
  return isMissing(v) ? undefined : String(v);
}

export function fitEncoder(rows: readonly FeatureRecord[], options: EncoderOptions = {}): Encoder {
  const names =
    options.columns ?? [...new Set(rows.flatMap((r) => Object.keys(r)))].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const maxLevels = options.maxLevels ?? 50;
  const columns = names.map((name): ColumnEncoding => {
    const values = rows.map((r) => r[name]);
    const missingIndicator = values.some(
      (v) => isMissing(v) || (options.kinds?.[name] === 'numeric' && numericValue(v) === undefined),
    );
    const kind = options.kinds?.[name] ?? inferKind(values);
    if (kind === 'numeric') {
      let n = 0;
      let sum = 0;
      for (const v of values) {
        const x = numericValue(v);
        if (x === undefined) continue;
        n++;
        sum += x;
      }
      const mean = n > 0 ? sum / n : 0;
      let ss = 0;
      for (const v of values) {
        const x = numericValue(v);
        if (x !== undefined) ss += (x - mean) ** 2;
      }
      const sd = n > 1 ? Math.sqrt(ss / n) : 0;
      return { name, kind, mean, scale: sd > 1e-12 ? sd : 1, missingIndicator };
    }
    const counts = new Map<string, number>();
    for (const v of values) {
      const level = levelOf(v);
      if (level !== undefined) counts.set(level, (counts.get(level) ?? 0) + 1);
    }
    const levels = [...counts.entries()]
      .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
      .slice(0, maxLevels)
      .map(([level]) => level)
      .sort();
    return { name, kind, levels, missingIndicator };
  });
  return { columns };
}

/** The names of the encoded columns, in encoding order: `x`, `x:missing`, `c=level`. */
export function featureNames(encoder: Encoder): string[] {
  const out: string[] = [];
  for (const c of encoder.columns) {
    if (c.kind === 'numeric') out.push(c.name);
    else for (const level of c.levels) out.push(`${c.name}=${level}`);
    if (c.missingIndicator) out.push(`${c.name}:missing`);
  }
  return out;
}

export function encodedWidth(encoder: Encoder): number {
  let d = 0;
  for (const c of encoder.columns) d += (c.kind === 'numeric' ? 1 : c.levels.length) + (c.missingIndicator ? 1 : 0);
  return d;
}

export function encode(
  encoder: Encoder,
  row: FeatureRecord,
  out = new Float64Array(encodedWidth(encoder)),
): Float64Array {
  let j = 0;
  for (const c of encoder.columns) {
    const v = row[c.name];
    if (c.kind === 'numeric') {
      const x = numericValue(v);
      out[j++] = x === undefined ? 0 : (x - c.mean) / c.scale;
      if (c.missingIndicator) out[j++] = x === undefined ? 1 : 0;
    } else {
      const level = levelOf(v);
      for (const l of c.levels) out[j++] = l === level ? 1 : 0;
      if (c.missingIndicator) out[j++] = level === undefined ? 1 : 0;
    }
  }
  return out;
}

/**
 * Many rows encoded straight into the compact form the trainer fits on ({@link SparseRows}): the
 * same numbers as {@link encode}, without a dense vector per row. Each column yields at most one
 * non-zero (a numeric's standardised value or its missing flag; a categorical's level or its
 * missing flag; nothing for an unseen level), so the stride is the number of columns.
 */
export function encodeRows(encoder: Encoder, rows: readonly FeatureRecord[]): SparseRows {
  const n = rows.length;
  const stride = encoder.columns.length;
  const count = new Uint32Array(n);
  const index = new Uint32Array(n * stride);
  const value = new Float64Array(n * stride);
  const plan = columnPlan(encoder);
  for (let i = 0; i < n; i++) {
    const row = rows[i];
    let k = i * stride;
    for (const c of plan) {
      const v = row[c.name];
      if (c.levels === undefined) {
        const x = numericValue(v);
        if (x === undefined) {
          if (c.missing >= 0) {
            index[k] = c.missing;
            value[k++] = 1;
          }
        } else {
          const z = (x - c.mean) / c.scale;
          if (z !== 0) {
            index[k] = c.at;
            value[k++] = z;
          }
        }
      } else {
        const level = levelOf(v);
        if (level === undefined) {
          if (c.missing >= 0) {
            index[k] = c.missing;
            value[k++] = 1;
          }
        } else {
          const j = c.levels.get(level);
          if (j !== undefined) {
            index[k] = c.at + j;
            value[k++] = 1;
          }
        }
      }
    }
    count[i] = k - i * stride;
  }
  return { rows: n, width: encodedWidth(encoder), stride, count, index, value };
}

interface PlannedColumn {
  readonly name: string;
  /** Index of the column's first encoded feature. */
  readonly at: number;
  /** Index of `<name>:missing`, or −1. */
  readonly missing: number;
  readonly mean: number;
  readonly scale: number;
  /** Categorical: level → offset from `at`. */
  readonly levels?: ReadonlyMap<string, number>;
}

const plans = new WeakMap<Encoder, readonly PlannedColumn[]>();

/** Where each column's encoded features sit (cached per encoder object). */
function columnPlan(encoder: Encoder): readonly PlannedColumn[] {
  const cached = plans.get(encoder);
  if (cached) return cached;
  const out: PlannedColumn[] = [];
  let j = 0;
  for (const c of encoder.columns) {
    if (c.kind === 'numeric') {
      out.push({ name: c.name, at: j, missing: c.missingIndicator ? j + 1 : -1, mean: c.mean, scale: c.scale });
      j += 1 + (c.missingIndicator ? 1 : 0);
    } else {
      const levels = new Map<string, number>();
      c.levels.forEach((l, o) => {
        if (!levels.has(l)) levels.set(l, o);
      });
      out.push({
        name: c.name,
        at: j,
        missing: c.missingIndicator ? j + c.levels.length : -1,
        mean: 0,
        scale: 1,
        levels,
      });
      j += c.levels.length + (c.missingIndicator ? 1 : 0);
    }
  }
  plans.set(encoder, out);
  return out;
}

/**
 * intercept + Σ weightᵢ·encodedᵢ of one row without building its encoded vector (scoring): the
 * same sum as over {@link encode}'s output, whose other terms are exactly zero.
 */
export function encodedLinear(
  encoder: Encoder,
  intercept: number,
  weights: readonly number[],
  row: FeatureRecord,
): number {
  let z = intercept;
  for (const c of columnPlan(encoder)) {
    const v = row[c.name];
    if (c.levels === undefined) {
      const x = numericValue(v);
      if (x === undefined) {
        if (c.missing >= 0) z += weights[c.missing];
      } else z += weights[c.at] * ((x - c.mean) / c.scale);
    } else {
      const level = levelOf(v);
      if (level === undefined) {
        if (c.missing >= 0) z += weights[c.missing];
      } else {
        const j = c.levels.get(level);
        if (j !== undefined) z += weights[c.at + j];
      }
    }
  }
  return z;
}

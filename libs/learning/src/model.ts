import { createHash } from 'node:crypto';
import { applyPlatt, fitPlatt, type PlattCalibration } from './calibration';
import {
  encode,
  encodedLinear,
  encodeRows,
  featureNames,
  fitEncoder,
  type Encoder,
  type FeatureRecord,
} from './features';
import { stratifiedFolds, minorityCount } from './folds';
import { fitLogisticRows, sigmoid, sparseLinear } from './logistic';
import { deriveSeed } from './random';

/**
 * The trainer the engine uses, and its model as data: a serialisable JSON document (encoder,
 * weights, calibration, what it was trained on) identified by the SHA-256 of its canonical JSON.
 * Given the same rows, labels and seed it produces the same model and the same hash.
 */
export const MODEL_FORMAT = 'reclaim.logistic-l2-platt.v1';

export interface TrainerOptions {
  /** λ of the L2 penalty on the standardised weights. Default 1. */
  readonly l2?: number;
  /** Folds for the held-out scores the Platt calibration is fitted on. Default 5. */
  readonly calibrationFolds?: number;
  /** Seeds the calibration folds. Default 1. */
  readonly seed?: number;
  readonly columns?: readonly string[];
  readonly kinds?: Readonly<Record<string, 'numeric' | 'categorical'>>;
  readonly maxLevels?: number;
}

export type Calibration = PlattCalibration | { readonly method: 'none'; readonly reason: string };

export interface LogisticModel {
  readonly format: typeof MODEL_FORMAT;
  readonly encoder: Encoder;
  readonly features: readonly string[];
  readonly intercept: number;
  /** One per feature, on the standardised scale (comparable in size). */
  readonly weights: readonly number[];
  readonly calibration: Calibration;
  readonly training: {
    readonly rows: number;
    readonly positives: number;
    readonly l2: number;
    readonly seed: number;
    readonly calibrationFolds: number;
    readonly iterations: number;
    readonly converged: boolean;
  };
  /** `sha256:<hex>` of the canonical JSON of every other field. */
  readonly contentHash: string;
}

/** The training rows cannot make a model (the message says why). */
export class TrainingDataError extends Error {
  override readonly name = 'TrainingDataError';
}

export function checkTrainingData(rows: readonly FeatureRecord[], labels: readonly number[]): void {
  if (rows.length !== labels.length) throw new TrainingDataError(`${rows.length} rows for ${labels.length} labels`);
  labels.forEach((y, i) => {
    if (y !== 0 && y !== 1) throw new TrainingDataError(`label of row ${i + 1} is ${String(y)}, not 0 or 1`);
  });
  const positives = labels.reduce((s, y) => s + y, 0);
  if (positives === 0 || positives === labels.length) {
    throw new TrainingDataError(
      `the label has one class only (${labels.length} rows, all ${positives === 0 ? '0' : '1'}): a model needs both outcomes`,
    );
  }
}

export function train(
  rows: readonly FeatureRecord[],
  labels: readonly number[],
  options: TrainerOptions = {},
): LogisticModel {
  checkTrainingData(rows, labels);
  const l2 = options.l2 ?? 1;
  const seed = options.seed ?? 1;
  const encoder = fitEncoder(rows, options);
  const x = encodeRows(encoder, rows);
  const k = Math.min(options.calibrationFolds ?? 5, minorityCount(labels));
  let calibration: Calibration;
  if (k >= 2) {
    const fold = stratifiedFolds(labels, k, deriveSeed(seed, 0xca1));
    const heldOut = new Array<number>(rows.length);
    const inFold = new Int32Array(k);
    for (const g of fold) inFold[g]++;
    for (let f = 0; f < k; f++) {
      // The other folds' rows, in row order, without copying them.
      const others = new Int32Array(rows.length - inFold[f]);
      let s = 0;
      for (let i = 0; i < fold.length; i++) if (fold[i] !== f) others[s++] = i;
      const fit = fitLogisticRows(x, labels, { l2 }, others);
      for (let i = 0; i < fold.length; i++)
        if (fold[i] === f) heldOut[i] = sparseLinear(fit.intercept, fit.weights, x, i);
    }
    calibration = fitPlatt(heldOut, labels);
  } else {
    calibration = { method: 'none', reason: `fewer than 2 rows of the smaller class for held-out calibration` };
  }
  const fit = fitLogisticRows(x, labels, { l2 });
  return withHash({
    format: MODEL_FORMAT,
    encoder,
    features: featureNames(encoder),
    intercept: fit.intercept,
    weights: fit.weights,
    calibration,
    training: {
      rows: rows.length,
      positives: labels.reduce((s, y) => s + y, 0),
      l2,
      seed,
      calibrationFolds: k >= 2 ? k : 0,
      iterations: fit.iterations,
      converged: fit.converged,
    },
  });
}

/** The uncalibrated linear score (log-odds before calibration). */
export function linearScore(model: LogisticModel, row: FeatureRecord): number {
  return encodedLinear(model.encoder, model.intercept, model.weights, row);
}

/** The calibrated probability of the positive outcome. */
export function predictProbability(model: LogisticModel, row: FeatureRecord): number {
  const z = linearScore(model, row);
  return model.calibration.method === 'platt' ? applyPlatt(model.calibration, z) : sigmoid(z);
}

/** Features by the size of their standardised weight, largest first. */
export function featureImportances(model: LogisticModel): { feature: string; weight: number }[] {
  return model.features
    .map((feature, j) => ({ feature, weight: model.weights[j] }))
    .sort((a, b) => Math.abs(b.weight) - Math.abs(a.weight) || (a.feature < b.feature ? -1 : 1));
}

/** JSON with object keys sorted at every level: the same model always gives the same text. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'number' && !Number.isFinite(value)) throw new TypeError('a model holds finite numbers only');
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

export function contentHashOf(model: Omit<LogisticModel, 'contentHash'>): string {
  const { contentHash: _ignored, ...rest } = model as LogisticModel;
  return `sha256:${createHash('sha256').update(canonicalJson(rest)).digest('hex')}`;
}

function withHash(model: Omit<LogisticModel, 'contentHash'>): LogisticModel {
  return { ...model, contentHash: contentHashOf(model) };
}

export function serializeModel(model: LogisticModel): string {
  return canonicalJson(model);
}

/** Reads a stored model; refuses another format or a body that does not match its hash. */
export function parseModel(json: string): LogisticModel {
  const model = JSON.parse(json) as LogisticModel;
  if (model?.format !== MODEL_FORMAT) throw new TypeError(`not a ${MODEL_FORMAT} model`);
  const expected = contentHashOf(model);
  if (model.contentHash !== expected) {
    throw new TypeError(`model content does not match its hash (${String(model.contentHash)} ≠ ${expected})`);
  }
  return model;
}

/** One feature's share of a single prediction (log-odds before calibration). */
export interface FeatureContribution {
  /** The encoded feature, named as in {@link featureImportances} (`cart_value`, `device=mobile`, `x:missing`). */
  readonly feature: string;
  /** Its standardised weight × the row's encoded value: what it adds to (or takes from) the log-odds. */
  readonly contribution: number;
}

/**
 * Why the model scored this row as it did: each encoded feature's weight × the row's encoded value
 * (numerics standardised, so relative to the training mean; a categorical level against the
 * levels absent), largest in size first, zeros left out. The features carry the model card's
 * names, so a single cart's explanation reads like the card's top features.
 */
export function explainPrediction(model: LogisticModel, row: FeatureRecord, top = 5): FeatureContribution[] {
  const x = encode(model.encoder, row);
  const out: FeatureContribution[] = [];
  model.features.forEach((feature, j) => {
    const contribution = model.weights[j] * x[j];
    if (contribution !== 0 && Number.isFinite(contribution)) out.push({ feature, contribution });
  });
  return out
    .sort((a, b) => Math.abs(b.contribution) - Math.abs(a.contribution) || (a.feature < b.feature ? -1 : 1))
    .slice(0, Math.max(0, top));
}

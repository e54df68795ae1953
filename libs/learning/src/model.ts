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
  /**
   * λ of the L2 penalty on the standardised weights, fixed. Without it, λ is chosen from
   * {@link TrainerOptions.l2Grid} by held-out log-loss on the calibration folds (see {@link train}).
   */
  readonly l2?: number;
  /** The λ candidates when `l2` is not given. Default {@link L2_GRID}. */
  readonly l2Grid?: readonly number[];
  /**
   * Above this many rows λ is not chosen but {@link DEFAULT_L2} (a penalty that small against that
   * many rows' log-likelihood changes no prediction measurably, and the choice would cost a fit per
   * candidate and fold). Default {@link L2_SELECTION_MAX_ROWS}.
   */
  readonly l2SelectionMaxRows?: number;
  /**
   * A model the weights shrink towards instead of zero (a pooled model of the appliance's other
   * shops, RFC 0009 §2): its encoder is used as is, the penalty is (λ/2)·‖w − prior weights‖², and
   * λ is chosen from {@link PRIOR_L2_GRID} (a large λ keeps the prior, a small one the shop's own fit).
   */
  readonly prior?: LogisticModel;
  /** Folds for the held-out scores the Platt calibration is fitted on. Default 5. */
  readonly calibrationFolds?: number;
  /** Seeds the calibration folds. Default 1. */
  readonly seed?: number;
  readonly columns?: readonly string[];
  readonly kinds?: Readonly<Record<string, 'numeric' | 'categorical'>>;
  readonly maxLevels?: number;
}

/** λ when it is not chosen (fixed by the caller's default, too few rows of a class, or a large table). */
export const DEFAULT_L2 = 1;
/** The λ candidates, log-spaced: 1 (barely penalised at a few thousand rows) to 300 (strong shrinkage for a few hundred). */
export const L2_GRID: readonly number[] = [1, 3, 10, 30, 100, 300];
export const L2_SELECTION_MAX_ROWS = 100_000;
/** The λ candidates with a prior model: up to 3000, where the shop's weights stay near the prior's. */
export const PRIOR_L2_GRID: readonly number[] = [1, 3, 10, 30, 100, 300, 1000, 3000];

/**
 * How λ was set: `chosen` — the candidate whose held-out scores, Platt-calibrated, had the lowest
 * mean log-loss on the calibration folds (one entry per candidate, same order); `fixed` — why not.
 */
export type L2Selection =
  | { readonly method: 'held-out-log-loss'; readonly grid: readonly number[]; readonly logLoss: readonly number[] }
  | { readonly method: 'fixed'; readonly reason: string };

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
    /** Absent when the caller fixed λ (`options.l2`). */
    readonly l2Selection?: L2Selection;
    /** The model the weights were shrunk towards (`options.prior`), by its content hash. */
    readonly prior?: string;
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
  const seed = options.seed ?? 1;
  const prior = options.prior;
  const encoder = prior?.encoder ?? fitEncoder(rows, options);
  const center = prior?.weights;
  const x = encodeRows(encoder, rows);
  const k = Math.min(options.calibrationFolds ?? 5, minorityCount(labels));
  const grid = options.l2Grid ?? (prior ? PRIOR_L2_GRID : L2_GRID);
  if (options.l2 === undefined && (grid.length === 0 || grid.some((v) => !(Number.isFinite(v) && v > 0)))) {
    throw new RangeError(`l2Grid must hold positive finite numbers (got [${grid.join(', ')}])`);
  }
  if (options.l2 !== undefined && !(Number.isFinite(options.l2) && options.l2 >= 0)) {
    throw new RangeError(`l2 must be a finite number ≥ 0 (got ${String(options.l2)})`);
  }
  const maxRows = options.l2SelectionMaxRows ?? L2_SELECTION_MAX_ROWS;
  let candidates: readonly number[];
  let l2Selection: L2Selection | undefined;
  if (options.l2 !== undefined) candidates = [options.l2];
  else if (k < 2) {
    candidates = [DEFAULT_L2];
    l2Selection = { method: 'fixed', reason: 'fewer than 2 rows of the smaller class for held-out folds' };
  } else if (rows.length > maxRows) {
    candidates = [DEFAULT_L2];
    l2Selection = {
      method: 'fixed',
      reason: `more than ${maxRows} rows: the penalty's choice changes nothing measurable`,
    };
  } else candidates = [...new Set(grid)].sort((a, b) => a - b);

  let calibration: Calibration;
  let l2 = candidates[0];
  if (k >= 2) {
    const fold = stratifiedFolds(labels, k, deriveSeed(seed, 0xca1));
    const inFold = new Int32Array(k);
    for (const g of fold) inFold[g]++;
    // Each fold's training rows (the other folds', in row order), as index lists.
    const others = Array.from({ length: k }, (_, f) => {
      const out = new Int32Array(rows.length - inFold[f]);
      let s = 0;
      for (let i = 0; i < fold.length; i++) if (fold[i] !== f) out[s++] = i;
      return out;
    });
    const losses: number[] = [];
    let best: { l2: number; loss: number; platt: PlattCalibration } | undefined;
    for (const lambda of candidates) {
      const heldOut = new Array<number>(rows.length);
      for (let f = 0; f < k; f++) {
        const fit = fitLogisticRows(x, labels, { l2: lambda, ...(center ? { center } : {}) }, others[f]);
        for (let i = 0; i < fold.length; i++)
          if (fold[i] === f) heldOut[i] = sparseLinear(fit.intercept, fit.weights, x, i);
      }
      const platt = fitPlatt(heldOut, labels);
      const loss = meanLogLoss(
        heldOut.map((z) => applyPlatt(platt, z)),
        labels,
      );
      losses.push(loss);
      // Ties go to the stronger penalty (candidates ascend).
      if (best === undefined || loss <= best.loss) best = { l2: lambda, loss, platt };
    }
    l2 = best!.l2;
    calibration = best!.platt;
    if (candidates.length > 1) l2Selection = { method: 'held-out-log-loss', grid: candidates, logLoss: losses };
  } else {
    calibration = { method: 'none', reason: `fewer than 2 rows of the smaller class for held-out calibration` };
  }
  const fit = fitLogisticRows(x, labels, { l2, ...(center ? { center } : {}) });
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
      ...(l2Selection ? { l2Selection } : {}),
      ...(prior ? { prior: prior.contentHash } : {}),
      seed,
      calibrationFolds: k >= 2 ? k : 0,
      iterations: fit.iterations,
      converged: fit.converged,
    },
  });
}

function meanLogLoss(p: readonly number[], labels: readonly number[]): number {
  let s = 0;
  for (let i = 0; i < p.length; i++) {
    const q = Math.min(Math.max(p[i], 1e-15), 1 - 1e-15);
    s -= labels[i] === 1 ? Math.log(q) : Math.log(1 - q);
  }
  return s / p.length;
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

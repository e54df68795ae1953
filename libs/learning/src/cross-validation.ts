import type { FeatureRecord } from './features';
import { inferKind } from './features';
import { minorityCount, stratifiedFolds } from './folds';
import { evaluate, type EvaluationMetrics } from './metrics';
import { checkTrainingData, predictProbability, train, TrainingDataError, type TrainerOptions } from './model';
import { deriveSeed } from './random';

export interface CrossValidationOptions extends TrainerOptions {
  /** Default 5. */
  readonly folds?: number;
  /** Called after each fold with (folds done, folds in all). */
  readonly onFold?: (done: number, total: number) => void;
}

export interface CrossValidationResult {
  readonly folds: number;
  readonly seed: number;
  /** Each row's calibrated probability from the model that did not see it. */
  readonly outOfFold: readonly number[];
  /** Pooled over every held-out prediction. */
  readonly metrics: EvaluationMetrics;
  readonly perFold: readonly Omit<EvaluationMetrics, 'reliability'>[];
}

/**
 * Stratified k-fold cross-validation of exactly `train`: each fold's model (encoder, weights and
 * its own held-out Platt calibration) is fitted on the other folds only, and predicts its fold.
 * Column kinds are decided once over the whole table (they use no label), so every fold encodes a
 * column the same way.
 */
export function crossValidate(
  rows: readonly FeatureRecord[],
  labels: readonly number[],
  options: CrossValidationOptions = {},
): CrossValidationResult {
  checkTrainingData(rows, labels);
  const folds = options.folds ?? 5;
  const seed = options.seed ?? 1;
  const minority = minorityCount(labels);
  if (minority < folds) {
    throw new TrainingDataError(
      `the smaller class has ${minority} rows: stratified ${folds}-fold cross-validation needs at least ${folds}`,
    );
  }
  const columns = options.columns ?? [...new Set(rows.flatMap((r) => Object.keys(r)))].sort();
  const kinds = options.kinds ?? Object.fromEntries(columns.map((c) => [c, inferKind(rows.map((r) => r[c]))]));
  const fold = stratifiedFolds(labels, folds, seed);
  const outOfFold = new Array<number>(rows.length);
  const perFold: Omit<EvaluationMetrics, 'reliability'>[] = [];
  for (let f = 0; f < folds; f++) {
    const trainRows = rows.filter((_, i) => fold[i] !== f);
    const trainLabels = labels.filter((_, i) => fold[i] !== f);
    const model = train(trainRows, trainLabels, { ...options, columns, kinds, seed: deriveSeed(seed, f) });
    const p: number[] = [];
    const y: number[] = [];
    fold.forEach((g, i) => {
      if (g !== f) return;
      outOfFold[i] = predictProbability(model, rows[i]);
      p.push(outOfFold[i]);
      y.push(labels[i]);
    });
    const { reliability: _r, ...summary } = evaluate(p, y);
    perFold.push(summary);
    options.onFold?.(f + 1, folds);
  }
  return { folds, seed, outOfFold, metrics: evaluate(outOfFold, labels), perFold };
}

/**
 * Model quality on held-out predictions: ranking (ROC AUC), accuracy of the probabilities (Brier
 * score) and calibration (expected calibration error over a reliability table of equal-width bins).
 */
export interface ReliabilityBin {
  /** Bin i covers [lower, upper); the last bin includes 1. */
  readonly lower: number;
  readonly upper: number;
  readonly count: number;
  /** Mean predicted probability in the bin (NaN when empty). */
  readonly meanPredicted: number;
  /** Observed positive rate in the bin (NaN when empty). */
  readonly observedRate: number;
}

export interface EvaluationMetrics {
  readonly rows: number;
  readonly positives: number;
  readonly auc: number;
  readonly brier: number;
  readonly ece: number;
  readonly reliability: readonly ReliabilityBin[];
}

function checkLengths(scores: readonly number[], labels: readonly number[]): void {
  if (scores.length !== labels.length) throw new RangeError(`${scores.length} scores for ${labels.length} labels`);
}

/**
 * ROC AUC by the Mann–Whitney statistic with mid-ranks for ties: the probability that a random
 * positive scores above a random negative (ties count half). NaN with only one class.
 */
export function rocAuc(scores: readonly number[], labels: readonly number[]): number {
  checkLengths(scores, labels);
  const order = scores.map((_, i) => i).sort((a, b) => scores[a] - scores[b]);
  let positives = 0;
  let rankSum = 0;
  for (let i = 0; i < order.length; ) {
    let j = i;
    while (j + 1 < order.length && scores[order[j + 1]] === scores[order[i]]) j++;
    const midRank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) {
      if (labels[order[k]] === 1) {
        positives++;
        rankSum += midRank;
      }
    }
    i = j + 1;
  }
  const negatives = scores.length - positives;
  if (positives === 0 || negatives === 0) return NaN;
  return (rankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}

export function brierScore(probabilities: readonly number[], labels: readonly number[]): number {
  checkLengths(probabilities, labels);
  let s = 0;
  for (let i = 0; i < probabilities.length; i++) s += (probabilities[i] - labels[i]) ** 2;
  return s / probabilities.length;
}

export function reliabilityTable(
  probabilities: readonly number[],
  labels: readonly number[],
  bins = 10,
): ReliabilityBin[] {
  checkLengths(probabilities, labels);
  const count = new Array<number>(bins).fill(0);
  const sumP = new Array<number>(bins).fill(0);
  const sumY = new Array<number>(bins).fill(0);
  for (let i = 0; i < probabilities.length; i++) {
    const b = Math.min(bins - 1, Math.max(0, Math.floor(probabilities[i] * bins)));
    count[b]++;
    sumP[b] += probabilities[i];
    sumY[b] += labels[i];
  }
  return count.map((c, b) => ({
    lower: b / bins,
    upper: (b + 1) / bins,
    count: c,
    meanPredicted: c > 0 ? sumP[b] / c : NaN,
    observedRate: c > 0 ? sumY[b] / c : NaN,
  }));
}

/** Σ_bins (count/n)·|mean predicted − observed rate|. */
export function expectedCalibrationError(table: readonly ReliabilityBin[]): number {
  const n = table.reduce((s, b) => s + b.count, 0);
  if (n === 0) return NaN;
  return table.reduce((s, b) => (b.count > 0 ? s + (b.count / n) * Math.abs(b.meanPredicted - b.observedRate) : s), 0);
}

export function evaluate(probabilities: readonly number[], labels: readonly number[], bins = 10): EvaluationMetrics {
  const reliability = reliabilityTable(probabilities, labels, bins);
  return {
    rows: labels.length,
    positives: labels.reduce((s, y) => s + y, 0),
    auc: rocAuc(probabilities, labels),
    brier: brierScore(probabilities, labels),
    ece: expectedCalibrationError(reliability),
    reliability,
  };
}

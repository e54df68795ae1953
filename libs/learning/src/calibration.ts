import { sigmoid } from './logistic';

// Bound once: a global look-up of `Math` per call is many times slower inside a vm context (the
// test runner's), and these run in tight loops.
const { abs, exp, log1p, max } = Math;

/**
 * Platt scaling: p = σ(a·z + b) over the model's linear score z, fitted by Newton's method on
 * held-out scores with Platt's smoothed targets ((N₊+1)/(N₊+2) and 1/(N₋+2)), which keep a and b
 * finite when the held-out scores separate the classes.
 */
export interface PlattCalibration {
  readonly method: 'platt';
  readonly a: number;
  readonly b: number;
  /** How many held-out scores it was fitted on. */
  readonly fittedOn: number;
}

export function fitPlatt(scores: readonly number[], labels: readonly number[]): PlattCalibration {
  const positives = labels.reduce((s, y) => s + y, 0);
  const negatives = labels.length - positives;
  const hi = (positives + 1) / (positives + 2);
  const lo = 1 / (negatives + 2);
  const t = labels.map((y) => (y === 1 ? hi : lo));
  let a = 1;
  let b = 0;
  const loss = (a_: number, b_: number): number => {
    let f = 0;
    for (let i = 0; i < scores.length; i++) {
      const z = a_ * scores[i] + b_;
      f += (z > 0 ? z + log1p(exp(-z)) : log1p(exp(z))) - t[i] * z;
    }
    return f;
  };
  let f = loss(a, b);
  for (let iter = 0; iter < 100; iter++) {
    let ga = 0;
    let gb = 0;
    let haa = 1e-12;
    let hab = 0;
    let hbb = 1e-12;
    for (let i = 0; i < scores.length; i++) {
      const s = scores[i];
      const p = sigmoid(a * s + b);
      const r = p - t[i];
      const w = p * (1 - p);
      ga += r * s;
      gb += r;
      haa += w * s * s;
      hab += w * s;
      hbb += w;
    }
    const det = haa * hbb - hab * hab;
    if (!(det > 0)) break;
    const da = (hbb * ga - hab * gb) / det;
    const db = (haa * gb - hab * ga) / det;
    let step = 1;
    let next = Infinity;
    for (let k = 0; k < 30; k++) {
      next = loss(a - step * da, b - step * db);
      if (next <= f) break;
      step /= 2;
    }
    if (!(next <= f)) break;
    a -= step * da;
    b -= step * db;
    f = next;
    if (max(abs(step * da), abs(step * db)) < 1e-10) break;
  }
  return { method: 'platt', a, b, fittedOn: scores.length };
}

export function applyPlatt(calibration: PlattCalibration, score: number): number {
  return sigmoid(calibration.a * score + calibration.b);
}

/**
 * L2-regularised logistic regression fitted by Newton's method (iteratively reweighted least
 * squares) with a backtracking line search. The objective is strictly convex, so the answer is the
 * same whatever the start or the row order: the fit itself needs no seed.
 *
 *   minimise  Σ log(1 + e^{-s_i z_i}) + (λ/2)·‖w‖²     (the intercept is not penalised)
 */
export interface LogisticFit {
  readonly intercept: number;
  readonly weights: number[];
  readonly iterations: number;
  readonly converged: boolean;
}

export interface LogisticOptions {
  /** λ of the L2 penalty on the weights (not the intercept). Default 1. */
  readonly l2?: number;
  readonly maxIterations?: number;
  /** Stop when the largest Newton step is below this. */
  readonly tolerance?: number;
}

export function sigmoid(z: number): number {
  if (z >= 0) return 1 / (1 + Math.exp(-z));
  const e = Math.exp(z);
  return e / (1 + e);
}

/** log(1 + e^z) without overflow. */
function softplus(z: number): number {
  return z > 0 ? z + Math.log1p(Math.exp(-z)) : Math.log1p(Math.exp(z));
}

/** `rows` are encoded feature vectors (all of length d); `labels` 0/1; optional per-row targets in [0,1]. */
export function fitLogistic(
  rows: readonly Float64Array[],
  labels: readonly number[],
  options: LogisticOptions = {},
): LogisticFit {
  const n = rows.length;
  if (n === 0) throw new RangeError('no rows to fit');
  const d = rows[0].length;
  const p = d + 1; // index 0 = intercept
  const lambda = options.l2 ?? 1;
  const maxIterations = options.maxIterations ?? 100;
  const tolerance = options.tolerance ?? 1e-8;
  let beta = new Float64Array(p);
  const positives = labels.reduce((s, y) => s + y, 0);
  const rate = Math.min(Math.max(positives / n, 1e-6), 1 - 1e-6);
  beta[0] = Math.log(rate / (1 - rate));

  const linear = (b: Float64Array, x: Float64Array): number => {
    let z = b[0];
    for (let j = 0; j < d; j++) z += b[j + 1] * x[j];
    return z;
  };
  const objective = (b: Float64Array): number => {
    let f = 0;
    for (let i = 0; i < n; i++) {
      const z = linear(b, rows[i]);
      f += softplus(z) - labels[i] * z;
    }
    for (let j = 1; j < p; j++) f += 0.5 * lambda * b[j] * b[j];
    return f;
  };

  let f = objective(beta);
  let iterations = 0;
  let converged = false;
  const grad = new Float64Array(p);
  const hess = new Float64Array(p * p);
  const xi = new Float64Array(p);
  while (iterations < maxIterations) {
    iterations++;
    grad.fill(0);
    hess.fill(0);
    for (let i = 0; i < n; i++) {
      const x = rows[i];
      xi[0] = 1;
      for (let j = 0; j < d; j++) xi[j + 1] = x[j];
      const mu = sigmoid(linear(beta, x));
      const r = mu - labels[i];
      const w = Math.max(mu * (1 - mu), 1e-12);
      for (let a = 0; a < p; a++) {
        const xa = xi[a];
        if (xa === 0) continue;
        grad[a] += r * xa;
        const wa = w * xa;
        const rowA = a * p;
        for (let b = a; b < p; b++) hess[rowA + b] += wa * xi[b];
      }
    }
    for (let a = 0; a < p; a++) for (let b = 0; b < a; b++) hess[a * p + b] = hess[b * p + a];
    for (let j = 1; j < p; j++) {
      grad[j] += lambda * beta[j];
      hess[j * p + j] += lambda;
    }
    hess[0] += 1e-9;
    const step = solveSymmetric(hess, grad, p);
    // Backtracking: Newton steps can overshoot far from the optimum.
    let t = 1;
    let next = new Float64Array(p);
    let fNext = Infinity;
    for (let k = 0; k < 30; k++) {
      for (let j = 0; j < p; j++) next[j] = beta[j] - t * step[j];
      fNext = objective(next);
      if (fNext <= f) break;
      t /= 2;
    }
    if (!(fNext <= f)) {
      converged = true; // no descent possible: at the optimum within floating-point precision
      break;
    }
    let largest = 0;
    for (let j = 0; j < p; j++) largest = Math.max(largest, Math.abs(t * step[j]));
    beta = next;
    next = new Float64Array(p);
    f = fNext;
    if (largest < tolerance) {
      converged = true;
      break;
    }
  }
  return { intercept: beta[0], weights: Array.from(beta.subarray(1)), iterations, converged };
}

/** Solves A·x = b for a symmetric positive-definite A (p×p, row-major) by Cholesky. */
export function solveSymmetric(a: Float64Array, b: Float64Array, p: number): Float64Array {
  const l = new Float64Array(p * p);
  for (let i = 0; i < p; i++) {
    for (let j = 0; j <= i; j++) {
      let s = a[i * p + j];
      for (let k = 0; k < j; k++) s -= l[i * p + k] * l[j * p + k];
      if (i === j) l[i * p + i] = Math.sqrt(Math.max(s, 1e-12));
      else l[i * p + j] = s / l[j * p + j];
    }
  }
  const y = new Float64Array(p);
  for (let i = 0; i < p; i++) {
    let s = b[i];
    for (let k = 0; k < i; k++) s -= l[i * p + k] * y[k];
    y[i] = s / l[i * p + i];
  }
  const x = new Float64Array(p);
  for (let i = p - 1; i >= 0; i--) {
    let s = y[i];
    for (let k = i + 1; k < p; k++) s -= l[k * p + i] * x[k];
    x[i] = s / l[i * p + i];
  }
  return x;
}

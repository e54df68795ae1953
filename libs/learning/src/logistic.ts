/**
 * L2-regularised logistic regression fitted by Newton's method (iteratively reweighted least
 * squares) with a backtracking line search. The objective is strictly convex, so the answer is the
 * same whatever the start or the row order: the fit itself needs no seed.
 *
 *   minimise  Σ log(1 + e^{-s_i z_i}) + (λ/2)·‖w‖²     (the intercept is not penalised)
 */

// Bound once: a global look-up of `Math` per call is many times slower inside a vm context (the
// test runner's), and these run in tight loops.
const { abs, exp, log, log1p, max, min, sqrt } = Math;

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
  /**
   * Weights the penalty pulls towards (a prior's coefficients, one per feature): the penalty is
   * (λ/2)·‖w − center‖² and the fit starts from them. Default: zeros (the plain L2 penalty).
   */
  readonly center?: ArrayLike<number>;
}

export function sigmoid(z: number): number {
  if (z >= 0) return 1 / (1 + exp(-z));
  const e = exp(z);
  return e / (1 + e);
}

/** log(1 + e^z) without overflow. */
function softplus(z: number): number {
  return z > 0 ? z + log1p(exp(-z)) : log1p(exp(z));
}

/**
 * Encoded rows kept compact: row i's non-zero entries are `index`/`value`[i·stride, i·stride +
 * count[i]), feature indices ascending (0-based, the intercept not included). An encoded recovery
 * has at most one non-zero per column (a numeric's value or its missing flag, one level of a
 * categorical), so a million rows take ~12 bytes per column instead of 8 bytes per encoded
 * feature, and a fit touches the non-zeros only. The arithmetic is the dense one minus terms that
 * are exactly zero, so the fit is the same to the last bit.
 */
export interface SparseRows {
  readonly rows: number;
  /** Encoded width (features, without the intercept). */
  readonly width: number;
  readonly stride: number;
  readonly count: Uint32Array;
  readonly index: Uint32Array;
  readonly value: Float64Array;
}

/** Dense encoded rows (all of the same length) in the compact form. */
export function sparseRows(rows: readonly Float64Array[]): SparseRows {
  const n = rows.length;
  const d = n > 0 ? rows[0].length : 0;
  let stride = 0;
  for (const x of rows) {
    if (x.length !== d) throw new RangeError(`rows of ${x.length} and ${d} features`);
    let c = 0;
    for (let j = 0; j < d; j++) if (x[j] !== 0) c++;
    stride = max(stride, c);
  }
  const count = new Uint32Array(n);
  const index = new Uint32Array(n * stride);
  const value = new Float64Array(n * stride);
  rows.forEach((x, i) => {
    let k = i * stride;
    for (let j = 0; j < d; j++) {
      if (x[j] === 0) continue;
      index[k] = j;
      value[k++] = x[j];
    }
    count[i] = k - i * stride;
  });
  return { rows: n, width: d, stride, count, index, value };
}

/** intercept + Σ weights·x of row i of `x`. */
export function sparseLinear(intercept: number, weights: ArrayLike<number>, x: SparseRows, i: number): number {
  let z = intercept;
  const end = i * x.stride + x.count[i];
  for (let k = i * x.stride; k < end; k++) z += weights[x.index[k]] * x.value[k];
  return z;
}

/** `rows` are encoded feature vectors (all of length d); `labels` 0/1. */
export function fitLogistic(
  rows: readonly Float64Array[],
  labels: readonly number[],
  options: LogisticOptions = {},
): LogisticFit {
  if (rows.length === 0) throw new RangeError('no rows to fit');
  return fitLogisticRows(sparseRows(rows), labels, options);
}

/**
 * {@link fitLogistic} on compact rows, optionally on a subset of them (`subset`: row numbers,
 * ascending — a fold's training rows without copying them).
 */
export function fitLogisticRows(
  x: SparseRows,
  labels: ArrayLike<number>,
  options: LogisticOptions = {},
  subset?: Int32Array,
): LogisticFit {
  const n = subset ? subset.length : x.rows;
  if (n === 0) throw new RangeError('no rows to fit');
  const d = x.width;
  const p = d + 1; // index 0 = intercept
  const lambda = options.l2 ?? 1;
  const maxIterations = options.maxIterations ?? 100;
  const tolerance = options.tolerance ?? 1e-8;
  const { stride, count, index, value } = x;
  const center = options.center;
  if (center !== undefined && center.length !== d) {
    throw new RangeError(`center has ${center.length} weights for ${d} features`);
  }
  const c = (j: number): number => (center === undefined ? 0 : center[j - 1]);
  let beta = new Float64Array(p);
  if (center !== undefined) for (let j = 1; j < p; j++) beta[j] = center[j - 1];
  let positives = 0;
  for (let s = 0; s < n; s++) positives += labels[subset ? subset[s] : s];
  const rate = min(max(positives / n, 1e-6), 1 - 1e-6);
  beta[0] = log(rate / (1 - rate));

  const linear = (b: Float64Array, i: number): number => {
    let z = b[0];
    const end = i * stride + count[i];
    for (let k = i * stride; k < end; k++) z += b[index[k] + 1] * value[k];
    return z;
  };
  const objective = (b: Float64Array): number => {
    let f = 0;
    for (let s = 0; s < n; s++) {
      const i = subset ? subset[s] : s;
      const z = linear(b, i);
      f += softplus(z) - labels[i] * z;
    }
    for (let j = 1; j < p; j++) f += 0.5 * lambda * (b[j] - c(j)) * (b[j] - c(j));
    return f;
  };

  let f = objective(beta);
  let iterations = 0;
  let converged = false;
  const grad = new Float64Array(p);
  const hess = new Float64Array(p * p);
  while (iterations < maxIterations) {
    iterations++;
    grad.fill(0);
    hess.fill(0);
    for (let s = 0; s < n; s++) {
      const i = subset ? subset[s] : s;
      const mu = sigmoid(linear(beta, i));
      const r = mu - labels[i];
      const w = max(mu * (1 - mu), 1e-12);
      const start = i * stride;
      const end = start + count[i];
      // The intercept's row of the Hessian (x₀ = 1), then each non-zero's, upper triangle only.
      grad[0] += r;
      hess[0] += w;
      for (let k = start; k < end; k++) hess[index[k] + 1] += w * value[k];
      for (let ka = start; ka < end; ka++) {
        const xa = value[ka];
        if (xa === 0) continue;
        const a = index[ka] + 1;
        grad[a] += r * xa;
        const wa = w * xa;
        const rowA = a * p;
        for (let kb = ka; kb < end; kb++) hess[rowA + index[kb] + 1] += wa * value[kb];
      }
    }
    for (let a = 0; a < p; a++) for (let b = 0; b < a; b++) hess[a * p + b] = hess[b * p + a];
    for (let j = 1; j < p; j++) {
      grad[j] += lambda * (beta[j] - c(j));
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
    for (let j = 0; j < p; j++) largest = max(largest, abs(t * step[j]));
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
      if (i === j) l[i * p + i] = sqrt(max(s, 1e-12));
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

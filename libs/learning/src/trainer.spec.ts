import { fitPlatt } from './calibration';
import { crossValidate } from './cross-validation';
import { encode, encodeRows, featureNames, fitEncoder } from './features';
import { stratifiedFolds } from './folds';
import { fitLogistic, fitLogisticRows, sigmoid, solveSymmetric, sparseRows } from './logistic';
import { brierScore, rocAuc } from './metrics';
import {
  L2_GRID,
  PRIOR_L2_GRID,
  explainPrediction,
  featureImportances,
  linearScore,
  parseModel,
  predictProbability,
  serializeModel,
  train,
  TrainingDataError,
} from './model';
import { seededRandom, shuffleInPlace } from './random';
import { syntheticPopulation } from './synthetic';

describe('feature encoding', () => {
  const rows = [
    { value: 10, device: 'mobile', returning: true },
    { value: 30, device: 'desktop', returning: false },
    { value: null, device: null, returning: true },
  ];

  it('standardises numerics, one-hots categoricals and adds missing indicators fitted on training rows', () => {
    const encoder = fitEncoder(rows);
    expect(featureNames(encoder)).toEqual([
      'device=desktop',
      'device=mobile',
      'device:missing',
      'returning',
      'value',
      'value:missing',
    ]);
    expect(Array.from(encode(encoder, { value: 30, device: 'mobile', returning: false }))).toEqual([
      0,
      1,
      0,
      (0 - 2 / 3) / Math.sqrt(2 / 9),
      1,
      0,
    ]);
    // A missing numeric is imputed at the mean (0 standardised) and flagged; an unseen level is all zeros.
    expect(Array.from(encode(encoder, { device: 'tablet', returning: true }))).toEqual([
      0,
      0,
      0,
      (1 - 2 / 3) / Math.sqrt(2 / 9),
      0,
      1,
    ]);
  });

  it('keeps only the most frequent levels of a categorical', () => {
    const many = Array.from({ length: 30 }, (_, i) => ({ c: i < 10 ? 'a' : i < 18 ? 'b' : `rare${i}` }));
    expect(featureNames(fitEncoder(many, { maxLevels: 2 }))).toEqual(['c=a', 'c=b']);
  });
});

describe('logistic regression', () => {
  it('recovers known coefficients from data drawn from them', () => {
    const random = seededRandom(7);
    const x: Float64Array[] = [];
    const y: number[] = [];
    for (let i = 0; i < 20000; i++) {
      const a = random() * 2 - 1;
      const b = random() * 2 - 1;
      x.push(Float64Array.from([a, b]));
      y.push(random() < sigmoid(-0.5 + 2 * a - 1 * b) ? 1 : 0);
    }
    const fit = fitLogistic(x, y, { l2: 1e-6 });
    expect(fit.converged).toBe(true);
    expect(fit.intercept).toBeCloseTo(-0.5, 1);
    expect(fit.weights[0]).toBeCloseTo(2, 1);
    expect(fit.weights[1]).toBeCloseTo(-1, 1);
  });

  it('shrinks the weights as the L2 penalty grows, and stays finite on separable data', () => {
    const x = [0, 1, 2, 3].map((v) => Float64Array.from([v]));
    const y = [0, 0, 1, 1];
    const loose = fitLogistic(x, y, { l2: 0.01 });
    const tight = fitLogistic(x, y, { l2: 10 });
    expect(Number.isFinite(loose.weights[0])).toBe(true);
    expect(Math.abs(tight.weights[0])).toBeLessThan(Math.abs(loose.weights[0]));
  });
});

describe('Platt calibration', () => {
  it('fits a and b of scores whose true mapping is known', () => {
    const random = seededRandom(3);
    const s: number[] = [];
    const y: number[] = [];
    for (let i = 0; i < 20000; i++) {
      const z = random() * 4 - 2;
      s.push(z);
      y.push(random() < sigmoid(1.5 * z - 0.7) ? 1 : 0);
    }
    const c = fitPlatt(s, y);
    expect(c.a).toBeCloseTo(1.5, 1);
    expect(c.b).toBeCloseTo(-0.7, 1);
  });
});

describe('stratified folds', () => {
  const labels = Array.from({ length: 103 }, (_, i) => (i % 4 === 0 ? 1 : 0));

  it('gives every fold the same share of each class, the same way for the same seed', () => {
    const folds = stratifiedFolds(labels, 5, 42);
    for (let f = 0; f < 5; f++) {
      const members = labels.filter((_, i) => folds[i] === f);
      const positives = members.filter((y) => y === 1).length;
      expect(Math.abs(positives - 26 / 5)).toBeLessThanOrEqual(1);
      expect(Math.abs(members.length - 103 / 5)).toBeLessThanOrEqual(1);
    }
    expect(stratifiedFolds(labels, 5, 42)).toEqual(folds);
    expect(stratifiedFolds(labels, 5, 43)).not.toEqual(folds);
  });
});

describe('the trainer on a population with known true probabilities', () => {
  const population = syntheticPopulation(6000, 11);
  const trueAuc = rocAuc(population.trueProbabilities, population.labels);
  const trueBrier = brierScore(population.trueProbabilities, population.labels);
  const cv = crossValidate(population.rows, population.labels, { folds: 5, seed: 5 });

  it('ranks nearly as well as the true probabilities on held-out folds', () => {
    expect(trueAuc).toBeGreaterThan(0.7);
    expect(cv.metrics.auc).toBeGreaterThan(trueAuc - 0.02);
    expect(cv.metrics.auc).toBeLessThan(trueAuc + 0.01);
    expect(cv.metrics.brier).toBeLessThan(trueBrier + 0.005);
  });

  it('is calibrated on held-out folds (expected calibration error < 0.03)', () => {
    expect(cv.metrics.ece).toBeLessThan(0.03);
    for (const bin of cv.metrics.reliability) {
      if (bin.count >= 200) expect(Math.abs(bin.meanPredicted - bin.observedRate)).toBeLessThan(0.06);
    }
    console.log(
      `synthetic 6000 rows, 5-fold CV: AUC ${cv.metrics.auc.toFixed(4)} (true probabilities ${trueAuc.toFixed(4)}), ` +
        `Brier ${cv.metrics.brier.toFixed(4)} (true ${trueBrier.toFixed(4)}), ECE ${cv.metrics.ece.toFixed(4)}`,
    );
  });

  it('finds nothing where there is nothing: shuffled labels give an AUC near 0.5', () => {
    const shuffled = shuffleInPlace([...population.labels], seededRandom(99));
    const none = crossValidate(population.rows, shuffled, { folds: 5, seed: 5 });
    expect(Math.abs(none.metrics.auc - 0.5)).toBeLessThan(0.04);
  });

  it('puts the informative features above the noise', () => {
    const model = train(population.rows, population.labels, { seed: 1 });
    const ranked = featureImportances(model).map((f) => f.feature);
    expect(ranked.indexOf('returning')).toBeLessThan(ranked.indexOf('noise'));
    expect(ranked.indexOf('log_cart_value')).toBeLessThan(ranked.indexOf('noise'));
  });
});

describe('explaining one prediction', () => {
  const population = syntheticPopulation(1500, 8);
  const model = train(population.rows, population.labels, { seed: 2 });

  it('splits the log-odds into per-feature contributions that add up to the linear score', () => {
    const row = population.rows[17];
    const all = explainPrediction(model, row, model.features.length);
    const sum = all.reduce((s, c) => s + c.contribution, model.intercept);
    expect(sum).toBeCloseTo(linearScore(model, row), 10);
    // Largest in size first, no zero contributions, names as the model card shows them.
    for (let i = 1; i < all.length; i++) {
      expect(Math.abs(all[i - 1].contribution)).toBeGreaterThanOrEqual(Math.abs(all[i].contribution));
    }
    expect(all.every((c) => c.contribution !== 0 && model.features.includes(c.feature))).toBe(true);
  });

  it('names what made a cart likely: a large returning cart owes its score to value and returning', () => {
    const row = { ...population.rows[0], log_cart_value: 7, cart_value: 1096.63, returning: true, noise: 0 };
    const [first] = explainPrediction(model, row, 1);
    expect(['cart_value', 'log_cart_value']).toContain(first.feature);
    expect(first.contribution).toBeGreaterThan(0);
    expect(explainPrediction(model, row, 3)).toHaveLength(3);
    expect(explainPrediction(model, row, 0)).toEqual([]);
  });
});

describe('models are data', () => {
  const population = syntheticPopulation(800, 21);
  const model = train(population.rows, population.labels, { seed: 4 });

  it('is deterministic given the seed: same rows and seed, same model and hash', () => {
    const again = train(population.rows, population.labels, { seed: 4 });
    expect(again.contentHash).toBe(model.contentHash);
    expect(serializeModel(again)).toBe(serializeModel(model));
    expect(model.contentHash).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(train(population.rows, population.labels, { seed: 5 }).contentHash).not.toBe(model.contentHash);
  });

  it('round-trips through JSON with the same predictions, and refuses a tampered body', () => {
    const json = serializeModel(model);
    const back = parseModel(json);
    expect(predictProbability(back, population.rows[0])).toBe(predictProbability(model, population.rows[0]));
    const tampered = JSON.parse(json);
    tampered.weights[0] += 0.1;
    expect(() => parseModel(JSON.stringify(tampered))).toThrow(/does not match its hash/);
  });

  it('refuses labels with one class only', () => {
    expect(() => train([{ a: 1 }, { a: 2 }], [1, 1])).toThrow(TrainingDataError);
    expect(() => crossValidate([{ a: 1 }, { a: 2 }, { a: 3 }], [1, 0, 0], { folds: 5 })).toThrow(/at least 5/);
  });
});

/**
 * The dense IRLS the trainer used before it fitted on compact rows (kept here verbatim as the
 * reference): the compact fit must give the same coefficients.
 */
function denseReferenceFit(rows: readonly Float64Array[], labels: readonly number[], lambda = 1) {
  const n = rows.length;
  const d = rows[0].length;
  const p = d + 1;
  let beta = new Float64Array(p);
  const positives = labels.reduce((s, y) => s + y, 0);
  const rate = Math.min(Math.max(positives / n, 1e-6), 1 - 1e-6);
  beta[0] = Math.log(rate / (1 - rate));
  const linear = (b: Float64Array, x: Float64Array): number => {
    let z = b[0];
    for (let j = 0; j < d; j++) z += b[j + 1] * x[j];
    return z;
  };
  const softplus = (z: number) => (z > 0 ? z + Math.log1p(Math.exp(-z)) : Math.log1p(Math.exp(z)));
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
  const grad = new Float64Array(p);
  const hess = new Float64Array(p * p);
  const xi = new Float64Array(p);
  for (let iteration = 0; iteration < 100; iteration++) {
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
        for (let b = a; b < p; b++) hess[a * p + b] += wa * xi[b];
      }
    }
    for (let a = 0; a < p; a++) for (let b = 0; b < a; b++) hess[a * p + b] = hess[b * p + a];
    for (let j = 1; j < p; j++) {
      grad[j] += lambda * beta[j];
      hess[j * p + j] += lambda;
    }
    hess[0] += 1e-9;
    const step = solveSymmetric(hess, grad, p);
    let t = 1;
    const next = new Float64Array(p);
    let fNext = Infinity;
    for (let k = 0; k < 30; k++) {
      for (let j = 0; j < p; j++) next[j] = beta[j] - t * step[j];
      fNext = objective(next);
      if (fNext <= f) break;
      t /= 2;
    }
    if (!(fNext <= f)) break;
    let largest = 0;
    for (let j = 0; j < p; j++) largest = Math.max(largest, Math.abs(t * step[j]));
    beta = next;
    f = fNext;
    if (largest < 1e-8) break;
  }
  return { intercept: beta[0], weights: Array.from(beta.subarray(1)) };
}

describe('the trainer on compact rows (the 1M-row optimisation) gives the model it gave before', () => {
  const population = syntheticPopulation(3000, 17);
  const encoder = fitEncoder(population.rows);
  const dense = population.rows.map((r) => encode(encoder, r));

  it('encodes rows compactly to the same numbers as the dense encoding', () => {
    const compact = encodeRows(encoder, population.rows);
    const fromDense = sparseRows(dense);
    for (let i = 0; i < population.rows.length; i += 97) {
      const a = new Float64Array(compact.width);
      for (let k = i * compact.stride; k < i * compact.stride + compact.count[i]; k++)
        a[compact.index[k]] = compact.value[k];
      expect(Array.from(a)).toEqual(Array.from(dense[i]));
      expect(compact.count[i]).toBe(fromDense.count[i]);
    }
  });

  it('fits the same coefficients as the dense reference, on all rows and on a subset', () => {
    const reference = denseReferenceFit(dense, population.labels);
    const fit = fitLogisticRows(encodeRows(encoder, population.rows), population.labels);
    expect(Math.abs(fit.intercept - reference.intercept)).toBeLessThan(1e-12);
    fit.weights.forEach((w, j) => expect(Math.abs(w - reference.weights[j])).toBeLessThan(1e-12));

    const subset = Int32Array.from(population.labels.map((_, i) => i).filter((i) => i % 3 !== 1));
    const partial = fitLogisticRows(encodeRows(encoder, population.rows), population.labels, {}, subset);
    const partialReference = denseReferenceFit(
      Array.from(subset, (i) => dense[i]),
      Array.from(subset, (i) => population.labels[i]),
    );
    partial.weights.forEach((w, j) => expect(Math.abs(w - partialReference.weights[j])).toBeLessThan(1e-12));
  });

  it('scores a row as the dense dot product does', () => {
    const model = train(population.rows, population.labels, { seed: 3 });
    for (const row of population.rows.slice(0, 200)) {
      const x = encode(model.encoder, row);
      let z = model.intercept;
      model.weights.forEach((w, j) => (z += w * x[j]));
      expect(Math.abs(linearScore(model, row) - z)).toBeLessThan(1e-12);
    }
  });

  it('trains exactly the model it trained before the optimisation (pinned content hash and CV figures)', () => {
    const before = syntheticPopulation(2000, 3);
    // λ fixed at 1, the trainer's only λ before it chose one (a fixed λ records no selection).
    expect(train(before.rows, before.labels, { seed: 2, l2: 1 }).contentHash).toBe(
      'sha256:cf05fa1ddb18af93e2b1a7689ce74d21d6b49b9d22a03d4b177215e96036d35c',
    );
    const cv = crossValidate(before.rows, before.labels, { folds: 5, seed: 5, l2: 1 });
    expect(cv.metrics.auc).toBeCloseTo(0.721465683225214, 12);
    expect(cv.metrics.brier).toBeCloseTo(0.18339949393164157, 12);
    expect(cv.metrics.ece).toBeCloseTo(0.011433310450813331, 12);
  });
});

/** The synthetic rows plus `extra` categorical columns of pure noise (8 levels each): room to overfit. */
function withNoiseColumns(rows: readonly Record<string, unknown>[], extra: number, seed: number) {
  const random = seededRandom(seed);
  return rows.map((r) => {
    const out: Record<string, string | number | boolean | null> = {
      ...(r as Record<string, string | number | boolean | null>),
    };
    for (let c = 0; c < extra; c++) out[`junk${c}`] = `l${Math.floor(random() * 8)}`;
    return out;
  });
}

function logLoss(p: readonly number[], y: readonly number[]): number {
  return -p.reduce((s, q, i) => s + (y[i] === 1 ? Math.log(q) : Math.log(1 - q)), 0) / p.length;
}

describe('the L2 strength chosen by held-out log-loss (small shops)', () => {
  const small = syntheticPopulation(400, 31);
  const rows = withNoiseColumns(small.rows, 12, 32);
  const fresh = syntheticPopulation(20000, 33);
  const freshRows = withNoiseColumns(fresh.rows, 12, 34);
  const chosen = train(rows, small.labels, { seed: 1 });
  const fixed = train(rows, small.labels, { seed: 1, l2: 1 });

  it('records every candidate with its held-out log-loss and keeps the lowest', () => {
    const selection = chosen.training.l2Selection;
    expect(selection?.method).toBe('held-out-log-loss');
    if (selection?.method !== 'held-out-log-loss') return;
    expect(selection.grid).toEqual(L2_GRID);
    expect(selection.logLoss).toHaveLength(L2_GRID.length);
    const best = Math.min(...selection.logLoss);
    expect(chosen.training.l2).toBe(selection.grid[selection.logLoss.lastIndexOf(best)]);
    // 400 rows and 12 junk columns: the choice is a stronger penalty than the old fixed λ = 1.
    expect(chosen.training.l2).toBeGreaterThan(1);
    expect(fixed.training.l2Selection).toBeUndefined();
    expect(train(rows, small.labels, { seed: 1 }).contentHash).toBe(chosen.contentHash);
  });

  it('predicts rows it never saw better than λ = 1 (log-loss and calibration on 20,000 fresh rows)', () => {
    const pChosen = freshRows.map((r) => predictProbability(chosen, r));
    const pFixed = freshRows.map((r) => predictProbability(fixed, r));
    const truth = fresh.trueProbabilities;
    const meanAbs = (p: number[]) => p.reduce((s, q, i) => s + Math.abs(q - truth[i]), 0) / p.length;
    expect(logLoss(pChosen, fresh.labels)).toBeLessThan(logLoss(pFixed, fresh.labels));
    expect(meanAbs(pChosen)).toBeLessThan(meanAbs(pFixed));
    console.log(
      `400 rows + 12 junk columns: λ ${chosen.training.l2} log-loss ${logLoss(pChosen, fresh.labels).toFixed(4)} ` +
        `mean|p̂−p| ${meanAbs(pChosen).toFixed(4)}; λ 1: ${logLoss(pFixed, fresh.labels).toFixed(4)} ${meanAbs(pFixed).toFixed(4)}`,
    );
  });

  it('does not choose above l2SelectionMaxRows or without two held-out folds, and says why', () => {
    const large = train(rows, small.labels, { seed: 1, l2SelectionMaxRows: 100 });
    expect(large.training.l2).toBe(1);
    expect(large.training.l2Selection).toEqual({
      method: 'fixed',
      reason: expect.stringMatching(/more than 100 rows/),
    });
    const rare = train(
      rows.slice(0, 50),
      small.labels.slice(0, 50).map((_, i) => (i === 3 ? 1 : 0)),
      { seed: 1 },
    );
    expect(rare.training.l2Selection).toEqual({ method: 'fixed', reason: expect.stringMatching(/fewer than 2 rows/) });
  });

  it('refuses a bad λ or grid, naming it', () => {
    expect(() => train(rows, small.labels, { l2Grid: [] })).toThrow(/l2Grid/);
    expect(() => train(rows, small.labels, { l2Grid: [1, -3] })).toThrow(/l2Grid/);
    expect(() => train(rows, small.labels, { l2: Number.NaN })).toThrow(/l2 must be/);
  });
});

describe('a prior model the weights shrink towards (a pooled model for a small shop)', () => {
  const pooled = syntheticPopulation(20000, 41);
  const prior = train(pooled.rows, pooled.labels, { seed: 1 });
  const small = syntheticPopulation(300, 42);
  const fresh = syntheticPopulation(20000, 43);

  it('uses the prior encoder, records the prior, and with a huge λ keeps the prior weights', () => {
    const stiff = train(small.rows, small.labels, { seed: 1, prior, l2: 1e7 });
    expect(stiff.encoder).toEqual(prior.encoder);
    expect(stiff.training.prior).toBe(prior.contentHash);
    stiff.weights.forEach((w, j) => expect(Math.abs(w - prior.weights[j])).toBeLessThan(1e-3));
    const chosen = train(small.rows, small.labels, { seed: 1, prior });
    const selection = chosen.training.l2Selection;
    expect(selection?.method === 'held-out-log-loss' && selection.grid).toEqual(PRIOR_L2_GRID);
  });

  it('predicts a small shop better than its own rows alone (log-loss on 20,000 fresh rows)', () => {
    const own = train(small.rows, small.labels, { seed: 1 });
    const shrunk = train(small.rows, small.labels, { seed: 1, prior });
    const pOwn = fresh.rows.map((r) => predictProbability(own, r));
    const pShrunk = fresh.rows.map((r) => predictProbability(shrunk, r));
    expect(logLoss(pShrunk, fresh.labels)).toBeLessThan(logLoss(pOwn, fresh.labels));
    expect(rocAuc(pShrunk, fresh.labels)).toBeGreaterThan(rocAuc(pOwn, fresh.labels));
  });
});

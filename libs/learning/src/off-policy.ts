/**
 * Off-policy evaluation (a policy backtest): what a target policy would have earned on a log that
 * another policy produced, from the propensities the log recorded.
 *
 * For recovery i with reward rᵢ, the logging policy's probability pᵢ of the action it took and the
 * target's probability πᵢ of that same action, wᵢ = πᵢ / pᵢ:
 * - IPS (inverse propensity):        V = (1/n) Σ wᵢ rᵢ — unbiased when pᵢ > 0 wherever the target acts;
 * - self-normalised IPS (SNIPS):     V = Σ wᵢ rᵢ / Σ wᵢ — slightly biased, usually far less variable;
 * - doubly robust (DR):              V = (1/n) Σ [q̂(xᵢ, π) + wᵢ (rᵢ − q̂(xᵢ, aᵢ))] — unbiased with the
 *   logged propensities whatever the reward model q̂, and less variable the better q̂ is; q̂ must not
 *   have seen rᵢ (cross-fitting, {@link crossFitted}).
 *
 * 95 % intervals are sandwich (influence-function) intervals: V ± z·sd(ψ)/√n with ψᵢ each
 * recovery's term (for SNIPS ψᵢ = wᵢ (rᵢ − V) / w̄). The gain against the policy that ran is the
 * paired difference of the same terms with the on-policy mean, so its interval accounts for both.
 */

export interface OffPolicySample {
  readonly reward: number;
  /** The logging policy's probability of the action it took (> 0). */
  readonly loggedPropensity: number;
  /** The target policy's probability of that same action (0 when it would never take it). */
  readonly targetProbability: number;
  /** q̂(x, a): the reward model's prediction for the logged action (DR). */
  readonly predictedLogged: number;
  /** q̂(x, π) = Σₐ π(a|x) q̂(x, a): the prediction under the target policy (DR). */
  readonly predictedTarget: number;
}

export interface Estimate {
  readonly value: number;
  readonly standardError: number;
  readonly low: number;
  readonly high: number;
}

export interface OffPolicyEstimates {
  readonly n: number;
  /** The mean reward of the policy that ran (the log itself). */
  readonly onPolicy: Estimate;
  readonly ips: Estimate;
  readonly snips: Estimate;
  readonly dr: Estimate;
  /** Target − the policy that ran, paired per recovery. */
  readonly gain: { readonly ips: Estimate; readonly snips: Estimate; readonly dr: Estimate };
  /** (Σw)² / Σw²: how many recoveries the weighted estimate is worth. */
  readonly effectiveSampleSize: number;
  readonly meanWeight: number;
  readonly maxWeight: number;
  /** Recoveries whose logged action the target would also take (w > 0). */
  readonly matched: number;
}

/** z of a two-sided 95 % normal interval. */
export const Z95 = 1.959963984540054;

function meanAndSe(terms: readonly number[]): { mean: number; se: number } {
  const n = terms.length;
  const mean = terms.reduce((a, b) => a + b, 0) / n;
  const variance = n > 1 ? terms.reduce((a, t) => a + (t - mean) ** 2, 0) / (n - 1) : 0;
  return { mean, se: Math.sqrt(variance / n) };
}

function estimate(value: number, se: number, z: number): Estimate {
  return { value, standardError: se, low: value - z * se, high: value + z * se };
}

function fromTerms(terms: readonly number[], z: number): Estimate {
  const { mean, se } = meanAndSe(terms);
  return estimate(mean, se, z);
}

export function offPolicyEstimates(
  samples: readonly OffPolicySample[],
  options: { z?: number } = {},
): OffPolicyEstimates {
  const z = options.z ?? Z95;
  const n = samples.length;
  if (n < 2) throw new RangeError('an off-policy estimate needs at least 2 samples');
  for (const [i, s] of samples.entries()) {
    if (!(s.loggedPropensity > 0 && s.loggedPropensity <= 1)) {
      throw new RangeError(`samples[${i}].loggedPropensity must be in (0, 1]`);
    }
    if (!(s.targetProbability >= 0 && s.targetProbability <= 1)) {
      throw new RangeError(`samples[${i}].targetProbability must be in [0, 1]`);
    }
    if (!Number.isFinite(s.reward)) throw new RangeError(`samples[${i}].reward must be a finite number`);
  }
  const w = samples.map((s) => s.targetProbability / s.loggedPropensity);
  const r = samples.map((s) => s.reward);
  const sumW = w.reduce((a, b) => a + b, 0);
  const sumW2 = w.reduce((a, b) => a + b * b, 0);
  const onTerms = r;
  const ipsTerms = r.map((ri, i) => w[i] * ri);
  const drTerms = samples.map((s, i) => s.predictedTarget + w[i] * (s.reward - s.predictedLogged));
  const on = meanAndSe(onTerms);
  const meanW = sumW / n;
  let snips: Estimate;
  let snipsGain: Estimate;
  if (sumW > 0) {
    const v = ipsTerms.reduce((a, b) => a + b, 0) / sumW;
    const psi = r.map((ri, i) => (w[i] * (ri - v)) / meanW);
    const se = Math.sqrt(psi.reduce((a, p) => a + p * p, 0) / (n * (n - 1)));
    snips = estimate(v, se, z);
    const gainTerms = psi.map((p, i) => p - (r[i] - on.mean));
    const gse = Math.sqrt(gainTerms.reduce((a, g) => a + g * g, 0) / (n * (n - 1)));
    snipsGain = estimate(v - on.mean, gse, z);
  } else {
    snips = { value: Number.NaN, standardError: Number.NaN, low: Number.NaN, high: Number.NaN };
    snipsGain = snips;
  }
  return {
    n,
    onPolicy: estimate(on.mean, on.se, z),
    ips: fromTerms(ipsTerms, z),
    snips,
    dr: fromTerms(drTerms, z),
    gain: {
      ips: fromTerms(
        ipsTerms.map((t, i) => t - onTerms[i]),
        z,
      ),
      snips: snipsGain,
      dr: fromTerms(
        drTerms.map((t, i) => t - onTerms[i]),
        z,
      ),
    },
    effectiveSampleSize: sumW2 > 0 ? (sumW * sumW) / sumW2 : 0,
    meanWeight: meanW,
    maxWeight: w.reduce((a, b) => Math.max(a, b), 0),
    matched: w.filter((x) => x > 0).length,
  };
}

/** One logged row a reward model learns from: the action taken, a scale (the cart value) and the reward. */
export interface RewardRow {
  readonly action: string;
  readonly scale: number;
  readonly reward: number;
}

export interface RewardModel {
  /** Expected reward of `action` for a recovery of this scale. */
  predict(action: string, scale: number): number;
}

/**
 * The reward model the DR estimate uses: per action, reward per unit of scale (net revenue per
 * unit of cart value), Σ r / Σ scale over the action's rows, shrunk towards the pooled ratio of all
 * actions with `pseudoRows` rows of average scale; an action never seen gets the pooled ratio.
 */
export function fitRatioRewardModel(rows: readonly RewardRow[], options: { pseudoRows?: number } = {}): RewardModel {
  const pseudo = options.pseudoRows ?? 10;
  let sumR = 0;
  let sumS = 0;
  const by = new Map<string, { r: number; s: number }>();
  for (const row of rows) {
    const scale = Math.max(0, row.scale);
    sumR += row.reward;
    sumS += scale;
    const a = by.get(row.action) ?? { r: 0, s: 0 };
    a.r += row.reward;
    a.s += scale;
    by.set(row.action, a);
  }
  const pooled = sumS > 0 ? sumR / sumS : 0;
  const meanScale = rows.length > 0 ? sumS / rows.length : 0;
  const ratios = new Map<string, number>();
  for (const [action, a] of by) {
    const denominator = a.s + pseudo * meanScale;
    ratios.set(action, denominator > 0 ? (a.r + pseudo * meanScale * pooled) / denominator : pooled);
  }
  return { predict: (action, scale) => Math.max(0, scale) * (ratios.get(action) ?? pooled) };
}

/**
 * Cross-fitting: `folds` models, each fitted on the rows outside its fold (row i is in fold
 * `i mod folds`); `modelFor(i)` is the one that never saw row i.
 */
export function crossFitted(
  rows: readonly RewardRow[],
  fit: (rows: readonly RewardRow[]) => RewardModel,
  folds = 2,
): { readonly modelFor: (index: number) => RewardModel } {
  if (!Number.isInteger(folds) || folds < 2) throw new RangeError('folds must be an integer ≥ 2');
  const models = Array.from({ length: folds }, (_, f) => fit(rows.filter((_row, i) => i % folds !== f)));
  return { modelFor: (index) => models[index % folds] };
}

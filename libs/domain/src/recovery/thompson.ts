/**
 * Thompson sampling over a step's variants (RFC 0016). Pure: randomness is an injected uniform
 * source, the evidence comes in as data (the application reads it from the engine's index of
 * settled assignments), nothing here reads a clock.
 *
 * The reward of a recovery is its net revenue (./reward.ts): 0 when not recovered, else the
 * attributed order's revenue less the discount it used. It is modelled in two parts:
 *
 * - recovered ~ Bernoulli(p), p ~ Beta(1 + recovered, 1 + settled − recovered);
 * - net revenue given recovery ~ Normal(μ, 1/τ) with a Normal–Gamma prior on (μ, τ) centred on the
 *   experiment's pooled mean (one pseudo-observation), so an arm with no recovery yet borrows the
 *   other arms' scale instead of assuming 0;
 *
 * and an arm's expected reward is θ = p · μ. One Thompson draw samples θ of every eligible arm and
 * takes the largest. The propensity of the chosen arm is the probability that this procedure picks
 * it, estimated by Monte-Carlo from a seeded source (so a replay with the recorded seed gets the
 * same number); it is also the arm's posterior probability of being best.
 */

// The sampling loops below call these millions of times per evaluation: bound once here rather
// than looked up on the global object at each call (a global look-up is many times slower inside
// a vm context, which is where the test runner executes this code).
const { imul, sqrt, log, pow } = Math;
const isFiniteNumber = Number.isFinite;

/** A uniform number in [0, 1). */
export type UniformSource = () => number;

/**
 * A seeded uniform source (mulberry32: 32-bit state, full period 2^32, good enough for sampling
 * and statistically checked in the tests); the same seed gives the same sequence.
 */
export function seededUniform(seed: number): UniformSource {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = imul(t ^ (t >>> 15), t | 1);
    t ^= t + imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A 32-bit seed from text (FNV-1a), to derive independent streams from one recorded seed. */
export function seedOf(text: string, base = 0x811c9dc5): number {
  let h = base >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** Standard normal (Marsaglia's polar method). */
export function sampleStandardNormal(u: UniformSource): number {
  for (;;) {
    const x = 2 * u() - 1;
    const y = 2 * u() - 1;
    const s = x * x + y * y;
    if (s > 0 && s < 1) return x * sqrt((-2 * log(s)) / s);
  }
}

/** Gamma(shape, rate = 1) by Marsaglia & Tsang (2000); shape < 1 by the U^(1/shape) boost. */
export function sampleGamma(shape: number, u: UniformSource): number {
  if (!(shape > 0) || !isFiniteNumber(shape)) throw new RangeError(`gamma shape must be positive, got ${shape}`);
  if (shape < 1) {
    const boost = pow(1 - u(), 1 / shape);
    return sampleGamma(shape + 1, u) * boost;
  }
  const d = shape - 1 / 3;
  const c = 1 / sqrt(9 * d);
  for (;;) {
    let x: number;
    let v: number;
    do {
      x = sampleStandardNormal(u);
      v = 1 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const w = 1 - u();
    if (w < 1 - 0.0331 * x * x * x * x) return d * v;
    if (log(w) < 0.5 * x * x + d * (1 - v + log(v))) return d * v;
  }
}

/** Beta(a, b) as X / (X + Y) of two gammas. */
export function sampleBeta(a: number, b: number, u: UniformSource): number {
  const x = sampleGamma(a, u);
  const y = sampleGamma(b, u);
  return x / (x + y);
}

/** What is known about one variant: settled recoveries only (recovered, or attribution window closed). */
export interface ArmEvidence {
  readonly variantId: string;
  /** Assignments whose reward is known. */
  readonly settled: number;
  /** Of those, recovered (an order attributed within the window). */
  readonly recovered: number;
  /** Sum of the recovered ones' net revenue (shop currency). */
  readonly netRevenue: number;
  /** Sum of their squares (for the variance of the net revenue given recovery). */
  readonly netRevenueSquares: number;
}

export interface ArmPosterior {
  readonly variantId: string;
  /** Beta posterior of the recovery rate. */
  readonly alpha: number;
  readonly beta: number;
  /** Normal–Gamma posterior of the net revenue given recovery: mean μn, κn, shape an, rate bn. */
  readonly valueMean: number;
  readonly kappa: number;
  readonly shape: number;
  readonly rate: number;
  /** Posterior mean of the expected reward per recovery, E[p]·E[μ]. */
  readonly meanReward: number;
}

/** The shared prior of an experiment's arms: the pooled net revenue given recovery, one pseudo-observation. */
export interface ValuePrior {
  readonly mean: number;
  readonly variance: number;
}

function check(arm: ArmEvidence): void {
  const ok =
    Number.isInteger(arm.settled) &&
    Number.isInteger(arm.recovered) &&
    arm.settled >= 0 &&
    arm.recovered >= 0 &&
    arm.recovered <= arm.settled &&
    Number.isFinite(arm.netRevenue) &&
    Number.isFinite(arm.netRevenueSquares) &&
    arm.netRevenueSquares >= 0;
  if (!ok) throw new RangeError(`evidence of variant ${arm.variantId} is inconsistent`);
}

/** Pooled mean and variance of the recovered net revenue of all arms; a weak scale when there is none. */
export function valuePrior(arms: readonly ArmEvidence[]): ValuePrior {
  const n = arms.reduce((s, a) => s + a.recovered, 0);
  const sum = arms.reduce((s, a) => s + a.netRevenue, 0);
  const squares = arms.reduce((s, a) => s + a.netRevenueSquares, 0);
  if (n === 0) return { mean: 1, variance: 1 };
  const mean = sum / n;
  const variance = n >= 2 ? Math.max((squares - n * mean * mean) / (n - 1), 0) : 0;
  // Never a zero variance: a quarter of the mean squared (or 1) when the recoveries agree exactly.
  return { mean, variance: variance > 0 ? variance : Math.max((mean * mean) / 4, 1) };
}

/** Conjugate updates of both parts from the evidence. */
export function posteriorOf(arm: ArmEvidence, prior: ValuePrior): ArmPosterior {
  check(arm);
  const alpha = 1 + arm.recovered;
  const beta = 1 + arm.settled - arm.recovered;
  const n = arm.recovered;
  const kappa0 = 1;
  const a0 = 1;
  const b0 = a0 * prior.variance;
  const xbar = n > 0 ? arm.netRevenue / n : 0;
  const ss = n > 0 ? Math.max(arm.netRevenueSquares - n * xbar * xbar, 0) : 0;
  const kappa = kappa0 + n;
  const valueMean = (kappa0 * prior.mean + n * xbar) / kappa;
  const shape = a0 + n / 2;
  const rate = b0 + ss / 2 + (kappa0 * n * (xbar - prior.mean) ** 2) / (2 * kappa);
  return {
    variantId: arm.variantId,
    alpha,
    beta,
    valueMean,
    kappa,
    shape,
    rate,
    meanReward: (alpha / (alpha + beta)) * valueMean,
  };
}

/** Posteriors of all arms under their shared prior. */
export function posteriorsOf(arms: readonly ArmEvidence[]): ArmPosterior[] {
  const prior = valuePrior(arms);
  return arms.map((a) => posteriorOf(a, prior));
}

/** One draw of an arm's expected reward θ = p · μ. */
export function sampleReward(p: ArmPosterior, u: UniformSource): number {
  const rate = sampleBeta(p.alpha, p.beta, u);
  const tau = sampleGamma(p.shape, u) / p.rate;
  const mu = p.valueMean + sampleStandardNormal(u) / sqrt(p.kappa * tau);
  return rate * mu;
}

/** One Thompson choice: the arm whose sampled reward is the largest (the first on a tie). */
export function thompsonChoice(posteriors: readonly ArmPosterior[], u: UniformSource): number {
  if (posteriors.length === 0) throw new RangeError('no arm to choose from');
  let best = 0;
  let bestValue = -Infinity;
  posteriors.forEach((p, i) => {
    const v = sampleReward(p, u);
    if (v > bestValue) {
      bestValue = v;
      best = i;
    }
  });
  return best;
}

/**
 * Each arm's probability of being best (= of being chosen by one Thompson draw), by `draws`
 * Monte-Carlo draws: (wins + 1) / (draws + arms), never 0, so an inverse-propensity weight is
 * always finite; the estimates add up to 1.
 */
export function probabilityBest(posteriors: readonly ArmPosterior[], u: UniformSource, draws: number): number[] {
  if (!Number.isInteger(draws) || draws < 1) throw new RangeError('draws must be a positive integer');
  const wins = new Array<number>(posteriors.length).fill(0);
  for (let d = 0; d < draws; d++) wins[thompsonChoice(posteriors, u)]++;
  return wins.map((w) => (w + 1) / (draws + posteriors.length));
}

/** Beta(1 + events, 1 + trials − events)'s probability of exceeding `threshold`, by Monte-Carlo. */
export function probabilityRateAbove(
  events: number,
  trials: number,
  threshold: number,
  u: UniformSource,
  draws: number,
): number {
  let above = 0;
  for (let d = 0; d < draws; d++) if (sampleBeta(1 + events, 1 + trials - events, u) > threshold) above++;
  return above / draws;
}

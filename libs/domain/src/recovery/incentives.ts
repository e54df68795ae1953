/**
 * Discounts only where they pay (RFC 0017). A recovery that reaches its first step whose
 * definition carries a discount gets one incentive level for every such step:
 *
 * - `fixed` policy: the ladder as the sequence defines it (today's behaviour), propensity 1;
 * - `learned` policy: with probability `explorationPercent` an arm drawn uniformly among the
 *   ladder's levels including 0 % and the fixed ladder itself (each step its own percent, mode
 *   `ladder`; only when the ladder offers more than one percent, else it is one of the levels) —
 *   the randomised incentive arms; otherwise the level of highest expected incremental profit for
 *   the recovery's segment — none (0 %) where no level pays. The ladder arm keeps today's fixed
 *   rules in the log, so a backtest can evaluate them on a learned log (RFC 0019); it is no level,
 *   so its outcomes are not evidence of any level.
 *
 * The expected incremental profit of level ℓ (a fraction d = ℓ/100 off the cart value V, the
 * shop's gross margin m) against offering nothing:
 *
 *     E[π(ℓ)] = p̂ℓ · (m·V − d·V) − p̂0 · m·V
 *
 * where p̂ℓ is the posterior mean of P(recover | level ℓ, segment). π is linear in the
 * probabilities, so its posterior expectation is exactly the value at the posterior means. Each
 * level's P(recover) has a Beta posterior: the prior is the segment's pooled recovery rate over
 * all levels with weight `priorStrength` (so with no evidence every level looks alike and no
 * discount pays), updated with the level's final outcomes (reward.ts: a recovery counts once
 * recovered within the attribution window, or once the window closed). Pure: the evidence and the
 * random draw come in as data.
 */
import Decimal from 'decimal.js';
import { isDecimalString } from './money';
import { RecoveryInputError } from './time';
import type { DecimalString } from './types';

export type DiscountPolicy = 'fixed' | 'learned';
export const DISCOUNT_POLICIES: readonly DiscountPolicy[] = ['fixed', 'learned'];

/** When a customer counts as a code farmer (./code-farming.ts). */
export interface CodeFarmingSettings {
  readonly enabled: boolean;
  /** Purchases made with a recovery code (abandon → code → order with that code) within the window. */
  readonly minCodePurchases: number;
  /** Only code purchases and orders within this many days count. */
  readonly windowDays: number;
  /** …and at least this share (0–1) of the customer's orders in the window used a recovery code. */
  readonly minCodeOrderShare: number;
}

export interface IncentiveSettings {
  /** `fixed`: the sequence's ladder; `learned`: randomised arms and incremental profit. */
  readonly policy: DiscountPolicy;
  /** Gross margin of the shop's goods, percent of the price (what a full-price order earns). */
  readonly marginPercent: number;
  /** Share (0–100) of learned choices drawn uniformly among the levels (the randomised arms). */
  readonly explorationPercent: number;
  /** Weight of the segment's pooled recovery rate in each level's Beta prior, in recoveries. */
  readonly priorStrength: number;
  readonly codeFarming: CodeFarmingSettings;
}

export const DEFAULT_INCENTIVE_SETTINGS: IncentiveSettings = {
  policy: 'fixed',
  marginPercent: 40,
  explorationPercent: 20,
  priorStrength: 10,
  codeFarming: { enabled: true, minCodePurchases: 2, windowDays: 180, minCodeOrderShare: 0.5 },
};

/** Final outcomes of one level in one segment (pending ones are not counted). */
export interface LevelTally {
  readonly percent: number;
  readonly assigned: number;
  readonly recovered: number;
}

/** What the shop's log says about a segment's incentive levels (learned policy). */
export interface IncentiveEvidence {
  readonly segment: string;
  readonly levels: readonly LevelTally[];
}

export interface LevelPosterior {
  readonly percent: number;
  readonly assigned: number;
  readonly recovered: number;
  /** Posterior mean of P(recover | level). */
  readonly rate: number;
  /** Posterior mean of P(recover | level) − P(recover | 0 %). */
  readonly uplift: number;
  /** 95 % interval of the uplift (normal approximation of the difference of the two Beta posteriors). */
  readonly upliftLow: number;
  readonly upliftHigh: number;
}

/**
 * How the incentive was chosen: `fixed` (the fixed policy: each discount step its own percent),
 * `ladder` (the learned policy's exploration drew the fixed ladder: each step its own percent),
 * `explore` (a level drawn uniformly), `exploit` (the most profitable level).
 */
export type IncentiveMode = 'explore' | 'exploit' | 'fixed' | 'ladder';

/** Each discount step its own percent (the sequence's ladder) rather than one level for all of them. */
export const playsLadder = (mode: IncentiveMode): boolean => mode === 'fixed' || mode === 'ladder';

/** What the recovery's discount steps offer once its incentive is chosen. */
export interface RecoveryIncentive {
  readonly step: number;
  /** The level on every discount step; for `fixed` / `ladder`, the percent of the step it was chosen at. */
  readonly percent: number;
  readonly mode: IncentiveMode;
  readonly propensity: number;
  readonly reason: string;
}

export interface IncentiveChoice {
  readonly percent: number;
  /** Probability that this level was chosen under the policy at that moment (1 for `fixed`). */
  readonly propensity: number;
  readonly mode: IncentiveMode;
  readonly segment: string;
  /** Per level (percent as text): the expected incremental profit, `null` when the cart value is unknown. */
  readonly expectedIncrementalProfit: Readonly<Record<string, DecimalString | null>>;
  /** In words, for the customer history. */
  readonly reason: string;
  /** The posteriors the choice used (learned policy). */
  readonly posteriors?: readonly LevelPosterior[];
  /** The levels the policy chose among. */
  readonly levels: readonly number[];
  /** The uniform draw in [0, 1) the choice used (learned policy). */
  readonly draw?: number;
  /**
   * The policy's whole distribution over the arms at this choice ({@link incentiveArmKey}: `0 %`,
   * `5 %`, …, `ladder`), unrounded: what a backtest needs to know which arms the log could have taken.
   */
  readonly probabilities?: Readonly<Record<string, number>>;
}

/** The shop's ladder as levels: 0 % and every distinct percent the sequence's steps offer, ascending. */
export function incentiveLevels(ladder: readonly number[]): number[] {
  for (const [i, p] of ladder.entries()) {
    if (!Number.isInteger(p) || p < 0 || p > 90) {
      throw new RecoveryInputError(`ladder[${i}] must be an integer percent from 0 to 90`);
    }
  }
  return [...new Set([0, ...ladder])].sort((a, b) => a - b);
}

function checkSettings(s: IncentiveSettings): void {
  if (!(s.marginPercent > 0 && s.marginPercent <= 100)) {
    throw new RecoveryInputError('incentives.marginPercent must be a number above 0 and at most 100');
  }
  if (!(s.explorationPercent >= 0 && s.explorationPercent <= 100)) {
    throw new RecoveryInputError('incentives.explorationPercent must be a number from 0 to 100');
  }
  if (!(s.priorStrength >= 0)) throw new RecoveryInputError('incentives.priorStrength must be at least 0');
}

/**
 * Each level's Beta posterior, shrunk to the segment's pooled rate (Beta(1, 1) over the pooled
 * outcomes), and its uplift over 0 % with a 95 % interval.
 */
export function levelPosteriors(
  levels: readonly number[],
  evidence: IncentiveEvidence | undefined,
  priorStrength: number,
): LevelPosterior[] {
  const tallies = new Map<number, LevelTally>();
  for (const [i, t] of (evidence?.levels ?? []).entries()) {
    if (
      !Number.isInteger(t.assigned) ||
      !Number.isInteger(t.recovered) ||
      t.recovered < 0 ||
      t.recovered > t.assigned
    ) {
      throw new RecoveryInputError(`evidence.levels[${i}] must have 0 ≤ recovered ≤ assigned (integers)`);
    }
    const prev = tallies.get(t.percent);
    tallies.set(t.percent, {
      percent: t.percent,
      assigned: t.assigned + (prev?.assigned ?? 0),
      recovered: t.recovered + (prev?.recovered ?? 0),
    });
  }
  let n = 0;
  let r = 0;
  for (const l of levels) {
    n += tallies.get(l)?.assigned ?? 0;
    r += tallies.get(l)?.recovered ?? 0;
  }
  const pooled = (r + 1) / (n + 2);
  const a0 = priorStrength * pooled;
  const b0 = priorStrength * (1 - pooled);
  const post = levels.map((percent) => {
    const t = tallies.get(percent);
    const assigned = t?.assigned ?? 0;
    const recovered = t?.recovered ?? 0;
    // With priorStrength 0 and no evidence of the level, the uniform prior keeps the posterior proper.
    const proper = a0 + b0 + assigned > 0;
    const a = proper ? a0 + recovered : 1;
    const b = proper ? b0 + assigned - recovered : 1;
    const mean = a / (a + b);
    const variance = (a * b) / ((a + b) ** 2 * (a + b + 1));
    return { percent, assigned, recovered, mean, variance };
  });
  const zero = post.find((p) => p.percent === 0) ?? post[0];
  return post.map((p) => {
    const uplift = p.mean - zero.mean;
    const sd = p.percent === zero.percent ? 0 : Math.sqrt(p.variance + zero.variance);
    return {
      percent: p.percent,
      assigned: p.assigned,
      recovered: p.recovered,
      rate: p.mean,
      uplift,
      upliftLow: uplift - 1.96 * sd,
      upliftHigh: uplift + 1.96 * sd,
    };
  });
}

/**
 * E[π(ℓ)] = p̂ℓ·(m·V − d·V) − p̂0·m·V for each level (0 % is 0 by construction); `undefined`
 * when the cart value is not a decimal.
 */
export function expectedIncrementalProfits(
  posteriors: readonly LevelPosterior[],
  cartValue: DecimalString,
  marginPercent: number,
): Map<number, Decimal> | undefined {
  if (!isDecimalString(cartValue)) return undefined;
  const v = new Decimal(cartValue);
  const m = new Decimal(marginPercent).div(100);
  const p0 = new Decimal((posteriors.find((p) => p.percent === 0) ?? posteriors[0]).rate);
  const out = new Map<number, Decimal>();
  for (const p of posteriors) {
    const d = new Decimal(p.percent).div(100);
    const profit =
      p.percent === 0 ? new Decimal(0) : new Decimal(p.rate).mul(m.minus(d).mul(v)).minus(p0.mul(m).mul(v));
    out.set(p.percent, profit);
  }
  return out;
}

function profitsRecord(levels: readonly number[], profits: Map<number, Decimal> | undefined) {
  return Object.fromEntries(levels.map((l) => [String(l), profits?.get(l)?.toFixed(2) ?? null]));
}

export interface IncentiveInput {
  /** The percents the recovery's sequence offers on its steps (the shop's ladder). */
  readonly ladder: readonly number[];
  /** The percent of the step the choice is made at (what `fixed` offers first). */
  readonly stepPercent: number;
  readonly cartValue: DecimalString;
  readonly segment: string;
  readonly settings: IncentiveSettings;
  /** Final outcomes per level of the segment (learned policy). */
  readonly evidence?: IncentiveEvidence;
  /** A uniform draw in [0, 1) (learned policy). */
  readonly draw?: number;
}

const pct = (levels: readonly number[]) => levels.map((l) => `${l}`).join(', ') + ' %';

/** An incentive arm: one level on every discount step, or the ladder (each step its own percent). */
export type IncentiveArm = { readonly kind: 'level'; readonly percent: number } | { readonly kind: 'ladder' };

export const incentiveArmKey = (arm: IncentiveArm): string => (arm.kind === 'ladder' ? 'ladder' : `${arm.percent} %`);

/** Whether the ladder is an arm of its own: its discount steps offer more than one percent. */
export function ladderIsArm(ladder: readonly number[]): boolean {
  return new Set(ladder.filter((p) => p > 0)).size > 1;
}

export interface IncentivePolicyView {
  readonly levels: readonly number[];
  /** The learned policy's exploration arms, in draw order (levels ascending, then the ladder). */
  readonly arms: readonly IncentiveArm[];
  /** Probability of each arm (its key), exact; they add up to 1. */
  readonly probabilities: ReadonlyMap<string, number>;
  /** The exploit level (learned), `undefined` for the fixed policy. */
  readonly best?: number;
  readonly posteriors?: readonly LevelPosterior[];
  readonly profits?: Map<number, Decimal>;
}

/**
 * The policy's distribution over the incentive arms at one choice, before the draw: `fixed`, the
 * ladder with probability 1; `learned`, ε/n on each of the n exploration arms and 1 − ε more on
 * the exploit level. What `chooseIncentive` draws from and what a backtest weighs with.
 */
export function incentiveDistribution(input: Omit<IncentiveInput, 'draw' | 'stepPercent'>): IncentivePolicyView {
  const { settings } = input;
  checkSettings(settings);
  const levels = incentiveLevels(input.ladder);
  if (settings.policy === 'fixed') {
    return { levels, arms: [{ kind: 'ladder' }], probabilities: new Map([['ladder', 1]]) };
  }
  const posteriors = levelPosteriors(levels, input.evidence, settings.priorStrength);
  const profits = expectedIncrementalProfits(posteriors, input.cartValue, settings.marginPercent);
  // Exploit: the highest expected incremental profit; 0 % (profit 0) wins unless a level pays; ties → the smaller level.
  let best = 0;
  let bestProfit = new Decimal(0);
  for (const l of levels) {
    const p = profits?.get(l);
    if (p !== undefined && p.gt(bestProfit)) {
      best = l;
      bestProfit = p;
    }
  }
  const arms: IncentiveArm[] = levels.map((percent) => ({ kind: 'level', percent }));
  if (ladderIsArm(input.ladder)) arms.push({ kind: 'ladder' });
  const eps = settings.explorationPercent / 100;
  const probabilities = new Map<string, number>();
  for (const arm of arms) {
    const exploit = arm.kind === 'level' && arm.percent === best ? 1 - eps : 0;
    probabilities.set(incentiveArmKey(arm), eps / arms.length + exploit);
  }
  return { levels, arms, probabilities, best, posteriors, profits };
}

/** The recovery's incentive level: the ladder (`fixed`), or explore / exploit as described above. */
export function chooseIncentive(input: IncentiveInput): IncentiveChoice {
  const { settings } = input;
  const view = incentiveDistribution(input);
  const { levels } = view;
  if (settings.policy === 'fixed') {
    return {
      percent: input.stepPercent,
      propensity: 1,
      mode: 'fixed',
      segment: input.segment,
      expectedIncrementalProfit: profitsRecord(levels, undefined),
      reason: `fixed ladder (${pct(levels)})`,
      levels,
      probabilities: Object.fromEntries(view.probabilities),
    };
  }
  const draw = input.draw;
  if (draw === undefined || !(draw >= 0 && draw < 1)) {
    throw new RecoveryInputError('draw must be in [0, 1) for the learned discount policy');
  }
  const { arms, profits } = view;
  const best = view.best ?? 0;
  const eps = settings.explorationPercent / 100;
  const explore = draw < eps;
  const arm: IncentiveArm = explore
    ? arms[Math.min(arms.length - 1, Math.floor((draw / eps) * arms.length))]
    : { kind: 'level', percent: best };
  const ladder = arm.kind === 'ladder';
  const percent = arm.kind === 'ladder' ? input.stepPercent : arm.percent;
  const propensity = view.probabilities.get(incentiveArmKey(arm)) ?? 0;
  const record = profitsRecord(levels, profits);
  const money = (l: number) => record[String(l)] ?? 'unknown';
  const among = `${pct(levels)}${arms.length > levels.length ? ' and the ladder' : ''}`;
  let reason: string;
  if (ladder) {
    reason = `explore: the fixed ladder (each discount step its own percent) drawn uniformly among ${among} (${settings.explorationPercent} % of choices)`;
  } else if (explore) {
    reason = `explore: ${percent} % drawn uniformly among ${among} (${settings.explorationPercent} % of choices)`;
  } else if (profits === undefined) {
    reason = 'exploit: the cart value is unknown, so no level can be shown to pay';
  } else if (best === 0) {
    const top = [...levels].filter((l) => l > 0).sort((a, b) => profits.get(b)!.cmp(profits.get(a)!))[0];
    reason =
      top === undefined
        ? 'exploit: the ladder offers no discount'
        : `exploit: no level pays for segment ${input.segment} (best ${top} %: ${money(top)})`;
  } else {
    reason = `exploit: ${best} % has the highest expected incremental profit for segment ${input.segment} (${money(best)})`;
  }
  return {
    percent,
    propensity: Math.round(propensity * 1e6) / 1e6,
    mode: ladder ? 'ladder' : explore ? 'explore' : 'exploit',
    segment: input.segment,
    expectedIncrementalProfit: record,
    reason,
    ...(view.posteriors !== undefined ? { posteriors: view.posteriors } : {}),
    levels,
    draw,
    probabilities: Object.fromEntries(view.probabilities),
  };
}

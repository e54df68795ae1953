/**
 * Lift of the recovery sequences: treated vs holdout, per shop × segment × sequence. Pure
 * statistics over per-arm sums (from `read.lift_arms`); the money inputs are decimal strings and
 * the results are rounded decimal strings. Intervals are 95 % normal approximations: for the
 * recovery rate the difference of two proportions, for revenue per abandoned cart Welch's
 * unpooled standard error with each arm's sample variance.
 */
export interface ArmSums {
  /** Abandoned carts (started recoveries) in the arm. */
  readonly carts: number;
  readonly recovered: number;
  /** Σ revenue per cart and Σ revenue² (decimal strings). */
  readonly revenue: string;
  readonly revenueSq: string;
  /** Σ discount cost. */
  readonly discountCost: string;
  /** Σ (revenue − discount cost) and Σ (revenue − discount cost)². */
  readonly net: string;
  readonly netSq: string;
}

/** An arm without carts. */
export const EMPTY_ARM_SUMS: ArmSums = {
  carts: 0,
  recovered: 0,
  revenue: '0',
  revenueSq: '0',
  discountCost: '0',
  net: '0',
  netSq: '0',
};

/** An arm's sums as the SQL selects them (snake_case, decimal strings). */
export interface ArmSumsRow {
  readonly carts: number;
  readonly recovered: number;
  readonly revenue: string;
  readonly revenue_sq: string;
  readonly discount_cost: string;
  readonly net: string;
  readonly net_sq: string;
}

export function armSumsOf(r: ArmSumsRow): ArmSums {
  return {
    carts: r.carts,
    recovered: r.recovered,
    revenue: r.revenue,
    revenueSq: r.revenue_sq,
    discountCost: r.discount_cost,
    net: r.net,
    netSq: r.net_sq,
  };
}

export interface Interval {
  readonly estimate: number;
  readonly low: number;
  readonly high: number;
}

export type LiftResult =
  | {
      readonly status: 'not enough data yet';
      readonly treatedCarts: number;
      readonly holdoutCarts: number;
      readonly minimum: number;
    }
  | {
      readonly status: 'ok';
      readonly treatedCarts: number;
      readonly holdoutCarts: number;
      readonly treatedRecoveryRate: number;
      readonly holdoutRecoveryRate: number;
      /** Difference of recovery rates (treated − holdout). */
      readonly recoveryRateLift: Interval;
      readonly treatedRevenuePerCart: number;
      readonly holdoutRevenuePerCart: number;
      readonly revenuePerCartLift: Interval;
      /** Revenue per abandoned cart net of discount cost, treated − holdout. */
      readonly netRevenuePerCartLift: Interval;
      /** netRevenuePerCartLift × treated carts: the incremental net revenue of the treated arm. */
      readonly incrementalNetRevenue: Interval;
    };

export const Z95 = 1.959963984540054;
export const DEFAULT_MIN_SAMPLE = 30;

export function proportionDifference(x1: number, n1: number, x2: number, n2: number, z = Z95): Interval {
  const p1 = x1 / n1;
  const p2 = x2 / n2;
  const se = Math.sqrt((p1 * (1 - p1)) / n1 + (p2 * (1 - p2)) / n2);
  const d = p1 - p2;
  return { estimate: d, low: d - z * se, high: d + z * se };
}

/** Sample variance from n, Σx and Σx² (n − 1 in the denominator; 0 for n < 2). */
export function sampleVariance(n: number, sum: number, sumSq: number): number {
  if (n < 2) return 0;
  return Math.max(0, (sumSq - (sum * sum) / n) / (n - 1));
}

export function meanDifference(
  a: { n: number; sum: number; sumSq: number },
  b: { n: number; sum: number; sumSq: number },
  z = Z95,
): Interval {
  const d = a.sum / a.n - b.sum / b.n;
  const se = Math.sqrt(sampleVariance(a.n, a.sum, a.sumSq) / a.n + sampleVariance(b.n, b.sum, b.sumSq) / b.n);
  return { estimate: d, low: d - z * se, high: d + z * se };
}

export function lift(treated: ArmSums, holdout: ArmSums, minimum = DEFAULT_MIN_SAMPLE): LiftResult {
  if (treated.carts < minimum || holdout.carts < minimum) {
    return { status: 'not enough data yet', treatedCarts: treated.carts, holdoutCarts: holdout.carts, minimum };
  }
  const arm = (s: ArmSums, net: boolean) => ({
    n: s.carts,
    sum: Number(net ? s.net : s.revenue),
    sumSq: Number(net ? s.netSq : s.revenueSq),
  });
  const netLift = meanDifference(arm(treated, true), arm(holdout, true));
  return {
    status: 'ok',
    treatedCarts: treated.carts,
    holdoutCarts: holdout.carts,
    treatedRecoveryRate: treated.recovered / treated.carts,
    holdoutRecoveryRate: holdout.recovered / holdout.carts,
    recoveryRateLift: proportionDifference(treated.recovered, treated.carts, holdout.recovered, holdout.carts),
    treatedRevenuePerCart: Number(treated.revenue) / treated.carts,
    holdoutRevenuePerCart: Number(holdout.revenue) / holdout.carts,
    revenuePerCartLift: meanDifference(arm(treated, false), arm(holdout, false)),
    netRevenuePerCartLift: netLift,
    incrementalNetRevenue: {
      estimate: netLift.estimate * treated.carts,
      low: netLift.low * treated.carts,
      high: netLift.high * treated.carts,
    },
  };
}

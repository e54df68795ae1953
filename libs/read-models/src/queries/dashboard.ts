/**
 * The dashboard's queries over schema `read` (docs/analytics.md). Every answer is aggregated or
 * keyed by the pseudonymous customer key: no contact details. A period is a range of days
 * (inclusive) in the shop's time zone, the same cohort rule as `read.daily_funnel`: a recovery
 * belongs to the day of its first abandonment.
 */
import type { Pool } from 'pg';
import { BACK_IN_STOCK_FIRST_STEP, RECOVERY_ARMS, type RecoveryArm } from '@reclaim/domain';
import {
  DEFAULT_MIN_SAMPLE,
  lift,
  proportionDifference,
  armSumsOf,
  EMPTY_ARM_SUMS,
  type ArmSums,
  type Interval,
  type LiftResult,
} from '../lift/lift';

type Queryable = Pick<Pool, 'query'>;

export interface DashboardPeriod {
  /** One shop, or several (the all-shops view). */
  readonly shopIds: readonly string[];
  /** First and last day, `YYYY-MM-DD`, inclusive, in the shop's time zone. */
  readonly from: string;
  readonly to: string;
}

export interface ArmKpis {
  readonly carts: number;
  readonly recovered: number;
  /** recovered / carts; null without carts. */
  readonly recoveryRate: number | null;
  /** Carts bought within 30 days of their first abandonment (a purchase later is not counted). */
  readonly recoveredWithin30Days: number;
  /** recoveredWithin30Days / carts; null without carts. */
  readonly recoveryRateWithin30Days: number | null;
  /** Carts of the period whose 30 days are not over yet (their count may still grow). */
  readonly cartsStillInWindow: number;
  /** Order totals of the recovered carts (decimal string, shop currency). */
  readonly recoveredRevenue: string;
  readonly discountCost: string;
  /** recoveredRevenue / recovered; null without recoveries. */
  readonly revenuePerRecoveredCart: string | null;
  /** From first abandonment to the purchase, over the recovered carts (seconds). */
  readonly medianSecondsToRecovery: number | null;
  readonly meanSecondsToRecovery: number | null;
}

export interface DashboardKpis {
  readonly period: DashboardPeriod;
  readonly currency: string | null;
  /** More than one currency among the carts (all-shops view): money sums are left out (null). */
  readonly mixedCurrencies: boolean;
  /** Started recoveries (abandoned carts) in every arm. */
  readonly abandonedCarts: number;
  /** The live-treated arm (messages sent): what lift measures. */
  readonly treated: ArmKpis;
  readonly holdout: ArmKpis;
  /** Every arm on its own (the rollout report): shadow and outside-rollout recoveries sent nothing. */
  readonly arms: { readonly [A in RecoveryArm]: ArmKpis };
  /** Live-treated vs holdout over the period (segment `all`), incremental net revenue with its 95 % interval. */
  readonly lift: LiftResult;
  /** Send-time optimisation (RFC 0012): live-treated recoveries of its `on` arm vs its `off` arm. */
  readonly sendTime: SendTimeLift;
  /** Routing by score: recovery rate per band, messaged (live-treated) and holdout carts apart. */
  readonly routing: readonly RoutingBandKpi[];
  /**
   * The policy control arm (RFC 0021): messaged recoveries on the shop's own policy vs those drawn
   * onto the fixed rules — recovery rate and net revenue per cart, each difference with its 95 %
   * interval. `off` when no recovery of the period drew an arm.
   */
  readonly policyControl: PolicyControlLift;
}

/** The shop's policy against the fixed rules on one log (the policy control arm's two arms, messaged carts). */
export type PolicyControlLift =
  | { readonly status: 'off' }
  | {
      readonly status: 'not enough data yet';
      readonly shopPolicyCarts: number;
      readonly fixedRulesCarts: number;
      readonly minimum: number;
    }
  | {
      readonly status: 'ok';
      readonly shopPolicyCarts: number;
      readonly fixedRulesCarts: number;
      readonly shopPolicyRecoveryRate: number;
      readonly fixedRulesRecoveryRate: number;
      /** Shop policy − fixed rules. */
      readonly recoveryRateLift: Interval;
      /** Net revenue (order totals − discounts) per messaged cart, shop policy − fixed rules. */
      readonly netRevenuePerCartLift: Interval;
      /** The per-cart difference × the shop policy's carts: what it earned beyond the fixed rules. */
      readonly incrementalNetRevenue: Interval;
    };

export function policyControlLift(
  shopPolicy: ArmSums,
  fixedRules: ArmSums,
  minimum = DEFAULT_MIN_SAMPLE,
): PolicyControlLift {
  if (shopPolicy.carts + fixedRules.carts === 0) return { status: 'off' };
  const l = lift(shopPolicy, fixedRules, minimum);
  if (l.status !== 'ok') {
    return {
      status: 'not enough data yet',
      shopPolicyCarts: shopPolicy.carts,
      fixedRulesCarts: fixedRules.carts,
      minimum,
    };
  }
  return {
    status: 'ok',
    shopPolicyCarts: l.treatedCarts,
    fixedRulesCarts: l.holdoutCarts,
    shopPolicyRecoveryRate: l.treatedRecoveryRate,
    fixedRulesRecoveryRate: l.holdoutRecoveryRate,
    recoveryRateLift: l.recoveryRateLift,
    netRevenuePerCartLift: l.netRevenuePerCartLift,
    incrementalNetRevenue: l.incrementalNetRevenue,
  };
}

/** One routing band's carts and recoveries over the period (`read.recoveries.routing_band`). */
export interface RoutingBandKpi {
  readonly band: string;
  readonly carts: number;
  readonly recovered: number;
  readonly recoveryRate: number | null;
  readonly holdoutCarts: number;
  readonly holdoutRecovered: number;
  readonly holdoutRecoveryRate: number | null;
}

/** Recovery rate on the send-time `on` arm vs the `off` arm, the difference with its 95 % interval. */
export type SendTimeLift =
  | {
      readonly status: 'not enough data yet';
      readonly onCarts: number;
      readonly offCarts: number;
      readonly minimum: number;
    }
  | {
      readonly status: 'ok';
      readonly onCarts: number;
      readonly offCarts: number;
      readonly onRecoveryRate: number;
      readonly offRecoveryRate: number;
      readonly recoveryRateLift: Interval;
    };

export function sendTimeLift(
  on: { readonly carts: number; readonly recovered: number },
  off: { readonly carts: number; readonly recovered: number },
  minimum = DEFAULT_MIN_SAMPLE,
): SendTimeLift {
  if (on.carts < minimum || off.carts < minimum) {
    return { status: 'not enough data yet', onCarts: on.carts, offCarts: off.carts, minimum };
  }
  return {
    status: 'ok',
    onCarts: on.carts,
    offCarts: off.carts,
    onRecoveryRate: on.recovered / on.carts,
    offRecoveryRate: off.recovered / off.carts,
    recoveryRateLift: proportionDifference(on.recovered, on.carts, off.recovered, off.carts),
  };
}

export interface FunnelDay {
  readonly day: string;
  readonly abandoned: number;
  readonly messaged: number;
  readonly opened: number;
  readonly clicked: number;
  readonly recovered: number;
  readonly revenue: string;
}

export interface SegmentRate {
  readonly segment: string;
  readonly treatedCarts: number;
  readonly treatedRecovered: number;
  readonly treatedRate: number | null;
  readonly holdoutCarts: number;
  readonly holdoutRecovered: number;
  readonly holdoutRate: number | null;
}

/** A row of `read.messages`: a sequence step, or a back-in-stock message (numbered 1000 + watch). */
export type MessageKind = 'step' | 'back-in-stock';

const BACK_IN_STOCK_STEP = BACK_IN_STOCK_FIRST_STEP;

export interface EngagementRow {
  readonly segment: string;
  /** The sequence step; 1000 for the back-in-stock messages (all of them, one row). */
  readonly step: number;
  readonly kind: MessageKind;
  readonly sent: number;
  readonly opened: number;
  readonly clicked: number;
  readonly unsubscribed: number;
}

export interface StuckStep {
  readonly recoveryId: string;
  readonly cartId: string;
  readonly customerKey: string | null;
  readonly step: number;
  readonly channel: string | null;
  /**
   * `dead-lettered` (retry by hand), `unknown` (being reconciled by the engine) or `blocked` (an
   * outside system keeps failing — store API unreachable, provider errors — and the engine retries
   * with a growing back-off; `since` says from when, `detail` what the outside system answered).
   */
  readonly status: 'dead-lettered' | 'unknown' | 'blocked';
  readonly reason: string | null;
  readonly detail: string | null;
  readonly attempts: number;
  readonly at: string | null;
  /** `blocked`: when the step's run of outside failures began. */
  readonly since: string | null;
  readonly recoveryStatus: string;
}

const ISO_DAY = /^\d{4}-\d{2}-\d{2}$/;

/** `[field, message]` for a bad period, else undefined. At most `maxDays` days. */
export function periodError(p: { from?: unknown; to?: unknown }, maxDays = 366): [string, string] | undefined {
  for (const field of ['from', 'to'] as const) {
    const v = p[field];
    if (typeof v !== 'string' || !ISO_DAY.test(v) || Number.isNaN(Date.parse(`${v}T00:00:00Z`))) {
      return [field, 'must be a day as YYYY-MM-DD'];
    }
    if (new Date(`${v}T00:00:00Z`).toISOString().slice(0, 10) !== v) return [field, 'is not a calendar day'];
  }
  const days = (Date.parse(`${p.to as string}T00:00:00Z`) - Date.parse(`${p.from as string}T00:00:00Z`)) / 86_400_000;
  if (days < 0) return ['to', 'must not be before from'];
  if (days >= maxDays) return ['to', `the period is at most ${maxDays} days`];
  return undefined;
}

/** Recoveries of the period (cohort by first abandonment, in the shop's time zone). */
const COHORT = `r.shop_id = ANY($1::text[]) AND r.first_abandoned_at IS NOT NULL
  AND (r.first_abandoned_at AT TIME ZONE coalesce(r.shop_time_zone, 'UTC'))::date BETWEEN $2::date AND $3::date`;

const rate = (x: number, n: number): number | null => (n > 0 ? x / n : null);

export async function dashboardKpis(
  pool: Queryable,
  period: DashboardPeriod,
  options: { readonly minimum?: number } = {},
): Promise<DashboardKpis> {
  const { rows: grouped } = await pool.query<{
    arm: RecoveryArm;
    policy_arm: 'fixed-rules' | 'shop-policy' | null;
    by_policy_arm: boolean;
    carts: number;
    recovered: number;
    within30: number;
    in_window: number;
    currencies: number;
    revenue: string;
    revenue_sq: string;
    discount_cost: string;
    net: string;
    net_sq: string;
    currency: string | null;
    median_s: number | null;
    mean_s: number | null;
  }>(
    `WITH c AS (
       SELECT r.arm, r.policy_arm, r.recovered, r.currency,
              CASE WHEN r.recovered THEN coalesce(o.total, 0) ELSE 0 END AS revenue,
              coalesce(a.discount_cost, 0) AS discount_cost,
              CASE WHEN r.recovered THEN extract(epoch FROM r.recovered_at - r.first_abandoned_at) END AS seconds,
              r.recovered AND r.recovered_at <= r.first_abandoned_at + interval '30 days' AS within30,
              r.first_abandoned_at + interval '30 days' > now() AS in_window
         FROM read.recoveries r
         LEFT JOIN read.orders o ON r.recovered AND o.shop_id = r.shop_id AND o.order_id = r.order_id
         LEFT JOIN LATERAL (SELECT sum(x.discount_cost) AS discount_cost FROM read.attribution x
                             WHERE x.recovery_id = r.recovery_id) a ON true
        WHERE ${COHORT} AND r.arm IS NOT NULL)
     SELECT arm, policy_arm, GROUPING(policy_arm) = 0 AS by_policy_arm,
            count(*)::int AS carts, count(*) FILTER (WHERE recovered)::int AS recovered,
            count(*) FILTER (WHERE within30)::int AS within30, count(*) FILTER (WHERE in_window)::int AS in_window,
            count(DISTINCT currency)::int AS currencies,
            sum(revenue)::text AS revenue, sum(revenue * revenue)::text AS revenue_sq,
            sum(discount_cost)::text AS discount_cost, sum(revenue - discount_cost)::text AS net,
            sum((revenue - discount_cost) ^ 2)::text AS net_sq, max(currency) AS currency,
            (percentile_cont(0.5) WITHIN GROUP (ORDER BY seconds))::float8 AS median_s,
            avg(seconds)::float8 AS mean_s
       FROM c
      -- Per arm, and per arm × policy control arm (RFC 0021) in the same scan.
      GROUP BY GROUPING SETS ((arm), (arm, policy_arm))`,
    [period.shopIds, period.from, period.to],
  );
  const rows = grouped.filter((r) => !r.by_policy_arm);
  // The policy control arm's two arms among the messaged recoveries (RFC 0021).
  const policyArmSums = (arm: 'fixed-rules' | 'shop-policy'): ArmSums => {
    const r = grouped.find((x) => x.by_policy_arm && x.arm === 'live-treated' && x.policy_arm === arm);
    return r === undefined ? EMPTY_ARM_SUMS : armSumsOf(r);
  };
  const arms2 = await pool.query<{ arm: 'on' | 'off'; carts: number; recovered: number }>(
    `SELECT r.send_time_arm AS arm, count(*)::int AS carts, count(*) FILTER (WHERE r.recovered)::int AS recovered
       FROM read.recoveries r
      WHERE ${COHORT} AND r.arm = 'live-treated' AND r.send_time_arm IS NOT NULL
      GROUP BY r.send_time_arm`,
    [period.shopIds, period.from, period.to],
  );
  const bands = await pool.query<{
    band: string;
    carts: number;
    recovered: number;
    holdout_carts: number;
    holdout_recovered: number;
  }>(
    `SELECT r.routing_band AS band,
            count(*) FILTER (WHERE r.arm = 'live-treated')::int AS carts,
            count(*) FILTER (WHERE r.arm = 'live-treated' AND r.recovered)::int AS recovered,
            count(*) FILTER (WHERE r.arm = 'holdout')::int AS holdout_carts,
            count(*) FILTER (WHERE r.arm = 'holdout' AND r.recovered)::int AS holdout_recovered
       FROM read.recoveries r
      WHERE ${COHORT} AND r.routing_band IS NOT NULL
      GROUP BY r.routing_band`,
    [period.shopIds, period.from, period.to],
  );
  const BAND_ORDER = ['personal', 'short', 'middle', 'nurture', 'unscored', 'off'];
  const routing: RoutingBandKpi[] = bands.rows
    .map((b) => ({
      band: b.band,
      carts: b.carts,
      recovered: b.recovered,
      recoveryRate: rate(b.recovered, b.carts),
      holdoutCarts: b.holdout_carts,
      holdoutRecovered: b.holdout_recovered,
      holdoutRecoveryRate: rate(b.holdout_recovered, b.holdout_carts),
    }))
    .sort((a, b) => BAND_ORDER.indexOf(a.band) - BAND_ORDER.indexOf(b.band));
  const stArm = (arm: 'on' | 'off') => arms2.rows.find((x) => x.arm === arm) ?? { carts: 0, recovered: 0 };
  const mixedCurrencies =
    rows.some((r) => r.currencies > 1) || new Set(rows.map((r) => r.currency).filter((c) => c !== null)).size > 1;
  type Sums = ArmSums & { within30: number; inWindow: number; median: number | null; mean: number | null };
  const sums = (arm: RecoveryArm): Sums => {
    const r = rows.find((x) => x.arm === arm);
    return r === undefined
      ? { ...EMPTY_ARM_SUMS, within30: 0, inWindow: 0, median: null, mean: null }
      : { ...armSumsOf(r), within30: r.within30, inWindow: r.in_window, median: r.median_s, mean: r.mean_s };
  };
  const kpis = (s: ReturnType<typeof sums>): ArmKpis => ({
    carts: s.carts,
    recovered: s.recovered,
    recoveryRate: rate(s.recovered, s.carts),
    recoveredWithin30Days: s.within30,
    recoveryRateWithin30Days: rate(s.within30, s.carts),
    cartsStillInWindow: s.inWindow,
    recoveredRevenue: s.revenue,
    discountCost: s.discountCost,
    revenuePerRecoveredCart: s.recovered > 0 ? (Number(s.revenue) / s.recovered).toFixed(2) : null,
    medianSecondsToRecovery: s.median,
    meanSecondsToRecovery: s.mean,
  });
  const treated = sums('live-treated');
  const holdout = sums('holdout');
  const arms = Object.fromEntries(RECOVERY_ARMS.map((a) => [a, kpis(sums(a))])) as DashboardKpis['arms'];
  return {
    period,
    currency: mixedCurrencies ? null : (rows.map((r) => r.currency).find((c) => c !== null) ?? null),
    mixedCurrencies,
    abandonedCarts: RECOVERY_ARMS.reduce((n, a) => n + arms[a].carts, 0),
    treated: arms['live-treated'],
    holdout: arms.holdout,
    arms,
    lift: lift(treated, holdout, options.minimum ?? DEFAULT_MIN_SAMPLE),
    sendTime: sendTimeLift(stArm('on'), stArm('off'), options.minimum ?? DEFAULT_MIN_SAMPLE),
    routing,
    policyControl: policyControlLift(
      policyArmSums('shop-policy'),
      policyArmSums('fixed-rules'),
      options.minimum ?? DEFAULT_MIN_SAMPLE,
    ),
  };
}

/** One row per day of the period (days without abandonments included, as zeros), both arms. */
export async function dailyFunnel(pool: Queryable, period: DashboardPeriod): Promise<FunnelDay[]> {
  const { rows } = await pool.query<FunnelDay>(
    `SELECT to_char(d.day, 'YYYY-MM-DD') AS day,
            coalesce(sum(f.abandoned), 0)::int AS abandoned, coalesce(sum(f.messaged), 0)::int AS messaged,
            coalesce(sum(f.opened), 0)::int AS opened, coalesce(sum(f.clicked), 0)::int AS clicked,
            coalesce(sum(f.recovered), 0)::int AS recovered, coalesce(sum(f.revenue), 0)::text AS revenue
       FROM generate_series($2::date, $3::date, interval '1 day') AS d(day)
       LEFT JOIN read.daily_funnel f
         ON f.shop_id = ANY($1::text[]) AND f.day = d.day::date AND f.segment = 'all' AND f.step = -1
      GROUP BY d.day ORDER BY d.day`,
    [period.shopIds, period.from, period.to],
  );
  return rows;
}

/** Recovery rate per segment (and `all`), live-treated vs holdout. */
export async function recoveryBySegment(pool: Queryable, period: DashboardPeriod): Promise<SegmentRate[]> {
  const { rows } = await pool.query<{ segment: string; tc: number; tr: number; hc: number; hr: number }>(
    `SELECT segment,
            coalesce(sum(abandoned) FILTER (WHERE arm = 'live-treated'), 0)::int AS tc,
            coalesce(sum(recovered) FILTER (WHERE arm = 'live-treated'), 0)::int AS tr,
            coalesce(sum(abandoned) FILTER (WHERE arm = 'holdout'), 0)::int AS hc,
            coalesce(sum(recovered) FILTER (WHERE arm = 'holdout'), 0)::int AS hr
       FROM read.daily_funnel
      WHERE shop_id = ANY($1::text[]) AND step = -1 AND day BETWEEN $2::date AND $3::date
      GROUP BY segment ORDER BY segment = 'all' DESC, segment`,
    [period.shopIds, period.from, period.to],
  );
  return rows.map(segmentRate);
}

/** Both arms' carts, recoveries and rates of one segment, from the counts `tc`, `tr`, `hc`, `hr`. */
function segmentRate(r: { segment: string; tc: number; tr: number; hc: number; hr: number }): SegmentRate {
  return {
    segment: r.segment,
    treatedCarts: r.tc,
    treatedRecovered: r.tr,
    treatedRate: rate(r.tr, r.tc),
    holdoutCarts: r.hc,
    holdoutRecovered: r.hr,
    holdoutRate: rate(r.hr, r.hc),
  };
}

/**
 * The step a message row is counted under: a sequence step's own number; every back-in-stock message
 * (numbered 1000 + watch) under 1000, with `kind: 'back-in-stock'`.
 */
const STEP_OF_MESSAGE = `CASE WHEN m.kind = 'back-in-stock' THEN ${BACK_IN_STOCK_STEP} ELSE m.step END`;

/** Messages sent, opened, clicked and followed by an unsubscribe, per segment (and `all`) and step (back-in-stock messages as one row). */
export async function engagementBySegmentAndStep(pool: Queryable, period: DashboardPeriod): Promise<EngagementRow[]> {
  const { rows } = await pool.query<EngagementRow>(
    `SELECT s.segment, ${STEP_OF_MESSAGE} AS step, m.kind,
            count(*) FILTER (WHERE m.sent_at IS NOT NULL)::int AS sent,
            count(*) FILTER (WHERE m.opened_at IS NOT NULL)::int AS opened,
            count(*) FILTER (WHERE m.clicked_at IS NOT NULL)::int AS clicked,
            count(*) FILTER (WHERE m.unsubscribed_at IS NOT NULL)::int AS unsubscribed
       FROM read.recoveries r
       JOIN read.messages m ON m.recovery_id = r.recovery_id
       CROSS JOIN LATERAL unnest(coalesce(r.segments, ARRAY[]::text[]) || ARRAY['all']::text[]) AS s(segment)
      WHERE ${COHORT}
      GROUP BY s.segment, m.kind, 2
     HAVING count(*) FILTER (WHERE m.sent_at IS NOT NULL) > 0
      ORDER BY s.segment = 'all' DESC, s.segment, 2`,
    [period.shopIds, period.from, period.to],
  );
  return rows;
}

/**
 * Dead-lettered steps, steps whose outcome is unknown (being reconciled), and steps of running
 * recoveries blocked by an outside error (from their first failure), newest first.
 */
export async function stuckSteps(
  pool: Queryable,
  shopId: string | readonly string[],
  limit = 200,
): Promise<StuckStep[]> {
  const { rows } = await pool.query<{
    recovery_id: string;
    cart_id: string;
    customer_key: string | null;
    step: number;
    channel: string | null;
    status: 'dead-lettered' | 'unknown' | 'blocked';
    reason: string | null;
    detail: string | null;
    attempts: number;
    at: Date | null;
    since: Date | null;
    recovery_status: string;
  }>(
    `SELECT m.recovery_id, r.cart_id, r.customer_key, m.step, m.channel,
            CASE WHEN m.status IN ('dead-lettered', 'unknown') THEN m.status ELSE 'blocked' END AS status,
            m.reason, m.detail, m.attempts, m.outcome_at AS at,
            CASE WHEN m.status IN ('dead-lettered', 'unknown') THEN NULL ELSE m.blocked_since END AS since,
            r.status AS recovery_status
       FROM read.messages m JOIN read.recoveries r ON r.recovery_id = m.recovery_id
      WHERE m.shop_id = ANY($1::text[])
        AND (m.status IN ('dead-lettered', 'unknown')
             OR (m.blocked_since IS NOT NULL AND m.sent_at IS NULL AND r.status <> 'ended'))
      ORDER BY m.outcome_at DESC NULLS LAST, m.recovery_id, m.step
      LIMIT $2`,
    [typeof shopId === 'string' ? [shopId] : shopId, limit],
  );
  return rows.map((r) => ({
    recoveryId: r.recovery_id,
    cartId: r.cart_id,
    customerKey: r.customer_key,
    step: r.step,
    channel: r.channel,
    status: r.status,
    reason: r.reason,
    detail: r.detail,
    attempts: r.attempts,
    at: r.at === null ? null : r.at.toISOString(),
    since: r.since === null ? null : r.since.toISOString(),
    recoveryStatus: r.recovery_status,
  }));
}

export interface BlockedStepsSummary {
  /** Steps of running recoveries blocked by an outside error for longer than asked. */
  readonly steps: number;
  /** The oldest such block's start. */
  readonly oldestSince: string | null;
}

/** For `/health`: steps blocked by outside errors since before `olderThan` (all shops). */
export async function blockedStepsSummary(pool: Queryable, olderThan: Date): Promise<BlockedStepsSummary> {
  const { rows } = await pool.query<{ steps: number; oldest: Date | null }>(
    `SELECT count(*)::int AS steps, min(m.blocked_since) AS oldest
       FROM read.messages m JOIN read.recoveries r ON r.recovery_id = m.recovery_id
      WHERE m.blocked_since IS NOT NULL AND m.blocked_since < $1 AND m.sent_at IS NULL
        AND m.status NOT IN ('dead-lettered', 'unknown') AND r.status <> 'ended'`,
    [olderThan],
  );
  return { steps: rows[0].steps, oldestSince: rows[0].oldest === null ? null : rows[0].oldest.toISOString() };
}

// ---------------------------------------------------------------- activity over time

export type Bucket = 'hour' | 'day' | 'week';

export interface ActivityPoint {
  /** Start of the bucket, local time of the view (`YYYY-MM-DDTHH:00` for hours, `YYYY-MM-DD` otherwise). */
  readonly at: string;
  readonly abandoned: number;
  readonly messaged: number;
  readonly opened: number;
  readonly clicked: number;
  readonly recovered: number;
}

export interface Activity {
  readonly bucket: Bucket;
  /** The zone the buckets are cut in (the shop's; UTC for several shops). */
  readonly timeZone: string;
  /** Empty when nothing happened in the period. */
  readonly points: readonly ActivityPoint[];
}

const HOUR_MS = 3_600_000;

/**
 * The bucket for a span of data: hours up to two days, days up to ~four months, weeks beyond. A
 * new install's first hours are drawn by the hour, not as one spike in a month of empty days.
 */
export function bucketFor(spanMs: number): Bucket {
  if (spanMs <= 48 * HOUR_MS) return 'hour';
  if (spanMs <= 120 * 24 * HOUR_MS) return 'day';
  return 'week';
}

/** Events of the period by local time (abandonments, sends, opens, clicks, recoveries of live-treated carts). */
const ACTIVITY_EVENTS = `
  WITH ev AS (
    SELECT r.first_abandoned_at AS at, 'abandoned' AS kind FROM read.recoveries r
     WHERE r.shop_id = ANY($1::text[]) AND r.first_abandoned_at IS NOT NULL
    UNION ALL
    SELECT r.recovered_at, 'recovered' FROM read.recoveries r
     WHERE r.shop_id = ANY($1::text[]) AND r.recovered AND r.arm = 'live-treated' AND r.recovered_at IS NOT NULL
    UNION ALL
    SELECT x.at, x.kind FROM read.messages m
     CROSS JOIN LATERAL (VALUES (m.sent_at, 'messaged'), (m.opened_at, 'opened'), (m.clicked_at, 'clicked')) AS x(at, kind)
     WHERE m.shop_id = ANY($1::text[]) AND x.at IS NOT NULL),
  local AS (
    SELECT (at AT TIME ZONE $4) AS t, kind FROM ev
     WHERE (at AT TIME ZONE $4)::date BETWEEN $2::date AND $3::date)`;

/**
 * What happened when, in buckets that fit the data: the series starts at the first event of the
 * period and ends at the last one (or now, when the period includes today), so a short history is
 * not drawn as a flat line with a spike.
 */
export async function activity(
  pool: Queryable,
  period: DashboardPeriod & { readonly timeZone: string },
  now: Date = new Date(),
): Promise<Activity> {
  const params = [period.shopIds, period.from, period.to, period.timeZone];
  const span = await pool.query<{ first: string | null; last: string | null; now_local: string }>(
    `${ACTIVITY_EVENTS}
     SELECT to_char(min(t), 'YYYY-MM-DD"T"HH24:MI:SS') AS first, to_char(max(t), 'YYYY-MM-DD"T"HH24:MI:SS') AS last,
            to_char($5::timestamptz AT TIME ZONE $4, 'YYYY-MM-DD"T"HH24:MI:SS') AS now_local
       FROM local`,
    [...params, now.toISOString()],
  );
  const { first, last, now_local: nowLocal } = span.rows[0];
  if (first === null || last === null) return { bucket: 'day', timeZone: period.timeZone, points: [] };
  const end = nowLocal.slice(0, 10) <= period.to && nowLocal > last ? nowLocal : last;
  const bucket = bucketFor(Date.parse(`${end}Z`) - Date.parse(`${first}Z`));
  const { rows } = await pool.query<ActivityPoint>(
    `${ACTIVITY_EVENTS},
     counts AS (SELECT date_trunc($5, t) AS b, kind, count(*)::int AS n FROM local GROUP BY 1, 2)
     SELECT to_char(s.b, $8) AS at,
            coalesce(sum(c.n) FILTER (WHERE c.kind = 'abandoned'), 0)::int AS abandoned,
            coalesce(sum(c.n) FILTER (WHERE c.kind = 'messaged'), 0)::int AS messaged,
            coalesce(sum(c.n) FILTER (WHERE c.kind = 'opened'), 0)::int AS opened,
            coalesce(sum(c.n) FILTER (WHERE c.kind = 'clicked'), 0)::int AS clicked,
            coalesce(sum(c.n) FILTER (WHERE c.kind = 'recovered'), 0)::int AS recovered
       FROM generate_series(date_trunc($5, $6::timestamp), date_trunc($5, $7::timestamp), ('1 ' || $5)::interval) AS s(b)
       LEFT JOIN counts c ON c.b = s.b
      GROUP BY s.b ORDER BY s.b`,
    [...params, bucket, first, end, bucket === 'hour' ? 'YYYY-MM-DD"T"HH24:00' : 'YYYY-MM-DD'],
  );
  return { bucket, timeZone: period.timeZone, points: rows };
}

// ---------------------------------------------------------------- sequence effectiveness

export interface SequenceEffectiveness extends SegmentRate {
  readonly sequenceId: string;
  /** treatedRate − holdoutRate when both arms have carts: what the messages added. */
  readonly difference: number | null;
}

/** Recovery rate per sequence and segment (and `all`), live-treated vs holdout, over the period's cohort. */
export async function sequenceEffectiveness(
  pool: Queryable,
  period: DashboardPeriod,
): Promise<SequenceEffectiveness[]> {
  const { rows } = await pool.query<{
    sequence_id: string;
    segment: string;
    tc: number;
    tr: number;
    hc: number;
    hr: number;
  }>(
    `SELECT r.sequence_id, s.segment,
            count(*) FILTER (WHERE r.arm = 'live-treated')::int AS tc,
            count(*) FILTER (WHERE r.arm = 'live-treated' AND r.recovered)::int AS tr,
            count(*) FILTER (WHERE r.arm = 'holdout')::int AS hc,
            count(*) FILTER (WHERE r.arm = 'holdout' AND r.recovered)::int AS hr
       FROM read.recoveries r
       CROSS JOIN LATERAL unnest(coalesce(r.segments, ARRAY[]::text[]) || ARRAY['all']::text[]) AS s(segment)
      WHERE ${COHORT} AND r.sequence_id IS NOT NULL
      GROUP BY r.sequence_id, s.segment
      ORDER BY r.sequence_id, s.segment = 'all' DESC, s.segment`,
    [period.shopIds, period.from, period.to],
  );
  return rows.map((r) => {
    const arms = segmentRate(r);
    return {
      sequenceId: r.sequence_id,
      ...arms,
      difference: arms.treatedRate !== null && arms.holdoutRate !== null ? arms.treatedRate - arms.holdoutRate : null,
    };
  });
}

export interface StepEffectiveness {
  readonly sequenceId: string;
  /** The sequence step; 1000 for the back-in-stock messages (all of them, one row). */
  readonly step: number;
  /** `step` or `back-in-stock`. */
  readonly kind: MessageKind;
  readonly templateId: string | null;
  readonly sent: number;
  readonly opened: number;
  readonly clicked: number;
  readonly unsubscribed: number;
  /** Orders attributed to this step (a click on it before the purchase). */
  readonly orders: number;
  /** Their revenue (decimal string); null when the carts are in several currencies. */
  readonly revenue: string | null;
  /** Skipped as `engagement-fatigue` (the counts of each skip are in the customer history). */
  readonly skippedFatigue: number;
  /** Skipped as `low-responsiveness` (RFC 0013; the estimate of each skip is in the customer history). */
  readonly skippedLowResponsiveness: number;
}

/** Per sequence and step: what was sent, opened, clicked, and the orders attributed to the step. */
export async function stepEffectiveness(pool: Queryable, period: DashboardPeriod): Promise<StepEffectiveness[]> {
  const { rows } = await pool.query<StepEffectiveness & { currencies: number }>(
    `SELECT r.sequence_id AS "sequenceId", ${STEP_OF_MESSAGE} AS step, m.kind, max(m.template_id) AS "templateId",
            count(*) FILTER (WHERE m.sent_at IS NOT NULL)::int AS sent,
            count(*) FILTER (WHERE m.opened_at IS NOT NULL)::int AS opened,
            count(*) FILTER (WHERE m.clicked_at IS NOT NULL)::int AS clicked,
            count(*) FILTER (WHERE m.unsubscribed_at IS NOT NULL)::int AS unsubscribed,
            count(a.order_id)::int AS orders, coalesce(sum(a.revenue), 0)::text AS revenue,
            count(DISTINCT a.currency)::int AS currencies,
            count(*) FILTER (WHERE m.status = 'skipped' AND m.reason = 'engagement-fatigue')::int AS "skippedFatigue",
            count(*) FILTER (WHERE m.status = 'skipped' AND m.reason = 'low-responsiveness')::int AS "skippedLowResponsiveness"
       FROM read.recoveries r
       JOIN read.messages m ON m.recovery_id = r.recovery_id
       LEFT JOIN read.attribution a ON a.recovery_id = m.recovery_id AND a.step = m.step
      WHERE ${COHORT} AND r.sequence_id IS NOT NULL
      GROUP BY r.sequence_id, m.kind, 2
     HAVING count(*) FILTER (WHERE m.sent_at IS NOT NULL OR m.reason IN ('engagement-fatigue', 'low-responsiveness')) > 0
      ORDER BY r.sequence_id, 2`,
    [period.shopIds, period.from, period.to],
  );
  return rows.map(({ currencies, ...r }) => ({ ...r, revenue: currencies > 1 ? null : r.revenue }));
}

// ---------------------------------------------------------------- response rates (RFC 0013)

/**
 * The response segment of a recovery in SQL: its most specific segment, in the order of the
 * domain's `RESPONSE_SEGMENT_ORDER` (vip, mobile-checkout-friction, high-value-cart, price-sensitive,
 * returning-exploring-new-category, returning, new).
 */
const RESPONSE_SEGMENT_SQL = `CASE
    WHEN 'vip' = ANY(r.segments) THEN 'vip'
    WHEN 'mobile-checkout-friction' = ANY(r.segments) THEN 'mobile-checkout-friction'
    WHEN 'high-value-cart' = ANY(r.segments) THEN 'high-value-cart'
    WHEN 'price-sensitive' = ANY(r.segments) THEN 'price-sensitive'
    WHEN 'returning-exploring-new-category' = ANY(r.segments) THEN 'returning-exploring-new-category'
    WHEN 'returning' = ANY(r.segments) THEN 'returning'
    WHEN 'new' = ANY(r.segments) THEN 'new'
    ELSE 'unsegmented' END`;

export interface ChannelResponseRate {
  readonly segment: string;
  readonly channel: string;
  readonly sent: number;
  /** Messages engaged with: a click, an open later than a minute after the send, or a purchase after it. */
  readonly engaged: number;
  /** engaged / sent (null when nothing was sent). */
  readonly rawRate: number | null;
  /**
   * The rate the channel choice uses: the Beta-Binomial posterior mean shrunk towards the shop's
   * rate (`priorStrength` pseudo-messages), so small segments show what the engine believes.
   */
  readonly learnedRate: number;
}

/**
 * Learned response rates per response segment × channel, in the period's cohort (RFC 0013): the
 * analyst's view of what the channel choice rests on. The customer-level estimates are recorded on
 * each send and skip (customer history).
 */
export async function channelResponseRates(
  pool: Queryable,
  period: DashboardPeriod,
  priorStrength = 10,
): Promise<ChannelResponseRate[]> {
  const { rows } = await pool.query<{ segment: string; channel: string; sent: number; engaged: number }>(
    `SELECT ${RESPONSE_SEGMENT_SQL} AS segment, m.channel,
            count(*)::int AS sent,
            count(*) FILTER (WHERE m.clicked_at IS NOT NULL
              OR m.opened_at > m.sent_at + interval '60 seconds'
              OR (r.recovered AND r.recovered_at > m.sent_at))::int AS engaged
       FROM read.recoveries r
       JOIN read.messages m ON m.recovery_id = r.recovery_id
      WHERE ${COHORT} AND m.sent_at IS NOT NULL AND m.channel IS NOT NULL
      GROUP BY 1, m.channel
      ORDER BY 1, m.channel`,
    [period.shopIds, period.from, period.to],
  );
  const total = rows.reduce((t, r) => ({ sent: t.sent + r.sent, engaged: t.engaged + r.engaged }), {
    sent: 0,
    engaged: 0,
  });
  const shopRate = (total.engaged + 1) / (total.sent + 2);
  const round = (x: number) => Math.round(x * 10_000) / 10_000;
  return rows.map((r) => ({
    segment: r.segment,
    channel: r.channel,
    sent: r.sent,
    engaged: r.engaged,
    rawRate: r.sent > 0 ? round(r.engaged / r.sent) : null,
    learnedRate: round((shopRate * priorStrength + r.engaged) / (priorStrength + r.sent)),
  }));
}

// ---------------------------------------------------------------- messages sent

export interface SentMessage {
  readonly shopId: string;
  readonly recoveryId: string;
  readonly cartId: string;
  readonly customerKey: string | null;
  readonly sequenceId: string | null;
  readonly step: number;
  /** `step` (a sequence step) or `back-in-stock` (numbered 1000 + watch). */
  readonly kind: MessageKind;
  readonly channel: string | null;
  readonly templateId: string | null;
  /** The provider's id for the message. */
  readonly messageId: string | null;
  readonly discountPercent: number | null;
  readonly sentAt: string;
  readonly openedAt: string | null;
  readonly clickedAt: string | null;
  readonly unsubscribedAt: string | null;
}

/** Messages that went out through any provider (the send records of the log), newest first. */
export async function sentMessages(
  pool: Queryable,
  shopIds: readonly string[],
  options: { readonly limit?: number; readonly before?: string } = {},
): Promise<SentMessage[]> {
  const { rows } = await pool.query<{
    shop_id: string;
    recovery_id: string;
    cart_id: string;
    customer_key: string | null;
    sequence_id: string | null;
    step: number;
    kind: MessageKind;
    channel: string | null;
    template_id: string | null;
    message_id: string | null;
    discount_percent: string | null;
    sent_at: Date;
    opened_at: Date | null;
    clicked_at: Date | null;
    unsubscribed_at: Date | null;
  }>(
    `SELECT m.shop_id, m.recovery_id, r.cart_id, r.customer_key, r.sequence_id, m.step, m.kind, m.channel, m.template_id,
            m.message_id, m.discount_percent, m.sent_at, m.opened_at, m.clicked_at, m.unsubscribed_at
       FROM read.messages m JOIN read.recoveries r ON r.recovery_id = m.recovery_id
      WHERE m.shop_id = ANY($1::text[]) AND m.sent_at IS NOT NULL AND ($3::timestamptz IS NULL OR m.sent_at < $3)
      ORDER BY m.sent_at DESC, m.recovery_id, m.step
      LIMIT $2`,
    [shopIds, options.limit ?? 50, options.before ?? null],
  );
  const iso = (d: Date | null) => (d === null ? null : d.toISOString());
  return rows.map((r) => ({
    shopId: r.shop_id,
    recoveryId: r.recovery_id,
    cartId: r.cart_id,
    customerKey: r.customer_key,
    sequenceId: r.sequence_id,
    step: r.step,
    kind: r.kind,
    channel: r.channel,
    templateId: r.template_id,
    messageId: r.message_id,
    discountPercent: r.discount_percent === null ? null : Number(r.discount_percent),
    sentAt: r.sent_at.toISOString(),
    openedAt: iso(r.opened_at),
    clickedAt: iso(r.clicked_at),
    unsubscribedAt: iso(r.unsubscribed_at),
  }));
}

export interface RecentCart {
  readonly cartId: string;
  readonly abandonedAt: string;
  readonly itemCount: number | null;
  readonly cartValue: string | null;
  readonly currency: string | null;
}

/** The shop's most recently abandoned carts (ids and sizes only): what the template editor previews with. */
export async function recentCarts(pool: Queryable, shopId: string, limit = 10): Promise<RecentCart[]> {
  const { rows } = await pool.query<{
    cart_id: string;
    first_abandoned_at: Date;
    item_count: number | null;
    cart_value: string | null;
    currency: string | null;
  }>(
    `SELECT cart_id, first_abandoned_at, item_count, cart_value::text AS cart_value, currency
       FROM read.recoveries
      WHERE shop_id = $1 AND first_abandoned_at IS NOT NULL AND cart_id IS NOT NULL
      ORDER BY first_abandoned_at DESC, recovery_id
      LIMIT $2`,
    [shopId, limit],
  );
  return rows.map((r) => ({
    cartId: r.cart_id,
    abandonedAt: r.first_abandoned_at.toISOString(),
    itemCount: r.item_count,
    cartValue: r.cart_value,
    currency: r.currency,
  }));
}

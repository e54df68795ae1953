/**
 * The dashboard's queries over schema `read` (docs/analytics.md). Every answer is aggregated or
 * keyed by the pseudonymous customer key: no contact details. A period is a range of days
 * (inclusive) in the shop's time zone, the same cohort rule as `read.daily_funnel`: a recovery
 * belongs to the day of its first abandonment.
 */
import type { Pool } from 'pg';
import { DEFAULT_MIN_SAMPLE, lift, type ArmSums, type LiftResult } from '../lift/lift';

type Queryable = Pick<Pool, 'query'>;

export interface DashboardPeriod {
  readonly shopId: string;
  /** First and last day, `YYYY-MM-DD`, inclusive, in the shop's time zone. */
  readonly from: string;
  readonly to: string;
}

export interface ArmKpis {
  readonly carts: number;
  readonly recovered: number;
  /** recovered / carts; null without carts. */
  readonly recoveryRate: number | null;
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
  /** Started recoveries (abandoned carts) in both arms. */
  readonly abandonedCarts: number;
  readonly treated: ArmKpis;
  readonly holdout: ArmKpis;
  /** Treated vs holdout over the period (segment `all`), incremental net revenue with its 95 % interval. */
  readonly lift: LiftResult;
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

export interface EngagementRow {
  readonly segment: string;
  readonly step: number;
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
  /** `dead-lettered` (retry by hand) or `unknown` (being reconciled by the engine). */
  readonly status: 'dead-lettered' | 'unknown';
  readonly reason: string | null;
  readonly attempts: number;
  readonly at: string | null;
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
const COHORT = `r.shop_id = $1 AND r.first_abandoned_at IS NOT NULL
  AND (r.first_abandoned_at AT TIME ZONE coalesce(r.shop_time_zone, 'UTC'))::date BETWEEN $2::date AND $3::date`;

const rate = (x: number, n: number): number | null => (n > 0 ? x / n : null);

export async function dashboardKpis(
  pool: Queryable,
  period: DashboardPeriod,
  options: { readonly minimum?: number } = {},
): Promise<DashboardKpis> {
  const { rows } = await pool.query<{
    arm: 'treated' | 'holdout';
    carts: number;
    recovered: number;
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
       SELECT CASE WHEN r.holdout THEN 'holdout' ELSE 'treated' END AS arm, r.recovered, r.currency,
              CASE WHEN r.recovered THEN coalesce(o.total, 0) ELSE 0 END AS revenue,
              coalesce(a.discount_cost, 0) AS discount_cost,
              CASE WHEN r.recovered THEN extract(epoch FROM r.recovered_at - r.first_abandoned_at) END AS seconds
         FROM read.recoveries r
         LEFT JOIN read.orders o ON r.recovered AND o.shop_id = r.shop_id AND o.order_id = r.order_id
         LEFT JOIN LATERAL (SELECT sum(x.discount_cost) AS discount_cost FROM read.attribution x
                             WHERE x.recovery_id = r.recovery_id) a ON true
        WHERE ${COHORT})
     SELECT arm, count(*)::int AS carts, count(*) FILTER (WHERE recovered)::int AS recovered,
            sum(revenue)::text AS revenue, sum(revenue * revenue)::text AS revenue_sq,
            sum(discount_cost)::text AS discount_cost, sum(revenue - discount_cost)::text AS net,
            sum((revenue - discount_cost) ^ 2)::text AS net_sq, max(currency) AS currency,
            (percentile_cont(0.5) WITHIN GROUP (ORDER BY seconds))::float8 AS median_s,
            avg(seconds)::float8 AS mean_s
       FROM c GROUP BY arm`,
    [period.shopId, period.from, period.to],
  );
  const sums = (arm: 'treated' | 'holdout'): ArmSums & { median: number | null; mean: number | null } => {
    const r = rows.find((x) => x.arm === arm);
    return r === undefined
      ? {
          carts: 0,
          recovered: 0,
          revenue: '0',
          revenueSq: '0',
          discountCost: '0',
          net: '0',
          netSq: '0',
          median: null,
          mean: null,
        }
      : {
          carts: r.carts,
          recovered: r.recovered,
          revenue: r.revenue,
          revenueSq: r.revenue_sq,
          discountCost: r.discount_cost,
          net: r.net,
          netSq: r.net_sq,
          median: r.median_s,
          mean: r.mean_s,
        };
  };
  const kpis = (s: ReturnType<typeof sums>): ArmKpis => ({
    carts: s.carts,
    recovered: s.recovered,
    recoveryRate: rate(s.recovered, s.carts),
    recoveredRevenue: s.revenue,
    discountCost: s.discountCost,
    revenuePerRecoveredCart: s.recovered > 0 ? (Number(s.revenue) / s.recovered).toFixed(2) : null,
    medianSecondsToRecovery: s.median,
    meanSecondsToRecovery: s.mean,
  });
  const treated = sums('treated');
  const holdout = sums('holdout');
  return {
    period,
    currency: rows.map((r) => r.currency).find((c) => c !== null) ?? null,
    abandonedCarts: treated.carts + holdout.carts,
    treated: kpis(treated),
    holdout: kpis(holdout),
    lift: lift(treated, holdout, options.minimum ?? DEFAULT_MIN_SAMPLE),
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
         ON f.shop_id = $1 AND f.day = d.day::date AND f.segment = 'all' AND f.step = -1
      GROUP BY d.day ORDER BY d.day`,
    [period.shopId, period.from, period.to],
  );
  return rows;
}

/** Recovery rate per segment (and `all`), treated vs holdout. */
export async function recoveryBySegment(pool: Queryable, period: DashboardPeriod): Promise<SegmentRate[]> {
  const { rows } = await pool.query<{ segment: string; tc: number; tr: number; hc: number; hr: number }>(
    `SELECT segment,
            coalesce(sum(abandoned) FILTER (WHERE arm = 'treated'), 0)::int AS tc,
            coalesce(sum(recovered) FILTER (WHERE arm = 'treated'), 0)::int AS tr,
            coalesce(sum(abandoned) FILTER (WHERE arm = 'holdout'), 0)::int AS hc,
            coalesce(sum(recovered) FILTER (WHERE arm = 'holdout'), 0)::int AS hr
       FROM read.daily_funnel
      WHERE shop_id = $1 AND step = -1 AND day BETWEEN $2::date AND $3::date
      GROUP BY segment ORDER BY segment = 'all' DESC, segment`,
    [period.shopId, period.from, period.to],
  );
  return rows.map((r) => ({
    segment: r.segment,
    treatedCarts: r.tc,
    treatedRecovered: r.tr,
    treatedRate: rate(r.tr, r.tc),
    holdoutCarts: r.hc,
    holdoutRecovered: r.hr,
    holdoutRate: rate(r.hr, r.hc),
  }));
}

/** Messages sent, opened, clicked and followed by an unsubscribe, per segment (and `all`) and step. */
export async function engagementBySegmentAndStep(pool: Queryable, period: DashboardPeriod): Promise<EngagementRow[]> {
  const { rows } = await pool.query<EngagementRow>(
    `SELECT s.segment, m.step,
            count(*) FILTER (WHERE m.sent_at IS NOT NULL)::int AS sent,
            count(*) FILTER (WHERE m.opened_at IS NOT NULL)::int AS opened,
            count(*) FILTER (WHERE m.clicked_at IS NOT NULL)::int AS clicked,
            count(*) FILTER (WHERE m.unsubscribed_at IS NOT NULL)::int AS unsubscribed
       FROM read.recoveries r
       JOIN read.messages m ON m.recovery_id = r.recovery_id
       CROSS JOIN LATERAL unnest(coalesce(r.segments, ARRAY[]::text[]) || ARRAY['all']::text[]) AS s(segment)
      WHERE ${COHORT}
      GROUP BY s.segment, m.step
     HAVING count(*) FILTER (WHERE m.sent_at IS NOT NULL) > 0
      ORDER BY s.segment = 'all' DESC, s.segment, m.step`,
    [period.shopId, period.from, period.to],
  );
  return rows;
}

/** Dead-lettered steps and steps whose outcome is unknown (being reconciled), newest first. */
export async function stuckSteps(pool: Queryable, shopId: string, limit = 200): Promise<StuckStep[]> {
  const { rows } = await pool.query<{
    recovery_id: string;
    cart_id: string;
    customer_key: string | null;
    step: number;
    channel: string | null;
    status: 'dead-lettered' | 'unknown';
    reason: string | null;
    attempts: number;
    at: Date | null;
    recovery_status: string;
  }>(
    `SELECT m.recovery_id, r.cart_id, r.customer_key, m.step, m.channel, m.status, m.reason, m.attempts,
            m.outcome_at AS at, r.status AS recovery_status
       FROM read.messages m JOIN read.recoveries r ON r.recovery_id = m.recovery_id
      WHERE m.shop_id = $1 AND m.status IN ('dead-lettered', 'unknown')
      ORDER BY m.outcome_at DESC NULLS LAST, m.recovery_id, m.step
      LIMIT $2`,
    [shopId, limit],
  );
  return rows.map((r) => ({
    recoveryId: r.recovery_id,
    cartId: r.cart_id,
    customerKey: r.customer_key,
    step: r.step,
    channel: r.channel,
    status: r.status,
    reason: r.reason,
    attempts: r.attempts,
    at: r.at === null ? null : r.at.toISOString(),
    recoveryStatus: r.recovery_status,
  }));
}

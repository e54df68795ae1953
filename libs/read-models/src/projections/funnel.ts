import type { PoolClient } from 'pg';

/** The cohort day of a recovery: its first abandonment, in the shop's time zone. */
const DAY = `(r.first_abandoned_at AT TIME ZONE coalesce(r.shop_time_zone, 'UTC'))::date`;

/**
 * Recomputes `read.daily_funnel` for the (shop, day) cohorts of the given recoveries, from
 * `read.recoveries`, `read.messages`, `read.attribution` and `read.orders` (set-based: one DELETE and
 * two INSERT … SELECT per batch). Deterministic, so a rebuild yields the same rows.
 */
export async function refreshFunnel(tx: PoolClient, recoveryIds: readonly string[], purgedShops: readonly string[]) {
  if (purgedShops.length)
    await tx.query(`DELETE FROM read.daily_funnel WHERE shop_id = ANY($1::text[])`, [purgedShops]);
  if (recoveryIds.length === 0) return;
  const { rows } = await tx.query<{ cohorts: unknown }>(
    `SELECT coalesce(jsonb_agg(DISTINCT jsonb_build_object('shop_id', r.shop_id, 'day', ${DAY})), '[]'::jsonb) AS cohorts
       FROM read.recoveries r WHERE r.recovery_id = ANY($1::text[]) AND r.first_abandoned_at IS NOT NULL`,
    [[...new Set(recoveryIds)]],
  );
  await recompute(tx, JSON.stringify(rows[0].cohorts));
}

/** Recomputes every cohort (the end of a rebuild). */
export async function refreshAllFunnel(tx: PoolClient): Promise<void> {
  await tx.query(`DELETE FROM read.daily_funnel`);
  const { rows } = await tx.query<{ cohorts: unknown }>(
    `SELECT coalesce(jsonb_agg(DISTINCT jsonb_build_object('shop_id', r.shop_id, 'day', ${DAY})), '[]'::jsonb) AS cohorts
       FROM read.recoveries r WHERE r.first_abandoned_at IS NOT NULL`,
  );
  await recompute(tx, JSON.stringify(rows[0].cohorts));
}

async function recompute(tx: PoolClient, cohorts: string): Promise<void> {
  if (cohorts === '[]') return;
  await tx.query(
    `DELETE FROM read.daily_funnel f USING jsonb_to_recordset($1::jsonb) AS c(shop_id text, day date)
      WHERE f.shop_id = c.shop_id AND f.day = c.day`,
    [cohorts],
  );
  const cohort = `
    WITH c AS (SELECT * FROM jsonb_to_recordset($1::jsonb) AS c(shop_id text, day date)),
    rec AS (
      SELECT r.*, ${DAY} AS day
        FROM read.recoveries r JOIN c ON c.shop_id = r.shop_id AND c.day = ${DAY}
         -- a range the (shop_id, first_abandoned_at) index can use; ±2 days covers every time zone
         AND r.first_abandoned_at >= (c.day - 2)::timestamptz AND r.first_abandoned_at < (c.day + 2)::timestamptz
       WHERE r.first_abandoned_at IS NOT NULL AND r.arm IS NOT NULL)`;
  // A recovery counts in each of its segments and in 'all' (per-recovery work is done before this fan-out).
  const fanOut = `CROSS JOIN LATERAL unnest(rec.segments || ARRAY['all']::text[]) AS s(segment)`;
  // Cohort totals (step -1, channel 'any'): every started recovery, any message, any purchase.
  await tx.query(
    `${cohort},
    per_recovery AS MATERIALIZED (
      SELECT rec.*,
             EXISTS (SELECT 1 FROM read.messages m WHERE m.recovery_id = rec.recovery_id AND m.sent_at IS NOT NULL) AS messaged,
             EXISTS (SELECT 1 FROM read.messages m WHERE m.recovery_id = rec.recovery_id AND m.opened_at IS NOT NULL) AS opened,
             EXISTS (SELECT 1 FROM read.messages m WHERE m.recovery_id = rec.recovery_id AND m.clicked_at IS NOT NULL) AS clicked,
             CASE WHEN rec.recovered THEN coalesce((SELECT o.total FROM read.orders o
                    WHERE o.shop_id = rec.shop_id AND o.order_id = rec.order_id), 0) ELSE 0 END AS revenue,
             coalesce((SELECT sum(a.discount_cost) FROM read.attribution a WHERE a.recovery_id = rec.recovery_id), 0) AS discount_cost
        FROM rec),
    per AS (SELECT rec.*, s.segment FROM per_recovery rec ${fanOut})
    INSERT INTO read.daily_funnel (shop_id, day, segment, sequence_id, arm, step, channel, abandoned, messaged, opened,
                                   clicked, recovered, revenue, discount_cost, currency)
    SELECT shop_id, day, segment, coalesce(sequence_id, 'none'), arm, -1, 'any', count(*),
           count(*) FILTER (WHERE messaged), count(*) FILTER (WHERE opened), count(*) FILTER (WHERE clicked),
           count(*) FILTER (WHERE recovered), sum(revenue), sum(discount_cost), max(currency)
      FROM per GROUP BY shop_id, day, segment, coalesce(sequence_id, 'none'), arm`,
    [cohorts],
  );
  // Per step and channel: recoveries that reached the step on the channel, sent, opened, clicked,
  // and the orders attributed (last click) to that step's message.
  await tx.query(
    `${cohort},
    per_message AS MATERIALIZED (
      SELECT rec.shop_id, rec.day, rec.segments, coalesce(rec.sequence_id, 'none') AS sequence_id, rec.arm, rec.currency,
             m.step, m.channel, m.sent_at, m.opened_at, m.clicked_at, a.orders, a.revenue, a.discount_cost
        FROM rec JOIN read.messages m ON m.recovery_id = rec.recovery_id AND m.channel IS NOT NULL
        LEFT JOIN LATERAL (SELECT count(*) AS orders, sum(x.revenue) AS revenue, sum(x.discount_cost) AS discount_cost
                             FROM read.attribution x
                            WHERE x.recovery_id = m.recovery_id AND x.step = m.step AND x.channel = m.channel) a ON true),
    steps AS (SELECT rec.*, s.segment FROM per_message rec ${fanOut})
    INSERT INTO read.daily_funnel (shop_id, day, segment, sequence_id, arm, step, channel, abandoned, messaged, opened,
                                   clicked, recovered, revenue, discount_cost, currency)
    SELECT shop_id, day, segment, sequence_id, arm, step, channel, count(*),
           count(*) FILTER (WHERE sent_at IS NOT NULL), count(*) FILTER (WHERE opened_at IS NOT NULL),
           count(*) FILTER (WHERE clicked_at IS NOT NULL), count(*) FILTER (WHERE orders > 0),
           coalesce(sum(revenue), 0), coalesce(sum(discount_cost), 0), max(currency)
      FROM steps GROUP BY shop_id, day, segment, sequence_id, arm, step, channel`,
    [cohorts],
  );
}

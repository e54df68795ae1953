import type { PoolClient } from 'pg';
import type { MigrationInterface, QueryRunner } from 'typeorm';
import { refreshAllFunnel } from '../projections/funnel';
import { ANALYST_ROLE } from './1767225600001-analyst-role';

/**
 * Lift arms that do not mix. `read.recoveries.arm` holds the experiment arm recorded on
 * `recovery.started` (holdout, live-treated, shadow, outside-rollout); `read.daily_funnel.arm` takes
 * the same four values instead of treated/holdout; `read.lift*` compare live-treated with holdout
 * only (the `treated_*` columns of `read.lift` are the live-treated arm); `read.rollout_report`
 * lays every arm side by side for a staged rollout.
 *
 * Existing rows are converted here with the upcasting rule of `recovery.started` v1 (holdout first,
 * then the send mode and its reason) and the funnel is recomputed, so no rebuild is required; a
 * rebuild (`projections rebuild recoveries`) yields the same rows.
 */
export class LiftArms1767225600003 implements MigrationInterface {
  readonly name = 'LiftArms1767225600003';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE read.recoveries ADD COLUMN arm text`);
    await q.query(`
      UPDATE read.recoveries SET arm = CASE
        WHEN holdout THEN 'holdout'
        WHEN mode = 'live' THEN 'live-treated'
        WHEN mode = 'shadow' AND mode_reason = 'shadow-mode' THEN 'shadow'
        WHEN mode = 'shadow' THEN 'outside-rollout' END
       WHERE first_abandoned_at IS NOT NULL`);
    await q.query(`DROP VIEW read.lift`);
    await q.query(`DROP VIEW read.lift_arms`);
    await q.query(`DROP VIEW read.lift_inputs`);
    await q.query(`
      CREATE VIEW read.lift_inputs AS
      SELECT r.shop_id, s.segment, coalesce(r.sequence_id, 'none') AS sequence_id, r.arm,
             r.recovery_id, r.recovered,
             CASE WHEN r.recovered THEN coalesce(o.total, 0) ELSE 0 END AS revenue,
             coalesce(a.discount_cost, 0) AS discount_cost
        FROM read.recoveries r
        CROSS JOIN LATERAL unnest(r.segments || ARRAY['all']::text[]) AS s(segment)
        LEFT JOIN read.orders o ON r.recovered AND o.shop_id = r.shop_id AND o.order_id = r.order_id
        LEFT JOIN LATERAL (SELECT sum(discount_cost) AS discount_cost FROM read.attribution x
                            WHERE x.recovery_id = r.recovery_id) a ON true
       WHERE r.first_abandoned_at IS NOT NULL AND r.arm IS NOT NULL`);
    await q.query(`
      CREATE VIEW read.lift_arms AS
      SELECT shop_id, segment, sequence_id, arm,
             count(*)::integer AS carts,
             count(*) FILTER (WHERE recovered)::integer AS recovered,
             sum(revenue) AS revenue, sum(revenue * revenue) AS revenue_sq,
             sum(discount_cost) AS discount_cost,
             sum(revenue - discount_cost) AS net, sum((revenue - discount_cost) ^ 2) AS net_sq
        FROM read.lift_inputs GROUP BY shop_id, segment, sequence_id, arm`);
    // Live-treated vs holdout with 95 % intervals (normal approximation; Welch for revenue per cart).
    // Below 30 carts in either arm: 'not enough data yet' and no numbers.
    await q.query(`
      CREATE VIEW read.lift AS
      WITH arms AS (
        SELECT shop_id, segment, sequence_id,
               max(carts) FILTER (WHERE arm = 'live-treated') AS n_t, max(carts) FILTER (WHERE arm = 'holdout') AS n_h,
               max(recovered) FILTER (WHERE arm = 'live-treated') AS r_t, max(recovered) FILTER (WHERE arm = 'holdout') AS r_h,
               max(net) FILTER (WHERE arm = 'live-treated') AS s_t, max(net) FILTER (WHERE arm = 'holdout') AS s_h,
               max(net_sq) FILTER (WHERE arm = 'live-treated') AS q_t, max(net_sq) FILTER (WHERE arm = 'holdout') AS q_h
          FROM read.lift_arms GROUP BY shop_id, segment, sequence_id),
      stats AS (
        SELECT *, coalesce(n_t, 0) >= 30 AND coalesce(n_h, 0) >= 30 AS enough,
               r_t::numeric / nullif(n_t, 0) AS p_t, r_h::numeric / nullif(n_h, 0) AS p_h,
               s_t / nullif(n_t, 0) AS m_t, s_h / nullif(n_h, 0) AS m_h,
               (q_t - s_t * s_t / nullif(n_t, 0)) / nullif(n_t - 1, 0) AS v_t,
               (q_h - s_h * s_h / nullif(n_h, 0)) / nullif(n_h - 1, 0) AS v_h
          FROM arms)
      SELECT shop_id, segment, sequence_id, coalesce(n_t, 0) AS treated_carts, coalesce(n_h, 0) AS holdout_carts,
             CASE WHEN enough THEN 'ok' ELSE 'not enough data yet' END AS status,
             CASE WHEN enough THEN round(p_t, 4) END AS treated_recovery_rate,
             CASE WHEN enough THEN round(p_h, 4) END AS holdout_recovery_rate,
             CASE WHEN enough THEN round(p_t - p_h, 4) END AS recovery_rate_lift,
             CASE WHEN enough THEN round(p_t - p_h - 1.96 * sqrt(p_t * (1 - p_t) / n_t + p_h * (1 - p_h) / n_h), 4) END AS recovery_rate_lift_low,
             CASE WHEN enough THEN round(p_t - p_h + 1.96 * sqrt(p_t * (1 - p_t) / n_t + p_h * (1 - p_h) / n_h), 4) END AS recovery_rate_lift_high,
             CASE WHEN enough THEN round(m_t, 2) END AS treated_net_revenue_per_cart,
             CASE WHEN enough THEN round(m_h, 2) END AS holdout_net_revenue_per_cart,
             CASE WHEN enough THEN round(m_t - m_h, 2) END AS net_revenue_per_cart_lift,
             CASE WHEN enough THEN round(m_t - m_h - 1.96 * sqrt(greatest(v_t, 0) / n_t + greatest(v_h, 0) / n_h), 2) END AS net_revenue_per_cart_lift_low,
             CASE WHEN enough THEN round(m_t - m_h + 1.96 * sqrt(greatest(v_t, 0) / n_t + greatest(v_h, 0) / n_h), 2) END AS net_revenue_per_cart_lift_high
        FROM stats`);
    // Every arm side by side (a staged rollout: shadow first, then a share live), with each arm's
    // recovery rate minus the holdout's of the same shop × segment × sequence.
    await q.query(`
      CREATE VIEW read.rollout_report AS
      SELECT a.shop_id, a.segment, a.sequence_id, a.arm, a.carts, a.recovered,
             round(a.recovered::numeric / nullif(a.carts, 0), 4) AS recovery_rate,
             round(a.net / nullif(a.carts, 0), 2) AS net_revenue_per_cart,
             round(a.recovered::numeric / nullif(a.carts, 0) - h.recovered::numeric / nullif(h.carts, 0), 4)
               AS recovery_rate_vs_holdout
        FROM read.lift_arms a
        LEFT JOIN read.lift_arms h ON h.arm = 'holdout' AND h.shop_id = a.shop_id AND h.segment = a.segment
                                  AND h.sequence_id = a.sequence_id`);
    await q.query(
      `GRANT SELECT ON read.lift_inputs, read.lift_arms, read.lift, read.rollout_report TO ${ANALYST_ROLE}`,
    );
    // The funnel's arm column takes the four arms: recomputed from the converted rows.
    const client = {
      query: async (sql: string, params?: unknown[]) => ({ rows: await q.query(sql, params) }),
    } as unknown as PoolClient;
    await refreshAllFunnel(client);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP VIEW IF EXISTS read.rollout_report`);
    await q.query(`ALTER TABLE read.recoveries DROP COLUMN IF EXISTS arm CASCADE`);
  }
}

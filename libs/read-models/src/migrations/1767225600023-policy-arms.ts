import type { MigrationInterface, QueryRunner } from 'typeorm';
import { ANALYST_ROLE } from './1767225600001-analyst-role';

/**
 * The policy control arm (RFC 0021). `read.recoveries.policy_arm` (`fixed-rules` | `shop-policy`,
 * NULL when none was drawn) and `policy_arm_propensity` come from `recovery.policy-arm-assigned`.
 * `read.policy_arm_lift` lays, per shop and currency, the holdout (nothing sent: the baseline), the
 * live recoveries on the fixed rules and those on the shop's own (learning) policy side by side:
 * recoveries, recovered, recovery rate, recovered revenue (the order total of a recovered cart, as
 * in `read.lift_inputs`), discount cost (`read.attribution`) and net revenue, and each arm's rate
 * and net revenue per recovery minus the holdout's. Live recoveries without a drawn arm (the control
 * off, or a shop on the fixed rules) are not in it.
 *
 * Existing rows get NULL: `projections rebuild recoveries` fills the columns from past events.
 */
export class PolicyArms1767225600023 implements MigrationInterface {
  readonly name = 'PolicyArms1767225600023';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE read.recoveries ADD COLUMN policy_arm text, ADD COLUMN policy_arm_propensity numeric`);
    await q.query(`
      CREATE VIEW read.policy_arm_lift AS
      WITH inputs AS (
        SELECT r.shop_id, r.currency,
               CASE WHEN r.arm = 'holdout' THEN 'holdout' ELSE r.policy_arm END AS policy_arm,
               CASE WHEN r.arm = 'holdout' THEN NULL ELSE r.policy_arm_propensity END AS propensity,
               r.recovered,
               CASE WHEN r.recovered THEN coalesce(o.total, 0) ELSE 0 END AS revenue,
               coalesce(a.discount_cost, 0) AS discount_cost
          FROM read.recoveries r
          LEFT JOIN read.orders o ON r.recovered AND o.shop_id = r.shop_id AND o.order_id = r.order_id
          LEFT JOIN LATERAL (SELECT sum(discount_cost) AS discount_cost FROM read.attribution x
                              WHERE x.recovery_id = r.recovery_id) a ON true
         WHERE r.first_abandoned_at IS NOT NULL
           AND (r.arm = 'holdout' OR (r.arm = 'live-treated' AND r.policy_arm IS NOT NULL))),
      arms AS (
        SELECT shop_id, currency, policy_arm,
               count(*)::integer AS recoveries,
               count(*) FILTER (WHERE recovered)::integer AS recovered,
               round(count(*) FILTER (WHERE recovered)::numeric / count(*), 4) AS recovery_rate,
               sum(revenue) AS recovered_revenue,
               sum(discount_cost) AS discount_cost,
               sum(revenue - discount_cost) AS net_revenue,
               round(sum(revenue - discount_cost) / count(*), 2) AS net_revenue_per_recovery,
               round(avg(propensity), 4) AS mean_propensity
          FROM inputs GROUP BY shop_id, currency, policy_arm)
      SELECT a.shop_id, a.currency, a.policy_arm, a.recoveries, a.recovered, a.recovery_rate,
             a.recovered_revenue, a.discount_cost, a.net_revenue, a.net_revenue_per_recovery, a.mean_propensity,
             a.recovery_rate - h.recovery_rate AS recovery_rate_vs_holdout,
             a.net_revenue_per_recovery - h.net_revenue_per_recovery AS net_revenue_per_recovery_vs_holdout
        FROM arms a
        LEFT JOIN arms h ON h.shop_id = a.shop_id AND h.currency IS NOT DISTINCT FROM a.currency
                        AND h.policy_arm = 'holdout'`);
    await q.query(`GRANT SELECT ON read.policy_arm_lift TO ${ANALYST_ROLE}`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP VIEW IF EXISTS read.policy_arm_lift`);
    await q.query(
      `ALTER TABLE read.recoveries DROP COLUMN IF EXISTS policy_arm, DROP COLUMN IF EXISTS policy_arm_propensity`,
    );
  }
}

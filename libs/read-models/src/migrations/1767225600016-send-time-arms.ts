import type { MigrationInterface, QueryRunner } from 'typeorm';
import { ANALYST_ROLE } from './1767225600001-analyst-role';

/**
 * Send-time optimisation's randomised arm (RFC 0012). `read.recoveries.send_time_arm` (`on` | `off`)
 * and `send_time_propensity` come from `recovery.send-time-assigned`; `read.send_time_arms` counts
 * carts and recoveries per shop × arm among the live-treated recoveries (shadow and outside-rollout
 * ones sent nothing; holdouts are never assigned), with the inverse-propensity-weighted sums;
 * `read.send_time_lift` is on − off with a 95 % interval (normal approximation of the difference
 * of two proportions), 'not enough data yet' below 30 carts per arm, and the inverse-propensity-
 * weighted (Hájek) rates beside the plain ones for shops whose arm share changed over time.
 *
 * Existing rows get NULL: `projections rebuild recoveries` fills the columns from past events.
 */
export class SendTimeArms1767225600016 implements MigrationInterface {
  readonly name = 'SendTimeArms1767225600016';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE read.recoveries ADD COLUMN send_time_arm text, ADD COLUMN send_time_propensity numeric`);
    await q.query(`
      CREATE VIEW read.send_time_arms AS
      SELECT shop_id, send_time_arm AS arm,
             count(*)::integer AS carts,
             count(*) FILTER (WHERE recovered)::integer AS recovered,
             round(avg(send_time_propensity), 4) AS mean_propensity,
             sum(1 / send_time_propensity) AS weighted_carts,
             sum(CASE WHEN recovered THEN 1 / send_time_propensity ELSE 0 END) AS weighted_recovered
        FROM read.recoveries
       WHERE first_abandoned_at IS NOT NULL AND arm = 'live-treated' AND send_time_arm IS NOT NULL
         AND send_time_propensity > 0
       GROUP BY shop_id, send_time_arm`);
    await q.query(`
      CREATE VIEW read.send_time_lift AS
      WITH arms AS (
        SELECT shop_id,
               coalesce(max(carts) FILTER (WHERE arm = 'on'), 0) AS n_on,
               coalesce(max(carts) FILTER (WHERE arm = 'off'), 0) AS n_off,
               coalesce(max(recovered) FILTER (WHERE arm = 'on'), 0) AS r_on,
               coalesce(max(recovered) FILTER (WHERE arm = 'off'), 0) AS r_off,
               max(weighted_recovered / nullif(weighted_carts, 0)) FILTER (WHERE arm = 'on') AS w_on,
               max(weighted_recovered / nullif(weighted_carts, 0)) FILTER (WHERE arm = 'off') AS w_off
          FROM read.send_time_arms GROUP BY shop_id),
      stats AS (
        SELECT *, n_on >= 30 AND n_off >= 30 AS enough,
               r_on::numeric / nullif(n_on, 0) AS p_on, r_off::numeric / nullif(n_off, 0) AS p_off
          FROM arms)
      SELECT shop_id, n_on AS on_carts, n_off AS off_carts,
             CASE WHEN enough THEN 'ok' ELSE 'not enough data yet' END AS status,
             CASE WHEN enough THEN round(p_on, 4) END AS on_recovery_rate,
             CASE WHEN enough THEN round(p_off, 4) END AS off_recovery_rate,
             CASE WHEN enough THEN round(p_on - p_off, 4) END AS recovery_rate_lift,
             CASE WHEN enough THEN round(p_on - p_off - 1.96 * sqrt(p_on * (1 - p_on) / n_on + p_off * (1 - p_off) / n_off), 4) END AS recovery_rate_lift_low,
             CASE WHEN enough THEN round(p_on - p_off + 1.96 * sqrt(p_on * (1 - p_on) / n_on + p_off * (1 - p_off) / n_off), 4) END AS recovery_rate_lift_high,
             CASE WHEN enough THEN round(w_on, 4) END AS on_weighted_recovery_rate,
             CASE WHEN enough THEN round(w_off, 4) END AS off_weighted_recovery_rate
        FROM stats`);
    await q.query(`GRANT SELECT ON read.send_time_arms, read.send_time_lift TO ${ANALYST_ROLE}`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP VIEW IF EXISTS read.send_time_lift`);
    await q.query(`DROP VIEW IF EXISTS read.send_time_arms`);
    await q.query(
      `ALTER TABLE read.recoveries DROP COLUMN IF EXISTS send_time_arm, DROP COLUMN IF EXISTS send_time_propensity`,
    );
  }
}

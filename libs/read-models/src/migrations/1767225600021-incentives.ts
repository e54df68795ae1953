import type { MigrationInterface, QueryRunner } from 'typeorm';
import { ANALYST_ROLE } from './1767225600001-analyst-role';

/** The weight of the pooled rate in each level's Beta prior: the domain's default `incentives.priorStrength`. */
export const UPLIFT_VIEW_PRIOR_STRENGTH = 10;

/**
 * Discounts only where they pay (RFC 0017), filled by the `incentives` projection:
 *
 * - `read.incentive_assignments`: one row per recovery's incentive choice (`recovery.incentive-chosen`):
 *   shop, segment, level, mode, propensity, the levels chosen among, when; its outcome once the
 *   recovery ended (`recovered` = ended `purchased`, else `not-recovered`; null while open) and the
 *   net revenue of its attributed orders (revenue − discount cost);
 * - `read.discounts_withheld`: every `recovery.discount-withheld` (step, reason, percent, detail);
 * - `read.code_farmers`: per customer the latest `customer.code-farming-detected` and its evidence.
 *
 * Views: `read.incentive_uplift` per shop × segment × level — final outcomes, the Beta posterior mean
 * of the recovery rate and the uplift over 0 % with its 95 % interval, by the same formulas as the
 * domain's `levelPosteriors` (prior: the segment's pooled rate with weight 10, the default
 * `priorStrength`); `read.discount_withheld_counts` per shop × reason. All new: `projections rebuild
 * incentives` fills them from the log.
 */
export class Incentives1767225600021 implements MigrationInterface {
  readonly name = 'Incentives1767225600021';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE read.incentive_assignments (
        recovery_id text PRIMARY KEY,
        shop_id text NOT NULL,
        step integer,
        segment text,
        level integer,
        mode text,
        propensity numeric,
        levels integer[],
        expected_profits text,
        reason text,
        chosen_at timestamptz,
        sent_discount_percent integer,
        ended_at timestamptz,
        end_reason text,
        outcome text,
        orders integer,
        revenue numeric,
        discount_cost numeric,
        net_revenue numeric,
        position text NOT NULL
      );
      CREATE INDEX incentive_assignments_segment ON read.incentive_assignments (shop_id, segment, level);
      CREATE TABLE read.discounts_withheld (
        recovery_id text NOT NULL,
        step integer NOT NULL,
        shop_id text NOT NULL,
        reason text,
        percent integer,
        detail text,
        withheld_at timestamptz,
        position text NOT NULL,
        PRIMARY KEY (recovery_id, step)
      );
      CREATE INDEX discounts_withheld_shop ON read.discounts_withheld (shop_id, reason);
      CREATE TABLE read.code_farmers (
        shop_id text NOT NULL,
        customer_key text NOT NULL,
        first_detected_at timestamptz,
        detected_at timestamptz,
        detections integer,
        code_purchases integer,
        orders integer,
        code_order_share numeric,
        window_days numeric,
        position text NOT NULL,
        PRIMARY KEY (shop_id, customer_key)
      );
      CREATE VIEW read.incentive_uplift AS
        WITH levels AS (
          SELECT DISTINCT a.shop_id, a.segment, l AS level
            FROM read.incentive_assignments a, unnest(coalesce(a.levels, '{}') || a.level || 0) AS l
        ), tallies AS (
          SELECT l.shop_id, l.segment, l.level,
                 count(a.recovery_id) FILTER (WHERE a.outcome IS NOT NULL) AS assigned,
                 count(a.recovery_id) FILTER (WHERE a.outcome = 'recovered') AS recovered,
                 count(a.recovery_id) FILTER (WHERE a.outcome IS NULL) AS pending,
                 coalesce(sum(a.net_revenue) FILTER (WHERE a.outcome IS NOT NULL), 0) AS net_revenue,
                 coalesce(sum(a.discount_cost) FILTER (WHERE a.outcome IS NOT NULL), 0) AS discount_cost
            FROM levels l
            LEFT JOIN read.incentive_assignments a
              ON a.shop_id = l.shop_id AND a.segment = l.segment AND a.level = l.level
           GROUP BY l.shop_id, l.segment, l.level
        ), pooled AS (
          SELECT shop_id, segment, (sum(recovered) + 1)::float8 / (sum(assigned) + 2) AS rate
            FROM tallies GROUP BY shop_id, segment
        ), beta AS (
          SELECT t.*, ${UPLIFT_VIEW_PRIOR_STRENGTH} * p.rate + t.recovered AS a,
                 ${UPLIFT_VIEW_PRIOR_STRENGTH} * (1 - p.rate) + t.assigned - t.recovered AS b
            FROM tallies t JOIN pooled p USING (shop_id, segment)
        ), posterior AS (
          SELECT beta.*, a / (a + b) AS rate, (a * b) / ((a + b) ^ 2 * (a + b + 1)) AS variance FROM beta
        )
        SELECT x.shop_id, x.segment, x.level, x.assigned::int AS assigned, x.recovered::int AS recovered,
               x.pending::int AS pending, x.net_revenue, x.discount_cost, x.rate,
               x.rate - z.rate AS uplift,
               x.rate - z.rate - CASE WHEN x.level = 0 THEN 0 ELSE 1.96 * sqrt(x.variance + z.variance) END AS uplift_low,
               x.rate - z.rate + CASE WHEN x.level = 0 THEN 0 ELSE 1.96 * sqrt(x.variance + z.variance) END AS uplift_high
          FROM posterior x
          JOIN posterior z ON z.shop_id = x.shop_id AND z.segment = x.segment AND z.level = 0;
      CREATE VIEW read.discount_withheld_counts AS
        SELECT shop_id, reason, count(*)::int AS steps, count(DISTINCT recovery_id)::int AS recoveries,
               max(withheld_at) AS last_withheld_at
          FROM read.discounts_withheld GROUP BY shop_id, reason;
    `);
    await q.query(
      `GRANT SELECT ON read.incentive_assignments, read.discounts_withheld, read.code_farmers,
         read.incentive_uplift, read.discount_withheld_counts TO ${ANALYST_ROLE}`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      DROP VIEW IF EXISTS read.discount_withheld_counts; DROP VIEW IF EXISTS read.incentive_uplift;
      DROP TABLE IF EXISTS read.code_farmers; DROP TABLE IF EXISTS read.discounts_withheld;
      DROP TABLE IF EXISTS read.incentive_assignments`);
  }
}

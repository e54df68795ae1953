import type { MigrationInterface, QueryRunner } from 'typeorm';
import { UPLIFT_VIEW_PRIOR_STRENGTH } from './1767225600021-incentives';

/**
 * `read.incentive_uplift` counts only the recoveries that got one level on every discount step
 * (`explore`, `exploit`): those that played the ladder (`fixed`, or the learned policy's `ladder`
 * arm, each step its own percent) are evidence of no single level, as in the engine's
 * `incentiveEvidence`. Same columns; a view, so nothing to rebuild.
 */
export class IncentiveUpliftArms1767225600022 implements MigrationInterface {
  readonly name = 'IncentiveUpliftArms1767225600022';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE OR REPLACE VIEW read.incentive_uplift AS
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
             AND a.mode NOT IN ('fixed', 'ladder')
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
          JOIN posterior z ON z.shop_id = x.shop_id AND z.segment = x.segment AND z.level = 0`);
  }

  async down(): Promise<void> {
    // The previous definition counted every mode; nothing to restore that a rebuild needs.
  }
}

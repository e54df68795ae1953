import type { MigrationInterface, QueryRunner } from 'typeorm';
import { ANALYST_ROLE } from './1767225600001-analyst-role';

/**
 * Routing by score (issue 14 item 3). `read.recoveries.routing_band` (`personal`, `short`,
 * `nurture`, `middle`, `unscored`, `off`) and `routing_score` come from `recovery.routed`;
 * `read.routing_bands` counts carts and recoveries per shop × band × experiment arm with the mean
 * recorded score, so analysts compare the recovery rate per band — and, within a band, the
 * live-treated recoveries against the holdout (banded too, but sent nothing), i.e. what the band's
 * treatment added over the purchases that happen anyway.
 *
 * Existing rows get NULL: `projections rebuild recoveries` fills the columns from past events
 * (recoveries started before routing existed have no `recovery.routed` and stay NULL).
 */
export class RoutingBands1767225600017 implements MigrationInterface {
  readonly name = 'RoutingBands1767225600017';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE read.recoveries ADD COLUMN routing_band text, ADD COLUMN routing_score numeric`);
    await q.query(`
      CREATE VIEW read.routing_bands AS
      SELECT shop_id, routing_band AS band, arm,
             count(*)::integer AS carts,
             count(*) FILTER (WHERE recovered)::integer AS recovered,
             round(count(*) FILTER (WHERE recovered)::numeric / nullif(count(*), 0), 4) AS recovery_rate,
             round(avg(routing_score), 4) AS mean_score
        FROM read.recoveries
       WHERE first_abandoned_at IS NOT NULL AND routing_band IS NOT NULL
       GROUP BY shop_id, routing_band, arm`);
    await q.query(`GRANT SELECT ON read.routing_bands TO ${ANALYST_ROLE}`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP VIEW IF EXISTS read.routing_bands`);
    await q.query(
      `ALTER TABLE read.recoveries DROP COLUMN IF EXISTS routing_band, DROP COLUMN IF EXISTS routing_score`,
    );
  }
}

import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Steps blocked by an outside error. `read.messages.blocked_since` is when the step's current run
 * of outside-error deferrals (`store-unavailable`) or retryable send failures began (kept while the
 * step comes due again, cleared by any other outcome); `read.messages.detail` is what the outside
 * system answered, in words. The dashboard's attention list and `/health` read them.
 *
 * No rebuild is needed: no event before this version carries such a deferral, so existing rows are
 * right with both columns NULL (except steps in a run of retryable send failures, which a rebuild —
 * `projections rebuild recoveries` — marks as blocked too; they are also listed as soon as they fail again).
 */
export class BlockedSteps1767225600004 implements MigrationInterface {
  readonly name = 'BlockedSteps1767225600004';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE read.messages ADD COLUMN blocked_since timestamptz, ADD COLUMN detail text`);
    await q.query(`CREATE INDEX messages_blocked ON read.messages (shop_id, blocked_since)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX IF EXISTS read.messages_blocked`);
    await q.query(`ALTER TABLE read.messages DROP COLUMN IF EXISTS blocked_since, DROP COLUMN IF EXISTS detail`);
  }
}

import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Back-in-stock messages in `read.messages`. `kind` tells a sequence step (`step`) from a
 * back-in-stock message (`back-in-stock`, numbered `1000 + watch` like its links, send journal and
 * opens); `line_id` is the sold-out cart line a back-in-stock row is about. A back-in-stock row is
 * created when the line is watched (`recovery.back-in-stock-watched`: status `watching`) and follows
 * `…-due` (`due`), `…-sent` (`sent`, with channel, message id and send time), `…-skipped` (`skipped`
 * with the reason; `still-sold-out` keeps the watch) and `…-deferred` (`deferred`, until; a
 * `store-unavailable` one marks it blocked like a step's).
 *
 * Rebuild path: rows written before this version are sequence steps (`kind` defaults to `step`),
 * except the rows that an open or a click of a back-in-stock message created without its send
 * (step ≥ 1000, no channel). Those are removed here; `npm run cli -- projections rebuild recoveries`
 * (or the dashboard's rebuild) replays the log and writes every back-in-stock message with its
 * outcome, opens and clicks, and the funnel again.
 */
export class BackInStockMessages1767225600014 implements MigrationInterface {
  readonly name = 'BackInStockMessages1767225600014';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE read.messages ADD COLUMN kind text NOT NULL DEFAULT 'step', ADD COLUMN line_id text`);
    await q.query(`DELETE FROM read.messages WHERE step >= 1000 AND channel IS NULL AND sent_at IS NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DELETE FROM read.messages WHERE kind = 'back-in-stock'`);
    await q.query(`ALTER TABLE read.messages DROP COLUMN IF EXISTS kind, DROP COLUMN IF EXISTS line_id`);
  }
}

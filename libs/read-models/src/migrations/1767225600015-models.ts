import type { MigrationInterface, QueryRunner } from 'typeorm';
import { ANALYST_ROLE } from './1767225600001-analyst-role';

/**
 * The recovery score's model card (RFC 0011): `read.models` (one row per trained model of a shop:
 * scope, status live/retired/rejected, training window and size, held-out AUC, Brier, ECE,
 * reliability bins and top features as JSON text, the champion it was compared with) and
 * `read.model_status` (per shop: the live model, the last training's outcome, outcomes still
 * needed, failures). Both are new: `projections rebuild models` fills them from the `model-<shop>`
 * streams.
 */
export class Models1767225600015 implements MigrationInterface {
  readonly name = 'Models1767225600015';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE read.models (
        shop_id text NOT NULL,
        version integer NOT NULL,
        scope text,
        status text,
        trigger text,
        trained_at timestamptz,
        training_from timestamptz,
        training_to timestamptz,
        label_window_ms numeric,
        rows integer,
        positives integer,
        validation_rows integer,
        validation_positives integer,
        validation_from timestamptz,
        validation_to timestamptz,
        auc numeric,
        brier numeric,
        ece numeric,
        reliability text,
        top_features text,
        content_hash text,
        decision_reason text,
        champion_auc numeric,
        champion_brier numeric,
        champion_version integer,
        decided_at timestamptz,
        retired_at timestamptz,
        position text NOT NULL,
        PRIMARY KEY (shop_id, version)
      );
      CREATE TABLE read.model_status (
        shop_id text NOT NULL,
        live_version integer,
        live_scope text,
        last_outcome text,
        last_at timestamptz,
        outcomes integer,
        pooled_outcomes integer,
        outcomes_needed integer,
        failures integer,
        last_error text,
        last_failed_at timestamptz,
        position text NOT NULL,
        PRIMARY KEY (shop_id)
      );
    `);
    await q.query(`GRANT SELECT ON read.models, read.model_status TO ${ANALYST_ROLE}`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS read.model_status; DROP TABLE IF EXISTS read.models`);
  }
}

import type { MigrationInterface, QueryRunner } from 'typeorm';
import { ANALYST_ROLE } from './1767225600001-analyst-role';

/**
 * Experiments of step variants (RFC 0016): `read.experiments` (one row per experiment: its
 * sequence, step and segment, status, adopted variant and when), `read.experiment_arms` (per
 * variant, as of the last evaluation: assignments, settled and recovered recoveries, net revenue,
 * discount cost, messages, unsubscribes, complaints, posterior means and probability of being best;
 * stopped by which guardrail) and `read.variant_assignments` (every recovery's assignment with its
 * propensity and mode). All new: `projections rebuild experiments` fills them from the log.
 */
export class Experiments1767225600019 implements MigrationInterface {
  readonly name = 'Experiments1767225600019';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE read.experiments (
        shop_id text NOT NULL,
        experiment_id text NOT NULL,
        sequence_id text,
        sequence_version integer,
        step integer,
        segment text,
        status text,
        close_reason text,
        variants text[],
        adopted_variant_id text,
        adopted_probability_best numeric,
        adopted_samples integer,
        adopt_threshold numeric,
        opened_at timestamptz,
        adopted_at timestamptz,
        closed_at timestamptz,
        evaluations integer,
        last_evaluated_at timestamptz,
        position text NOT NULL,
        PRIMARY KEY (shop_id, experiment_id)
      );
      CREATE TABLE read.experiment_arms (
        shop_id text NOT NULL,
        experiment_id text NOT NULL,
        variant_id text NOT NULL,
        status text,
        assignments integer,
        settled integer,
        recovered integer,
        net_revenue numeric,
        discount_cost numeric,
        messages integer,
        unsubscribes integer,
        complaints integer,
        posterior_recovery_rate numeric,
        posterior_value_mean numeric,
        posterior_mean_reward numeric,
        probability_best numeric,
        stopped_guardrail text,
        stopped_rate numeric,
        stopped_at timestamptz,
        evaluated_at timestamptz,
        position text NOT NULL,
        PRIMARY KEY (shop_id, experiment_id, variant_id)
      );
      CREATE TABLE read.variant_assignments (
        recovery_id text NOT NULL,
        step integer NOT NULL,
        shop_id text,
        experiment_id text,
        variant_id text,
        segment text,
        mode text,
        arm text,
        propensity numeric,
        settled_draws integer,
        decided_at timestamptz,
        overrides text,
        position text NOT NULL,
        PRIMARY KEY (recovery_id, step)
      );
      CREATE INDEX variant_assignments_experiment ON read.variant_assignments (shop_id, experiment_id);
    `);
    await q.query(
      `GRANT SELECT ON read.experiments, read.experiment_arms, read.variant_assignments TO ${ANALYST_ROLE}`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(
      `DROP TABLE IF EXISTS read.variant_assignments; DROP TABLE IF EXISTS read.experiment_arms; DROP TABLE IF EXISTS read.experiments`,
    );
  }
}

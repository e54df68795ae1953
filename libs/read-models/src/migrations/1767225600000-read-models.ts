import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Schema `read`: the analyst-facing read models (docs/analytics.md). Written only by the projections
 * (libs/read-models/src/projections); every table is rebuildable from the event log.
 * Frozen once released: change the tables with a new migration (and a BREAKING CHANGE note).
 */
export class ReadModels1767225600000 implements MigrationInterface {
  readonly name = 'ReadModels1767225600000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE SCHEMA IF NOT EXISTS read`);
    await q.query(`
      CREATE TABLE read.carts (
        shop_id text NOT NULL,
        cart_id text NOT NULL,
        platform text,
        source text,
        customer_key text,
        currency text,
        subtotal numeric,
        total numeric,
        item_count integer,
        device text,
        status text NOT NULL,
        reach_email boolean,
        reach_sms boolean,
        first_seen_at timestamptz,
        last_activity_at timestamptz,
        abandoned_by_platform_at timestamptz,
        checkout_completed_at timestamptz,
        purchased_at timestamptz,
        order_id text,
        deleted_at timestamptz,
        position text NOT NULL,
        PRIMARY KEY (shop_id, cart_id)
      );
      CREATE TABLE read.customers (
        shop_id text NOT NULL,
        customer_key text NOT NULL,
        platform text,
        orders_count integer,
        total_spent numeric,
        currency text,
        reach_email boolean,
        reach_sms boolean,
        email_consent text,
        email_consent_source text,
        email_consent_at timestamptz,
        sms_consent text,
        sms_consent_source text,
        sms_consent_at timestamptz,
        platform_created_at timestamptz,
        profile_updated_at timestamptz,
        data_requested_at timestamptz,
        redacted_at timestamptz,
        position text NOT NULL,
        PRIMARY KEY (shop_id, customer_key)
      );
      CREATE TABLE read.recoveries (
        recovery_id text NOT NULL,
        shop_id text,
        cart_id text,
        customer_key text,
        status text NOT NULL,
        paused boolean NOT NULL,
        cart_value numeric,
        currency text,
        item_count integer,
        device text,
        first_activity_at timestamptz,
        last_activity_at timestamptz,
        first_abandoned_at timestamptz,
        abandoned_at timestamptz,
        abandon_source text,
        times_abandoned integer NOT NULL,
        shop_time_zone text,
        holdout boolean NOT NULL,
        mode text,
        mode_reason text,
        segments text[] NOT NULL,
        sequence_id text,
        sequence_version integer,
        catalogue_version integer,
        step_count integer,
        messages_sent integer NOT NULL,
        ticket text,
        ended_at timestamptz,
        outcome text,
        order_id text,
        recovered boolean NOT NULL,
        recovered_at timestamptz,
        position text NOT NULL,
        PRIMARY KEY (recovery_id)
      );
      CREATE TABLE read.messages (
        recovery_id text NOT NULL,
        step integer NOT NULL,
        shop_id text,
        channel text,
        status text NOT NULL,
        reason text,
        mode text,
        attempts integer NOT NULL,
        deferrals integer NOT NULL,
        due_at timestamptz,
        deferred_until timestamptz,
        template_kind text,
        template_id text,
        discount_percent numeric,
        discount_code text,
        discount_withheld text,
        would_send boolean,
        reconciled boolean,
        message_id text,
        channels_skipped text[],
        cart_value numeric,
        item_count integer,
        sent_at timestamptz,
        outcome_at timestamptz,
        opened_at timestamptz,
        clicked_at timestamptz,
        unsubscribed_at timestamptz,
        click_host text,
        position text NOT NULL,
        PRIMARY KEY (recovery_id, step)
      );
      CREATE TABLE read.segments (
        recovery_id text NOT NULL,
        segment text NOT NULL,
        shop_id text,
        abandoned_at timestamptz,
        position text NOT NULL,
        PRIMARY KEY (recovery_id, segment)
      );
      CREATE TABLE read.scores (
        recovery_id text NOT NULL,
        shop_id text,
        orders_count integer,
        total_spent numeric,
        last_purchase_at timestamptz,
        previous_abandonments integer,
        previous_recoveries integer,
        discount_orders_count integer,
        categories_bought integer,
        ignored_recovery_messages integer,
        cart_value numeric,
        item_count integer,
        cart_categories text[],
        device text,
        traffic_source text,
        hour_of_day integer,
        checkout_stage text,
        score numeric,
        scored_by text,
        position text NOT NULL,
        PRIMARY KEY (recovery_id)
      );
      CREATE TABLE read.orders (
        shop_id text NOT NULL,
        order_id text NOT NULL,
        customer_key text,
        currency text,
        total numeric,
        subtotal numeric,
        total_discounts numeric,
        discount_codes integer,
        cart_ids text[],
        placed_at timestamptz,
        position text NOT NULL,
        PRIMARY KEY (shop_id, order_id)
      );
      CREATE TABLE read.attribution (
        shop_id text NOT NULL,
        order_id text NOT NULL,
        recovery_id text,
        step integer,
        channel text,
        message_id text,
        clicked_at timestamptz,
        placed_at timestamptz,
        revenue numeric NOT NULL,
        currency text,
        discount_code text,
        discount_used boolean NOT NULL,
        discount_cost numeric NOT NULL,
        rule text NOT NULL,
        position text NOT NULL,
        PRIMARY KEY (shop_id, order_id)
      );
      CREATE TABLE read.daily_funnel (
        shop_id text NOT NULL,
        day date NOT NULL,
        segment text NOT NULL,
        sequence_id text NOT NULL,
        arm text NOT NULL,
        step integer NOT NULL,
        channel text NOT NULL,
        abandoned integer NOT NULL,
        messaged integer NOT NULL,
        opened integer NOT NULL,
        clicked integer NOT NULL,
        recovered integer NOT NULL,
        revenue numeric NOT NULL,
        discount_cost numeric NOT NULL,
        currency text,
        PRIMARY KEY (shop_id, day, segment, sequence_id, arm, step, channel)
      );
      CREATE INDEX carts_shop_activity ON read.carts (shop_id, last_activity_at);
      CREATE INDEX carts_customer ON read.carts (shop_id, customer_key);
      CREATE INDEX recoveries_shop_abandoned ON read.recoveries (shop_id, first_abandoned_at);
      CREATE INDEX recoveries_customer ON read.recoveries (shop_id, customer_key);
      CREATE INDEX messages_shop_sent ON read.messages (shop_id, sent_at);
      CREATE INDEX segments_shop_segment ON read.segments (shop_id, segment);
      CREATE INDEX attribution_recovery ON read.attribution (recovery_id);
      CREATE INDEX orders_customer ON read.orders (shop_id, customer_key, placed_at);
    `);
    // Lift inputs: one row per started recovery and segment (plus 'all'), with its outcome in money.
    await q.query(`
      CREATE VIEW read.lift_inputs AS
      SELECT r.shop_id, s.segment, coalesce(r.sequence_id, 'none') AS sequence_id,
             CASE WHEN r.holdout THEN 'holdout' ELSE 'treated' END AS arm,
             r.recovery_id, r.recovered,
             CASE WHEN r.recovered THEN coalesce(o.total, 0) ELSE 0 END AS revenue,
             coalesce(a.discount_cost, 0) AS discount_cost
        FROM read.recoveries r
        CROSS JOIN LATERAL unnest(r.segments || ARRAY['all']::text[]) AS s(segment)
        LEFT JOIN read.orders o ON r.recovered AND o.shop_id = r.shop_id AND o.order_id = r.order_id
        LEFT JOIN LATERAL (SELECT sum(discount_cost) AS discount_cost FROM read.attribution x
                            WHERE x.recovery_id = r.recovery_id) a ON true
       WHERE r.first_abandoned_at IS NOT NULL`);
    await q.query(`
      CREATE VIEW read.lift_arms AS
      SELECT shop_id, segment, sequence_id, arm,
             count(*)::integer AS carts,
             count(*) FILTER (WHERE recovered)::integer AS recovered,
             sum(revenue) AS revenue, sum(revenue * revenue) AS revenue_sq,
             sum(discount_cost) AS discount_cost,
             sum(revenue - discount_cost) AS net, sum((revenue - discount_cost) ^ 2) AS net_sq
        FROM read.lift_inputs GROUP BY shop_id, segment, sequence_id, arm`);
    // Treated vs holdout with 95 % intervals (normal approximation; Welch for revenue per cart).
    // Below 30 carts in either arm: 'not enough data yet' and no numbers.
    await q.query(`
      CREATE VIEW read.lift AS
      WITH arms AS (
        SELECT shop_id, segment, sequence_id,
               max(carts) FILTER (WHERE arm = 'treated') AS n_t, max(carts) FILTER (WHERE arm = 'holdout') AS n_h,
               max(recovered) FILTER (WHERE arm = 'treated') AS r_t, max(recovered) FILTER (WHERE arm = 'holdout') AS r_h,
               max(net) FILTER (WHERE arm = 'treated') AS s_t, max(net) FILTER (WHERE arm = 'holdout') AS s_h,
               max(net_sq) FILTER (WHERE arm = 'treated') AS q_t, max(net_sq) FILTER (WHERE arm = 'holdout') AS q_h
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
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP SCHEMA IF EXISTS read CASCADE`);
  }
}

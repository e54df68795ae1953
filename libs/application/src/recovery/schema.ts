import { VARIANT_INDEX_SQL } from './experiments';
import { ensureDeadLetterTables } from '@reclaim/event-store/subscriptions/dead-letters';
import type { Pool } from 'pg';

/**
 * The recovery engine's own tables (schema `engine`). All of them can be rebuilt from the event log
 * by resetting the engine subscriptions' checkpoints, except `effects` (the crash-safe record of
 * provider calls in flight, R2), `outbox` (the local email channel: what would have been sent, with
 * the recipient sealed under the customer's key), `sms_recipients` (keyed phone hashes of the
 * texted customers, for STOP replies), `held_engagement` (opens, clicks and delivery statuses that
 * arrived before their message's send was recorded, until it is), `test_sends` (the template editor's test sends, an audit
 * record) and the merchant configuration (`sequences`, `shop_settings`, `templates`).
 */
export const ENGINE_SCHEMA_SQL = `
CREATE SCHEMA IF NOT EXISTS engine;

CREATE TABLE IF NOT EXISTS engine.timers (
  timer_id text PRIMARY KEY,
  stream_id text NOT NULL,
  shop_id text NOT NULL,
  purpose text NOT NULL,
  step integer,
  seq integer NOT NULL,
  due_at timestamptz NOT NULL,
  payload jsonb NOT NULL DEFAULT '{}'::jsonb,
  claimed_until timestamptz,
  fired_at timestamptz,
  superseded_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS timers_due ON engine.timers (due_at) WHERE fired_at IS NULL AND superseded_at IS NULL;
CREATE INDEX IF NOT EXISTS timers_stream ON engine.timers (stream_id) WHERE fired_at IS NULL AND superseded_at IS NULL;

CREATE TABLE IF NOT EXISTS engine.effect_queue (
  request_id text PRIMARY KEY,
  kind text NOT NULL CONSTRAINT effect_queue_kind_check CHECK (kind IN ('step', 'reconcile', 'ticket', 'profile', 'enrich', 'back-in-stock', 'categorize')),
  stream_id text NOT NULL,
  shop_id text NOT NULL,
  payload jsonb NOT NULL,
  available_at timestamptz NOT NULL,
  claimed_until timestamptz,
  attempts integer NOT NULL DEFAULT 0,
  done_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now()
);
-- Tables created before the 'profile', 'enrich', 'back-in-stock' and 'categorize' kinds: widen the check once.
DO $$
BEGIN
  IF NOT EXISTS (
    SELECT 1 FROM pg_constraint
     WHERE conrelid = 'engine.effect_queue'::regclass AND contype = 'c'
       AND pg_get_constraintdef(oid) LIKE '%categorize%'
  ) THEN
    ALTER TABLE engine.effect_queue DROP CONSTRAINT IF EXISTS effect_queue_kind_check;
    ALTER TABLE engine.effect_queue ADD CONSTRAINT effect_queue_kind_check
      CHECK (kind IN ('step', 'reconcile', 'ticket', 'profile', 'enrich', 'back-in-stock', 'categorize'));
  END IF;
END $$;
CREATE INDEX IF NOT EXISTS effect_queue_available ON engine.effect_queue (available_at) WHERE done_at IS NULL;
-- A request put back after an error: since when, and the last error (dashboard attention list).
ALTER TABLE engine.effect_queue ADD COLUMN IF NOT EXISTS blocked_since timestamptz, ADD COLUMN IF NOT EXISTS last_error text;

CREATE TABLE IF NOT EXISTS engine.effects (
  idempotency_key text PRIMARY KEY,
  recovery_id text NOT NULL,
  step integer NOT NULL,
  channel text NOT NULL,
  request_id text NOT NULL,
  status text NOT NULL CHECK (status IN ('started', 'done')),
  started_at timestamptz NOT NULL,
  finished_at timestamptz,
  discount_code text,
  outcome jsonb
);
CREATE INDEX IF NOT EXISTS effects_started ON engine.effects (started_at) WHERE status = 'started';
-- Which store API made the discount code (e.g. BigCommerce 'v3-promotions' or its 'v2-coupons' fallback).
ALTER TABLE engine.effects ADD COLUMN IF NOT EXISTS discount_source text;

CREATE TABLE IF NOT EXISTS engine.customer_recoveries (
  shop_id text NOT NULL,
  customer_key text NOT NULL,
  recovery_id text NOT NULL,
  status text NOT NULL CHECK (status IN ('watching', 'active', 'holdout', 'ended')),
  started_at timestamptz,
  ended_at timestamptz,
  end_reason text,
  PRIMARY KEY (shop_id, customer_key, recovery_id)
);
CREATE INDEX IF NOT EXISTS customer_recoveries_recovery ON engine.customer_recoveries (recovery_id);
-- The customer's most specific segment at the start (recovery.segmented): the unit the channel
-- response rates are learned for (RFC 0013). NULL for recoveries segmented before it was recorded.
ALTER TABLE engine.customer_recoveries ADD COLUMN IF NOT EXISTS response_segment text;

-- Products a recovery watches for a line it announced as sold out (recovery.back-in-stock-watched).
CREATE TABLE IF NOT EXISTS engine.stock_watches (
  shop_id text NOT NULL,
  product_id text NOT NULL,
  recovery_id text NOT NULL,
  PRIMARY KEY (shop_id, product_id, recovery_id)
);

CREATE TABLE IF NOT EXISTS engine.sent_messages (
  shop_id text NOT NULL,
  customer_key text NOT NULL,
  recovery_id text NOT NULL,
  step integer NOT NULL,
  channel text NOT NULL,
  message_id text NOT NULL,
  discount_code text,
  sent_at timestamptz NOT NULL,
  opened_at timestamptz,
  clicked_at timestamptz,
  PRIMARY KEY (recovery_id, step, channel)
);
CREATE INDEX IF NOT EXISTS sent_messages_customer ON engine.sent_messages (shop_id, customer_key, sent_at);
-- The first reply to the message (an SMS answered with anything but a STOP-family word): engagement.
ALTER TABLE engine.sent_messages ADD COLUMN IF NOT EXISTS replied_at timestamptz;

CREATE TABLE IF NOT EXISTS engine.customer_orders (
  shop_id text NOT NULL,
  order_id text NOT NULL,
  customer_key text NOT NULL,
  placed_at timestamptz NOT NULL,
  total text NOT NULL,
  currency text NOT NULL,
  discounted boolean NOT NULL,
  categories text[] NOT NULL DEFAULT '{}',
  PRIMARY KEY (shop_id, order_id)
);
CREATE INDEX IF NOT EXISTS customer_orders_customer ON engine.customer_orders (shop_id, customer_key, placed_at);
-- The customer's IANA zone from the order's address (the send window's zone when the cart has none).
ALTER TABLE engine.customer_orders ADD COLUMN IF NOT EXISTS time_zone text;
-- The products of the order (their categories, from engine.product_categories, are the categories bought).
ALTER TABLE engine.customer_orders ADD COLUMN IF NOT EXISTS product_ids text[] NOT NULL DEFAULT '{}';
-- The order's discount codes, upper-cased: a recovery code among them is a code purchase (RFC 0017).
ALTER TABLE engine.customer_orders ADD COLUMN IF NOT EXISTS discount_codes text[] NOT NULL DEFAULT '{}';
-- The recovery's incentive level (recovery.incentive-chosen) and its end: the learned discount
-- policy's evidence per shop × segment × level (RFC 0017). Rebuildable from the log.
CREATE TABLE IF NOT EXISTS engine.incentive_assignments (
  recovery_id text PRIMARY KEY,
  shop_id text NOT NULL,
  segment text NOT NULL,
  percent integer NOT NULL,
  propensity numeric NOT NULL,
  mode text NOT NULL,
  decided_at timestamptz NOT NULL,
  ended_at timestamptz,
  end_reason text
);
CREATE INDEX IF NOT EXISTS incentive_assignments_segment ON engine.incentive_assignments (shop_id, segment, decided_at);

-- The store's categories of each product, from recovery.categories-recorded (the latest record wins):
-- the category cache. A product is looked up again once its row is older than CATEGORY_CACHE_TTL.
CREATE TABLE IF NOT EXISTS engine.product_categories (
  shop_id text NOT NULL,
  product_id text NOT NULL,
  categories text[] NOT NULL,
  found boolean NOT NULL,
  recorded_at timestamptz NOT NULL,
  PRIMARY KEY (shop_id, product_id)
);

CREATE TABLE IF NOT EXISTS engine.sequences (
  shop_id text NOT NULL,
  version integer NOT NULL,
  definition jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (shop_id, version)
);

CREATE TABLE IF NOT EXISTS engine.shop_settings (
  shop_id text PRIMARY KEY,
  settings jsonb NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- Every change of a shop's settings is announced (NOTIFY reclaim_shop_settings, payload the shop id,
-- '*' on TRUNCATE), whoever writes it: the engines' settings caches drop the shop's entry on it.
CREATE OR REPLACE FUNCTION engine.notify_shop_settings() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  IF TG_OP = 'TRUNCATE' THEN
    PERFORM pg_notify('reclaim_shop_settings', '*');
  ELSIF TG_OP = 'DELETE' THEN
    PERFORM pg_notify('reclaim_shop_settings', OLD.shop_id);
  ELSE
    PERFORM pg_notify('reclaim_shop_settings', NEW.shop_id);
    IF TG_OP = 'UPDATE' AND OLD.shop_id <> NEW.shop_id THEN
      PERFORM pg_notify('reclaim_shop_settings', OLD.shop_id);
    END IF;
  END IF;
  RETURN NULL;
END
$fn$;
CREATE OR REPLACE TRIGGER shop_settings_changed AFTER INSERT OR UPDATE OR DELETE ON engine.shop_settings
  FOR EACH ROW EXECUTE FUNCTION engine.notify_shop_settings();
CREATE OR REPLACE TRIGGER shop_settings_truncated AFTER TRUNCATE ON engine.shop_settings
  FOR EACH STATEMENT EXECUTE FUNCTION engine.notify_shop_settings();
-- A new sequence catalogue is announced the same way: the settings caches keep each shop's current
-- catalogue with its settings.
CREATE OR REPLACE TRIGGER sequences_changed AFTER INSERT OR UPDATE OR DELETE ON engine.sequences
  FOR EACH ROW EXECUTE FUNCTION engine.notify_shop_settings();
CREATE OR REPLACE TRIGGER sequences_truncated AFTER TRUNCATE ON engine.sequences
  FOR EACH STATEMENT EXECUTE FUNCTION engine.notify_shop_settings();

CREATE TABLE IF NOT EXISTS engine.templates (
  shop_id text NOT NULL,
  template_id text NOT NULL,
  channel text NOT NULL CHECK (channel IN ('email', 'sms')),
  source jsonb NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (shop_id, template_id, channel)
);

CREATE TABLE IF NOT EXISTS engine.outbox (
  idempotency_key text PRIMARY KEY,
  message_id text NOT NULL UNIQUE,
  shop_id text NOT NULL,
  recovery_id text NOT NULL,
  step integer NOT NULL,
  channel text NOT NULL,
  recipient jsonb NOT NULL,
  subject text NOT NULL,
  html text NOT NULL,
  text text NOT NULL,
  headers jsonb NOT NULL DEFAULT '{}'::jsonb,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS outbox_shop ON engine.outbox (shop_id, created_at);

-- Test sends from the dashboard's template editor: an audit record (masked recipient), never a recovery.
CREATE TABLE IF NOT EXISTS engine.test_sends (
  test_send_id text PRIMARY KEY,
  shop_id text NOT NULL,
  template_id text NOT NULL,
  channel text NOT NULL,
  recipient_masked text NOT NULL,
  subject text NOT NULL,
  message_id text,
  error text,
  cart_source text NOT NULL,
  sent_at timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS test_sends_shop ON engine.test_sends (shop_id, sent_at);

-- Who each texted phone belongs to (R26): phone_key is the vault's keyed hash of the E.164 number
-- (t-…), never the number; an inbound STOP is mapped back to the customer streams through it.
CREATE TABLE IF NOT EXISTS engine.sms_recipients (
  shop_id text NOT NULL,
  phone_key text NOT NULL,
  customer_key text NOT NULL,
  last_sent_at timestamptz NOT NULL,
  PRIMARY KEY (shop_id, phone_key, customer_key)
);

-- Engagement read back from a provider (Klaviyo's opens, clicks, bounces): the durable cursor of the
-- poll (not a projection of the log: the position in the provider's event list) and its health.
CREATE TABLE IF NOT EXISTS engine.engagement_sources (
  source text PRIMARY KEY,
  cursor jsonb,
  last_polled_at timestamptz,
  last_success_at timestamptz,
  last_error text,
  last_error_at timestamptz,
  consecutive_failures integer NOT NULL DEFAULT 0,
  failures bigint NOT NULL DEFAULT 0,
  received bigint NOT NULL DEFAULT 0,
  recorded bigint NOT NULL DEFAULT 0
);

-- Enrichment per shop and source (Klaviyo): counts and the latest success and failure, projected
-- from recovery.enriched / recovery.enrichment-unavailable (rebuilt with the engine subscriptions).
CREATE TABLE IF NOT EXISTS engine.enrichment_status (
  shop_id text NOT NULL,
  source text NOT NULL,
  enriched bigint NOT NULL DEFAULT 0,
  unavailable bigint NOT NULL DEFAULT 0,
  last_enriched_at timestamptz,
  last_failed_at timestamptz,
  last_failure_reason text,
  PRIMARY KEY (shop_id, source)
);

-- Engagement that arrived before its message's send was recorded (an open or click milliseconds
-- after the provider accepted it, a delivery status before the outcome was fed back), keyed by the
-- message (its idempotency key, <recoveryId>:step-<n>:<channel>) and the kind: a duplicate is kept
-- once. Applied to the recovery when the send is recorded (applied_at), or expired at expires_at
-- (expired_at, counted in /metrics). Applied rows are pruned after a day, expired ones after 30.
CREATE TABLE IF NOT EXISTS engine.held_engagement (
  message_key text NOT NULL,
  engagement text NOT NULL,
  shop_id text NOT NULL,
  recovery_id text NOT NULL,
  step integer NOT NULL,
  channel text NOT NULL,
  input jsonb NOT NULL,
  causation_id text NOT NULL,
  received_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL,
  applied_at timestamptz,
  expired_at timestamptz,
  PRIMARY KEY (message_key, engagement)
);
CREATE INDEX IF NOT EXISTS held_engagement_waiting ON engine.held_engagement (recovery_id)
  WHERE applied_at IS NULL AND expired_at IS NULL;

-- Send-time optimisation (RFC 0012): the zones a recovery's engagement is read in — the cart's
-- (from its address, recovery.activity-recorded) and the shop's (recovery.started).
ALTER TABLE engine.customer_recoveries ADD COLUMN IF NOT EXISTS time_zone text;
ALTER TABLE engine.customer_recoveries ADD COLUMN IF NOT EXISTS shop_time_zone text;

-- The customer's engagement by local weekday (0 = Monday) and hour: human-looking opens, clicks and
-- replies of recovery messages, and orders, counted once each from the log; zone_source says whether
-- the hour was read in the customer's zone (address) or the shop's (shop-default).
CREATE TABLE IF NOT EXISTS engine.engagement_hours (
  shop_id text NOT NULL,
  customer_key text NOT NULL,
  weekday smallint NOT NULL CHECK (weekday BETWEEN 0 AND 6),
  hour smallint NOT NULL CHECK (hour BETWEEN 0 AND 23),
  zone_source text NOT NULL CHECK (zone_source IN ('address', 'shop-default')),
  opens integer NOT NULL DEFAULT 0,
  clicks integer NOT NULL DEFAULT 0,
  replies integer NOT NULL DEFAULT 0,
  orders integer NOT NULL DEFAULT 0,
  last_at timestamptz NOT NULL,
  PRIMARY KEY (shop_id, customer_key, weekday, hour, zone_source)
);
-- The shop's totals of the same events: the prior every customer's profile is shrunk towards.
CREATE TABLE IF NOT EXISTS engine.shop_engagement_hours (
  shop_id text NOT NULL,
  weekday smallint NOT NULL CHECK (weekday BETWEEN 0 AND 6),
  hour smallint NOT NULL CHECK (hour BETWEEN 0 AND 23),
  events integer NOT NULL DEFAULT 0,
  PRIMARY KEY (shop_id, weekday, hour)
);
${VARIANT_INDEX_SQL}
`;

/**
 * The one way tables of schema `engine` are created: the statements run in one transaction under
 * the engine's migration lock, so concurrent start-ups serialise and each statement is written to
 * be idempotent (`IF NOT EXISTS`, guarded `DO` blocks).
 */
export async function migrateEngineTables(pool: Pool, ...statements: readonly string[]): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query(`SELECT pg_advisory_xact_lock(hashtext('reclaim.engine.migrate'))`);
    for (const sql of statements) await client.query(sql);
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}

/**
 * Creates the engine schema (idempotent, safe to run concurrently), with the `engine` tables of the
 * configured adapters (e.g. the providers' send journal, `SEND_JOURNAL_SQL`) in the same step.
 */
export async function migrateRecoveryEngine(
  pool: Pool,
  options: { readonly adapterTables?: readonly string[] } = {},
): Promise<void> {
  // The consumers' dead-letter registry, where the effect runner parks requests that keep failing.
  await ensureDeadLetterTables(pool);
  await migrateEngineTables(pool, ENGINE_SCHEMA_SQL, ...(options.adapterTables ?? []));
}

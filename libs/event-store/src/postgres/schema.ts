import type { Pool } from 'pg';

export const DEFAULT_SCHEMA = 'event_store';

const IDENT = /^[a-z_][a-z0-9_]{0,50}$/;

export function assertSchemaName(schema: string): string {
  if (!IDENT.test(schema)) throw new TypeError(`invalid schema name: ${schema}`);
  return schema;
}

/** First key of every advisory lock we take (a constant: 'RCLM'); the second is per schema + purpose. */
export const LOCK_CLASS = 0x52434c4d;

/** FNV-1a 32-bit, folded to a signed int4 for pg_advisory_xact_lock(int4, int4). */
export function lockKey(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h | 0;
}

/** The lock every appender holds from position allocation until its commit is visible. */
export function appendLockSql(schema: string): string {
  return `SELECT pg_advisory_xact_lock(${LOCK_CLASS}, ${lockKey(`${schema}:append`)})`;
}

/**
 * An event's category: its type up to the first dot (`cart.activity-recorded` → `cart`). Filtered
 * subscriptions read by it through `events_category_position_idx` (an expression index: no stored
 * column, so existing tables need no rewrite, only the index build at the first start).
 */
export const CATEGORY_SQL = "split_part(type, '.', 1)";

export function notifyChannel(schema: string): string {
  return `${schema}_appended`;
}

/** The dead-letter tables of the checkpointed subscriptions (see subscriptions/dead-letters.ts); idempotent. */
export function deadLetterDdl(schema: string): string {
  return `
    CREATE TABLE IF NOT EXISTS "${assertSchemaName(schema)}".subscription_blocked_keys (
      subscription text NOT NULL,
      key text NOT NULL,
      status text NOT NULL CHECK (status IN ('retrying', 'parked')),
      attempts integer NOT NULL,
      error text NOT NULL,
      event_id text NOT NULL,
      event_type text NOT NULL,
      stream_id text NOT NULL,
      first_failed_at timestamptz NOT NULL DEFAULT now(),
      last_failed_at timestamptz NOT NULL DEFAULT now(),
      next_attempt_at timestamptz,
      PRIMARY KEY (subscription, key)
    );
    CREATE TABLE IF NOT EXISTS "${assertSchemaName(schema)}".subscription_blocked_events (
      subscription text NOT NULL,
      key text NOT NULL,
      seq bigserial NOT NULL,
      event_id text NOT NULL,
      position text NOT NULL,
      event jsonb NOT NULL,
      PRIMARY KEY (subscription, event_id)
    );
    CREATE INDEX IF NOT EXISTS subscription_blocked_events_key_idx ON "${assertSchemaName(schema)}".subscription_blocked_events (subscription, key, seq);`;
}

/** The partition count of each partitioned subscription (see subscriptions/partitioned-subscription.ts); idempotent. */
export function partitionLayoutDdl(schema: string): string {
  return `
    CREATE TABLE IF NOT EXISTS "${assertSchemaName(schema)}".subscription_partitions (
      name text PRIMARY KEY,
      partitions integer NOT NULL CHECK (partitions BETWEEN 1 AND 1024),
      updated_at timestamptz NOT NULL DEFAULT now()
    );`;
}

/**
 * Runs idempotent DDL of `schema` in one transaction under the schema's migration lock, so start-ups
 * (or a consumer creating its own tables) running at once serialise instead of racing on the
 * catalogue (`CREATE SCHEMA IF NOT EXISTS` alone is not safe concurrently).
 */
export async function runSchemaDdl(pool: Pool, schema: string, sql: string): Promise<void> {
  const s = assertSchemaName(schema);
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query(`SELECT pg_advisory_xact_lock(${LOCK_CLASS}, ${lockKey(`${s}:migrate`)})`);
    await client.query(`CREATE SCHEMA IF NOT EXISTS "${s}"; ${sql}`);
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    client.release(err instanceof Error ? err : true);
    throw err;
  }
  client.release();
}

/** Idempotent; safe to run from several processes at once (serialised by an advisory lock). */
export async function migrateEventStore(pool: Pool, schema: string = DEFAULT_SCHEMA): Promise<void> {
  const s = assertSchemaName(schema);
  await runSchemaDdl(
    pool,
    s,
    `
      CREATE TABLE IF NOT EXISTS "${s}".streams (
        stream_id text PRIMARY KEY,
        revision bigint NOT NULL
      );
      CREATE TABLE IF NOT EXISTS "${s}".events (
        global_position bigint NOT NULL,
        stream_id text NOT NULL,
        revision bigint NOT NULL,
        event_id uuid NOT NULL,
        type text NOT NULL,
        schema_version integer NOT NULL,
        data jsonb NOT NULL,
        metadata jsonb NOT NULL DEFAULT '{}'::jsonb,
        recorded_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT events_global_position_key PRIMARY KEY (global_position),
        CONSTRAINT events_stream_revision_key UNIQUE (stream_id, revision),
        CONSTRAINT events_event_id_key UNIQUE (event_id)
      );
      CREATE INDEX IF NOT EXISTS events_category_position_idx ON "${s}".events ((${CATEGORY_SQL}), global_position);
      CREATE TABLE IF NOT EXISTS "${s}".subscription_checkpoints (
        name text PRIMARY KEY,
        position text NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now()
      );
      ${deadLetterDdl(s)}
      ${partitionLayoutDdl(s)}
    `,
  );
}

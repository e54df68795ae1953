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

/** The one-round-trip append of a planned batch (see {@link appendBatchDdl}); versioned by its name. */
export function appendBatchFunction(schema: string): string {
  return `"${assertSchemaName(schema)}".append_batch_v1`;
}

/**
 * `append_batch_v1(streams, assumed, ids, rows, notify)`: the database half of a group-commit batch
 * (docs/rfc/0020-one-round-trip-append.md). The rules (expected revisions, idempotent ids, revisions
 * within the batch) stay in TypeScript: the writer plans the batch against the state it *assumes*
 * (its cache of stream revisions, ids unseen), and this function only checks that assumption under
 * the append lock and writes the planned rows. Under the lock, each statement of this VOLATILE
 * function takes a new snapshot (READ COMMITTED, checked), so the state it checks is the state after
 * every earlier batch committed (RFC 0001). When the assumption holds: the rows are inserted at
 * positions head + o, the streams' revisions upserted, a NOTIFY sent, and one row ('H', head before the
 * batch) is returned; the caller's autocommit makes it one transaction and one WAL flush. When it does
 * not: nothing is written and the actual state is returned ('M' with the head, an 'S' row per existing
 * stream of the batch, an 'E' row per stored id), for the writer to plan again.
 */
export function appendBatchDdl(schema: string): string {
  const s = assertSchemaName(schema);
  return `
    CREATE OR REPLACE FUNCTION ${appendBatchFunction(s)}(
      p_streams text[], p_assumed bigint[], p_ids uuid[], p_rows json, p_notify boolean)
    RETURNS TABLE (kind text, stream_id text, revision bigint, event_id uuid, global_position bigint)
    LANGUAGE plpgsql VOLATILE AS $fn$
    #variable_conflict use_column
    DECLARE
      v_head bigint;
      v_count bigint;
    BEGIN
      IF current_setting('transaction_isolation') <> 'read committed' THEN
        RAISE EXCEPTION 'append_batch_v1 needs READ COMMITTED (each statement a snapshot taken under the lock)';
      END IF;
      PERFORM pg_advisory_xact_lock(${LOCK_CLASS}, ${lockKey(`${s}:append`)});
      SELECT COALESCE(MAX(e.global_position), 0) INTO v_head FROM "${s}".events e;
      -- The checks are scalar sub-queries, one primary-key probe per element: PL/pgSQL keeps a
      -- generic plan per connection, and a join or \`= ANY(…)\` planned while the tables were small
      -- (a seq scan) would stay with the connection as they grow.
      IF EXISTS (SELECT 1 FROM unnest(p_streams, p_assumed) AS a(sid, rev)
                  WHERE COALESCE((SELECT st.revision FROM "${s}".streams st WHERE st.stream_id = a.sid), -1) <> a.rev)
         OR EXISTS (SELECT 1 FROM unnest(p_ids) AS u(id)
                     WHERE (SELECT true FROM "${s}".events e WHERE e.event_id = u.id)) THEN
        -- Rare: planned on each call (EXECUTE).
        RETURN QUERY EXECUTE
          'SELECT ''M''::text, NULL::text, NULL::bigint, NULL::uuid, $3
           UNION ALL
           SELECT ''S'', st.stream_id, st.revision, NULL, NULL FROM "${s}".streams st WHERE st.stream_id = ANY($1)
           UNION ALL
           SELECT ''E'', e.stream_id, e.revision, e.event_id, e.global_position FROM "${s}".events e WHERE e.event_id = ANY($2)'
          USING p_streams, p_ids, v_head;
        RETURN;
      END IF;
      WITH ins AS (
        INSERT INTO "${s}".events (global_position, stream_id, revision, event_id, type, schema_version, data, metadata)
        SELECT v_head + x.o, x.s, x.r, x.id, x.t, x.v, COALESCE(x.d, 'null'::jsonb), COALESCE(x.m, '{}'::jsonb)
          FROM json_to_recordset(p_rows) AS x(o bigint, s text, r bigint, id uuid, t text, v integer, d jsonb, m jsonb)
        RETURNING "${s}".events.stream_id AS sid, "${s}".events.revision AS rev
      ), up AS (
        INSERT INTO "${s}".streams (stream_id, revision)
        SELECT sid, MAX(rev) FROM ins GROUP BY sid
        ON CONFLICT ON CONSTRAINT streams_pkey DO UPDATE SET revision = excluded.revision
        RETURNING 1
      )
      SELECT (SELECT COUNT(*) FROM ins) INTO v_count;
      IF p_notify AND v_count > 0 THEN
        PERFORM pg_notify('${notifyChannel(s)}', (v_head + v_count)::text);
      END IF;
      RETURN QUERY SELECT 'H'::text, NULL::text, NULL::bigint, NULL::uuid, v_head;
    END
    $fn$;`;
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
      ${appendBatchDdl(s)}
    `,
  );
}

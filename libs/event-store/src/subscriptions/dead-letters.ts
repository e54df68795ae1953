import type { Pool, PoolClient } from 'pg';
import { parsePosition, positionToString, type RecordedEvent } from '../event-store.port';
import { assertSchemaName, deadLetterDdl, DEFAULT_SCHEMA, runSchemaDdl } from '../postgres/schema';

/**
 * Poison isolation for checkpointed subscriptions: the durable state of the keys (streams, or a
 * consumer's own ordering key) whose events a subscription could not apply.
 *
 * - `subscription_blocked_keys`: one row per blocked key: `retrying` (retried with back-off by the
 *   runner) or `parked` (a dead letter: retry budget spent, waits for an operator's retry), with the
 *   last error and the number of attempts.
 * - `subscription_blocked_events`: the events of a blocked key, in log order (the one that failed,
 *   then every later event of that key, held back so the key's order is kept), each a copy of the
 *   recorded event, so a retry does not depend on the adapter being able to read by position.
 *
 * Everything else keeps flowing; the checkpoint moves past the held events in the same transaction
 * that records them.
 */
/** The registry's schema unless a consumer names another (the event store's). */
export const DEFAULT_DEAD_LETTER_SCHEMA = DEFAULT_SCHEMA;

export type BlockedKeyStatus = 'retrying' | 'parked';

export interface DeadLetter {
  readonly subscription: string;
  readonly key: string;
  readonly status: BlockedKeyStatus;
  readonly attempts: number;
  readonly error: string;
  /** The event that failed (the first one held for this key). */
  readonly eventId: string;
  readonly eventType: string;
  readonly streamId: string;
  /** Events held for this key (the failed one included). */
  readonly events: number;
  readonly firstFailedAt: Date;
  readonly lastFailedAt: Date;
  readonly nextAttemptAt: Date | null;
}

export interface DeadLetterCount {
  readonly subscription: string;
  readonly status: BlockedKeyStatus;
  readonly keys: number;
  readonly events: number;
}

function keysTable(schema: string): string {
  return `"${assertSchemaName(schema)}".subscription_blocked_keys`;
}

function eventsTable(schema: string): string {
  return `"${assertSchemaName(schema)}".subscription_blocked_events`;
}

export async function ensureDeadLetterTables(pool: Pool, schema: string = DEFAULT_SCHEMA): Promise<void> {
  await runSchemaDdl(pool, schema, deadLetterDdl(schema));
}

/** Serialised copy of a recorded event (bigints and dates as strings). */
interface StoredEvent {
  readonly id: string;
  readonly type: string;
  readonly schemaVersion: number;
  readonly data: unknown;
  readonly metadata?: unknown;
  readonly streamId: string;
  readonly revision: string;
  readonly position: string;
  readonly recordedAt: string;
}

function toStored(e: RecordedEvent): StoredEvent {
  return {
    id: e.id,
    type: e.type,
    schemaVersion: e.schemaVersion,
    data: e.data,
    ...(e.metadata !== undefined ? { metadata: e.metadata } : {}),
    streamId: e.streamId,
    revision: e.revision.toString(),
    position: positionToString(e.position),
    recordedAt: e.recordedAt.toISOString(),
  };
}

function fromStored(s: StoredEvent): RecordedEvent {
  return {
    id: s.id,
    type: s.type,
    schemaVersion: s.schemaVersion,
    data: s.data,
    ...(s.metadata !== undefined ? { metadata: s.metadata as RecordedEvent['metadata'] } : {}),
    streamId: s.streamId,
    revision: BigInt(s.revision),
    position: parsePosition(s.position),
    recordedAt: new Date(s.recordedAt),
  };
}

/** Short, single-line error text for the dashboard and /health (no stack). */
export function describeError(err: unknown): string {
  const text = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  return text.replace(/\s+/g, ' ').slice(0, 500);
}

/** Internal: the runner's writes, all inside the batch's (or retry's) transaction. */
export const blockedKeys = {
  async load(pool: Pool, schema: string, subscription: string): Promise<Set<string>> {
    const { rows } = await pool.query<{ key: string }>(`SELECT key FROM ${keysTable(schema)} WHERE subscription = $1`, [
      subscription,
    ]);
    return new Set(rows.map((r) => r.key));
  },

  async block(
    tx: PoolClient,
    schema: string,
    subscription: string,
    key: string,
    failed: RecordedEvent,
    error: unknown,
    nextAttemptAt: Date,
  ): Promise<void> {
    await tx.query(
      `INSERT INTO ${keysTable(schema)}
         (subscription, key, status, attempts, error, event_id, event_type, stream_id, next_attempt_at)
       VALUES ($1, $2, 'retrying', 1, $3, $4, $5, $6, $7)
       ON CONFLICT (subscription, key) DO NOTHING`,
      [subscription, key, describeError(error), failed.id, failed.type, failed.streamId, nextAttemptAt],
    );
  },

  async hold(tx: PoolClient, schema: string, subscription: string, key: string, e: RecordedEvent): Promise<void> {
    await tx.query(
      `INSERT INTO ${eventsTable(schema)} (subscription, key, event_id, position, event)
       VALUES ($1, $2, $3, $4, $5) ON CONFLICT (subscription, event_id) DO NOTHING`,
      [subscription, key, e.id, positionToString(e.position), JSON.stringify(toStored(e))],
    );
  },

  /** Keys whose next retry is due (status `retrying`). */
  async due(pool: Pool, schema: string, subscription: string, limit: number): Promise<string[]> {
    const { rows } = await pool.query<{ key: string }>(
      `SELECT key FROM ${keysTable(schema)}
        WHERE subscription = $1 AND status = 'retrying' AND next_attempt_at <= now()
        ORDER BY next_attempt_at LIMIT $2`,
      [subscription, limit],
    );
    return rows.map((r) => r.key);
  },

  async held(tx: PoolClient, schema: string, subscription: string, key: string): Promise<RecordedEvent[]> {
    const { rows } = await tx.query<{ event: StoredEvent }>(
      `SELECT event FROM ${eventsTable(schema)} WHERE subscription = $1 AND key = $2 ORDER BY seq`,
      [subscription, key],
    );
    return rows.map((r) => fromStored(r.event));
  },

  async release(tx: PoolClient, schema: string, subscription: string, eventId: string): Promise<void> {
    await tx.query(`DELETE FROM ${eventsTable(schema)} WHERE subscription = $1 AND event_id = $2`, [
      subscription,
      eventId,
    ]);
  },

  async unblock(tx: PoolClient, schema: string, subscription: string, key: string): Promise<void> {
    await tx.query(`DELETE FROM ${keysTable(schema)} WHERE subscription = $1 AND key = $2`, [subscription, key]);
  },

  /** A retry failed again: count it, back off, park once the budget is spent. */
  async failed(
    tx: PoolClient,
    schema: string,
    subscription: string,
    key: string,
    failed: RecordedEvent,
    error: unknown,
    maxAttempts: number,
    backoffMs: (attempt: number) => number,
  ): Promise<BlockedKeyStatus> {
    const { rows } = await tx.query<{ attempts: number }>(
      `SELECT attempts FROM ${keysTable(schema)} WHERE subscription = $1 AND key = $2`,
      [subscription, key],
    );
    const attempts = (rows[0]?.attempts ?? 0) + 1;
    const status: BlockedKeyStatus = attempts >= maxAttempts ? 'parked' : 'retrying';
    await tx.query(
      `UPDATE ${keysTable(schema)}
          SET attempts = $3, status = $4, error = $5, event_id = $6, event_type = $7, stream_id = $8,
              last_failed_at = now(), next_attempt_at = $9
        WHERE subscription = $1 AND key = $2`,
      [
        subscription,
        key,
        attempts,
        status,
        describeError(error),
        failed.id,
        failed.type,
        failed.streamId,
        status === 'parked' ? null : new Date(Date.now() + backoffMs(attempts)),
      ],
    );
    return status;
  },
};

/** Every blocked key (retrying and parked), newest failure first. */
export async function listDeadLetters(
  pool: Pool,
  options: { readonly schema?: string; readonly subscription?: string; readonly limit?: number } = {},
): Promise<DeadLetter[]> {
  const schema = options.schema ?? DEFAULT_SCHEMA;
  const { rows } = await pool.query<{
    subscription: string;
    key: string;
    status: BlockedKeyStatus;
    attempts: number;
    error: string;
    event_id: string;
    event_type: string;
    stream_id: string;
    events: number;
    first_failed_at: Date;
    last_failed_at: Date;
    next_attempt_at: Date | null;
  }>(
    `SELECT k.*, (SELECT count(*)::integer FROM ${eventsTable(schema)} e
                   WHERE e.subscription = k.subscription AND e.key = k.key) AS events
       FROM ${keysTable(schema)} k
      WHERE $1::text IS NULL OR k.subscription = $1
      ORDER BY k.last_failed_at DESC LIMIT $2`,
    [options.subscription ?? null, options.limit ?? 200],
  );
  return rows.map((r) => ({
    subscription: r.subscription,
    key: r.key,
    status: r.status,
    attempts: r.attempts,
    error: r.error,
    eventId: r.event_id,
    eventType: r.event_type,
    streamId: r.stream_id,
    events: r.events,
    firstFailedAt: r.first_failed_at,
    lastFailedAt: r.last_failed_at,
    nextAttemptAt: r.next_attempt_at,
  }));
}

/** Blocked keys and held events per subscription and status (for /metrics and /health). */
export async function countDeadLetters(pool: Pool, schema: string = DEFAULT_SCHEMA): Promise<DeadLetterCount[]> {
  const { rows } = await pool.query<DeadLetterCount>(
    `SELECT k.subscription, k.status, count(*)::integer AS keys,
            coalesce(sum((SELECT count(*) FROM ${eventsTable(schema)} e
                           WHERE e.subscription = k.subscription AND e.key = k.key)), 0)::integer AS events
       FROM ${keysTable(schema)} k GROUP BY k.subscription, k.status ORDER BY k.subscription, k.status`,
  );
  return rows;
}

/**
 * An operator's retry: the key is retried at the runner's next pass (one attempt; parked again if
 * it fails). False when the key is not blocked.
 */
export async function retryDeadLetter(
  pool: Pool,
  subscription: string,
  key: string,
  schema: string = DEFAULT_SCHEMA,
): Promise<boolean> {
  const r = await pool.query(
    `UPDATE ${keysTable(schema)} SET status = 'retrying', next_attempt_at = now()
      WHERE subscription = $1 AND key = $2`,
    [subscription, key],
  );
  return r.rowCount === 1;
}

/** Forgets a subscription's blocked keys and held events (with its checkpoint, before a replay). */
export async function clearDeadLetters(pool: Pool, subscription: string, schema: string = DEFAULT_SCHEMA) {
  await pool.query(`DELETE FROM ${eventsTable(schema)} WHERE subscription = $1`, [subscription]);
  await pool.query(`DELETE FROM ${keysTable(schema)} WHERE subscription = $1`, [subscription]);
}

import type { Pool, PoolClient } from 'pg';
import {
  EventFilter,
  EventStore,
  GlobalPosition,
  parsePosition,
  positionToString,
  RecordedEvent,
  START,
} from '../event-store.port';
import { assertSchemaName, DEFAULT_SCHEMA } from '../postgres/schema';

export interface CheckpointedSubscriptionOptions {
  /** Unique name of the consumer (projection, process manager, relay); the checkpoint's key. */
  readonly name: string;
  readonly store: EventStore;
  /** Where the checkpoint lives: the consumer's own database, written in its own transaction. */
  readonly pool: Pool;
  /** Schema of `subscription_checkpoints`. Default 'event_store'. */
  readonly schema?: string;
  readonly filter?: EventFilter;
  readonly batchSize?: number;
  readonly signal: AbortSignal;
  /** Apply the batch with `tx`; the checkpoint is written in the same transaction. Throw to retry. */
  readonly handle: (events: readonly RecordedEvent[], tx: PoolClient) => Promise<void>;
  /** Called on every failed attempt, before the back-off. */
  readonly onError?: (error: unknown, attempt: number) => void;
  /** Bounded exponential back-off. Defaults 100 ms .. 30 s. */
  readonly backoff?: { readonly initialMs?: number; readonly maxMs?: number };
  /**
   * One active runner per name across processes (default true): the runner holds a session-level
   * advisory lock while it consumes; the others stand by and take over when its session ends. The
   * checkpoint compare-and-set stays as the safety net either way.
   */
  readonly exclusive?: boolean;
  /** How often a standby runner retries the lock. Default 2 s. */
  readonly standbyPollMs?: number;
}

/** Another runner moved the checkpoint under us (two processes with one name): restart from the stored one. */
export class CheckpointMovedError extends Error {
  constructor(
    readonly subscription: string,
    readonly expected: string,
    readonly actual: string,
  ) {
    super(`Checkpoint of ${subscription} moved concurrently: expected ${expected}, found ${actual}`);
    this.name = 'CheckpointMovedError';
  }
}

function table(schema: string): string {
  return `"${assertSchemaName(schema)}".subscription_checkpoints`;
}

/** Creates the checkpoint table when missing (also done by PostgresEventStore.migrate). */
export async function ensureCheckpointTable(pool: Pool, schema: string = DEFAULT_SCHEMA): Promise<void> {
  await pool.query(`CREATE SCHEMA IF NOT EXISTS "${assertSchemaName(schema)}";
    CREATE TABLE IF NOT EXISTS ${table(schema)} (
      name text PRIMARY KEY, position text NOT NULL, updated_at timestamptz NOT NULL DEFAULT now())`);
}

/** The last committed checkpoint, START when there is none. */
export async function getCheckpoint(
  pool: Pool,
  name: string,
  schema: string = DEFAULT_SCHEMA,
): Promise<GlobalPosition> {
  const { rows } = await pool.query<{ position: string }>(`SELECT position FROM ${table(schema)} WHERE name = $1`, [
    name,
  ]);
  return rows.length === 0 ? START : parsePosition(rows[0].position);
}

/** Forgets the checkpoint so the next run replays from the start (rebuilds). Stop the runner first. */
export async function resetCheckpoint(pool: Pool, name: string, schema: string = DEFAULT_SCHEMA): Promise<void> {
  await pool.query(`DELETE FROM ${table(schema)} WHERE name = $1`, [name]);
}

/** The newest position in the store (START when empty); lag = head − checkpoint. */
export async function getHeadPosition(store: EventStore): Promise<GlobalPosition> {
  if (!store.headPosition) throw new TypeError('this event store adapter does not report its head position');
  return store.headPosition();
}

/**
 * Runs until `signal` aborts. For each batch: BEGIN, `handle(events, tx)`, write the checkpoint
 * (compare-and-set against the one the batch started from), COMMIT. On any failure: ROLLBACK, back
 * off, and resume from the last committed checkpoint — nothing skipped, nothing applied twice.
 */
export async function runCheckpointedSubscription(options: CheckpointedSubscriptionOptions): Promise<void> {
  if (options.exclusive === false) return consume(options, options.signal);
  const { signal } = options;
  while (!signal.aborted) {
    const lease = await acquireLeadership(options.pool, options.name, signal, options.standbyPollMs ?? 2_000);
    if (!lease) return;
    try {
      await consume(options, AbortSignal.any([signal, lease.lost]));
    } finally {
      await lease.release();
    }
  }
}

interface Leadership {
  /** Aborts when the lock's session is lost (connection error): stop consuming at once. */
  readonly lost: AbortSignal;
  release(): Promise<void>;
}

/** Waits (until `signal` aborts) for the subscription's advisory lock, held on a dedicated connection. */
async function acquireLeadership(
  pool: Pool,
  name: string,
  signal: AbortSignal,
  pollMs: number,
): Promise<Leadership | undefined> {
  while (!signal.aborted) {
    let client: PoolClient | undefined;
    try {
      client = await pool.connect();
      const { rows } = await client.query<{ ok: boolean }>(
        `SELECT pg_try_advisory_lock(hashtext('reclaim.subscription'), hashtext($1)) AS ok`,
        [name],
      );
      if (rows[0].ok) {
        const held = client;
        const lost = new AbortController();
        const onError = () => lost.abort();
        held.on('error', onError);
        return {
          lost: lost.signal,
          async release() {
            held.off('error', onError);
            const unlocked = await held
              .query(`SELECT pg_advisory_unlock(hashtext('reclaim.subscription'), hashtext($1))`, [name])
              .then(
                () => true,
                () => false,
              );
            held.release(!unlocked);
          },
        };
      }
      client.release();
    } catch {
      client?.release(true);
    }
    await abortableSleep(pollMs, signal);
  }
  return undefined;
}

async function consume(options: CheckpointedSubscriptionOptions, signal: AbortSignal): Promise<void> {
  const { name, store, pool, handle } = options;
  const schema = options.schema ?? DEFAULT_SCHEMA;
  const initialMs = options.backoff?.initialMs ?? 100;
  const maxMs = options.backoff?.maxMs ?? 30_000;
  await ensureCheckpointTable(pool, schema);
  let attempt = 0;
  while (!signal.aborted) {
    try {
      const { rows } = await pool.query<{ position: string }>(`SELECT position FROM ${table(schema)} WHERE name = $1`, [
        name,
      ]);
      let exists = rows.length === 1;
      let checkpoint = exists ? parsePosition(rows[0].position) : START;
      for await (const events of store.subscribeToAll({
        after: checkpoint,
        filter: options.filter,
        batchSize: options.batchSize,
        signal,
      })) {
        if (events.length === 0) continue;
        const next = events[events.length - 1].position;
        await inTransaction(pool, async (tx) => {
          await handle(events, tx);
          await writeCheckpoint(tx, schema, name, exists ? checkpoint : undefined, next);
        });
        checkpoint = next;
        exists = true;
        attempt = 0;
      }
      return;
    } catch (err) {
      if (signal.aborted) return;
      attempt++;
      options.onError?.(err, attempt);
      const delay = Math.min(maxMs, initialMs * 2 ** Math.min(attempt - 1, 20));
      await abortableSleep(delay * (0.5 + Math.random() / 2), signal);
    }
  }
}

async function writeCheckpoint(
  tx: PoolClient,
  schema: string,
  name: string,
  expected: GlobalPosition | undefined,
  next: GlobalPosition,
): Promise<void> {
  const nextText = positionToString(next);
  if (expected === undefined) {
    const r = await tx.query(
      `INSERT INTO ${table(schema)} (name, position) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING`,
      [name, nextText],
    );
    if (r.rowCount !== 1) throw new CheckpointMovedError(name, 'none', 'a stored checkpoint');
    return;
  }
  const expectedText = positionToString(expected);
  const r = await tx.query(
    `UPDATE ${table(schema)} SET position = $2, updated_at = now() WHERE name = $1 AND position = $3`,
    [name, nextText, expectedText],
  );
  if (r.rowCount !== 1) throw new CheckpointMovedError(name, expectedText, 'another position');
}

async function inTransaction(pool: Pool, work: (tx: PoolClient) => Promise<void>): Promise<void> {
  const tx = await pool.connect();
  try {
    await tx.query('BEGIN');
    await work(tx);
    await tx.query('COMMIT');
  } catch (err) {
    // A connection that rolled back cleanly is healthy; destroy it only when ROLLBACK fails too.
    const healthy = await tx.query('ROLLBACK').then(
      () => true,
      () => false,
    );
    tx.release(!healthy);
    throw err;
  }
  tx.release();
}

function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

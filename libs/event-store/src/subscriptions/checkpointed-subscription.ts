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
import { assertSchemaName, deadLetterDdl, DEFAULT_SCHEMA, runSchemaDdl } from '../postgres/schema';
import { blockedKeys, clearDeadLetters } from './dead-letters';
import { inTransaction } from '@reclaim/database/transaction';

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
  /** Called after a batch (and its checkpoint) committed. */
  readonly onCommitted?: (events: readonly RecordedEvent[]) => void;
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
  /**
   * Poison isolation (default on). A batch that fails is re-applied event by event, each in its own
   * savepoint; an event that still fails blocks its key (default: its stream): it and every later
   * event of that key are held in `subscription_blocked_events`, retried with back-off and, once
   * the budget is spent, parked as a dead letter. Other keys keep flowing; order is kept per key.
   * A failure that is not the event's own (the database or the store unreachable) still retries
   * the whole batch from the checkpoint. `false` restores "the batch or nothing" (rebuilds).
   */
  readonly isolation?: false | IsolationOptions;
}

export interface IsolationOptions {
  /** The ordering key of an event (default: its stream id). Events of one key are applied in log order. */
  readonly keyOf?: (event: RecordedEvent) => string;
  /** Attempts (the first failure included) before a key is parked. Default 8. */
  readonly maxAttempts?: number;
  /** Back-off between attempts of a blocked key. Defaults 1 s .. 5 min. */
  readonly backoff?: { readonly initialMs?: number; readonly maxMs?: number };
  /** How often blocked keys are looked at while some exist. Default 500 ms. */
  readonly pollMs?: number;
  /** Called when a key is blocked, retried in vain, parked or released (logs, metrics). */
  readonly onKey?: (change: BlockedKeyChange) => void;
}

export interface BlockedKeyChange {
  readonly subscription: string;
  readonly key: string;
  readonly change: 'blocked' | 'retry-failed' | 'parked' | 'released';
  readonly eventId?: string;
  readonly error?: unknown;
  readonly attempts?: number;
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

/** Creates the checkpoint and dead-letter tables when missing (also done by PostgresEventStore.migrate). */
export async function ensureCheckpointTable(pool: Pool, schema: string = DEFAULT_SCHEMA): Promise<void> {
  await runSchemaDdl(
    pool,
    schema,
    `CREATE TABLE IF NOT EXISTS ${table(schema)} (
      name text PRIMARY KEY, position text NOT NULL, updated_at timestamptz NOT NULL DEFAULT now());
    ${deadLetterDdl(schema)}`,
  );
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

/**
 * Forgets the checkpoint (and the subscription's blocked keys: the replay meets their events again)
 * so the next run replays from the start (rebuilds). Stop the runner first.
 */
export async function resetCheckpoint(pool: Pool, name: string, schema: string = DEFAULT_SCHEMA): Promise<void> {
  await ensureCheckpointTable(pool, schema);
  await clearDeadLetters(pool, name, schema);
  await pool.query(`DELETE FROM ${table(schema)} WHERE name = $1`, [name]);
}

/**
 * Stores `position` as the checkpoint, in the caller's transaction (a rebuild writing its tables and
 * checkpoint at once). Stop the runner first: no compare-and-set here.
 */
export async function setCheckpoint(
  tx: PoolClient,
  name: string,
  position: GlobalPosition,
  schema: string = DEFAULT_SCHEMA,
): Promise<void> {
  await tx.query(
    `INSERT INTO ${table(schema)} (name, position) VALUES ($1, $2)
     ON CONFLICT (name) DO UPDATE SET position = excluded.position, updated_at = now()`,
    [name, positionToString(position)],
  );
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
  const { name, store, pool } = options;
  const schema = options.schema ?? DEFAULT_SCHEMA;
  const initialMs = options.backoff?.initialMs ?? 100;
  const maxMs = options.backoff?.maxMs ?? 30_000;
  await ensureCheckpointTable(pool, schema);
  const isolation = options.isolation === false ? undefined : new Isolation(options, schema, signal);
  const retries = isolation?.start();
  let attempt = 0;
  try {
    while (!signal.aborted) {
      try {
        if (isolation) await isolation.load();
        const { rows } = await pool.query<{ position: string }>(
          `SELECT position FROM ${table(schema)} WHERE name = $1`,
          [name],
        );
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
          const apply = async () => {
            await inTransaction(pool, async (tx) => {
              if (isolation) await isolation.apply(events, tx);
              else await options.handle(events, tx);
              await writeCheckpoint(tx, schema, name, exists ? checkpoint : undefined, next);
            });
            isolation?.committed();
            options.onCommitted?.(events);
          };
          if (isolation) await isolation.exclusive(apply);
          else await apply();
          checkpoint = next;
          exists = true;
          attempt = 0;
        }
        return;
      } catch (err) {
        isolation?.rolledBack();
        if (signal.aborted) return;
        attempt++;
        options.onError?.(err, attempt);
        const delay = Math.min(maxMs, initialMs * 2 ** Math.min(attempt - 1, 20));
        await abortableSleep(delay * (0.5 + Math.random() / 2), signal);
      }
    }
  } finally {
    await retries;
  }
}

/** A failure that is not the event's own: the batch is retried whole from the checkpoint. */
class SystemicFailure extends Error {
  constructor(override readonly cause: unknown) {
    super(cause instanceof Error ? cause.message : String(cause));
    this.name = 'SystemicFailure';
  }
}

/**
 * PostgreSQL's own "the database is unavailable" classes (connection exception, operator
 * intervention, too many connections). Network errors (ECONNREFUSED, ENOTFOUND…) are NOT listed:
 * an unreachable store API raises them too, and that is the event's own failure. Whether the
 * database or the store is reachable is probed instead (`assertOwnFailure`).
 */
function isDatabaseUnavailable(err: unknown): boolean {
  const code = (err as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' && /^(08...|57P0[1-3]|53300)$/.test(code);
}

/** Per-key isolation state of one running subscription (see `CheckpointedSubscriptionOptions.isolation`). */
class Isolation {
  private blocked = new Set<string>();
  /** Keys blocked by the transaction in flight (merged on commit, dropped on rollback). */
  private pending = new Set<string>();
  private readonly notes: Omit<BlockedKeyChange, 'subscription'>[] = [];
  private readonly keyOf: (e: RecordedEvent) => string;
  private readonly maxAttempts: number;
  private readonly initialMs: number;
  private readonly maxMs: number;
  private readonly pollMs: number;
  private lock: Promise<void> = Promise.resolve();

  constructor(
    private readonly options: CheckpointedSubscriptionOptions,
    private readonly schema: string,
    private readonly signal: AbortSignal,
  ) {
    const iso = options.isolation || {};
    this.keyOf = iso.keyOf ?? ((e) => e.streamId);
    this.maxAttempts = Math.max(1, iso.maxAttempts ?? 8);
    this.initialMs = iso.backoff?.initialMs ?? 1_000;
    this.maxMs = iso.backoff?.maxMs ?? 300_000;
    this.pollMs = iso.pollMs ?? 500;
  }

  private readonly backoffMs = (attempt: number): number =>
    Math.min(this.maxMs, this.initialMs * 2 ** Math.min(attempt - 1, 20));

  async load(): Promise<void> {
    this.blocked = await blockedKeys.load(this.options.pool, this.schema, this.options.name);
  }

  /** Serialises the batch loop and the retries (both touch the blocked keys). */
  exclusive<T>(work: () => Promise<T>): Promise<T> {
    const run = this.lock.then(work);
    this.lock = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  committed(): void {
    for (const k of this.pending) this.blocked.add(k);
    this.pending.clear();
    for (const n of this.notes.splice(0)) this.notify(n);
  }

  rolledBack(): void {
    this.pending.clear();
    this.notes.length = 0;
  }

  /** Applies a batch in `tx`: whole when it can, else event by event, holding the events of failed keys. */
  async apply(events: readonly RecordedEvent[], tx: PoolClient): Promise<void> {
    const { name, handle } = this.options;
    const free: RecordedEvent[] = [];
    for (const e of events) {
      const key = this.keyOf(e);
      if (this.blocked.has(key)) await blockedKeys.hold(tx, this.schema, name, key, e);
      else free.push(e);
    }
    if (free.length === 0) return;
    await tx.query('SAVEPOINT reclaim_batch');
    try {
      await handle(free, tx);
      await tx.query('RELEASE SAVEPOINT reclaim_batch');
      return;
    } catch (err) {
      await this.rollbackTo(tx, 'reclaim_batch', err);
    }
    for (const e of free) {
      const key = this.keyOf(e);
      if (this.pending.has(key)) {
        await blockedKeys.hold(tx, this.schema, name, key, e);
        continue;
      }
      await tx.query('SAVEPOINT reclaim_event');
      try {
        await handle([e], tx);
        await tx.query('RELEASE SAVEPOINT reclaim_event');
      } catch (err) {
        await this.rollbackTo(tx, 'reclaim_event', err);
        await this.assertOwnFailure(tx, err);
        await blockedKeys.block(tx, this.schema, name, key, e, err, new Date(Date.now() + this.backoffMs(1)));
        await blockedKeys.hold(tx, this.schema, name, key, e);
        this.pending.add(key);
        this.notes.push({ key, change: 'blocked', eventId: e.id, error: err, attempts: 1 });
      }
    }
  }

  private async rollbackTo(tx: PoolClient, savepoint: string, cause: unknown): Promise<void> {
    try {
      await tx.query(`ROLLBACK TO SAVEPOINT ${savepoint}`);
    } catch {
      throw new SystemicFailure(cause);
    }
  }

  /** Throws when the failure is the system's (database or store unreachable), not the event's. */
  private async assertOwnFailure(tx: PoolClient, err: unknown): Promise<void> {
    if (err instanceof SystemicFailure || err instanceof CheckpointMovedError || isDatabaseUnavailable(err))
      throw err instanceof SystemicFailure ? err : new SystemicFailure(err);
    try {
      await tx.query('SELECT 1');
      await this.options.store.ping();
    } catch {
      throw new SystemicFailure(err);
    }
  }

  private notify(change: Omit<BlockedKeyChange, 'subscription'>): void {
    try {
      (this.options.isolation || undefined)?.onKey?.({ subscription: this.options.name, ...change });
    } catch {
      // observers never break the runner
    }
  }

  /** The retry loop: while keys are blocked, re-applies the due ones in log order. */
  async start(): Promise<void> {
    while (!this.signal.aborted) {
      await abortableSleep(this.pollMs, this.signal);
      if (this.signal.aborted || this.blocked.size === 0) continue;
      try {
        await this.exclusive(() => this.retryDue());
      } catch (err) {
        if (!this.signal.aborted) this.options.onError?.(err, 0);
      }
    }
  }

  private async retryDue(): Promise<void> {
    const { pool, name, handle } = this.options;
    const due = await blockedKeys.due(pool, this.schema, name, 20);
    for (const key of due) {
      if (this.signal.aborted) return;
      let released = false;
      await inTransaction(pool, async (tx) => {
        const held = await blockedKeys.held(tx, this.schema, name, key);
        for (const e of held) {
          await tx.query('SAVEPOINT reclaim_event');
          try {
            await handle([e], tx);
            await tx.query('RELEASE SAVEPOINT reclaim_event');
            await blockedKeys.release(tx, this.schema, name, e.id);
          } catch (err) {
            await this.rollbackTo(tx, 'reclaim_event', err);
            await this.assertOwnFailure(tx, err);
            const status = await blockedKeys.failed(
              tx,
              this.schema,
              name,
              key,
              e,
              err,
              this.maxAttempts,
              this.backoffMs,
            );
            this.notify({ key, change: status === 'parked' ? 'parked' : 'retry-failed', eventId: e.id, error: err });
            return;
          }
        }
        await blockedKeys.unblock(tx, this.schema, name, key);
        released = true;
      });
      if (released) {
        this.blocked.delete(key);
        this.notify({ key, change: 'released' });
      }
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

import type { Pool, PoolClient } from 'pg';
import {
  comparePositions,
  getCheckpoint,
  getHeadPosition,
  resetCheckpoint,
  runCheckpointedSubscription,
  START,
  type CheckpointedSubscriptionOptions,
  type EventStore,
  type GlobalPosition,
  type RecordedEvent,
} from '@reclaim/event-store';
import { qualified } from '../schema';
import { cartsProjection } from './carts';
import { customersProjection } from './customers';
import { RebuildSession, type ContactVault, type Projection } from './projection';
import { modelsProjection } from './models';
import { recoveriesProjection } from './recoveries';

export type { ApplyOptions, ContactVault, Projection } from './projection';
export { maskContact, maskEmail, maskPhone, nameInitials } from './masking';
export { applyCartEvent } from './carts';
export { applyCustomerEvent } from './customers';
export { discountCost } from './recoveries';
export { applyModelEvent } from './models';

export const READ_MODEL_PROJECTIONS: readonly Projection[] = [
  cartsProjection,
  customersProjection,
  recoveriesProjection,
  modelsProjection,
];

export function findProjection(name: string): Projection | undefined {
  return READ_MODEL_PROJECTIONS.find((p) => p.name === name || p.subscription === name);
}

export interface RunProjectionOptions {
  readonly store: EventStore;
  readonly pool: Pool;
  readonly signal: AbortSignal;
  readonly batchSize?: number;
  readonly onError?: (error: unknown, attempt: number) => void;
  /** The personal data vault: the customers projection masks contacts with it (read.customer_contacts). */
  readonly vault?: ContactVault;
  /** Called after each committed batch (metrics). */
  readonly onBatch?: (events: readonly RecordedEvent[]) => void;
  /** Poison isolation (default: per stream, the runner's defaults). */
  readonly isolation?: CheckpointedSubscriptionOptions['isolation'];
}

/** Runs the projection as a durable checkpointed subscription (its writes and checkpoint in one transaction). */
export function runProjection(p: Projection, o: RunProjectionOptions): Promise<void> {
  return runCheckpointedSubscription({
    name: p.subscription,
    store: o.store,
    pool: o.pool,
    filter: p.filter,
    batchSize: o.batchSize ?? 10000,
    signal: o.signal,
    handle: async (events, tx) => {
      await p.apply(events, tx, { vault: o.vault });
      o.onBatch?.(events);
    },
    ...(o.onError ? { onError: o.onError } : {}),
    ...(o.isolation !== undefined ? { isolation: o.isolation } : {}),
  });
}

/**
 * The store with a read-ahead subscription: the next batch is read while the current one is
 * applied (still handed over strictly in order), so a replay costs max(read, apply), not the sum.
 */
function prefetching(store: EventStore): EventStore {
  return new Proxy(store, {
    get(target, prop, receiver) {
      if (prop !== 'subscribeToAll') {
        const v = Reflect.get(target, prop, receiver) as unknown;
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      }
      return (options?: Parameters<EventStore['subscribeToAll']>[0]): AsyncIterable<readonly RecordedEvent[]> => ({
        [Symbol.asyncIterator]() {
          const inner = target.subscribeToAll(options)[Symbol.asyncIterator]();
          let ahead = inner.next();
          return {
            async next() {
              const current = await ahead;
              if (!current.done) ahead = inner.next();
              return current;
            },
            async return() {
              // Let a read in flight settle before the generator is closed.
              await ahead.catch(() => undefined);
              return (await inner.return?.()) ?? { done: true, value: undefined };
            },
          };
        },
      });
    },
  });
}

export interface RebuildProgress {
  /** Events applied so far. */
  readonly events: number;
  /** Global position reached, and the head when the rebuild started (progress = position / head). */
  readonly position: bigint;
  readonly head: bigint;
}

export interface RebuildResult {
  readonly events: number;
  readonly ms: number;
}

const LOCK_KEY = `hashtext('reclaim.subscription'), hashtext($1)`;

/**
 * Takes the subscription's advisory lock. A projector running in another process holds it on a
 * connection that does nothing else: that connection is ended, the projector stands by (the
 * takeover `runCheckpointedSubscription` is built for) and resumes from the rebuilt checkpoint
 * once the lock is released. Only this database's holders are ended: advisory locks are per
 * database, and another database on the same server (a test's scratch one) may use the same key.
 */
async function takeSubscriptionLock(lock: PoolClient, name: string): Promise<void> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const { rows } = await lock.query<{ ok: boolean }>(`SELECT pg_try_advisory_lock(${LOCK_KEY}) AS ok`, [name]);
    if (rows[0].ok) return;
    if (attempt % 20 === 0) {
      await lock.query(
        `SELECT pg_terminate_backend(pid) FROM pg_locks
          WHERE locktype = 'advisory' AND granted AND pid <> pg_backend_pid()
            AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
            AND classid::bigint = (hashtext('reclaim.subscription')::bigint & 4294967295)
            AND objid::bigint = (hashtext($1)::bigint & 4294967295)`,
        [name],
      );
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`could not take over the subscription ${name} from the process running it`);
}

/**
 * Rebuilds a projection: takes its subscription over (see above), truncates its tables, resets its
 * checkpoint and replays the log from the start, in batches, each with its checkpoint in one
 * transaction committed without waiting for the WAL flush (a crash only sends it back to an earlier
 * checkpoint), until it has caught up with everything appended so far; that last commit is durable. Progress through `onProgress`.
 */
export async function rebuildProjection(
  p: Projection,
  o: {
    readonly store: EventStore;
    readonly pool: Pool;
    readonly batchSize?: number;
    /** As for {@link runProjection}: without it the masked contacts stay empty after a rebuild. */
    readonly vault?: ContactVault;
    readonly onProgress?: (progress: RebuildProgress) => void;
  },
): Promise<RebuildResult> {
  const started = Date.now();
  const lock = await o.pool.connect();
  let lockHealthy = false;
  try {
    await takeSubscriptionLock(lock, p.subscription);
    await lock.query('BEGIN');
    await lock.query(`TRUNCATE ${p.tables.map(qualified).join(', ')}`);
    await lock.query('COMMIT');
    await resetCheckpoint(o.pool, p.subscription);
    const head = await getHeadPosition(o.store);
    let events = 0;
    let position: GlobalPosition = START;
    const report = () => o.onProgress?.({ events, position: position.commit, head: head.commit });
    report();
    const first = await o.store.readAll({ filter: p.filter, maxCount: 1 });
    if (first.length > 0) {
      const stop = new AbortController();
      const session = new RebuildSession();
      let failure: unknown;
      await runCheckpointedSubscription({
        name: p.subscription,
        store: prefetching(o.store),
        pool: o.pool,
        filter: p.filter,
        batchSize: o.batchSize ?? 10000,
        exclusive: false,
        isolation: false, // a rebuild applies every event or fails (and is run again)
        signal: stop.signal,
        backoff: { initialMs: 50, maxMs: 1_000 },
        onError: (err, attempt) => {
          // The failed batch was rolled back: rows kept in memory may be ahead of the tables.
          session.drop();
          if (attempt >= 5) {
            failure = err;
            stop.abort();
          }
        },
        handle: async (batch, tx) => {
          // A rebuild is re-runnable: its commits need not wait for the WAL flush (this transaction only).
          await tx.query('SET LOCAL synchronous_commit = off');
          await p.apply(batch, tx, { derived: false, vault: o.vault, session });
          const last = batch[batch.length - 1].position;
          // Caught up with everything appended so far: derived tables once, stop once this commits.
          const more = await o.store.readAll({ after: last, filter: p.filter, maxCount: 1 });
          if (more.length === 0) {
            await p.finishRebuild?.(tx);
            // The one durable commit: its WAL flush also makes every earlier batch durable.
            await tx.query('SET LOCAL synchronous_commit = on');
            stop.abort();
          }
          events += batch.length;
          position = last;
          report();
        },
      });
      if (failure !== undefined) throw failure;
      const stored = await getCheckpoint(o.pool, p.subscription);
      if (comparePositions(stored, position) !== 0)
        throw new Error(`rebuild of ${p.name} did not commit its last batch`);
    }
    return { events, ms: Date.now() - started };
  } finally {
    await lock
      .query(`SELECT pg_advisory_unlock(${LOCK_KEY})`, [p.subscription])
      .then(() => {
        lockHealthy = true;
      })
      .catch(() => undefined);
    lock.release(!lockHealthy);
  }
}

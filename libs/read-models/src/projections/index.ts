import type { Pool, PoolClient } from 'pg';
import {
  comparePositions,
  getCheckpoint,
  getHeadPosition,
  resetCheckpoint,
  runCheckpointedSubscription,
  setCheckpoint,
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
import { experimentsProjection } from './experiments';
import { incentivesProjection } from './incentives';
import { recoveriesProjection } from './recoveries';

export type { ApplyOptions, ContactVault, Projection } from './projection';
export { maskContact, maskEmail, maskPhone, nameInitials } from './masking';
export { applyCartEvent } from './carts';
export { applyCustomerEvent } from './customers';
export { discountCost } from './recoveries';
export { applyModelEvent } from './models';
export { applyExperimentEvent } from './experiments';
export { applyIncentiveEvent } from './incentives';

export const READ_MODEL_PROJECTIONS: readonly Projection[] = [
  cartsProjection,
  customersProjection,
  recoveriesProjection,
  modelsProjection,
  experimentsProjection,
  incentivesProjection,
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

/** What a projection gets as its client while it folds: any use is a bug (the tables still hold the old rows). */
const NO_DATABASE = new Proxy({} as PoolClient, {
  get(_, prop) {
    throw new Error(`a rebuild's fold must not touch the database (PoolClient.${String(prop)})`);
  },
});

/**
 * Rebuilds a projection (RFC 0020): takes its subscription over (see above), resets its checkpoint,
 * reads its events with a keyset cursor (pages of `batchSize`, the next read while one is folded) and
 * folds them in memory with the projection's reducers ({@link RebuildSession}: no table touched),
 * until it has caught up with everything appended so far. Then one transaction truncates the
 * tables, inserts every row once, recomputes the derived tables and stores the checkpoint; its
 * commit is the rebuild's one durable commit (until then readers see the previous tables).
 *
 * Past `maxRows` rows in memory, the rows folded so far are written the same way
 * (checkpoint included, commit not waiting for the WAL flush) and the rest of the log is replayed
 * batch by batch through the checkpointed subscription, reading rows back; its last commit is durable.
 * Progress through `onProgress`.
 */
export async function rebuildProjection(
  p: Projection,
  o: {
    readonly store: EventStore;
    readonly pool: Pool;
    /** Events per keyset page of the fold, and per batch past `maxRows`. Default 10,000. */
    readonly batchSize?: number;
    /** Rows held in memory at most before the rest goes batch by batch. Default `RebuildSession.MAX_ROWS`. */
    readonly maxRows?: number;
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
    await resetCheckpoint(o.pool, p.subscription);
    const head = await getHeadPosition(o.store);
    let events = 0;
    let position: GlobalPosition = START;
    const report = () => o.onProgress?.({ events, position: position.commit, head: head.commit });
    report();

    // Fold: keyset pages, the next one read while the current one is folded.
    const session = new RebuildSession();
    const pageSize = Math.max(1, o.batchSize ?? 10_000);
    const maxRows = o.maxRows ?? RebuildSession.MAX_ROWS;
    const read = (after: GlobalPosition) => o.store.readAll({ after, filter: p.filter, maxCount: pageSize });
    let page = await read(START);
    let caughtUp = page.length < pageSize;
    while (page.length > 0) {
      const last = page[page.length - 1].position;
      const next = caughtUp ? Promise.resolve([]) : read(last);
      next.catch(() => undefined); // awaited below; a failure must not go unhandled meanwhile
      await p.apply(page, NO_DATABASE, { derived: false, vault: o.vault, session });
      events += page.length;
      position = last;
      report();
      if (session.size > maxRows) {
        await next.catch(() => undefined);
        if (caughtUp) page = []; // that was the last page: everything is folded after all
        break;
      }
      page = await next;
      caughtUp = caughtUp || page.length < pageSize;
    }
    const folded = page.length === 0;

    // Write: every row once, the derived tables and the checkpoint, in one transaction.
    const tx = await o.pool.connect();
    try {
      await tx.query('BEGIN');
      if (!folded) await tx.query('SET LOCAL synchronous_commit = off'); // the durable commit comes later
      await tx.query(`TRUNCATE ${p.tables.map(qualified).join(', ')}`);
      await session.write(tx);
      if (folded) await p.finishRebuild?.(tx);
      if (events > 0) await setCheckpoint(tx, p.subscription, position);
      await tx.query('COMMIT');
    } catch (err) {
      await tx.query('ROLLBACK').catch(() => undefined);
      tx.release(true);
      throw err;
    }
    tx.release();
    if (!folded) {
      const rest = await replayBatchByBatch(p, o, position, (batch) => {
        events += batch.length;
        position = batch[batch.length - 1].position;
        report();
      });
      if (comparePositions(rest, position) !== 0) throw new Error(`rebuild of ${p.name} did not commit its last batch`);
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

/**
 * The rest of a rebuild too large for memory: the checkpointed subscription from the stored
 * checkpoint, each batch and its checkpoint in one transaction committed without waiting for the WAL
 * flush (a crash only sends it back to an earlier checkpoint), the last one durable once caught up.
 * Returns the checkpoint stored at the end.
 */
async function replayBatchByBatch(
  p: Projection,
  o: { readonly store: EventStore; readonly pool: Pool; readonly batchSize?: number; readonly vault?: ContactVault },
  from: GlobalPosition,
  onBatch: (batch: readonly RecordedEvent[]) => void,
): Promise<GlobalPosition> {
  const more = await o.store.readAll({ after: from, filter: p.filter, maxCount: 1 });
  if (more.length > 0) {
    const stop = new AbortController();
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
        if (attempt >= 5) {
          failure = err;
          stop.abort();
        }
      },
      handle: async (batch, tx) => {
        await tx.query('SET LOCAL synchronous_commit = off');
        await p.apply(batch, tx, { derived: false, vault: o.vault });
        const last = batch[batch.length - 1].position;
        // Caught up with everything appended so far: derived tables once, stop once this commits.
        const next = await o.store.readAll({ after: last, filter: p.filter, maxCount: 1 });
        if (next.length === 0) {
          await p.finishRebuild?.(tx);
          // The one durable commit: its WAL flush also makes every earlier batch durable.
          await tx.query('SET LOCAL synchronous_commit = on');
          stop.abort();
        }
        onBatch(batch);
      },
    });
    if (failure !== undefined) throw failure;
  } else {
    // Nothing after the written rows: the derived tables and a durable commit still to do.
    const tx = await o.pool.connect();
    try {
      await tx.query('BEGIN');
      await p.finishRebuild?.(tx);
      await setCheckpoint(tx, p.subscription, from); // a write, so this commit flushes the WAL: durable
      await tx.query('COMMIT');
    } catch (err) {
      await tx.query('ROLLBACK').catch(() => undefined);
      tx.release(true);
      throw err;
    }
    tx.release();
  }
  return getCheckpoint(o.pool, p.subscription);
}

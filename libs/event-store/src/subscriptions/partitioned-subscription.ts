import type { Pool, PoolClient } from 'pg';
import { comparePositions, parsePosition, positionToString, START, type GlobalPosition } from '../event-store.port';
import { assertSchemaName, DEFAULT_SCHEMA, LOCK_CLASS, lockKey, partitionLayoutDdl } from '../postgres/schema';
import { inTransaction } from '@reclaim/database/transaction';
import {
  ensureCheckpointTable,
  runCheckpointedSubscription,
  type CheckpointedSubscriptionOptions,
} from './checkpointed-subscription';

/**
 * A subscription split into `partitions` partitions of the log by stream hash
 * ({@link streamPartition}): each partition is a checkpointed subscription of its own (its own
 * checkpoint row, poison isolation and leader lock: a session advisory lock), so the instances that
 * run the same subscription share the partitions between them.
 *
 * Each instance runs one coordinator per subscription on a dedicated connection. The connection
 * holds a shared "member" advisory lock (the live instances are the holders of that lock) and the
 * lock of every partition the instance runs. Every `rebalanceMs` the coordinator computes the fair
 * share, ceil(partitions / live instances): it hands back partitions above it (the consumer stops
 * after its batch in flight, then the lock is released) and takes free ones up to it. An instance
 * that dies loses its session, so its locks go with it and the others take its partitions over at
 * their next round. A partition changes hands only between a stop that has committed or rolled
 * back and a start from the stored checkpoint; the checkpoint compare-and-set stays the safety net.
 *
 * The partition count is recorded per subscription (`subscription_partitions`). An instance started
 * with another count waits until no instance runs the old layout (none holds an old partition's
 * lock), then re-splits: every new partition starts from the lowest old checkpoint (and before any
 * event still held for a retry), so nothing is skipped; the events between that and each old
 * partition's own checkpoint are applied again, which the consumers must tolerate (they are
 * idempotent). A subscription that ran unpartitioned (its checkpoint row named `name`) is split
 * from that checkpoint the same way, with nothing re-applied.
 */
export interface PartitionedSubscriptionOptions extends Omit<
  CheckpointedSubscriptionOptions,
  'exclusive' | 'standbyPollMs'
> {
  /** Number of partitions (1..1024). */
  readonly partitions: number;
  /** How often the coordinator rebalances and looks for free partitions. Default 2 s. */
  readonly rebalanceMs?: number;
  /** Called when the set of partitions this instance runs changes (metrics). */
  readonly onOwnership?: (owned: readonly number[]) => void;
  /** Called while the instance waits for instances running another partition count to stop. */
  readonly onLayoutWait?: (stored: number | 'unpartitioned', wanted: number) => void;
}

export const MAX_PARTITIONS = 1024;

/** The checkpoint (and lock) name of one partition. */
export function partitionName(name: string, index: number, count: number): string {
  return `${name}.p${index}of${count}`;
}

function layoutTable(schema: string): string {
  return `"${assertSchemaName(schema)}".subscription_partitions`;
}

/** The partition count recorded for `name`, undefined when it never ran partitioned. */
export async function getPartitionCount(
  pool: Pool,
  name: string,
  schema: string = DEFAULT_SCHEMA,
): Promise<number | undefined> {
  await ensureLayoutTable(pool, schema);
  const { rows } = await pool.query<{ partitions: number }>(
    `SELECT partitions FROM ${layoutTable(schema)} WHERE name = $1`,
    [name],
  );
  return rows[0]?.partitions;
}

/** Creates the layout table when missing (also done by migrateEventStore), serialised like the migration. */
async function ensureLayoutTable(pool: Pool, schema: string): Promise<void> {
  const { rows } = await pool.query<{ t: string | null }>(`SELECT to_regclass($1) AS t`, [layoutTable(schema)]);
  if (rows[0].t !== null) return;
  await inTransaction(pool, async (tx) => {
    await tx.query(`SELECT pg_advisory_xact_lock(${LOCK_CLASS}, ${lockKey(`${schema}:migrate`)})`);
    await tx.query(partitionLayoutDdl(schema));
  });
}

/** `hashtext('reclaim.subscription'), hashtext(name)`: the leader lock of a checkpointed subscription. */
const LEADER_LOCK = (param: string) => `hashtext('reclaim.subscription'), hashtext(${param})`;

/**
 * Makes the stored layout of `name` the one with `count` partitions. 'waiting' when an instance
 * still runs another layout (one of its partition locks, or the unpartitioned lock, is held).
 */
async function settleLayout(
  client: PoolClient,
  schema: string,
  name: string,
  count: number,
): Promise<'ready' | { waiting: number | 'unpartitioned' }> {
  const checkpoints = `"${assertSchemaName(schema)}".subscription_checkpoints`;
  await client.query('BEGIN');
  try {
    await client.query(`SELECT pg_advisory_xact_lock(${LOCK_CLASS}, ${lockKey(`${schema}:partitions:${name}`)})`);
    const { rows } = await client.query<{ partitions: number }>(
      `SELECT partitions FROM ${layoutTable(schema)} WHERE name = $1`,
      [name],
    );
    const stored = rows[0]?.partitions;
    if (stored === count) {
      await client.query('COMMIT');
      return 'ready';
    }
    const oldNames = stored === undefined ? [name] : range(stored).map((i) => partitionName(name, i, stored));
    // Nobody may run the old layout while it is re-split: take each old leader lock for this
    // transaction (an instance that takes one afterwards checks the layout and stands by).
    const { rows: free } = await client.query<{ ok: boolean }>(
      `SELECT bool_and(pg_try_advisory_xact_lock(${LEADER_LOCK('n')})) AS ok FROM unnest($1::text[]) AS n`,
      [oldNames],
    );
    if (!free[0].ok) {
      await client.query('ROLLBACK');
      return { waiting: stored ?? 'unpartitioned' };
    }
    const { rows: positions } = await client.query<{ name: string; position: string }>(
      `SELECT name, position FROM ${checkpoints} WHERE name = ANY($1::text[])`,
      [oldNames],
    );
    // Events held for a retry sit before their subscription's checkpoint: start before them too.
    const { rows: held } = await client.query<{ subscription: string; key: string; position: string }>(
      `SELECT e.subscription, e.key, e.position FROM "${schema}".subscription_blocked_events e
         JOIN "${schema}".subscription_blocked_keys k USING (subscription, key)
        WHERE e.subscription = ANY($1::text[]) AND k.status = 'retrying'`,
      [oldNames],
    );
    let from: GlobalPosition | undefined;
    const lower = (p: GlobalPosition) => {
      if (from === undefined || comparePositions(p, from) < 0) from = p;
    };
    if (positions.length < oldNames.length && stored !== undefined) from = START; // a partition never committed
    for (const r of positions) lower(parsePosition(r.position));
    for (const r of held) {
      const p = parsePosition(r.position);
      lower(p.commit > 0n ? { commit: p.commit - 1n, prepare: p.commit - 1n } : START);
    }
    if (held.length > 0) {
      await client.query(
        `DELETE FROM "${schema}".subscription_blocked_events e USING "${schema}".subscription_blocked_keys k
          WHERE e.subscription = k.subscription AND e.key = k.key AND k.subscription = ANY($1::text[])
            AND k.status = 'retrying'`,
        [oldNames],
      );
      await client.query(
        `DELETE FROM "${schema}".subscription_blocked_keys WHERE subscription = ANY($1::text[]) AND status = 'retrying'`,
        [oldNames],
      );
    }
    const newNames = range(count).map((i) => partitionName(name, i, count));
    await client.query(`DELETE FROM ${checkpoints} WHERE name = ANY($1::text[])`, [[...oldNames, ...newNames]]);
    if (from !== undefined && comparePositions(from, START) !== 0) {
      await client.query(`INSERT INTO ${checkpoints} (name, position) SELECT n, $2 FROM unnest($1::text[]) AS n`, [
        newNames,
        positionToString(from),
      ]);
    }
    await client.query(
      `INSERT INTO ${layoutTable(schema)} (name, partitions) VALUES ($1, $2)
       ON CONFLICT (name) DO UPDATE SET partitions = EXCLUDED.partitions, updated_at = now()`,
      [name, count],
    );
    await client.query('COMMIT');
    return 'ready';
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}

interface Running {
  readonly stop: AbortController;
  readonly done: Promise<void>;
}

/**
 * Runs this instance's share of the partitions of `options.name` until `options.signal` aborts
 * (see {@link PartitionedSubscriptionOptions}).
 */
export async function runPartitionedSubscription(options: PartitionedSubscriptionOptions): Promise<void> {
  const count = options.partitions;
  if (!Number.isInteger(count) || count < 1 || count > MAX_PARTITIONS)
    throw new RangeError(`partitions must be a whole number from 1 to ${MAX_PARTITIONS}, got ${count}`);
  const { signal, pool } = options;
  const schema = options.schema ?? DEFAULT_SCHEMA;
  const rebalanceMs = options.rebalanceMs ?? 2_000;
  let ready = false;
  while (!signal.aborted) {
    try {
      if (!ready) {
        await ensureCheckpointTable(pool, schema);
        await ensureLayoutTable(pool, schema);
        ready = true;
      }
      await coordinate(options, schema, count, rebalanceMs);
    } catch (err) {
      if (signal.aborted) return;
      options.onError?.(err, 0);
    }
    await sleep(rebalanceMs, signal);
  }
}

/** One coordinator session: returns (to be restarted) when its connection is lost. */
async function coordinate(
  options: PartitionedSubscriptionOptions,
  schema: string,
  count: number,
  rebalanceMs: number,
): Promise<void> {
  const { signal, name } = options;
  const client = await options.pool.connect();
  const lost = new AbortController();
  const onError = () => lost.abort();
  client.on('error', onError);
  const session = AbortSignal.any([signal, lost.signal]);
  const owned = new Map<number, Running>();
  const report = () => options.onOwnership?.([...owned.keys()].sort((a, b) => a - b));
  let healthy = false;
  try {
    for (;;) {
      const layout = await settleLayout(client, schema, name, count);
      if (layout === 'ready') break;
      options.onLayoutWait?.(layout.waiting, count);
      await sleep(rebalanceMs, session);
      if (session.aborted) return;
    }
    report(); // the layout is settled: none run yet (ends a wait for observers)
    const member = `${LOCK_CLASS}, ${lockKey(`${schema}:members:${name}`)}`;
    await client.query(`SELECT pg_advisory_lock_shared(${member})`);
    // Start the scan at a different partition in each instance, so two starting together collide less.
    const offset = Math.floor(Math.random() * count);
    while (!session.aborted) {
      const { rows } = await client.query<{ members: string }>(
        `SELECT count(*) AS members FROM pg_locks
          WHERE locktype = 'advisory' AND granted AND mode = 'ShareLock' AND objsubid = 2
            AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
            AND classid::bigint = ($1::bigint & 4294967295) AND objid::bigint = ($2::bigint & 4294967295)`,
        [LOCK_CLASS, lockKey(`${schema}:members:${name}`)],
      );
      const members = Math.max(1, Number(rows[0].members));
      const share = Math.ceil(count / members);
      // Hand back what is above the fair share (highest first), after the batch in flight.
      const extra = [...owned.keys()].sort((a, b) => b - a).slice(0, Math.max(0, owned.size - share));
      for (const index of extra) {
        await stopPartition(client, owned, index, name, count);
        report();
      }
      for (let k = 0; k < count && owned.size < share && !session.aborted; k++) {
        const index = (offset + k) % count;
        if (owned.has(index)) continue;
        const part = partitionName(name, index, count);
        const { rows: got } = await client.query<{ ok: boolean }>(
          `SELECT pg_try_advisory_lock(${LEADER_LOCK('$1')}) AS ok`,
          [part],
        );
        if (!got[0].ok) continue;
        // The layout may have been re-split by an instance with another count before we got the lock.
        const { rows: layout } = await client.query<{ partitions: number }>(
          `SELECT partitions FROM ${layoutTable(schema)} WHERE name = $1`,
          [name],
        );
        if (layout[0]?.partitions !== count) {
          await client.query(`SELECT pg_advisory_unlock(${LEADER_LOCK('$1')})`, [part]);
          lost.abort(); // start over: settle the layout again
          break;
        }
        const stop = new AbortController();
        const done = runCheckpointedSubscription({
          ...options,
          name: part,
          filter: { ...options.filter, partition: { index, count } },
          exclusive: false,
          signal: AbortSignal.any([session, stop.signal]),
        }).catch((err) => options.onError?.(err, 0));
        owned.set(index, { stop, done });
        report();
      }
      await sleep(rebalanceMs, session);
    }
    // Stopping (or the session is lost): every consumer ends before its lock is given back.
    for (const index of [...owned.keys()]) await stopPartition(client, owned, index, name, count);
    healthy = !lost.signal.aborted;
  } finally {
    for (const r of owned.values()) r.stop.abort();
    await Promise.allSettled([...owned.values()].map((r) => r.done));
    owned.clear();
    report();
    client.off('error', onError);
    // Releasing the session (destroyed unless it ended cleanly) drops every lock it still holds.
    if (healthy) {
      healthy = await client.query('SELECT pg_advisory_unlock_all()').then(
        () => true,
        () => false,
      );
    }
    client.release(!healthy);
  }
}

async function stopPartition(
  client: PoolClient,
  owned: Map<number, Running>,
  index: number,
  name: string,
  count: number,
): Promise<void> {
  const running = owned.get(index);
  if (!running) return;
  running.stop.abort();
  await running.done;
  owned.delete(index);
  await client.query(`SELECT pg_advisory_unlock(${LEADER_LOCK('$1')})`, [partitionName(name, index, count)]);
}

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

import type { Pool } from 'pg';
import type { TimerPurpose } from '@reclaim/domain';
import type { Queryable } from '../db';
import { migrateRecoveryEngine } from '../schema';

/** NOTIFY channel: a timer was scheduled (payload: the earliest due time of the batch, epoch ms). */
export const TIMERS_CHANNEL = 'reclaim_engine_timers';

export interface TimerToSchedule {
  /** `<recoveryId>/timer-<n>`: deterministic, so a rebuild from the log yields the same rows. */
  readonly timerId: string;
  readonly streamId: string;
  readonly shopId: string;
  readonly purpose: TimerPurpose;
  readonly step?: number;
  readonly dueAt: string;
  readonly payload?: Readonly<Record<string, unknown>>;
}

/** A batch claimed inside an open transaction: its row locks are the claim. */
export interface TimerBatch {
  readonly timers: readonly ClaimedTimer[];
  /**
   * Commits the batch: every claimed timer is fired (marked at the claim) except `failed`, put back
   * until `retryAt`. One round trip when nothing failed.
   */
  settle(fired: readonly string[], at: Date, failed: readonly string[], retryAt: Date): Promise<void>;
  /** Rolls back: every timer of the batch is claimable again at once. */
  abandon(): Promise<void>;
}

export interface ClaimedTimer {
  readonly timerId: string;
  readonly streamId: string;
  readonly shopId: string;
  readonly purpose: TimerPurpose;
  readonly step?: number;
  readonly dueAt: Date;
  readonly payload: Readonly<Record<string, unknown>>;
}

interface TimerRow {
  timer_id: string;
  stream_id: string;
  shop_id: string;
  purpose: TimerPurpose;
  step: number | null;
  due_at: Date;
  payload: Record<string, unknown>;
}

function toClaimed(r: TimerRow): ClaimedTimer {
  return {
    timerId: r.timer_id,
    streamId: r.stream_id,
    shopId: r.shop_id,
    purpose: r.purpose,
    ...(r.step !== null ? { step: r.step } : {}),
    dueAt: r.due_at,
    payload: r.payload,
  };
}

/** The `n` of `…/timer-<n>`: later timers of a stream supersede earlier ones. */
export function timerSequence(timerId: string): number {
  const m = /\/timer-(\d+)$/.exec(timerId);
  return m ? Number(m[1]) : 0;
}

/**
 * Durable timers in `engine.timers`. Scheduling is an idempotent upsert by timer id done in the
 * transaction of the subscription that reads `recovery.timer-scheduled`, so the table is a
 * projection of the log. Claims take a lease (`claimed_until`): a worker that dies holding claims
 * only delays them until the lease ends (late, never lost — R4). Due times are compared with the
 * time the caller passes, normally the database clock (R8).
 */
export class TimerStore {
  constructor(private readonly pool: Pool) {}

  static migrate(pool: Pool): Promise<void> {
    return migrateRecoveryEngine(pool);
  }

  /**
   * Upserts timers (a known id is left as it is) and marks older unfired timers of the same streams
   * superseded, in one statement (one round trip for a whole batch): a timer the batch itself
   * supersedes is written superseded, the older rows already stored are updated, and the earliest
   * due time is NOTIFYed (delivered at commit: sleeping drivers wake at it instead of polling).
   */
  async schedule(tx: Queryable, timers: readonly TimerToSchedule[]): Promise<void> {
    if (timers.length === 0) return;
    const latest = new Map<string, number>();
    for (const t of timers) latest.set(t.streamId, Math.max(latest.get(t.streamId) ?? 0, timerSequence(t.timerId)));
    const earliest = Math.min(...timers.map((t) => new Date(t.dueAt).getTime()));
    await tx.query(
      `WITH n AS (
         SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::int[], $6::int[], $7::timestamptz[],
           $8::jsonb[], $9::boolean[]) AS n(timer_id, stream_id, shop_id, purpose, step, seq, due_at, payload, superseded)
       ), inserted AS (
         INSERT INTO engine.timers (timer_id, stream_id, shop_id, purpose, step, seq, due_at, payload, superseded_at)
         SELECT timer_id, stream_id, shop_id, purpose, step, seq, due_at, payload, CASE WHEN superseded THEN now() END
         FROM n
         ON CONFLICT (timer_id) DO NOTHING
       ), superseded AS (
         UPDATE engine.timers t SET superseded_at = now()
         FROM (SELECT stream_id, max(seq) AS seq FROM n GROUP BY stream_id) l
         WHERE t.stream_id = l.stream_id AND t.seq < l.seq AND t.fired_at IS NULL AND t.superseded_at IS NULL
       )
       SELECT pg_notify($10, $11)`,
      [
        timers.map((t) => t.timerId),
        timers.map((t) => t.streamId),
        timers.map((t) => t.shopId),
        timers.map((t) => t.purpose),
        timers.map((t) => t.step ?? null),
        timers.map((t) => timerSequence(t.timerId)),
        timers.map((t) => t.dueAt),
        timers.map((t) => JSON.stringify(t.payload ?? {})),
        timers.map((t) => timerSequence(t.timerId) < latest.get(t.streamId)!),
        TIMERS_CHANNEL,
        String(earliest),
      ],
    );
  }

  /** Marks every unfired timer of a stream superseded (the recovery ended). */
  async supersedeStream(tx: Queryable, streamId: string): Promise<void> {
    await tx.query(
      `UPDATE engine.timers SET superseded_at = now()
       WHERE stream_id = $1 AND fired_at IS NULL AND superseded_at IS NULL`,
      [streamId],
    );
  }

  /** {@link supersedeStream} for many streams in one statement. */
  async supersedeStreams(tx: Queryable, streamIds: readonly string[]): Promise<void> {
    if (streamIds.length === 0) return;
    await tx.query(
      `UPDATE engine.timers SET superseded_at = now()
       WHERE stream_id = ANY($1::text[]) AND fired_at IS NULL AND superseded_at IS NULL`,
      [[...new Set(streamIds)]],
    );
  }

  /**
   * Claims up to `limit` timers due at `now` that nobody holds (or whose lease ended), earliest
   * first, with `FOR UPDATE SKIP LOCKED`: concurrent workers get disjoint sets.
   */
  async claimDue(now: Date, limit: number, leaseMs: number): Promise<ClaimedTimer[]> {
    const { rows } = await this.pool.query<TimerRow>(
      `WITH due AS (
         SELECT timer_id FROM engine.timers
         WHERE fired_at IS NULL AND superseded_at IS NULL AND due_at <= $1
           AND (claimed_until IS NULL OR claimed_until <= $1)
         ORDER BY due_at, timer_id
         LIMIT $2
         FOR UPDATE SKIP LOCKED)
       UPDATE engine.timers t SET claimed_until = $1::timestamptz + $3 * interval '1 millisecond'
       FROM due WHERE t.timer_id = due.timer_id
       RETURNING t.timer_id, t.stream_id, t.shop_id, t.purpose, t.step, t.due_at, t.payload`,
      [now, limit, leaseMs],
    );
    return rows.map(toClaimed).sort((a, b) => a.dueAt.getTime() - b.dueAt.getTime());
  }

  /**
   * Claims up to `limit` due timers by locking their rows (`FOR UPDATE SKIP LOCKED`) and marking
   * them fired, in a transaction that stays open while the caller fires them; {@link TimerBatch.settle}
   * puts the failed ones back and commits. Two round trips per batch: `BEGIN`, the lease and the
   * claiming `UPDATE … RETURNING` go as one multi-statement query, and the commit (with the rare
   * release of failed timers) as another. The open transaction is the lease: nothing is visible to
   * others until the commit, so a worker that dies drops its connection and the rows are claimable
   * again at once, unmarked; one that hangs is cut off by `idle_in_transaction_session_timeout =
   * leaseMs` (late, never lost — R4). `fired_at` is the time of the claim. Due times are compared
   * with `now` (the database clock, R8).
   */
  async claimBatch(now: Date, limit: number, leaseMs: number): Promise<TimerBatch> {
    const tx = await this.pool.connect();
    // A connection cut off by the server (the lease ran out) must not crash the process.
    const onError = () => undefined;
    tx.on('error', onError);
    let open = true;
    const end = async (sql: string, healthy: boolean) => {
      if (!open) return;
      open = false;
      tx.removeListener('error', onError);
      try {
        await tx.query(sql);
        tx.release();
      } catch (err) {
        tx.release(true);
        if (healthy) throw err;
      }
    };
    try {
      // Literals, not parameters: only the simple protocol takes several statements in one round
      // trip. Both are generated here (an ISO timestamp and whole numbers), never outside input.
      const at = `'${now.toISOString()}'::timestamptz`;
      const results = (await tx.query(
        `BEGIN;
         SET LOCAL idle_in_transaction_session_timeout = ${Math.max(1, Math.floor(leaseMs))};
         UPDATE engine.timers t SET fired_at = ${at}, claimed_until = NULL
           FROM (SELECT timer_id FROM engine.timers
                  WHERE fired_at IS NULL AND superseded_at IS NULL AND due_at <= ${at}
                    AND (claimed_until IS NULL OR claimed_until <= ${at})
                  ORDER BY due_at, timer_id
                  LIMIT ${Math.max(0, Math.floor(limit))}
                  FOR UPDATE SKIP LOCKED) due
          WHERE t.timer_id = due.timer_id
         RETURNING t.timer_id, t.stream_id, t.shop_id, t.purpose, t.step, t.seq, t.due_at, t.payload`,
      )) as unknown as { rows: (TimerRow & { seq: number })[] }[];
      const timers = results[2].rows
        .sort(
          (x, y) =>
            x.due_at.getTime() - y.due_at.getTime() ||
            x.seq - y.seq ||
            (x.timer_id < y.timer_id ? -1 : x.timer_id > y.timer_id ? 1 : 0),
        )
        .map(toClaimed);
      if (timers.length === 0) await end('COMMIT', true);
      return {
        timers,
        settle: async (fired, _at, failed, retryAt) => {
          if (!open) return;
          try {
            // Failed ones wait until `retryAt`; any other claimed timer not named fired is claimable at once.
            const firedIds = new Set(fired);
            const back = timers.map((t) => t.timerId).filter((id) => !firedIds.has(id) || failed.includes(id));
            if (back.length > 0) {
              await tx.query(
                `UPDATE engine.timers SET fired_at = NULL,
                   claimed_until = CASE WHEN timer_id = ANY($2::text[]) THEN $3 ELSE claimed_until END
                 WHERE timer_id = ANY($1::text[])`,
                [back, [...failed], retryAt],
              );
            }
          } catch (err) {
            await end('ROLLBACK', false);
            throw err;
          }
          await end('COMMIT', true);
        },
        abandon: () => end('ROLLBACK', false),
      };
    } catch (err) {
      await end('ROLLBACK', false);
      throw err;
    }
  }

  async markFired(timerId: string, at?: Date): Promise<void> {
    await this.markFiredMany([timerId], at);
  }

  /** Marks a whole fired batch in one statement (one commit per batch, not one per timer). */
  async markFiredMany(timerIds: readonly string[], at?: Date): Promise<void> {
    if (timerIds.length === 0) return;
    await this.pool.query(
      'UPDATE engine.timers SET fired_at = COALESCE($2, now()), claimed_until = NULL WHERE timer_id = ANY($1::text[])',
      [timerIds, at ?? null],
    );
  }

  /**
   * When the next timer becomes claimable: the earliest due time among current unfired timers, or
   * the end of a lease/retry delay when that is later. Undefined when nothing is pending.
   */
  async nextDueAt(): Promise<Date | undefined> {
    const { rows } = await this.pool.query<{ at: Date | null }>(
      `SELECT min(GREATEST(due_at, COALESCE(claimed_until, due_at))) AS at FROM (
         SELECT due_at, claimed_until FROM engine.timers
         WHERE fired_at IS NULL AND superseded_at IS NULL
         ORDER BY due_at LIMIT 100) first_due`,
    );
    return rows[0]?.at ?? undefined;
  }

  /** Gives a claim back early (after a failure), so the timer is retried at `retryAt` instead of the lease end. */
  async release(timerId: string, retryAt: Date): Promise<void> {
    await this.releaseMany([timerId], retryAt);
  }

  async releaseMany(timerIds: readonly string[], retryAt: Date): Promise<void> {
    if (timerIds.length === 0) return;
    await this.pool.query(
      'UPDATE engine.timers SET claimed_until = $2 WHERE timer_id = ANY($1::text[]) AND fired_at IS NULL',
      [timerIds, retryAt],
    );
  }

  /** Unfired, current timers (for health and lag metrics). */
  async pendingCount(dueBy?: Date): Promise<number> {
    const { rows } = await this.pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM engine.timers
       WHERE fired_at IS NULL AND superseded_at IS NULL AND ($1::timestamptz IS NULL OR due_at <= $1)`,
      [dueBy ?? null],
    );
    return rows[0].n;
  }
}

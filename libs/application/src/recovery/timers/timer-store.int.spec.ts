import { Pool } from 'pg';
import { createTestDatabase, type TestDatabase } from '@reclaim/database';
import { DatabaseClock } from '../clock';
import { TimerStore, type TimerToSchedule } from './timer-store';

const SHOP = '6f1c1f43-7f6e-4d52-9a34-3c9a0f5b2a10';
const MINUTE = 60_000;

function timers(prefix: string, n: number, dueAt: Date): TimerToSchedule[] {
  return Array.from({ length: n }, (_, i) => ({
    timerId: `recovery-${SHOP}-${prefix}${i}/timer-1`,
    streamId: `recovery-${SHOP}-${prefix}${i}`,
    shopId: SHOP,
    purpose: 'step' as const,
    step: 0,
    dueAt: dueAt.toISOString(),
  }));
}

describe('TimerStore (Postgres)', () => {
  let db: TestDatabase;
  let pool: Pool;
  let store: TimerStore;

  beforeAll(async () => {
    db = await createTestDatabase('reclaim_timers');
    pool = new Pool({ connectionString: db.url, max: 8 });
    await Promise.all([TimerStore.migrate(pool), TimerStore.migrate(pool)]);
    store = new TimerStore(pool);
  });

  beforeEach(() => pool.query('TRUNCATE engine.timers'));

  afterAll(async () => {
    await pool.end();
    await db.drop();
  });

  it('schedules idempotently and marks older timers of a stream superseded', async () => {
    const t0 = new Date('2025-01-01T10:00:00Z');
    const stream = `recovery-${SHOP}-c1`;
    const first = {
      timerId: `${stream}/timer-1`,
      streamId: stream,
      shopId: SHOP,
      purpose: 'abandonment' as const,
      dueAt: t0.toISOString(),
    };
    await store.schedule(pool, [first]);
    await store.schedule(pool, [first]); // replayed from the log
    await store.schedule(pool, [
      { ...first, timerId: `${stream}/timer-2`, dueAt: new Date(t0.getTime() + MINUTE).toISOString() },
    ]);
    const claimed = await store.claimDue(new Date(t0.getTime() + 2 * MINUTE), 10, MINUTE);
    expect(claimed.map((t) => t.timerId)).toEqual([`${stream}/timer-2`]);
    const { rows } = await pool.query('SELECT count(*)::int AS n FROM engine.timers');
    expect(rows[0].n).toBe(2);
  });

  it('two concurrent claimers never get the same timer', async () => {
    const now = new Date('2025-01-01T12:00:00Z');
    await store.schedule(pool, timers('a', 1000, new Date(now.getTime() - MINUTE)));
    const claimLoop = async () => {
      const got: string[] = [];
      for (;;) {
        const batch = await store.claimDue(now, 37, 10 * MINUTE);
        if (batch.length === 0) return got;
        got.push(...batch.map((t) => t.timerId));
      }
    };
    const [a, b] = await Promise.all([claimLoop(), claimLoop()]);
    expect(a.length + b.length).toBe(1000);
    expect(new Set([...a, ...b]).size).toBe(1000);
    expect(a.length).toBeGreaterThan(0);
    expect(b.length).toBeGreaterThan(0);
  });

  it('re-claims the timers of a crashed claimer once its lease ends, not before', async () => {
    const now = new Date('2025-01-01T12:00:00Z');
    await store.schedule(pool, timers('b', 5, new Date(now.getTime() - MINUTE)));
    const crashed = await store.claimDue(now, 10, 60_000);
    expect(crashed).toHaveLength(5);
    // The claimer dies without marking anything fired.
    expect(await store.claimDue(new Date(now.getTime() + 59_000), 10, 60_000)).toHaveLength(0);
    const reclaimed = await store.claimDue(new Date(now.getTime() + 60_000), 10, 60_000);
    expect(reclaimed.map((t) => t.timerId).sort()).toEqual(crashed.map((t) => t.timerId).sort());
    for (const t of reclaimed) await store.markFired(t.timerId);
    expect(await store.claimDue(new Date(now.getTime() + 10 * MINUTE), 10, 60_000)).toHaveLength(0);
  });

  it('R8: a worker whose clock runs 10 minutes ahead does not fire early with the database clock', async () => {
    const { rows } = await pool.query<{ now: Date }>('SELECT now() AS now');
    const dbNow = rows[0].now.getTime();
    await store.schedule(pool, timers('c', 1, new Date(dbNow + 5 * MINUTE)));
    const skewedLocal = () => Date.now() + 10 * MINUTE;
    // Its own clock would fire the timer now…
    expect(await store.pendingCount(new Date(skewedLocal()))).toBe(1);
    // …the database clock does not.
    const clock = new DatabaseClock(pool, { local: skewedLocal });
    await clock.refresh();
    expect(Math.abs(clock.now().getTime() - Date.now())).toBeLessThan(5_000);
    expect(await store.claimDue(clock.now(), 10, MINUTE)).toHaveLength(0);
    // Once the database clock reaches the due time, it fires.
    expect(await store.claimDue(new Date(clock.now().getTime() + 5 * MINUTE + 1_000), 10, MINUTE)).toHaveLength(1);
  });

  it('R4: a backlog of due timers after an outage drains exactly once across two workers', async () => {
    const outageStart = new Date('2025-01-01T08:00:00Z');
    const n = 4000;
    await store.schedule(pool, timers('d', n, outageStart));
    const afterOutage = new Date(outageStart.getTime() + 90 * MINUTE);
    const fired = new Map<string, number>();
    const worker = async () => {
      for (;;) {
        const batch = await store.claimDue(afterOutage, 200, MINUTE);
        if (batch.length === 0) return;
        for (const t of batch) {
          fired.set(t.timerId, (fired.get(t.timerId) ?? 0) + 1);
          await store.markFired(t.timerId, afterOutage);
        }
      }
    };
    await Promise.all([worker(), worker()]);
    expect(fired.size).toBe(n);
    expect([...fired.values()].every((count) => count === 1)).toBe(true);
    expect(await store.pendingCount()).toBe(0);
  });

  it('claims a batch in a transaction: concurrent batches are disjoint, a settled batch is fired, an abandoned one claimable at once', async () => {
    const now = new Date('2025-01-01T12:00:00Z');
    await store.schedule(pool, timers('e', 10, new Date(now.getTime() - MINUTE)));
    const a = await store.claimBatch(now, 6, MINUTE);
    const b = await store.claimBatch(now, 6, MINUTE);
    expect(a.timers).toHaveLength(6);
    expect(b.timers).toHaveLength(4);
    const ids = [...a.timers, ...b.timers].map((t) => t.timerId);
    expect(new Set(ids).size).toBe(10);
    // Claimed rows are marked inside the open transactions: nobody else sees them fired before a commit.
    expect(await store.pendingCount()).toBe(10);
    // a fires five and fails one (put back for a minute); b dies before settling.
    const [failed, ...fired] = a.timers.map((t) => t.timerId);
    await a.settle(fired, now, [failed], new Date(now.getTime() + MINUTE));
    await b.abandon();
    const again = await store.claimBatch(now, 10, MINUTE);
    expect(again.timers.map((t) => t.timerId).sort()).toEqual(b.timers.map((t) => t.timerId).sort());
    await again.settle(
      again.timers.map((t) => t.timerId),
      now,
      [],
      now,
    );
    const later = await store.claimBatch(new Date(now.getTime() + MINUTE), 10, MINUTE);
    expect(later.timers.map((t) => t.timerId)).toEqual([failed]);
    await later.abandon();
    expect(await store.pendingCount()).toBe(1);
  });

  it('R4: a batch whose worker hangs past the lease is claimable again (idle transaction cut off)', async () => {
    const now = new Date('2025-01-01T12:00:00Z');
    await store.schedule(pool, timers('f', 3, new Date(now.getTime() - MINUTE)));
    const hung = await store.claimBatch(now, 10, 300);
    expect(hung.timers).toHaveLength(3);
    expect((await store.claimBatch(now, 10, MINUTE)).timers).toHaveLength(0);
    await new Promise((r) => setTimeout(r, 1_000));
    const taken = await store.claimBatch(now, 10, MINUTE);
    expect(taken.timers).toHaveLength(3);
    await taken.settle(
      taken.timers.map((t) => t.timerId),
      now,
      [],
      now,
    );
    // The hung worker's late settle cannot commit: its transaction is gone.
    await expect(
      hung.settle(
        hung.timers.map((t) => t.timerId),
        now,
        [],
        now,
      ),
    ).rejects.toThrow();
    expect(await store.pendingCount()).toBe(0);
  });
});

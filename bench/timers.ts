/**
 * Durable timers vs a plain `FOR UPDATE SKIP LOCKED` table, interleaved in one run on one database
 * (same server, same synchronous_commit), with a no-op handler on both sides.
 *
 *   npm run bench:timers                                  (DATABASE_URL, or an embedded PostgreSQL)
 *   BENCH_TIMERS=100000 BENCH_REPS=3 BENCH_PENDING=1000000 npm run bench:timers
 *
 * Drain: BENCH_TIMERS due timers (and BENCH_PENDING not yet due), drained by the real `TimerDriver`
 * (default settings; claim with a lease, the next claim pipelined while a batch fires, one mark per
 * batch) vs a plain table drained by one `UPDATE … WHERE id IN (SELECT … FOR UPDATE SKIP LOCKED
 * LIMIT 200) RETURNING` per batch. Repetitions alternate A/B; the ratio is of the medians.
 *
 * Lateness: timers scheduled while the driver runs (through `TimerStore.schedule`, so NOTIFY wakes
 * it), due 0–2 s after scheduling over BENCH_WINDOW_S seconds, fired by the default wake-up loop
 * (next due time + NOTIFY, TIMER_TICK 1 s only as fallback). The same arrivals on the plain table
 * polled every 100 ms are the reference.
 */
import { Pool } from 'pg';
import {
  DatabaseClock,
  listenForWakeUps,
  migrateRecoveryEngine,
  TIMERS_CHANNEL,
  TimerDriver,
  TimerStore,
  WakeLoop,
  type ClaimedTimer,
  type TimerDriverDeps,
} from '@reclaim/application';
import { openScratchDatabase } from './support/scratch-database';

const BATCH = 200;

/** The real driver with the handler swapped for a no-op that records lateness. */
class NoopDriver extends TimerDriver {
  readonly lateMs: number[] = [];
  constructor(
    deps: TimerDriverDeps,
    private readonly clock: DatabaseClock,
  ) {
    super(deps);
  }
  protected override fireMany(timers: readonly ClaimedTimer[]): Promise<Set<string>> {
    const now = this.clock.now().getTime();
    for (const t of timers) this.lateMs.push(now - t.dueAt.getTime());
    return Promise.resolve(new Set(timers.map((t) => t.timerId)));
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function seedTimers(pool: Pool, due: number, pending: number): Promise<void> {
  await pool.query('TRUNCATE engine.timers');
  await pool.query(
    `INSERT INTO engine.timers (timer_id, stream_id, shop_id, purpose, seq, due_at)
     SELECT 'recovery-s-' || g || '/timer-1', 'recovery-s-' || g, 's', 'abandonment', 1,
            CASE WHEN g <= $1::int THEN now() - interval '1 second' ELSE now() + interval '1 day' END
     FROM generate_series(1, $1::int + $2::int) g`,
    [due, pending],
  );
  await pool.query('VACUUM ANALYZE engine.timers');
}

async function seedPlain(pool: Pool, due: number, pending: number): Promise<void> {
  await pool.query('TRUNCATE bench_jobs');
  await pool.query(
    `INSERT INTO bench_jobs (due_at)
     SELECT CASE WHEN g <= $1::int THEN now() - interval '1 second' ELSE now() + interval '1 day' END
     FROM generate_series(1, $1::int + $2::int) g`,
    [due, pending],
  );
  await pool.query('VACUUM ANALYZE bench_jobs');
}

/** One batch of the plain queue: claim and complete in one statement. */
async function plainBatch(pool: Pool, onJob?: (dueAt: Date) => void): Promise<number> {
  const { rows } = await pool.query<{ due_at: Date }>(
    `UPDATE bench_jobs SET done_at = now() WHERE id IN (
       SELECT id FROM bench_jobs WHERE done_at IS NULL AND due_at <= now()
       ORDER BY due_at LIMIT $1 FOR UPDATE SKIP LOCKED)
     RETURNING due_at`,
    [BATCH],
  );
  if (onJob) for (const r of rows) onJob(r.due_at);
  return rows.length;
}

async function drainOurs(driver: NoopDriver, total: number): Promise<number> {
  const t = process.hrtime.bigint();
  let fired = 0;
  while (fired < total) {
    const r = await driver.tick();
    fired += r.fired;
    if (r.claimed === 0) break;
  }
  if (fired !== total) throw new Error(`driver fired ${fired} of ${total}`);
  return (total * 1e9) / Number(process.hrtime.bigint() - t);
}

async function drainPlain(pool: Pool, total: number): Promise<number> {
  const t = process.hrtime.bigint();
  let done = 0;
  for (;;) {
    const n = await plainBatch(pool);
    done += n;
    if (n < BATCH) break;
  }
  if (done !== total) throw new Error(`plain queue completed ${done} of ${total}`);
  return (total * 1e9) / Number(process.hrtime.bigint() - t);
}

/** Arrivals: every 50 ms a batch of timers due 0–2 s from now, for `windowS` seconds. */
async function arrivals(windowS: number, perSecond: number, add: (dues: Date[]) => Promise<void>, now: () => number) {
  const end = Date.now() + windowS * 1000;
  const perTick = Math.max(1, Math.round(perSecond / 20));
  while (Date.now() < end) {
    const base = now();
    await add(Array.from({ length: perTick }, () => new Date(base + Math.floor(Math.random() * 2000))));
    await sleep(50);
  }
}

async function main(): Promise<void> {
  const due = Number(process.env.BENCH_TIMERS ?? 20_000);
  const pending = Number(process.env.BENCH_PENDING ?? 100_000);
  const reps = Number(process.env.BENCH_REPS ?? 3);
  const windowS = Number(process.env.BENCH_WINDOW_S ?? 10);
  const rate = Number(process.env.BENCH_RATE ?? 1000);
  const db = await openScratchDatabase(55502);
  const url = db.url;
  const pool = new Pool({ connectionString: url, max: 16 });
  pool.on('error', () => undefined);
  const abort = new AbortController();
  try {
    await migrateRecoveryEngine(pool);
    await pool.query(
      `CREATE TABLE bench_jobs (id bigserial PRIMARY KEY, due_at timestamptz NOT NULL, done_at timestamptz);
       CREATE INDEX bench_jobs_due ON bench_jobs (due_at) WHERE done_at IS NULL`,
    );
    const sync = (await pool.query<{ synchronous_commit: string }>('SHOW synchronous_commit')).rows[0]
      .synchronous_commit;
    const clock = new DatabaseClock(pool);
    await clock.sync();
    const timers = new TimerStore(pool);
    const deps = { pool, timers, clock } as unknown as TimerDriverDeps;

    console.log(`drain: ${due} due, ${pending} pending, ${reps} interleaved repetitions, synchronous_commit=${sync}`);
    const ours: number[] = [];
    const plain: number[] = [];
    for (let i = 0; i < reps; i++) {
      await seedTimers(pool, due, pending);
      ours.push(await drainOurs(new NoopDriver(deps, clock), due));
      await seedPlain(pool, due, pending);
      plain.push(await drainPlain(pool, due));
      console.log(`  rep ${i + 1}: timers ${ours[i].toFixed(0)}/s, plain SKIP LOCKED ${plain[i].toFixed(0)}/s`);
    }
    console.log(
      `drain median: timers ${median(ours).toFixed(0)}/s, plain ${median(plain).toFixed(0)}/s, ratio ${(median(ours) / median(plain)).toFixed(2)}×`,
    );

    // Lateness with the default wake-up loop (fallback poll 1 s), vs the plain table polled every 100 ms.
    console.log(`lateness: ~${rate}/s arrivals due 0–2 s ahead over ${windowS} s, ${pending} pending`);
    await seedTimers(pool, 0, pending);
    const driver = new NoopDriver(deps, clock);
    const loop = new WakeLoop({
      clock,
      fallbackMs: 1000,
      run: async () => {
        await driver.tick();
        return driver.nextDueAt();
      },
    });
    const listening = listenForWakeUps(
      pool,
      [TIMERS_CHANNEL],
      (_c, payload) => loop.wake(payload ? new Date(Number(payload)) : undefined),
      abort.signal,
    );
    await sleep(200);
    loop.start();
    let n = 0;
    await arrivals(
      windowS,
      rate,
      async (dues) => {
        const tx = await pool.connect();
        try {
          await tx.query('BEGIN');
          await timers.schedule(
            tx,
            dues.map((d) => {
              n++;
              return {
                timerId: `recovery-l-${n}/timer-1`,
                streamId: `recovery-l-${n}`,
                shopId: 's',
                purpose: 'abandonment' as const,
                dueAt: d.toISOString(),
              };
            }),
          );
          await tx.query('COMMIT');
        } finally {
          tx.release();
        }
      },
      () => clock.now().getTime(),
    );
    while (driver.lateMs.length < n) await sleep(100);
    await loop.stop();
    const late = driver.lateMs.filter((x) => Number.isFinite(x));
    console.log(
      `  timers (default wake-up): n=${late.length} p50 ${pct(late, 50)} ms, p99 ${pct(late, 99)} ms, max ${Math.max(...late)} ms`,
    );

    await seedPlain(pool, 0, pending);
    const plainLate: number[] = [];
    let stop = false;
    const poller = (async () => {
      while (!stop) {
        while ((await plainBatch(pool, (d) => plainLate.push(Date.now() + clock.offset - d.getTime()))) === BATCH);
        await sleep(100);
      }
    })();
    let m = 0;
    await arrivals(
      windowS,
      rate,
      async (dues) => {
        m += dues.length;
        await pool.query('INSERT INTO bench_jobs (due_at) SELECT unnest($1::timestamptz[])', [dues]);
      },
      () => Date.now() + clock.offset,
    );
    while (plainLate.length < m) await sleep(100);
    stop = true;
    await poller;
    console.log(
      `  plain SKIP LOCKED polled every 100 ms: n=${plainLate.length} p50 ${pct(plainLate, 50)} ms, p99 ${pct(plainLate, 99)} ms, max ${Math.max(...plainLate)} ms`,
    );
    console.log(
      `lateness p99 ratio (timers / plain 100 ms poll): ${(pct(late, 99) / Math.max(1, pct(plainLate, 99))).toFixed(2)}`,
    );
    abort.abort();
    await listening;
  } finally {
    abort.abort();
    await pool.end();
    await db.drop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});

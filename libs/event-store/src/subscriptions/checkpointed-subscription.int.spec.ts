import { randomUUID } from 'node:crypto';
import { Pool } from 'pg';
import { createTestDatabase, TestDatabase } from '@reclaim/database';
import { NewEvent, positionToString, RecordedEvent, START } from '../event-store.port';
import { PostgresEventStore } from '../postgres/postgres-event-store';
import {
  CheckpointMovedError,
  getCheckpoint,
  getHeadPosition,
  resetCheckpoint,
  runCheckpointedSubscription,
} from './checkpointed-subscription';

const ev = (type: string): NewEvent => ({ id: randomUUID(), type, schemaVersion: 1, data: {} });

async function until(check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 400 && !(await check()); i++) await new Promise((r) => setTimeout(r, 25));
}

describe('runCheckpointedSubscription', () => {
  let db: TestDatabase;
  let pool: Pool;
  let store: PostgresEventStore;

  beforeAll(async () => {
    db = await createTestDatabase('reclaim_es_runner');
    pool = new Pool({ connectionString: db.url, max: 10 });
    pool.on('error', () => undefined); // idle-client errors (the forced drop at the end) are expected here
    await PostgresEventStore.migrate(pool);
    store = new PostgresEventStore({ pool, pollIntervalMs: 100 });
    await pool.query('CREATE TABLE applied (event_id uuid NOT NULL, runner text NOT NULL)');
  });

  afterAll(async () => {
    await store.close();
    await pool.end();
    await db.drop();
  });

  it('two runners with one name never apply an event twice; the checkpoint ends at the head', async () => {
    const controller = new AbortController();
    const errors: unknown[] = [];
    const start = (runner: string) =>
      runCheckpointedSubscription({
        name: 'twins',
        store,
        pool,
        exclusive: false, // both consume at once: only the checkpoint compare-and-set keeps them apart
        batchSize: 5,
        signal: controller.signal,
        backoff: { initialMs: 1, maxMs: 10 },
        onError: (e) => errors.push(e),
        handle: async (events, tx) => {
          for (const e of events) await tx.query('INSERT INTO applied VALUES ($1, $2)', [e.id, runner]);
        },
      });
    const runners = [start('a'), start('b')];
    for (let i = 0; i < 60; i++) await store.append(`twin-${i % 6}`, [ev('Twin')], 'any');
    const head = await getHeadPosition(store);
    await until(async () => positionToString(await getCheckpoint(pool, 'twins')) === positionToString(head));
    controller.abort();
    await Promise.all(runners);
    // No unique key on `applied`: only the checkpoint compare-and-set can prevent a double apply.
    const { rows } = await pool.query<{ n: number; d: number }>(
      'SELECT count(*)::int AS n, count(DISTINCT event_id)::int AS d FROM applied',
    );
    expect(rows[0]).toEqual({ n: 60, d: 60 });
    expect(await getCheckpoint(pool, 'twins')).toEqual(head);
    // A race between the twins surfaces as a rolled-back attempt, never as a duplicate row.
    for (const e of errors) expect(e).toBeInstanceOf(CheckpointMovedError);
  });

  it('exclusive runners: one consumes, the standby takes over when it stops, nothing applied twice', async () => {
    const first = new AbortController();
    const second = new AbortController();
    const seen: Record<string, number> = { leader: 0, standby: 0 };
    const start = (runner: 'leader' | 'standby', signal: AbortSignal) =>
      runCheckpointedSubscription({
        name: 'exclusive',
        store,
        pool,
        signal,
        standbyPollMs: 50,
        filter: { typePrefixes: ['Solo'] },
        handle: async (events, tx) => {
          seen[runner] += events.length;
          for (const e of events) await tx.query('INSERT INTO applied VALUES ($1, $2)', [e.id, `solo-${runner}`]);
        },
      });
    const leader = start('leader', first.signal);
    await new Promise((r) => setTimeout(r, 100)); // the leader takes the lock first
    const standby = start('standby', second.signal);
    for (let i = 0; i < 20; i++) await store.append(`solo-${i % 4}`, [ev('Solo')], 'any');
    await until(async () => seen.leader === 20);
    expect(seen.standby).toBe(0);
    first.abort();
    await leader;
    for (let i = 0; i < 10; i++) await store.append(`solo-${i % 4}`, [ev('Solo')], 'any');
    await until(async () => seen.standby === 10);
    second.abort();
    await standby;
    const { rows } = await pool.query<{ n: number; d: number }>(
      `SELECT count(*)::int AS n, count(DISTINCT event_id)::int AS d FROM applied WHERE runner LIKE 'solo-%'`,
    );
    expect(rows[0]).toEqual({ n: 30, d: 30 });
    expect(seen).toEqual({ leader: 20, standby: 10 });
  });

  it('resetCheckpoint replays from the start; an aborted runner stops', async () => {
    await resetCheckpoint(pool, 'replay');
    expect(await getCheckpoint(pool, 'replay')).toEqual(START);
    const seen: RecordedEvent[] = [];
    const run = async () => {
      const controller = new AbortController();
      const head = await getHeadPosition(store);
      const running = runCheckpointedSubscription({
        name: 'replay',
        store,
        pool,
        signal: controller.signal,
        handle: async (events) => {
          seen.push(...events);
        },
      });
      await until(async () => positionToString(await getCheckpoint(pool, 'replay')) === positionToString(head));
      controller.abort();
      await running;
    };
    await run();
    const firstPass = seen.length;
    expect(firstPass).toBeGreaterThanOrEqual(60);
    await run(); // nothing new: no event handled again
    expect(seen).toHaveLength(firstPass);
    await resetCheckpoint(pool, 'replay');
    await run();
    expect(seen).toHaveLength(firstPass * 2);
    expect(seen.slice(firstPass).map((e) => e.id)).toEqual(seen.slice(0, firstPass).map((e) => e.id));
  });
});

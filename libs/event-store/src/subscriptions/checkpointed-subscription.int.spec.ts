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
  type BlockedKeyChange,
} from './checkpointed-subscription';
import { countDeadLetters, listDeadLetters, retryDeadLetter } from './dead-letters';

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

  it('poison isolation: a failing event blocks only its stream, is retried, parked, and released by a retry', async () => {
    const controller = new AbortController();
    await pool.query('CREATE TABLE iso_applied (seq serial PRIMARY KEY, label text NOT NULL)');
    const changes: BlockedKeyChange[] = [];
    let healed = false;
    const poison = (e: RecordedEvent) => (e.data as { poison?: boolean }).poison === true;
    const running = runCheckpointedSubscription({
      name: 'isolated',
      store,
      pool,
      filter: { streamPrefixes: ['iso-'] },
      batchSize: 50,
      signal: controller.signal,
      backoff: { initialMs: 1, maxMs: 10 },
      isolation: { maxAttempts: 3, backoff: { initialMs: 20, maxMs: 40 }, pollMs: 20, onKey: (c) => changes.push(c) },
      handle: async (events, tx) => {
        for (const e of events) {
          if (poison(e) && !healed) throw new Error('store API unreachable');
          await tx.query('INSERT INTO applied VALUES ($1, $2)', [e.id, 'isolated']);
          await tx.query('INSERT INTO iso_applied (label) VALUES ($1)', [
            `${e.streamId}:${(e.data as { n: number }).n}`,
          ]);
        }
      },
    });
    const append = (stream: string, n: number, bad = false) =>
      store.append(
        stream,
        [{ id: randomUUID(), type: 'Iso', schemaVersion: 1, data: { n, ...(bad ? { poison: true } : {}) } }],
        'any',
      );
    for (let n = 0; n < 3; n++)
      for (const s of ['iso-a', 'iso-b', 'iso-c']) await append(s, n, s === 'iso-b' && n === 1);
    for (let n = 3; n < 5; n++) for (const s of ['iso-a', 'iso-b', 'iso-c']) await append(s, n);
    const head = await getHeadPosition(store);
    // Committed rows only: a batch rolled back before its events were re-applied one by one leaves none.
    let applied: string[] = [];
    const perStream = (s: string) => applied.filter((a) => a.startsWith(`${s}:`));
    const refresh = async () => {
      applied = (await pool.query<{ label: string }>('SELECT label FROM iso_applied ORDER BY seq')).rows.map(
        (r) => r.label,
      );
    };
    try {
      // The checkpoint passes the poison event: everything else is applied, in order per stream.
      await until(async () => positionToString(await getCheckpoint(pool, 'isolated')) === positionToString(head));
      await until(async () => (await listDeadLetters(pool, { subscription: 'isolated' }))[0]?.status === 'parked');
      await refresh();
      expect(perStream('iso-a')).toEqual(['iso-a:0', 'iso-a:1', 'iso-a:2', 'iso-a:3', 'iso-a:4']);
      expect(perStream('iso-c')).toEqual(['iso-c:0', 'iso-c:1', 'iso-c:2', 'iso-c:3', 'iso-c:4']);
      expect(perStream('iso-b')).toEqual(['iso-b:0']); // held behind its poison event, order kept
      const [letter] = await listDeadLetters(pool, { subscription: 'isolated' });
      expect(letter).toMatchObject({ key: 'iso-b', status: 'parked', attempts: 3, events: 4, streamId: 'iso-b' });
      expect(letter.error).toContain('store API unreachable');
      expect(await countDeadLetters(pool)).toEqual(
        expect.arrayContaining([{ subscription: 'isolated', status: 'parked', keys: 1, events: 4 }]),
      );
      expect(changes.map((c) => c.change)).toEqual(['blocked', 'retry-failed', 'parked']);
      // New events of the blocked stream are held too (order kept), the others still flow.
      await append('iso-b', 5);
      await append('iso-a', 5);
      await until(async () => (await refresh(), perStream('iso-a').length === 6));
      expect(perStream('iso-b')).toEqual(['iso-b:0']);
      // The operator's retry, once the cause is gone: the held events are applied in log order.
      healed = true;
      expect(await retryDeadLetter(pool, 'isolated', 'iso-b')).toBe(true);
      expect(await retryDeadLetter(pool, 'isolated', 'iso-z')).toBe(false);
      await until(async () => (await refresh(), perStream('iso-b').length === 6));
      expect(perStream('iso-b')).toEqual(['iso-b:0', 'iso-b:1', 'iso-b:2', 'iso-b:3', 'iso-b:4', 'iso-b:5']);
      await until(async () => (await listDeadLetters(pool, { subscription: 'isolated' })).length === 0);
      expect(await listDeadLetters(pool, { subscription: 'isolated' })).toEqual([]);
      expect(changes.at(-1)).toMatchObject({ key: 'iso-b', change: 'released' });
    } finally {
      controller.abort();
      await running;
    }
    const { rows } = await pool.query<{ n: number; d: number }>(
      `SELECT count(*)::int AS n, count(DISTINCT event_id)::int AS d FROM applied WHERE runner = 'isolated'`,
    );
    expect(rows[0]).toEqual({ n: 17, d: 17 });
  });

  it("a failure that is not the event's own (connection lost) retries the whole batch; nothing is parked", async () => {
    const controller = new AbortController();
    let failures = 0;
    const seen: string[] = [];
    for (let i = 0; i < 4; i++) await store.append(`sys-${i}`, [ev('Sys')], 'any');
    const head = await getHeadPosition(store);
    const running = runCheckpointedSubscription({
      name: 'systemic',
      store,
      pool,
      filter: { streamPrefixes: ['sys-'] },
      signal: controller.signal,
      backoff: { initialMs: 1, maxMs: 10 },
      isolation: { pollMs: 20 },
      handle: async (events) => {
        if (failures < 3) {
          failures++;
          throw Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' });
        }
        seen.push(...events.map((e) => e.streamId));
      },
    });
    try {
      await until(async () => positionToString(await getCheckpoint(pool, 'systemic')) === positionToString(head));
    } finally {
      controller.abort();
      await running;
    }
    expect(seen).toEqual(['sys-0', 'sys-1', 'sys-2', 'sys-3']);
    expect(await listDeadLetters(pool, { subscription: 'systemic' })).toEqual([]);
  });

  it('resetCheckpoint forgets the blocked keys (a replay meets their events again)', async () => {
    await pool.query(
      `INSERT INTO event_store.subscription_blocked_keys (subscription, key, status, attempts, error, event_id, event_type, stream_id)
       VALUES ('forget', 'k', 'parked', 8, 'x', 'e', 't', 's')`,
    );
    await resetCheckpoint(pool, 'forget');
    expect(await listDeadLetters(pool, { subscription: 'forget' })).toEqual([]);
  });
});

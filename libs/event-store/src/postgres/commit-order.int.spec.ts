import { randomUUID } from 'node:crypto';
import { Pool } from 'pg';
import { createTestDatabase, TestDatabase } from '@reclaim/database';
import { DuplicateEventIdError } from '../errors';
import { comparePositions, NewEvent, RecordedEvent, START, WrongExpectedRevisionError } from '../event-store.port';
import { getCheckpoint, runCheckpointedSubscription } from '../subscriptions/checkpointed-subscription';
import { PostgresEventStore } from './postgres-event-store';

const ev = (type: string, data: unknown = {}): NewEvent => ({ id: randomUUID(), type, schemaVersion: 1, data });

describe('PostgresEventStore: commit order, group commit, checkpointed subscriptions', () => {
  let db: TestDatabase;
  let pools: Pool[];
  let stores: PostgresEventStore[];

  beforeAll(async () => {
    db = await createTestDatabase('reclaim_es_order');
    // Four "appliance processes": each its own pool and store, all on one database.
    pools = Array.from({ length: 4 }, () => new Pool({ connectionString: db.url, max: 8 }));
    // Pool owners must listen: an idle client's error (e.g. the forced drop at the end) is re-emitted here.
    for (const p of pools) p.on('error', () => undefined);
    await Promise.all(pools.map((p) => PostgresEventStore.migrate(p))); // concurrent migrations are safe
    stores = pools.map(
      (pool, i) => new PostgresEventStore({ pool, pollIntervalMs: 100, groupCommit: { maxBatchEvents: 1 + i * 40 } }),
    );
  });

  afterAll(async () => {
    await Promise.all(stores.map((s) => s.close()));
    await Promise.all(pools.map((p) => p.end()));
    await db.drop();
  });

  it('a live subscriber and a checkpointed runner see every committed event exactly once, in order', async () => {
    const streams = Array.from({ length: 40 }, (_, i) => `cart-order-${i}`);
    const acknowledged = new Map<string, { streamId: string; revision: bigint }>();
    const subscriberStore = stores[0];
    const controller = new AbortController();

    const live: RecordedEvent[] = [];
    const subscribing = (async () => {
      for await (const batch of subscriberStore.subscribeToAll({ signal: controller.signal, batchSize: 37 }))
        live.push(...batch);
    })();

    const projection = pools[3];
    await projection.query(
      'CREATE TABLE seen (event_id uuid PRIMARY KEY, stream_id text, revision bigint, position bigint)',
    );
    let failuresInjected = 0;
    const runner = runCheckpointedSubscription({
      name: 'order-test',
      store: stores[3],
      pool: projection,
      batchSize: 23,
      signal: controller.signal,
      backoff: { initialMs: 5, maxMs: 20 },
      handle: async (events, tx) => {
        for (const e of events) {
          await tx.query('INSERT INTO seen VALUES ($1, $2, $3, $4)', [
            e.id,
            e.streamId,
            e.revision.toString(),
            e.position.commit.toString(),
          ]);
        }
        // Fail some batches after writing: the rollback must undo the rows and the checkpoint.
        if (failuresInjected < 5 && events[0].position.commit % 7n === 3n) {
          failuresInjected++;
          throw new Error('injected handler failure');
        }
      },
    });

    // 24 concurrent writer loops over the four stores; each append checks an exact expected revision.
    const perLoop = 20;
    const writers = Array.from({ length: 24 }, async (_, loop) => {
      const store = stores[loop % stores.length];
      const known = new Map<string, bigint | 'no_stream'>();
      for (let n = 0; n < perLoop; n++) {
        const streamId = streams[(loop * 7 + n * 13) % streams.length];
        const events = Array.from({ length: 1 + ((loop + n) % 3) }, (_, k) => ev(`Order.E${k}`, { loop, n, k }));
        for (;;) {
          const expected = known.get(streamId) ?? 'no_stream';
          try {
            const r = await store.append(streamId, events, expected);
            known.set(streamId, r.nextExpectedRevision);
            events.forEach((e, i) =>
              acknowledged.set(e.id, { streamId, revision: r.nextExpectedRevision - BigInt(events.length - 1 - i) }),
            );
            break;
          } catch (err) {
            if (!(err instanceof WrongExpectedRevisionError)) throw err;
            known.set(streamId, err.actual);
          }
        }
      }
    });
    await Promise.all(writers);
    expect(acknowledged.size).toBeGreaterThanOrEqual(24 * perLoop);

    const deadline = Date.now() + 30_000;
    const seenCount = async () => Number((await projection.query('SELECT count(*)::int AS n FROM seen')).rows[0].n);
    while ((live.length < acknowledged.size || (await seenCount()) < acknowledged.size) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
    }
    controller.abort();
    await subscribing;
    await runner;

    // Live subscriber: every acknowledged event exactly once, positions strictly increasing.
    expect(live).toHaveLength(acknowledged.size);
    expect(new Set(live.map((e) => e.id)).size).toBe(acknowledged.size);
    for (let i = 1; i < live.length; i++)
      expect(comparePositions(live[i - 1].position, live[i].position)).toBeLessThan(0);
    const lastRevision = new Map<string, bigint>();
    for (const e of live) {
      expect(acknowledged.get(e.id)).toEqual({ streamId: e.streamId, revision: e.revision });
      expect(e.revision).toBe((lastRevision.get(e.streamId) ?? -1n) + 1n);
      lastRevision.set(e.streamId, e.revision);
    }

    // Checkpointed runner: exactly once despite injected failures; checkpoint at the last event.
    expect(failuresInjected).toBeGreaterThan(0);
    const { rows } = await projection.query<{ event_id: string }>('SELECT event_id FROM seen ORDER BY position');
    expect(rows.map((r) => r.event_id)).toEqual(live.map((e) => e.id));
    expect(await getCheckpoint(projection, 'order-test')).toEqual(live[live.length - 1].position);
    expect(await stores[1].headPosition()).toEqual(live[live.length - 1].position);
  });

  it('group commit: a conflicting append in a batch fails alone, the others commit in one transaction', async () => {
    const pool = pools[1];
    const store = new PostgresEventStore({ pool, groupCommit: { maxWaitMs: 30 } });
    try {
      await store.append('gc-existing', [ev('A')], 'no_stream');
      const calls = [
        ...Array.from({ length: 5 }, (_, i) => store.append(`gc-new-${i}`, [ev('B'), ev('C')], 'no_stream')),
        store.append('gc-existing', [ev('Conflict')], 5n),
        ...Array.from({ length: 5 }, (_, i) => store.append(`gc-new-${i + 5}`, [ev('B')], 'no_stream')),
      ];
      const results = await Promise.allSettled(calls);
      expect(results.map((r) => r.status)).toEqual([
        ...Array(5).fill('fulfilled'),
        'rejected',
        ...Array(5).fill('fulfilled'),
      ]);
      expect((results[5] as PromiseRejectedResult).reason).toBeInstanceOf(WrongExpectedRevisionError);
      const { rows } = await pool.query(
        `SELECT count(DISTINCT xmin::text)::int AS txns, count(*)::int AS n FROM event_store.events WHERE stream_id LIKE 'gc-new-%'`,
      );
      expect(rows[0]).toEqual({ txns: 1, n: 15 });
      expect((await store.readStream('gc-existing')).map((e) => e.type)).toEqual(['A']);
    } finally {
      await store.close();
    }
  });

  it('group commit: appends to one stream in one batch are checked in order against each other', async () => {
    const store = new PostgresEventStore({ pool: pools[2], groupCommit: { maxWaitMs: 30 } });
    try {
      const dup = ev('Dup');
      const results = await Promise.allSettled([
        store.append('gc-seq', [ev('First')], 'no_stream'),
        store.append('gc-seq', [ev('Second')], 0n),
        store.append('gc-seq', [ev('Stale')], 0n),
        store.append('gc-seq', [dup], 1n),
        store.append('gc-seq', [dup], 1n), // idempotent retry inside the same batch
        store.append('gc-seq', [dup, ev('Extra')], 'any'), // partial overlap
      ]);
      expect(results.map((r) => r.status)).toEqual([
        'fulfilled',
        'fulfilled',
        'rejected',
        'fulfilled',
        'fulfilled',
        'rejected',
      ]);
      expect((results[2] as PromiseRejectedResult).reason).toBeInstanceOf(WrongExpectedRevisionError);
      expect((results[5] as PromiseRejectedResult).reason).toBeInstanceOf(DuplicateEventIdError);
      expect((results[4] as PromiseFulfilledResult<unknown>).value).toEqual(
        (results[3] as PromiseFulfilledResult<unknown>).value,
      );
      expect((await store.readStream('gc-seq')).map((e) => e.type)).toEqual(['First', 'Second', 'Dup']);
    } finally {
      await store.close();
    }
  });

  it('a payload PostgreSQL refuses fails only its own append; the batch is retried append by append', async () => {
    const store = new PostgresEventStore({ pool: pools[2], groupCommit: { maxWaitMs: 30 } });
    try {
      const results = await Promise.allSettled([
        store.append('bad-a', [ev('Ok')], 'no_stream'),
        store.append('bad-b', [ev('Bad', { text: 'nul \u0000 byte' })], 'no_stream'),
        store.append('bad-c', [ev('Ok')], 'no_stream'),
      ]);
      expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
      expect(await store.readStream('bad-b')).toEqual([]);
      expect(await store.readStream('bad-a')).toHaveLength(1);
    } finally {
      await store.close();
    }
  });

  it('readAll after the head returns nothing and subscriptions from the head only see new events', async () => {
    const store = stores[0];
    const head = await store.headPosition();
    expect(await store.readAll({ after: head })).toEqual([]);
    const controller = new AbortController();
    const got: RecordedEvent[] = [];
    const sub = (async () => {
      for await (const b of store.subscribeToAll({ after: head, signal: controller.signal })) {
        got.push(...b);
        controller.abort();
      }
    })();
    await stores[2].append('after-head', [ev('New')], 'no_stream'); // another "process": NOTIFY wakes us
    await sub;
    expect(got.map((e) => e.streamId)).toEqual(['after-head']);
    expect(comparePositions(got[0].position, START)).toBeGreaterThan(0);
  });
});

import { randomUUID } from 'node:crypto';
import { Pool } from 'pg';
import { createTestDatabase, TestDatabase } from '@reclaim/database';
import { NewEvent, positionToString, streamPartition } from '../event-store.port';
import { PostgresEventStore } from '../postgres/postgres-event-store';
import { getCheckpoint, getHeadPosition, runCheckpointedSubscription } from './checkpointed-subscription';
import { getPartitionCount, partitionName, runPartitionedSubscription } from './partitioned-subscription';

const ev = (type: string, n: number): NewEvent => ({ id: randomUUID(), type, schemaVersion: 1, data: { n } });

async function until(check: () => Promise<boolean>, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('runPartitionedSubscription', () => {
  let db: TestDatabase;
  let pool: Pool;
  let store: PostgresEventStore;
  const instances: Pool[] = [];

  /** A pool per "instance": its own sessions, so its own advisory locks. */
  const instancePool = () => {
    const p = new Pool({ connectionString: db.url, max: 8 });
    p.on('error', () => undefined);
    instances.push(p);
    return p;
  };

  beforeAll(async () => {
    db = await createTestDatabase('reclaim_es_partitions');
    pool = new Pool({ connectionString: db.url, max: 6 });
    pool.on('error', () => undefined);
    await PostgresEventStore.migrate(pool);
    store = new PostgresEventStore({ pool, pollIntervalMs: 50 });
    await pool.query(
      'CREATE TABLE applied (sub text NOT NULL, event_id uuid NOT NULL, stream_id text NOT NULL, n int NOT NULL, runner text NOT NULL, seq bigserial)',
    );
  });

  afterAll(async () => {
    await store.close();
    await Promise.all(instances.map((p) => p.end()));
    await pool.end();
    await db.drop();
  });

  const run = (sub: string, runner: string, partitions: number, signal: AbortSignal, owned?: number[][]) =>
    runPartitionedSubscription({
      name: sub,
      partitions,
      store,
      pool: instancePool(),
      filter: { typePrefixes: [`${sub}.`] },
      batchSize: 7,
      rebalanceMs: 100,
      signal,
      backoff: { initialMs: 5, maxMs: 50 },
      onOwnership: (o) => owned?.push([...o]),
      handle: async (events, tx) => {
        for (const e of events)
          await tx.query('INSERT INTO applied (sub, event_id, stream_id, n, runner) VALUES ($1, $2, $3, $4, $5)', [
            sub,
            e.id,
            e.streamId,
            (e.data as { n: number }).n,
            runner,
          ]);
      },
    });

  const appendBurst = async (sub: string, streams: number, perStream: number, from = 0) => {
    for (let k = from; k < from + perStream; k++)
      await Promise.all(
        Array.from({ length: streams }, (_, s) => store.append(`${sub}-${s}`, [ev(`${sub}.happened`, k)], 'any')),
      );
  };

  const applied = async (sub: string) =>
    (
      await pool.query<{ event_id: string; stream_id: string; n: number; runner: string }>(
        'SELECT event_id, stream_id, n, runner FROM applied WHERE sub = $1 ORDER BY seq',
        [sub],
      )
    ).rows;

  /** Every event once, and each stream's events in their order. */
  const expectExactlyOnceInOrder = (rows: { event_id: string; stream_id: string; n: number }[], total: number) => {
    expect(new Set(rows.map((r) => r.event_id)).size).toBe(rows.length);
    expect(rows.length).toBe(total);
    const last = new Map<string, number>();
    for (const r of rows) {
      expect(r.n).toBeGreaterThan(last.get(r.stream_id) ?? -1);
      last.set(r.stream_id, r.n);
    }
  };

  it('filters a partition in SQL exactly as streamPartition does', async () => {
    await appendBurst('hash', 40, 1);
    const all = await store.readAll({ filter: { typePrefixes: ['hash.'] } });
    const seen = new Set<string>();
    for (let index = 0; index < 3; index++) {
      const part = await store.readAll({ filter: { typePrefixes: ['hash.'], partition: { index, count: 3 } } });
      for (const e of part) {
        expect(streamPartition(e.streamId, 3)).toBe(index);
        seen.add(e.id);
      }
    }
    expect(seen.size).toBe(all.length);
  });

  it('two instances share the partitions, apply each event once in stream order, and one takes over when the other stops', async () => {
    const a = new AbortController();
    const b = new AbortController();
    const ownedA: number[][] = [];
    const ownedB: number[][] = [];
    const runA = run('split', 'a', 4, a.signal, ownedA);
    await until(async () => ownedA.at(-1)?.length === 4);
    const runB = run('split', 'b', 4, b.signal, ownedB);
    // The first instance hands two partitions back; the second takes them.
    await until(async () => ownedA.at(-1)?.length === 2 && ownedB.at(-1)?.length === 2);
    expect(new Set([...ownedA.at(-1)!, ...ownedB.at(-1)!]).size).toBe(4);
    await appendBurst('split', 24, 10);
    await until(async () => (await applied('split')).length >= 240);
    const rows = await applied('split');
    expect(new Set(rows.map((r) => r.runner))).toEqual(new Set(['a', 'b']));
    // A stream is only ever applied by the instance running its partition.
    for (const r of rows) expect(ownedA.at(-1)!.includes(streamPartition(r.stream_id, 4)) ? 'a' : 'b').toBe(r.runner);

    // One instance stops: the other runs every partition and applies the rest.
    a.abort();
    await runA;
    await until(async () => ownedB.at(-1)?.length === 4);
    await appendBurst('split', 24, 5, 10);
    await until(async () => (await applied('split')).length >= 360);
    b.abort();
    await runB;
    expectExactlyOnceInOrder(await applied('split'), 360);
    expect(await getPartitionCount(pool, 'split')).toBe(4);
  }, 60_000);

  it('re-splits when the count changes: from an unpartitioned checkpoint, then from the lowest partition checkpoint', async () => {
    // Unpartitioned first: half the events applied under the plain name.
    const plain = new AbortController();
    await appendBurst('resplit', 10, 6);
    const first = runCheckpointedSubscription({
      name: 'resplit',
      store,
      pool,
      filter: { typePrefixes: ['resplit.'] },
      signal: plain.signal,
      handle: async (events, tx) => {
        for (const e of events)
          await tx.query('INSERT INTO applied (sub, event_id, stream_id, n, runner) VALUES ($1, $2, $3, $4, $5)', [
            'resplit',
            e.id,
            e.streamId,
            (e.data as { n: number }).n,
            'plain',
          ]);
      },
    });
    const head = await getHeadPosition(store);
    await until(async () => positionToString(await getCheckpoint(pool, 'resplit')) === positionToString(head));
    plain.abort();
    await first;

    // Two partitions: they start at the plain checkpoint (nothing applied again).
    await appendBurst('resplit', 10, 3, 6);
    const two = new AbortController();
    const runTwo = run('resplit', 'two', 2, two.signal);
    await until(async () => (await applied('resplit')).length >= 90);
    expect((await getCheckpoint(pool, 'resplit')).commit).toBe(-1n); // the plain row was replaced
    expectExactlyOnceInOrder(await applied('resplit'), 90);

    // While two partitions run, an instance with three waits (does not re-split under it).
    const three = new AbortController();
    const waits: unknown[] = [];
    const runThree = runPartitionedSubscription({
      name: 'resplit',
      partitions: 3,
      store,
      pool: instancePool(),
      filter: { typePrefixes: ['resplit.'] },
      rebalanceMs: 100,
      signal: three.signal,
      onLayoutWait: (stored) => waits.push(stored),
      handle: async () => undefined,
    });
    await until(async () => waits.length >= 2);
    expect(waits[0]).toBe(2);
    expect(await getPartitionCount(pool, 'resplit')).toBe(2);
    three.abort();
    await runThree;

    // Stop, change, start: three partitions from the lowest of the two checkpoints.
    two.abort();
    await runTwo;
    const lowest = (await Promise.all([0, 1].map((i) => getCheckpoint(pool, partitionName('resplit', i, 2))))).sort(
      (x, y) => (x.commit < y.commit ? -1 : 1),
    )[0];
    await appendBurst('resplit', 10, 2, 9);
    const again = new AbortController();
    const runAgain = run('resplit', 'three', 3, again.signal);
    await until(async () => new Set((await applied('resplit')).map((r) => r.event_id)).size >= 110);
    again.abort();
    await runAgain;
    expect(await getPartitionCount(pool, 'resplit')).toBe(3);
    for (let i = 0; i < 3; i++)
      expect((await getCheckpoint(pool, partitionName('resplit', i, 3))).commit).toBeGreaterThan(lowest.commit);
    // Nothing skipped; what came after the lowest checkpoint may be applied again (consumers are idempotent).
    const rows = await applied('resplit');
    expect(new Set(rows.map((r) => r.event_id)).size).toBe(110);
    const after = (await store.readAll({ after: lowest, filter: { typePrefixes: ['resplit.'] } })).map((e) => e.id);
    const twice = rows.filter((r, i) => rows.findIndex((q) => q.event_id === r.event_id) !== i);
    for (const r of twice) expect(after).toContain(r.event_id);
  }, 60_000);
});

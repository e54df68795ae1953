import { randomUUID } from 'node:crypto';
import { Pool } from 'pg';
import { createTestDatabase, type TestDatabase } from '@reclaim/database';
import type { NewEvent, RecordedEvent } from '../event-store.port';
import { matchingSql, PostgresEventStore } from './postgres-event-store';

const ev = (type: string, n: number): NewEvent => ({ id: randomUUID(), type, schemaVersion: 1, data: { n } });

/** Filtered reads by category over a mixed log: the index is used, order and head semantics kept. */
describe('PostgresEventStore filtered reads by category', () => {
  let db: TestDatabase;
  let pool: Pool;
  let store: PostgresEventStore;
  const expected: { type: string; n: number }[] = [];

  beforeAll(async () => {
    db = await createTestDatabase('reclaim_es_category');
    pool = new Pool({ connectionString: db.url, max: 4 });
    await PostgresEventStore.migrate(pool);
    store = new PostgresEventStore({ pool, pollIntervalMs: 50 });
    // A mixed log: mostly deliveries, with carts, orders and recovery events interleaved.
    for (let i = 0; i < 40; i++) {
      const appends: Promise<unknown>[] = [];
      for (let j = 0; j < 50; j++) {
        const n = i * 50 + j;
        const type =
          n % 7 === 0
            ? 'cart.activity-recorded'
            : n % 11 === 0
              ? 'order.placed'
              : n % 13 === 0
                ? 'recovery.started'
                : 'webhook.received';
        if (type === 'cart.activity-recorded' || type === 'order.placed') expected.push({ type, n });
        appends.push(store.append(`s-${n}`, [ev(type, n)], 'no_stream'));
      }
      await Promise.all(appends);
    }
    // Types that share a prefix with a category but are another one.
    await store.append('x-1', [ev('cartography.drawn', -1), ev('cart', -2)], 'no_stream');
    await pool.query('ANALYZE event_store.events');
  });

  afterAll(async () => {
    await store?.close();
    await pool?.end();
    await db?.drop();
  });

  const filter = { typePrefixes: ['cart.', 'order.'] };

  it('reads the categories through the (category, position) index, not a scan of the log', async () => {
    const params: unknown[] = ['0'];
    params.push(100);
    const sql = matchingSql('event_store.events', filter, params, ` LIMIT $2`);
    const client = await pool.connect();
    try {
      await client.query('SET enable_seqscan = off'); // a scan must be impossible, not merely unchosen
      const { rows } = await client.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${sql}`, params);
      const plan = rows.map((r) => r['QUERY PLAN']).join('\n');
      expect(plan).toContain('events_category_position_idx');
      expect(plan).not.toMatch(/Seq Scan|Index Scan using events_global_position_key/);
    } finally {
      await client.query('RESET enable_seqscan');
      client.release();
    }
  });

  it('returns exactly the matching events in global order, in pages, with a position checkpoint', async () => {
    const got: RecordedEvent[] = [];
    let after = { commit: 0n, prepare: 0n };
    for (;;) {
      const page = await store.readAll({ after, maxCount: 17, filter });
      if (page.length === 0) break;
      got.push(...page);
      after = page[page.length - 1].position;
    }
    expect(got.map((e) => (e.data as { n: number }).n)).toEqual(expected.map((e) => e.n));
    const positions = got.map((e) => e.position.commit);
    expect([...positions].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))).toEqual(positions);
    expect(got.every((e) => e.type === 'cart.activity-recorded' || e.type === 'order.placed')).toBe(true);
  });

  it('keeps prefixes within a category exact (a type prefix, not the whole category)', async () => {
    const all = await store.readAll({ filter: { typePrefixes: ['recovery.start', 'cart.'] } });
    expect(all.every((e) => e.type === 'recovery.started' || e.type === 'cart.activity-recorded')).toBe(true);
    expect(all.filter((e) => e.type === 'recovery.started')).toHaveLength(
      Array.from({ length: 2000 }, (_, n) => n).filter((n) => n % 7 !== 0 && n % 11 !== 0 && n % 13 === 0).length,
    );
    // A prefix without a dot still works (position-ordered scan with LIKE).
    const loose = await store.readAll({ filter: { typePrefixes: ['cartog'] } });
    expect(loose.map((e) => e.type)).toEqual(['cartography.drawn']);
  });

  it('a subscription moves past a tail of other categories and sees new matching events', async () => {
    const controller = new AbortController();
    const seen: RecordedEvent[] = [];
    const done = (async () => {
      for await (const batch of store.subscribeToAll({ filter, batchSize: 50, signal: controller.signal })) {
        seen.push(...batch);
        if (seen.length >= expected.length + 1) controller.abort();
      }
    })();
    await store.append('late-order', [ev('order.placed', 9999)], 'no_stream');
    const guard = setTimeout(() => controller.abort(), 10_000);
    await done;
    clearTimeout(guard);
    expect(seen.map((e) => (e.data as { n: number }).n)).toEqual([...expected.map((e) => e.n), 9999]);
  });
});

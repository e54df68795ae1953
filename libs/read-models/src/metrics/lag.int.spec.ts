import { randomUUID } from 'node:crypto';
import { Pool } from 'pg';
import { createTestDatabase, type TestDatabase } from '@reclaim/database';
import { partitionName, PostgresEventStore, positionToString, streamPartition } from '@reclaim/event-store';
import { subscriptionLags } from './lag';

describe('subscriptionLags of a partitioned subscription', () => {
  let db: TestDatabase;
  let pool: Pool;
  let store: PostgresEventStore;

  beforeAll(async () => {
    db = await createTestDatabase('reclaim_lag_partitions');
    pool = new Pool({ connectionString: db.url, max: 4 });
    await PostgresEventStore.migrate(pool);
    store = new PostgresEventStore({ pool });
  });

  afterAll(async () => {
    await store.close();
    await pool.end();
    await db.drop();
  });

  it('adds up the pending events of every partition, up to the cap, and reports the furthest behind', async () => {
    for (let i = 0; i < 40; i++)
      await store.append(`lag-${i}`, [{ id: randomUUID(), type: 'lag.seen', schemaVersion: 1, data: {} }], 'no_stream');
    const all = await store.readAll({ filter: { typePrefixes: ['lag.'] } });
    // Partition 0 has applied everything, the others nothing.
    await pool.query(`INSERT INTO event_store.subscription_checkpoints (name, position) VALUES ($1, $2)`, [
      partitionName('lagging', 0, 3),
      positionToString(all[all.length - 1].position),
    ]);
    const behind = all.filter((e) => streamPartition(e.streamId, 3) !== 0).length;
    const ref = { name: 'lagging', filter: { typePrefixes: ['lag.'] }, partitions: 3 };
    const [lag] = await subscriptionLags(pool, store, [ref]);
    expect(lag).toEqual({
      name: 'lagging',
      positions: Number(all[all.length - 1].position.commit) + 1,
      pending: behind,
      capped: false,
    });
    const [capped] = await subscriptionLags(pool, store, [ref], 10);
    expect(capped.pending).toBe(10);
    expect(capped.capped).toBe(true);
  });
});

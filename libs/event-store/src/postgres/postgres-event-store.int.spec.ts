import { Pool } from 'pg';
import { createTestDatabase } from '@reclaim/database';
import { eventStoreContract } from '../contract/event-store.contract';
import { PostgresEventStore } from './postgres-event-store';

eventStoreContract('PostgresEventStore', async () => {
  const db = await createTestDatabase('reclaim_es_contract');
  const pool = new Pool({ connectionString: db.url, max: 10 });
  pool.on('error', () => undefined); // idle-client errors (the forced drop at the end) are expected here
  await PostgresEventStore.migrate(pool);
  await PostgresEventStore.migrate(pool); // idempotent
  const store = new PostgresEventStore({ pool, pollIntervalMs: 200 });
  return {
    store,
    async teardown() {
      await store.close();
      await pool.end();
      await db.drop();
    },
  };
});

// The fallback every batch takes when its one-round-trip attempts miss (RFC 0020): the same contract.
eventStoreContract('PostgresEventStore, locked path only', async () => {
  const db = await createTestDatabase('reclaim_es_contract_locked');
  const pool = new Pool({ connectionString: db.url, max: 10 });
  pool.on('error', () => undefined);
  await PostgresEventStore.migrate(pool);
  const store = new PostgresEventStore({ pool, pollIntervalMs: 200, groupCommit: { optimisticAttempts: 0 } });
  return {
    store,
    async teardown() {
      await store.close();
      await pool.end();
      await db.drop();
    },
  };
});

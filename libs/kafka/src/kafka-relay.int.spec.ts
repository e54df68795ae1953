import { randomUUID } from 'node:crypto';
import { Pool } from 'pg';
import { createTestDatabase, type TestDatabase } from '@reclaim/database';
import type { NewEvent } from '@reclaim/event-store';
import { KafkaRelay, type RelayLogger } from './kafka-relay';
import { loadRelayCheckpoint } from './relay-checkpoint';
import { InMemoryEventStore, RecordingPublisher, type PublishedRecord } from './testing';

const silent: RelayLogger = { info: () => undefined, warn: () => undefined, error: () => undefined };

function event(type: string, data: unknown = {}): NewEvent {
  return { id: randomUUID(), type, schemaVersion: 1, data, metadata: { shopId: 'shop-1' } };
}

async function until(cond: () => boolean | Promise<boolean>): Promise<void> {
  while (!(await cond())) await new Promise((r) => setTimeout(r, 5));
}

/** Appends `perStream` events to each of `streams` streams, interleaved; returns ids in append order. */
async function seed(store: InMemoryEventStore, streams: number, perStream: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < perStream; i++) {
    for (let s = 0; s < streams; s++) {
      const e = event('CartUpdated', { seq: i });
      await store.append(`cart-shop-1-${s}`, [e], 'any');
      ids.push(e.id);
    }
  }
  return ids;
}

function firstOccurrences(records: readonly PublishedRecord[]): PublishedRecord[] {
  const seen = new Set<string>();
  return records.filter((r) => !seen.has(r.headers['event-id']) && seen.add(r.headers['event-id']));
}

function expectPerStreamOrder(records: readonly PublishedRecord[]): void {
  const last = new Map<string, number>();
  for (const r of records) {
    const seq = (JSON.parse(r.value) as { data: { seq: number } }).data.seq;
    expect(seq).toBe((last.get(r.key) ?? -1) + 1);
    last.set(r.key, seq);
  }
}

describe('KafkaRelay (real Postgres checkpoints, in-memory store and publisher)', () => {
  let db: TestDatabase;
  let pool: Pool;

  beforeAll(async () => {
    db = await createTestDatabase('kafka_relay');
    pool = new Pool({ connectionString: db.url, max: 6 });
  });

  afterAll(async () => {
    await pool.end();
    await db.drop();
  });

  it('publishes history then live events in order, keyed by stream, and checkpoints after the ack', async () => {
    const store = new InMemoryEventStore();
    const publisher = new RecordingPublisher();
    const ids = await seed(store, 3, 4);
    const relay = new KafkaRelay({ store, pool, publisher, name: 'order-test', batchSize: 5, logger: silent });
    const ctl = new AbortController();
    const running = relay.run(ctl.signal);
    await until(() => publisher.records.length === ids.length);
    const live = event('CartUpdated', { seq: 4 });
    await store.append('cart-shop-1-0', [live], 'any');
    await until(() => publisher.records.length === ids.length + 1);
    await until(async () => (await loadRelayCheckpoint(pool, 'order-test'))?.commit === 12n);
    ctl.abort();
    await running;

    expect(publisher.records.map((r) => r.headers['event-id'])).toEqual([...ids, live.id]);
    expect(new Set(publisher.records.map((r) => r.topic))).toEqual(new Set(['reclaim.events.v1']));
    expect(publisher.records.every((r) => r.key.startsWith('cart-shop-1-') && r.headers['shop-id'] === 'shop-1')).toBe(
      true,
    );
    expectPerStreamOrder(publisher.records);
  });

  it('does not advance the checkpoint while the broker does not acknowledge, then delivers everything', async () => {
    const store = new InMemoryEventStore();
    const publisher = new RecordingPublisher();
    const ids = await seed(store, 2, 3);
    publisher.failNext(3);
    const relay = new KafkaRelay({
      store,
      pool,
      publisher,
      name: 'retry-test',
      batchSize: 4,
      logger: silent,
      retryDelayMs: 1,
    });
    const ctl = new AbortController();
    const running = relay.run(ctl.signal);
    await until(() => publisher.calls >= 2);
    expect(await loadRelayCheckpoint(pool, 'retry-test')).toBeUndefined();
    await until(() => publisher.records.length === ids.length);
    await until(async () => (await loadRelayCheckpoint(pool, 'retry-test'))?.commit === 5n);
    ctl.abort();
    await running;
    expect(publisher.records.map((r) => r.headers['event-id'])).toEqual(ids);
  });

  it('after a crash between the ack and the checkpoint, a restart re-sends only that batch (at-least-once)', async () => {
    const store = new InMemoryEventStore();
    const ids = await seed(store, 3, 5);
    const publisher = new RecordingPublisher();
    const crashingPool = new Pool({ connectionString: db.url, max: 3 });
    let checkpointWrites = 0;
    const realQuery = crashingPool.query.bind(crashingPool) as (...args: unknown[]) => Promise<unknown>;
    (crashingPool as unknown as { query: (...args: unknown[]) => Promise<unknown> }).query = (...args: unknown[]) => {
      if (typeof args[0] === 'string' && args[0].includes('INSERT INTO kafka_relay.checkpoints')) {
        checkpointWrites += 1;
        if (checkpointWrites === 3) return Promise.reject(new Error('killed before the checkpoint write'));
      }
      return realQuery(...args);
    };
    const first = new KafkaRelay({
      store,
      pool: crashingPool,
      publisher,
      name: 'crash-test',
      batchSize: 4,
      logger: silent,
    });
    await expect(first.run(new AbortController().signal)).rejects.toThrow('killed before the checkpoint write');
    await crashingPool.end();
    expect(publisher.records).toHaveLength(12);
    expect((await loadRelayCheckpoint(pool, 'crash-test'))?.commit).toBe(7n);

    const second = new KafkaRelay({ store, pool, publisher, name: 'crash-test', batchSize: 4, logger: silent });
    const ctl = new AbortController();
    const running = second.run(ctl.signal);
    await until(async () => (await loadRelayCheckpoint(pool, 'crash-test'))?.commit === 14n);
    ctl.abort();
    await running;

    const published = publisher.records.map((r) => r.headers['event-id']);
    expect(published).toEqual([...ids.slice(0, 12), ...ids.slice(8)]);
    const unique = firstOccurrences(publisher.records);
    expect(unique.map((r) => r.headers['event-id'])).toEqual(ids);
    expectPerStreamOrder(unique);
  });

  it('lets one instance relay at a time; a standby takes over from the checkpoint', async () => {
    const store = new InMemoryEventStore();
    const ids = await seed(store, 2, 2);
    const pubA = new RecordingPublisher();
    const pubB = new RecordingPublisher();
    const relayA = new KafkaRelay({ store, pool, publisher: pubA, name: 'lock-test', logger: silent });
    const relayB = new KafkaRelay({
      store,
      pool,
      publisher: pubB,
      name: 'lock-test',
      logger: silent,
      standbyPollMs: 5,
    });
    const ctlA = new AbortController();
    const ctlB = new AbortController();
    const runA = relayA.run(ctlA.signal);
    await until(async () => (await loadRelayCheckpoint(pool, 'lock-test'))?.commit === 3n);
    const runB = relayB.run(ctlB.signal);
    const held = await pool.query<{ n: string }>(
      `SELECT count(*) AS n FROM pg_locks WHERE locktype = 'advisory' AND granted`,
    );
    expect(Number(held.rows[0].n)).toBeGreaterThanOrEqual(1);
    ctlA.abort();
    await runA;
    const more = event('CartUpdated', { seq: 2 });
    await store.append('cart-shop-1-0', [more], 'any');
    await until(() => pubB.records.length === 1);
    ctlB.abort();
    await runB;
    expect(pubA.records.map((r) => r.headers['event-id'])).toEqual(ids);
    expect(pubB.records.map((r) => r.headers['event-id'])).toEqual([more.id]);
  });

  it('rejects a non-positive batch size', () => {
    expect(
      () =>
        new KafkaRelay({ store: new InMemoryEventStore(), pool, publisher: new RecordingPublisher(), batchSize: 0 }),
    ).toThrow(RangeError);
  });
});

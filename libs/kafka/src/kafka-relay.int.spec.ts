import { randomUUID } from 'node:crypto';
import { Pool } from 'pg';
import { createTestDatabase, type TestDatabase } from '@reclaim/database';
import { countDeadLetters, listDeadLetters, retryDeadLetter, type NewEvent } from '@reclaim/event-store';
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

  const controllers: AbortController[] = [];
  /** An AbortController aborted after each test, so a failed assertion does not leave a relay running. */
  function controller(): AbortController {
    const ctl = new AbortController();
    controllers.push(ctl);
    return ctl;
  }
  afterEach(() => {
    for (const c of controllers.splice(0)) c.abort();
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
    const ctl = controller();
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
      retryDelayMs: 50,
    });
    const ctl = controller();
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
    await expect(first.run(controller().signal)).rejects.toThrow('killed before the checkpoint write');
    await crashingPool.end();
    expect(publisher.records).toHaveLength(12);
    expect((await loadRelayCheckpoint(pool, 'crash-test'))?.commit).toBe(7n);

    const second = new KafkaRelay({ store, pool, publisher, name: 'crash-test', batchSize: 4, logger: silent });
    const ctl = controller();
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
    const ctlA = controller();
    const ctlB = controller();
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

  describe('poison isolation', () => {
    const fast = { maxAttempts: 3, backoff: { initialMs: 20, maxMs: 40 }, pollMs: 10 };

    async function blockedRows(name: string) {
      return listDeadLetters(pool, { subscription: name });
    }

    it('a message the broker refuses blocks only its stream: retried with back-off, then parked; the rest flows', async () => {
      const store = new InMemoryEventStore();
      const publisher = new RecordingPublisher();
      const ids = await seed(store, 3, 4);
      // The second event of stream 1 (seq 1) is refused by the broker, which keeps answering for the rest.
      const poison = (await store.readStream('cart-shop-1-1'))[1].id;
      publisher.refuseWhen((m) => m.headers['event-id'] === poison);
      const name = 'poison-park';
      const relay = new KafkaRelay({ store, pool, publisher, name, batchSize: 5, logger: silent, isolation: fast });
      const ctl = controller();
      const running = relay.run(ctl.signal);
      await until(async () => (await blockedRows(name)).some((d) => d.status === 'parked'));
      // Live events keep flowing, the blocked stream's ones join the held ones.
      const liveOther = event('CartUpdated', { seq: 4 });
      const liveBlocked = event('CartUpdated', { seq: 4 });
      await store.append('cart-shop-1-2', [liveOther], 'any');
      await store.append('cart-shop-1-1', [liveBlocked], 'any');
      await until(() => publisher.records.some((r) => r.headers['event-id'] === liveOther.id));
      await until(async () => (await loadRelayCheckpoint(pool, name))?.commit === 13n);

      const [dead] = await blockedRows(name);
      expect(dead).toMatchObject({
        subscription: name,
        key: 'cart-shop-1-1',
        status: 'parked',
        attempts: 3,
        eventId: poison,
        streamId: 'cart-shop-1-1',
        events: 4,
        nextAttemptAt: null,
      });
      expect(dead.error).toContain(`MESSAGE_TOO_LARGE: the broker refused event ${poison}`);
      expect(await countDeadLetters(pool)).toContainEqual({ subscription: name, status: 'parked', keys: 1, events: 4 });

      const published = firstOccurrences(publisher.records);
      const stream1 = (await store.readStream('cart-shop-1-1')).map((e) => e.id);
      // Stream 1: only seq 0 went out; its poison and everything after it wait, in order.
      expect(published.filter((r) => r.key === 'cart-shop-1-1').map((r) => r.headers['event-id'])).toEqual([
        stream1[0],
      ]);
      // The other streams: every event, in stream order (no order across streams, as on Kafka).
      for (const other of ['cart-shop-1-0', 'cart-shop-1-2'])
        expect(published.filter((r) => r.key === other).map((r) => r.headers['event-id'])).toEqual(
          (await store.readStream(other)).map((e) => e.id),
        );
      expect(published).toHaveLength(ids.length - 3 + 1);
      expectPerStreamOrder(published);

      // The operator fixes the cause (e.g. raises the broker's limit) and retries from the dashboard.
      publisher.refuseWhen(undefined);
      expect(await retryDeadLetter(pool, name, 'cart-shop-1-1')).toBe(true);
      await until(async () => (await blockedRows(name)).length === 0);
      ctl.abort();
      await running;
      const all = firstOccurrences(publisher.records);
      expect(all.filter((r) => r.key === 'cart-shop-1-1').map((r) => r.headers['event-id'])).toEqual(stream1);
      expect(all).toHaveLength(ids.length + 2);
      expectPerStreamOrder(all);
      expect(await countDeadLetters(pool)).not.toContainEqual(expect.objectContaining({ subscription: name }));
    });

    it('a stream refused for a while is released by its back-off retries, in order, before its budget is spent', async () => {
      const store = new InMemoryEventStore();
      const publisher = new RecordingPublisher();
      await seed(store, 2, 3);
      const first = (await store.readStream('cart-shop-1-0'))[0].id;
      let refusals = 0;
      publisher.refuseWhen((m) => m.headers['event-id'] === first && ++refusals <= 4);
      const name = 'poison-transient';
      const relay = new KafkaRelay({
        store,
        pool,
        publisher,
        name,
        batchSize: 10,
        logger: silent,
        isolation: { ...fast, maxAttempts: 5 },
      });
      const ctl = controller();
      const running = relay.run(ctl.signal);
      await until(async () => (await blockedRows(name)).length === 1);
      await until(() => firstOccurrences(publisher.records).length === 6);
      await until(async () => (await blockedRows(name)).length === 0);
      ctl.abort();
      await running;
      const all = firstOccurrences(publisher.records);
      expectPerStreamOrder(all);
      // Stream 1 went first (stream 0 was held), stream 0 followed in its own order.
      expect(all.slice(0, 3).every((r) => r.key === 'cart-shop-1-1')).toBe(true);
    });

    it('an unreachable broker blames no event: nothing parked, the checkpoint waits, everything goes out in order', async () => {
      const store = new InMemoryEventStore();
      const publisher = new RecordingPublisher();
      const ids = await seed(store, 3, 2);
      publisher.failNext(6);
      const name = 'poison-broker-down';
      const relay = new KafkaRelay({
        store,
        pool,
        publisher,
        name,
        batchSize: 10,
        logger: silent,
        retryDelayMs: 1,
        isolation: { ...fast, maxAttempts: 1 },
      });
      const ctl = controller();
      const running = relay.run(ctl.signal);
      await until(() => publisher.calls >= 3);
      expect(await loadRelayCheckpoint(pool, name)).toBeUndefined();
      await until(async () => (await loadRelayCheckpoint(pool, name))?.commit === 5n);
      ctl.abort();
      await running;
      expect(publisher.probes).toBeGreaterThanOrEqual(6);
      expect(publisher.records.map((r) => r.headers['event-id'])).toEqual(ids);
      expect(await blockedRows(name)).toEqual([]);
    });

    it('a restart keeps a parked stream held and holds its new events too', async () => {
      const store = new InMemoryEventStore();
      const publisher = new RecordingPublisher();
      await seed(store, 2, 2);
      const poison = (await store.readStream('cart-shop-1-0'))[0].id;
      publisher.refuseWhen((m) => m.headers['event-id'] === poison);
      const name = 'poison-restart';
      const options = { store, pool, publisher, name, logger: silent, isolation: { ...fast, maxAttempts: 1 } };
      const ctl = controller();
      const running = new KafkaRelay(options).run(ctl.signal);
      await until(async () => (await blockedRows(name))[0]?.status === 'parked');
      await until(async () => (await loadRelayCheckpoint(pool, name))?.commit === 3n);
      ctl.abort();
      await running;

      const later = event('CartUpdated', { seq: 2 });
      await store.append('cart-shop-1-0', [later], 'any');
      const ctl2 = controller();
      const again = new KafkaRelay(options).run(ctl2.signal);
      await until(async () => (await loadRelayCheckpoint(pool, name))?.commit === 4n);
      ctl2.abort();
      await again;
      expect(publisher.records.some((r) => r.key === 'cart-shop-1-0')).toBe(false);
      expect((await blockedRows(name))[0]).toMatchObject({ status: 'parked', events: 3, eventId: poison });
    });
  });

  it('rejects a non-positive batch size', () => {
    expect(
      () =>
        new KafkaRelay({ store: new InMemoryEventStore(), pool, publisher: new RecordingPublisher(), batchSize: 0 }),
    ).toThrow(RangeError);
  });
});

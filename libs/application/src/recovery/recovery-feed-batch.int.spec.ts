/**
 * The feed's batch path (many carts per transaction) against the one-by-one path: the same events
 * with the same ids, a constant number of round trips per batch, and a recovery moved by another
 * writer meanwhile redone on its fresh state.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { Pool, type PoolClient } from 'pg';
import { createTestDatabase, type TestDatabase } from '@reclaim/database';
import {
  cartDecider,
  cartStream,
  createRecoveryDecider,
  customerDecider,
  customerStream,
  reachFor,
  recoveryConfig,
  recoveryIdFor,
} from '@reclaim/domain';
import { PostgresEventStore, type EventStore } from '@reclaim/event-store';
import { PersonalDataVault } from '@reclaim/privacy';
import { InMemoryShops } from '@reclaim/testing/fakes';
import { runDecider } from '../shared/run-decider';
import { inTransaction } from './db';
import { RecoveryEventsProjector } from './recovery-events-projector';
import { RECOVERY_FEED_FILTER, RecoveryFeed } from './recovery-feed';
import { migrateRecoveryEngine } from './schema';
import { PostgresSequenceRepository } from './sequences/sequence-repository';
import { TimerStore } from './timers/timer-store';

const SHOP = '3a7c1f43-7f6e-4d52-9a34-3c9a0f5b2a10';
const T0 = Date.parse('2025-03-03T08:00:00.000Z');

describe('RecoveryFeed batches', () => {
  let db: TestDatabase;
  let pool: Pool;
  let vault: PersonalDataVault;
  const config = recoveryConfig({ holdoutPercent: 0 });
  const pm = createRecoveryDecider(config);
  const shops = new InMemoryShops();
  shops.add({ id: SHOP, shopDomain: 'mugs.example', currency: 'EUR', timezone: 'Europe/Berlin' });
  const stores: PostgresEventStore[] = [];

  beforeAll(async () => {
    db = await createTestDatabase('reclaim_feed_batch');
    pool = new Pool({ connectionString: db.url, max: 10 });
    await PersonalDataVault.migrate(pool);
    await migrateRecoveryEngine(pool);
    vault = new PersonalDataVault(pool, randomBytes(32));
  });
  afterAll(async () => {
    for (const s of stores) await s.close();
    await pool?.end();
    await db?.drop();
  });

  async function newStore(schema: string): Promise<PostgresEventStore> {
    await PostgresEventStore.migrate(pool, schema);
    const s = new PostgresEventStore({ pool, schema, notify: false });
    stores.push(s);
    return s;
  }
  const feedOn = (store: EventStore) =>
    new RecoveryFeed({ store, pm, shops, sequences: new PostgresSequenceRepository(pool, config), random: () => 0.5 });

  async function recordCart(store: EventStore, cartId: string, email: string, atMs: number): Promise<void> {
    const at = new Date(atMs).toISOString();
    const contact = { email, firstName: 'Zoë' };
    const customerKey = vault.subjectFor(SHOP, contact) as string;
    const causationId = randomUUID();
    await runDecider(
      store,
      cartStream(SHOP, cartId),
      cartDecider,
      {
        type: 'RecordCartActivity',
        platform: 'shopify',
        platformUpdatedAt: at,
        cartId,
        source: 'checkout',
        customer: {},
        lineItems: [{ lineId: 'l1', productId: 'p-mug', title: 'Mug', quantity: 1, unitPrice: '20.00' }],
        currency: 'EUR',
        subtotal: '20.00',
        total: '20.00',
        checkoutUrl: `https://mugs.example/checkouts/${cartId}`,
        device: 'desktop',
        emailConsent: { state: 'subscribed', source: 'shopify:checkout', updatedAt: at },
        shopId: SHOP,
        causationId,
        receivedAt: at,
        customerKey,
        contact: await vault.seal(SHOP, customerKey, contact),
        reach: reachFor(contact),
      },
      { causationId },
    );
  }

  async function command(
    store: EventStore,
    cartId: string,
    type: 'CompleteCheckout' | 'DeleteCart' | 'ReportCartAbandoned',
    atMs: number,
  ) {
    const at = new Date(atMs).toISOString();
    const causationId = randomUUID();
    const c =
      type === 'CompleteCheckout'
        ? { type, cartId, completedAt: at, platform: 'shopify', platformUpdatedAt: at }
        : { type, cartId, platform: 'shopify', platformUpdatedAt: at };
    await runDecider(
      store,
      cartStream(SHOP, cartId),
      cartDecider,
      { ...c, shopId: SHOP, causationId, receivedAt: at } as never,
      { causationId },
    );
  }

  async function unsubscribe(store: EventStore, email: string, atMs: number): Promise<void> {
    const at = new Date(atMs).toISOString();
    const contact = { email };
    const customerKey = vault.subjectFor(SHOP, contact) as string;
    const causationId = randomUUID();
    await runDecider(
      store,
      customerStream(SHOP, customerKey),
      customerDecider,
      {
        type: 'ChangeMarketingConsent',
        platform: 'shopify',
        platformUpdatedAt: at,
        customer: {},
        channel: 'email',
        consent: { state: 'unsubscribed', updatedAt: at, source: 'shopify:customer' },
        shopId: SHOP,
        causationId,
        receivedAt: at,
        customerKey,
        contact: await vault.seal(SHOP, customerKey, contact),
        reach: reachFor(contact),
      },
      { causationId },
    );
  }

  /** The same log in another schema: same ids, same order. */
  async function copyLog(from: PostgresEventStore, to: PostgresEventStore): Promise<void> {
    for (const e of await from.readAll()) {
      const { id, type, schemaVersion, data, metadata } = e;
      await to.append(
        e.streamId,
        [{ id, type, schemaVersion, data, metadata }],
        e.revision === 0n ? 'no_stream' : e.revision - 1n,
      );
    }
  }

  const recoveryView = async (store: EventStore, recoveryId: string) =>
    (await store.readStream(recoveryId)).map((r) => ({ id: r.id, type: r.type, data: r.data, metadata: r.metadata }));

  it('decides exactly what the one-by-one path decides (same events, same ids), in one batch', async () => {
    const batched = await newStore('es_batched');
    const single = await newStore('es_single');
    const carts = Array.from({ length: 30 }, (_, i) => `cart-${i}`);
    for (const [i, c] of carts.entries()) await recordCart(batched, c, `shopper${i % 25}@example.com`, T0 + i * 1000);
    await recordCart(batched, 'cart-3', 'shopper3@example.com', T0 + 60_000); // the same cart again
    await command(batched, 'cart-4', 'CompleteCheckout', T0 + 61_000);
    await unsubscribe(batched, 'shopper5@example.com', T0 + 62_000); // not a cart event: ends the run
    await recordCart(batched, 'cart-6', 'shopper6@example.com', T0 + 63_000);
    await command(batched, 'cart-7', 'DeleteCart', T0 + 64_000);
    await recordCart(batched, 'cart-7', 'shopper7@example.com', T0 + 65_000); // after its deletion
    // The platform's own abandonment starts recoveries in the run (start contexts read for the run at once).
    await command(batched, 'cart-8', 'ReportCartAbandoned', T0 + 66_000);
    await command(batched, 'cart-9', 'ReportCartAbandoned', T0 + 66_500);
    await command(batched, 'cart-4', 'ReportCartAbandoned', T0 + 67_000); // completed: nothing
    await recordCart(batched, 'cart-10', 'shopper10@example.com', T0 + 68_000);
    await command(batched, 'cart-10', 'ReportCartAbandoned', T0 + 69_000); // recorded in the same run
    await copyLog(batched, single);

    const feedEvents = await batched.readAll({ filter: RECOVERY_FEED_FILTER });
    expect(feedEvents.length).toBeGreaterThanOrEqual(35);
    await inTransaction(pool, (tx) => feedOn(batched).handle(feedEvents, tx));
    const one = feedOn(single);
    for (const e of await single.readAll({ filter: RECOVERY_FEED_FILTER })) {
      await inTransaction(pool, (tx) => one.apply(e, tx));
    }
    let compared = 0;
    for (const c of carts) {
      const id = recoveryIdFor(SHOP, c);
      const expected = await recoveryView(single, id);
      expect(await recoveryView(batched, id)).toEqual(expected);
      compared += expected.length;
    }
    expect(compared).toBeGreaterThan(60);
    // The cases the batch had to fold in memory or end the run for.
    const types = async (c: string) => (await batched.readStream(recoveryIdFor(SHOP, c))).map((r) => r.type);
    expect((await types('cart-3')).filter((t) => t === 'recovery.timer-scheduled')).toHaveLength(2);
    expect(await types('cart-4')).toContain('recovery.ended');
    expect(await types('cart-5')).toContain('recovery.ended');
    for (const c of ['cart-8', 'cart-9', 'cart-10']) expect(await types(c)).toContain('recovery.started');
    expect(await types('cart-4')).not.toContain('recovery.started');
  });

  it('costs the same round trips for 120 carts as for one: one read, one index write, one append transaction', async () => {
    const store = await newStore('es_trips');
    for (let i = 0; i < 120; i++) await recordCart(store, `trip-${i}`, `trip${i}@example.com`, T0 + i);
    const events = await store.readAll({ filter: RECOVERY_FEED_FILTER });
    expect(events).toHaveLength(120);
    const readStream = jest.spyOn(store, 'readStream');
    const readStreams = jest.spyOn(store, 'readStreams');
    const before = { ...store.stats };
    const txQueries: string[] = [];
    await inTransaction(pool, async (tx) => {
      const counting = {
        query: (...args: unknown[]) => (
          txQueries.push(String(args[0])),
          (tx.query as (...a: unknown[]) => unknown)(...args)
        ),
      };
      await feedOn(store).handle(events, counting as unknown as PoolClient);
    });
    expect(readStream).not.toHaveBeenCalled();
    expect(readStreams).toHaveBeenCalledTimes(1);
    expect(txQueries).toHaveLength(1); // the customer index, all carts in one INSERT
    expect(store.stats.appends - before.appends).toBe(120);
    expect(store.stats.batches - before.batches).toBe(1); // 240 events, one transaction
    readStream.mockRestore();
    readStreams.mockRestore();

    // The projector: every abandonment timer and index row of the batch in one statement each.
    const recoveryEvents = await store.readAll({ filter: { typePrefixes: ['recovery.'] } });
    expect(recoveryEvents).toHaveLength(240);
    const projected: string[] = [];
    await inTransaction(pool, async (tx) => {
      const counting = {
        query: (...args: unknown[]) => (
          projected.push(String(args[0])),
          (tx.query as (...a: unknown[]) => unknown)(...args)
        ),
      };
      await new RecoveryEventsProjector({ timers: new TimerStore(pool) }).handle(
        recoveryEvents,
        counting as unknown as PoolClient,
      );
    });
    expect(projected).toHaveLength(2);
    const { rows } = await pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM engine.timers WHERE stream_id LIKE $1 AND purpose = 'abandonment' AND superseded_at IS NULL`,
      [`recovery-${SHOP}-trip-%`],
    );
    expect(rows[0].n).toBe(120);

    // Every checkout completes: the ends of the batch, and their timers superseded, in one statement each.
    for (let i = 0; i < 120; i++) await command(store, `trip-${i}`, 'CompleteCheckout', T0 + 10_000 + i);
    const completions = (await store.readAll({ filter: RECOVERY_FEED_FILTER })).slice(120);
    expect(completions).toHaveLength(120);
    await inTransaction(pool, (tx) => feedOn(store).handle(completions, tx));
    const ends = (await store.readAll({ filter: { typePrefixes: ['recovery.'] } })).slice(240);
    expect(ends.map((e) => e.type)).toEqual(Array.from({ length: 120 }, () => 'recovery.ended'));
    const ending: string[] = [];
    await inTransaction(pool, async (tx) => {
      const counting = {
        query: (...args: unknown[]) => (
          ending.push(String(args[0])),
          (tx.query as (...a: unknown[]) => unknown)(...args)
        ),
      };
      await new RecoveryEventsProjector({ timers: new TimerStore(pool) }).handle(
        ends,
        counting as unknown as PoolClient,
      );
    });
    expect(ending).toHaveLength(2);
    const after = await pool.query<{ open_timers: number; ended: number }>(
      `SELECT (SELECT count(*)::int FROM engine.timers WHERE stream_id LIKE $1 AND superseded_at IS NULL AND fired_at IS NULL) AS open_timers,
              (SELECT count(*)::int FROM engine.customer_recoveries WHERE recovery_id LIKE $1 AND status = 'ended' AND end_reason = 'purchased') AS ended`,
      [`recovery-${SHOP}-trip-%`],
    );
    expect(after.rows[0]).toEqual({ open_timers: 0, ended: 120 });
  });

  it('redoes a recovery another writer moved since the batch read it, on its fresh state', async () => {
    const store = await newStore('es_conflict');
    await recordCart(store, 'raced', 'raced@example.com', T0);
    await recordCart(store, 'calm', 'calm@example.com', T0);
    const feed = feedOn(store);
    const first = await store.readAll({ filter: RECOVERY_FEED_FILTER });
    await inTransaction(pool, (tx) => feed.handle(first, tx));
    const raced = recoveryIdFor(SHOP, 'raced');
    expect(await store.readStream(raced)).toHaveLength(2);

    await recordCart(store, 'raced', 'raced@example.com', T0 + 5_000);
    await recordCart(store, 'calm', 'calm@example.com', T0 + 5_000);
    const second = (await store.readAll({ filter: RECOVERY_FEED_FILTER })).slice(first.length);
    // A stale view of `raced` (its last event not yet seen), as when a timer fires between read and append.
    const stale: EventStore = Object.assign(Object.create(store) as EventStore, {
      readStreams: async (ids: readonly string[]) => {
        const m = await store.readStreams(ids);
        m.set(raced, (m.get(raced) ?? []).slice(0, -1));
        return m;
      },
    });
    await inTransaction(pool, (tx) => feedOn(stale).handle(second, tx));
    const after = await store.readStream(raced);
    expect(after.map((r) => r.revision)).toEqual([0n, 1n, 2n, 3n]);
    expect(after.slice(2).map((r) => r.type)).toEqual(['recovery.activity-recorded', 'recovery.timer-scheduled']);
    expect(new Set(after.map((r) => r.id)).size).toBe(4);
    expect(await store.readStream(recoveryIdFor(SHOP, 'calm'))).toHaveLength(4);
  });
});

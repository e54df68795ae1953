/**
 * The feed's batch path (many carts per transaction) against the one-by-one path: the same events
 * with the same ids, a constant number of round trips per batch, and a recovery moved by another
 * writer meanwhile redone on its fresh state.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { Pool, type PoolClient } from 'pg';
import { v5 as uuidv5 } from 'uuid';
import { createTestDatabase, type TestDatabase } from '@reclaim/database';
import {
  cartDecider,
  cartStream,
  checkBeforeSend,
  createRecoveryDecider,
  defaultRecoveryConfig,
  defaultSequences,
  foldEvents,
  fromStoredRecoveryEvent,
  sendFactsFromState,
  sentOutcome,
  type OrderPlacedData,
  type ProductStockReportedData,
  type RecoveryInput,
  type RecoveryState,
  type StartContext,
  type StoredRecoveryEvent,
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
import { engineIndex } from './engine-index';
import { RecoveryEventsProjector } from './recovery-events-projector';
import { RECOVERY_FEED_FILTER, RecoveryFeed } from './recovery-feed';
import { migrateRecoveryEngine } from './schema';
import { PostgresSequenceRepository } from './sequences/sequence-repository';
import { TimerStore } from './timers/timer-store';

const SHOP = '3a7c1f43-7f6e-4d52-9a34-3c9a0f5b2a10';
const uuidFor = (name: string) => uuidv5(name, '6ba7b810-9dad-11d1-80b4-00c04fd430c8');
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

    // Every checkout completes: the ends of the batch, and their timers superseded, in one statement per table.
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
    // One statement per table, whatever the number of ends: the experiments' and the incentives'
    // outcomes, the customer index, the timers.
    expect(ending.map((q) => /^UPDATE (\S+)/.exec(q)?.[1])).toEqual([
      'engine.variant_outcomes',
      'engine.customer_recoveries',
      'engine.incentive_assignments',
      'engine.timers',
    ]);
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

  it('joins consent revocations, orders and restock reports to the run: the one-by-one events, ids and index rows', async () => {
    // The one-by-one side on a database of its own: the engine's index tables must not be shared.
    const otherDb = await createTestDatabase('reclaim_feed_batch_single');
    const otherPool = new Pool({ connectionString: otherDb.url, max: 4 });
    try {
      await migrateRecoveryEngine(otherPool);
      await PostgresEventStore.migrate(otherPool, 'es_mixed');
      const single = new PostgresEventStore({ pool: otherPool, schema: 'es_mixed', notify: false });
      stores.push(single);
      const batched = await newStore('es_mixed');
      const keyOf = (email: string) => vault.subjectFor(SHOP, { email }) as string;
      const iso = (ms: number) => new Date(ms).toISOString();

      // Two recoveries from before the batch, driven through the decider and stored as they are:
      // one whose first message was clicked, one whose message announced line l1 (product p-lamp) sold out.
      const startCtx: StartContext = {
        customer: {
          ordersCount: 0,
          totalSpent: '0',
          previousAbandonments: 0,
          previousRecoveries: 0,
          discountOrdersCount: 0,
          categoriesBought: [],
        },
        sequences: defaultSequences(defaultRecoveryConfig),
        random: 0.5,
        shopTimeZone: 'Europe/Berlin',
      };
      const drive = (
        cartId: string,
        email: string,
        after: (state: RecoveryState, due: StoredRecoveryEvent) => RecoveryInput[],
      ) => {
        const log: StoredRecoveryEvent[] = [];
        const send = (input: RecoveryInput) => {
          const decided = pm.decide(input, foldEvents(pm, log));
          log.push(...decided);
          return decided;
        };
        const fire = () => {
          const timer = foldEvents(pm, log).timer!;
          return send({
            type: 'TimerFired',
            timerId: timer.timerId,
            dueAt: timer.dueAt,
            now: timer.dueAt,
            start: startCtx,
          });
        };
        send({
          type: 'CartActivity',
          shopId: SHOP,
          cartId,
          at: iso(T0),
          cart: {
            value: '80.00',
            currency: 'EUR',
            items: [
              { lineId: 'l1', productId: 'p-lamp', variantId: 'v-lamp', quantity: 1, unitPrice: '60.00' },
              { lineId: 'l2', productId: 'p-mug', quantity: 1, unitPrice: '20.00' },
            ],
            reach: { email: true, sms: false },
            customerKey: keyOf(email),
          },
        });
        fire(); // abandoned: started
        const due = fire().find((e) => e.type === 'recovery.step-due');
        if (due === undefined) throw new Error('no step due');
        for (const input of after(foldEvents(pm, log), due)) send(input);
        return log;
      };
      const flat = (e: StoredRecoveryEvent) => fromStoredRecoveryEvent(e) as { at: string; step: number };
      const clicked = drive('mixed-clicked', 'clicker@example.com', (_, due) => [
        {
          type: 'StepOutcome',
          step: 0,
          channel: 'email',
          at: flat(due).at,
          outcome: { kind: 'sent', messageId: 'msg-c' },
        },
        {
          type: 'MessageEngagement',
          kind: 'clicked',
          step: 0,
          channel: 'email',
          at: iso(Date.parse(flat(due).at) + 60_000),
        },
      ]);
      const soldOut = drive('mixed-soldout', 'lamp@example.com', (state, due) => {
        const at = flat(due).at;
        const line = {
          lineId: 'l1',
          productId: 'p-lamp',
          variantId: 'v-lamp',
          quantity: 1,
          lookup: 'none' as const,
          considered: [],
        };
        const withAlternatives = pm.decide({ type: 'RecordAlternatives', at, step: 0, lines: [line] }, state);
        const facts = sendFactsFromState(
          withAlternatives.reduce((st, e) => pm.evolve(st, e), state),
          fromStoredRecoveryEvent(due) as never,
        );
        const decision = checkBeforeSend({
          ...facts,
          consent: { email: { status: 'subscribed', source: 'shopify:checkout' } },
          ignoredRecoveryMessages: 0,
          stock: [{ lineId: 'l1', available: false }],
          now: at,
        });
        if (decision.decision !== 'send') throw new Error(`expected a send, got ${decision.decision}`);
        return [
          { type: 'RecordAlternatives', at, step: 0, lines: [line] },
          { type: 'StepOutcome', step: 0, channel: 'email', at, outcome: sentOutcome(decision, 'msg-s') },
        ];
      });
      expect(soldOut.map((e) => e.type)).toContain('recovery.back-in-stock-watched');
      expect(clicked.map((e) => e.type)).toContain('recovery.message-clicked');
      const lastClick = clicked.filter((e) => e.type === 'recovery.message-clicked').map(flat)[0].at;
      for (const [db, store] of [
        [pool, batched],
        [otherPool, single],
      ] as const) {
        for (const [cartId, email, log] of [
          ['mixed-clicked', 'clicker@example.com', clicked],
          ['mixed-soldout', 'lamp@example.com', soldOut],
        ] as const) {
          const id = recoveryIdFor(SHOP, cartId);
          await store.append(
            id,
            log.map((e, i) => ({
              id: uuidFor(`${id}|${i}`),
              type: e.type,
              schemaVersion: e.schemaVersion,
              data: e.data,
            })),
            'no_stream',
          );
          await engineIndex.watch(db, SHOP, keyOf(email), id);
          await engineIndex.started(db, id, false, iso(T0));
        }
        await engineIndex.stockWatch(db, SHOP, 'p-lamp', recoveryIdFor(SHOP, 'mixed-soldout'));
      }

      // The batch: carts, then an unsubscribe of a customer whose cart is in the same run, orders
      // (one attributed to the click, one delivered twice, one by a customer without recoveries),
      // a restock of the announced line, a redaction, and a platform abandonment after the orders.
      const t = Date.parse(lastClick) + 5 * 60_000;
      await recordCart(batched, 'mixed-a', 'anna@example.com', t);
      await recordCart(batched, 'mixed-b', 'ben@example.com', t + 1_000);
      await recordCart(batched, 'mixed-c', 'cara@example.com', t + 1_500);
      await unsubscribe(batched, 'anna@example.com', t + 2_000);
      const order = (orderId: string, email: string, ms: number, timeZone?: string): OrderPlacedData => ({
        shopId: SHOP,
        causationId: randomUUID(),
        receivedAt: iso(ms),
        platform: 'shopify',
        platformUpdatedAt: iso(ms),
        orderId,
        cartIds: [],
        customerKey: keyOf(email),
        reach: { email: true, sms: false },
        currency: 'EUR',
        total: '80.00',
        discountCodes: [],
        placedAt: iso(ms),
        ...(timeZone !== undefined ? { timeZone } : {}),
        lineItems: [
          { lineId: 'l1', productId: 'p-lamp', title: 'Lamp', quantity: 1, unitPrice: '60.00', categories: ['lamps'] },
        ],
      });
      const raw = async (streamId: string, type: string, data: unknown) => {
        const [last] = (await batched.readStream(streamId)).slice(-1);
        await batched.append(
          streamId,
          [{ id: randomUUID(), type, schemaVersion: 1, data }],
          last ? last.revision : 'no_stream',
        );
      };
      await raw(`order-${SHOP}-o-1`, 'order.placed', order('o-1', 'clicker@example.com', t + 3_000));
      await raw(`order-${SHOP}-o-1`, 'order.placed', order('o-1', 'clicker@example.com', t + 3_000)); // again
      await raw(`order-${SHOP}-o-2`, 'order.placed', order('o-2', 'ben@example.com', t + 4_000, 'America/New_York'));
      const restock: ProductStockReportedData = {
        shopId: SHOP,
        causationId: randomUUID(),
        receivedAt: iso(t + 5_000),
        platform: 'shopify',
        platformUpdatedAt: iso(t + 5_000),
        productId: 'p-lamp',
        available: true,
        variants: [{ variantId: 'v-lamp', available: true }],
      };
      await raw(`product-${SHOP}-p-lamp`, 'product.stock-reported', restock);
      await unsubscribe(batched, 'ben@example.com', t + 6_000);
      await command(batched, 'mixed-c', 'ReportCartAbandoned', t + 7_000); // after an order of the run
      await copyLog(batched, single);

      const feedEvents = await batched.readAll({ filter: RECOVERY_FEED_FILTER });
      const readStream = jest.spyOn(batched, 'readStream');
      const readStreams = jest.spyOn(batched, 'readStreams');
      await inTransaction(pool, (tx) => feedOn(batched).handle(feedEvents, tx));
      expect(readStream).not.toHaveBeenCalled();
      // Two runs (the abandonment after the orders starts the second), each reading its streams once,
      // and the second run's start contexts once.
      expect(readStreams).toHaveBeenCalledTimes(3);
      readStream.mockRestore();
      readStreams.mockRestore();
      const one = new RecoveryFeed({
        store: single,
        pm,
        shops,
        sequences: new PostgresSequenceRepository(otherPool, config),
        random: () => 0.5,
      });
      for (const e of await single.readAll({ filter: RECOVERY_FEED_FILTER })) {
        await inTransaction(otherPool, (tx) => one.apply(e, tx));
      }

      const types = async (c: string) => (await batched.readStream(recoveryIdFor(SHOP, c))).map((r) => r.type);
      expect(await types('mixed-a')).toContain('recovery.channel-revoked');
      expect(await types('mixed-clicked')).toContain('recovery.order-attributed');
      expect(await types('mixed-soldout')).toContain('recovery.back-in-stock-due');
      expect(await types('mixed-b')).toContain('recovery.ended');
      expect(await types('mixed-c')).toContain('recovery.started');
      for (const c of ['mixed-a', 'mixed-b', 'mixed-c', 'mixed-clicked', 'mixed-soldout']) {
        const id = recoveryIdFor(SHOP, c);
        expect(await recoveryView(batched, id)).toEqual(await recoveryView(single, id));
      }
      const tables = async (db: Pool) =>
        Promise.all(
          [
            'SELECT shop_id, order_id, customer_key, placed_at, total, currency, discounted, categories, time_zone, product_ids FROM engine.customer_orders ORDER BY order_id',
            'SELECT * FROM engine.engagement_hours ORDER BY customer_key, weekday, hour',
            'SELECT * FROM engine.shop_engagement_hours ORDER BY weekday, hour',
            "SELECT shop_id, customer_key, recovery_id, status, time_zone FROM engine.customer_recoveries WHERE recovery_id LIKE '%mixed-%' ORDER BY recovery_id, customer_key",
          ].map(async (sql) => (await db.query(sql)).rows),
        );
      const [orders, hours, shopHours, index] = await tables(pool);
      expect(orders.map((o) => o.order_id)).toEqual(['o-1', 'o-2']);
      expect(hours.reduce((n, h) => n + h.orders, 0)).toBe(2); // o-1 counted once
      expect(shopHours.reduce((n, h) => n + h.events, 0)).toBe(2);
      expect(await tables(otherPool)).toEqual([orders, hours, shopHours, index]);
    } finally {
      await otherPool.end();
      await otherDb.drop();
    }
  });

  it('costs the same round trips for 40 revocations, orders and restock reports as for one', async () => {
    const store = await newStore('es_mixed_trips');
    const iso = (ms: number) => new Date(ms).toISOString();
    for (let i = 0; i < 40; i++) await recordCart(store, `mt-${i}`, `mt${i}@example.com`, T0 + i);
    await inTransaction(pool, async (tx) =>
      feedOn(store).handle(await store.readAll({ filter: RECOVERY_FEED_FILTER }), tx),
    );
    const before = (await store.readAll({ filter: RECOVERY_FEED_FILTER })).length;
    for (let i = 0; i < 40; i++) {
      await unsubscribe(store, `mt${i}@example.com`, T0 + 10_000 + i);
      const customerKey = vault.subjectFor(SHOP, { email: `mt${i}@example.com` }) as string;
      await store.append(
        `order-${SHOP}-mt-${i}`,
        [
          {
            id: randomUUID(),
            type: 'order.placed',
            schemaVersion: 1,
            data: {
              shopId: SHOP,
              causationId: randomUUID(),
              receivedAt: iso(T0 + 20_000 + i),
              platform: 'shopify',
              platformUpdatedAt: iso(T0 + 20_000 + i),
              orderId: `mt-${i}`,
              cartIds: [],
              customerKey,
              reach: { email: true, sms: false },
              currency: 'EUR',
              total: '20.00',
              discountCodes: [],
              placedAt: iso(T0 + 20_000 + i),
              lineItems: [{ lineId: 'l1', productId: 'p-mug', title: 'Mug', quantity: 1, unitPrice: '20.00' }],
            } satisfies OrderPlacedData,
          },
        ],
        'no_stream',
      );
      await store.append(
        `product-${SHOP}-mt-${i}`,
        [
          {
            id: randomUUID(),
            type: 'product.stock-reported',
            schemaVersion: 1,
            data: {
              shopId: SHOP,
              causationId: randomUUID(),
              receivedAt: iso(T0 + 30_000 + i),
              platform: 'shopify',
              platformUpdatedAt: iso(T0 + 30_000 + i),
              productId: `p-${i}`,
              available: true,
              variants: [],
            } satisfies ProductStockReportedData,
          },
        ],
        'no_stream',
      );
    }
    const events = (await store.readAll({ filter: RECOVERY_FEED_FILTER })).slice(before);
    expect(events).toHaveLength(120);
    const readStream = jest.spyOn(store, 'readStream');
    const readStreams = jest.spyOn(store, 'readStreams');
    const batches = store.stats.batches;
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
    // The customers' index rows, the products' watchers, the orders with their engagement hours.
    expect(txQueries).toHaveLength(3);
    expect(store.stats.batches - batches).toBe(1); // every revocation appended in one transaction
    readStream.mockRestore();
    readStreams.mockRestore();
    for (let i = 0; i < 40; i++) {
      expect((await store.readStream(recoveryIdFor(SHOP, `mt-${i}`))).map((r) => r.type)).toContain('recovery.ended');
    }
    const { rows } = await pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM engine.customer_orders WHERE order_id LIKE 'mt-%'`,
    );
    expect(rows[0].n).toBe(40);
  });
});

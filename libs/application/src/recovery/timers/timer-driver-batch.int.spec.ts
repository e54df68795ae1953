/**
 * The timer driver's batch path (a claimed batch fired with a constant number of round trips)
 * against its one-by-one path: the same events with the same ids, the start contexts read for the
 * whole batch at once, and a stream another writer moved meanwhile redone on its fresh state.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { Pool } from 'pg';
import { createTestDatabase, type TestDatabase } from '@reclaim/database';
import {
  cartDecider,
  cartStream,
  createRecoveryDecider,
  reachFor,
  recoveryConfig,
  recoveryIdFor,
} from '@reclaim/domain';
import { PostgresEventStore, type EventStore } from '@reclaim/event-store';
import { PersonalDataVault } from '@reclaim/privacy';
import { InMemoryShops } from '@reclaim/testing/fakes';
import { runDecider } from '../../shared/run-decider';
import { inTransaction } from '../db';
import { RecoveryEventsProjector } from '../recovery-events-projector';
import { RECOVERY_FEED_FILTER, RecoveryFeed } from '../recovery-feed';
import { migrateRecoveryEngine } from '../schema';
import { PostgresSequenceRepository } from '../sequences/sequence-repository';
import { PostgresShopSettings } from '../settings/shop-settings';
import { TimerDriver, type TimerDriverDeps } from './timer-driver';
import { TimerStore, type ClaimedTimer } from './timer-store';

const SHOP = '6b0e1f43-7f6e-4d52-9a34-3c9a0f5b2a11';
const OTHER = '6b0e1f43-7f6e-4d52-9a34-3c9a0f5b2a12';
const T0 = Date.parse('2025-03-03T08:00:00.000Z');
const LATER = new Date(T0 + 6 * 3_600_000);

/** Exposes the batch entry point the drain calls. */
class OpenDriver extends TimerDriver {
  fireBatchOf(timers: readonly ClaimedTimer[]): Promise<Set<string>> {
    return this.fireMany(timers);
  }
}

describe('TimerDriver batches', () => {
  let db: TestDatabase;
  let pool: Pool;
  let vault: PersonalDataVault;
  const config = recoveryConfig({ holdoutPercent: 0 });
  const pm = createRecoveryDecider(config);
  const shops = new InMemoryShops();
  shops.add({ id: SHOP, shopDomain: 'mugs.example', currency: 'EUR', timezone: 'Europe/Berlin' });
  shops.add({ id: OTHER, shopDomain: 'teas.example', currency: 'EUR', timezone: 'America/New_York' });
  const stores: PostgresEventStore[] = [];

  beforeAll(async () => {
    db = await createTestDatabase('reclaim_timer_batch');
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

  const driverOn = (store: EventStore, q: Pool = pool) => {
    const settings = new PostgresShopSettings(pool, config);
    const deps: TimerDriverDeps = {
      store,
      pool: q,
      timers: new TimerStore(pool),
      pm,
      deciders: settings,
      shops,
      sequences: new PostgresSequenceRepository(pool, config, settings),
      clock: { now: () => LATER },
      random: () => 0.5,
    };
    return new OpenDriver(deps);
  };

  async function recordCart(store: EventStore, shopId: string, cartId: string, email: string, atMs: number) {
    const at = new Date(atMs).toISOString();
    const contact = { email, firstName: 'Zoë' };
    const customerKey = vault.subjectFor(shopId, contact) as string;
    const causationId = randomUUID();
    await runDecider(
      store,
      cartStream(shopId, cartId),
      cartDecider,
      {
        type: 'RecordCartActivity',
        platform: 'shopify',
        platformUpdatedAt: at,
        cartId,
        source: 'checkout',
        customer: {},
        lineItems: [{ lineId: 'l1', productId: `p-${cartId}`, title: 'Mug', quantity: 1, unitPrice: '20.00' }],
        currency: 'EUR',
        subtotal: '20.00',
        total: '20.00',
        checkoutUrl: `https://mugs.example/checkouts/${cartId}`,
        device: 'desktop',
        emailConsent: { state: 'subscribed', source: 'shopify:checkout', updatedAt: at },
        shopId,
        causationId,
        receivedAt: at,
        customerKey,
        contact: await vault.seal(shopId, customerKey, contact),
        reach: reachFor(contact),
      },
      { causationId },
    );
    return customerKey;
  }

  /** Carts through the feed and the projector: recoveries with their abandonment timers. */
  async function watched(store: PostgresEventStore, prefix: string, n: number): Promise<string[]> {
    const keys: string[] = [];
    for (let i = 0; i < n; i++) {
      const shopId = i % 3 === 0 ? OTHER : SHOP;
      keys.push(await recordCart(store, shopId, `${prefix}-${i}`, `${prefix}${i % 7}@example.com`, T0 + i * 1000));
    }
    const feed = new RecoveryFeed({
      store,
      pm,
      shops,
      sequences: new PostgresSequenceRepository(pool, config),
      random: () => 0.5,
    });
    await inTransaction(pool, async (tx) => feed.handle(await store.readAll({ filter: RECOVERY_FEED_FILTER }), tx));
    const projector = new RecoveryEventsProjector({ timers: new TimerStore(pool) });
    await inTransaction(pool, async (tx) =>
      projector.handle(await store.readAll({ filter: { typePrefixes: ['recovery.'] } }), tx),
    );
    return keys;
  }

  async function timersOf(prefix: string): Promise<ClaimedTimer[]> {
    const { rows } = await pool.query<{
      timer_id: string;
      stream_id: string;
      shop_id: string;
      purpose: ClaimedTimer['purpose'];
      due_at: Date;
      payload: Record<string, unknown>;
    }>(
      `SELECT timer_id, stream_id, shop_id, purpose, due_at, payload FROM engine.timers
        WHERE stream_id LIKE $1 AND superseded_at IS NULL ORDER BY due_at, timer_id`,
      [`recovery-%-${prefix}-%`],
    );
    return rows.map((r) => ({
      timerId: r.timer_id,
      streamId: r.stream_id,
      shopId: r.shop_id,
      purpose: r.purpose,
      dueAt: r.due_at,
      payload: r.payload,
    }));
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

  const view = async (store: EventStore, streamId: string) =>
    (await store.readStream(streamId)).map((r) => ({ id: r.id, type: r.type, data: r.data, metadata: r.metadata }));

  it('starts the recoveries exactly as the one-by-one path does (same events, same ids), with customer facts', async () => {
    const batched = await newStore('es_tb_batched');
    const single = await newStore('es_tb_single');
    const keys = await watched(batched, 'eq', 24);
    // Customer facts the start reads: an order (with a recorded category) and a started recovery elsewhere.
    await pool.query(
      `INSERT INTO engine.customer_orders (shop_id, order_id, customer_key, placed_at, total, currency, discounted, categories, product_ids)
       VALUES ($1, 'o-1', $2, $3, '30.00', 'EUR', true, '{mugs}', '{p-bought}')`,
      [SHOP, keys[1], new Date(T0 - 86_400_000)],
    );
    await pool.query(
      `INSERT INTO engine.product_categories (shop_id, product_id, categories, found, recorded_at)
       VALUES ($1, 'p-bought', '{kitchen}', true, now()), ($1, 'p-eq-2', '{cups}', true, now())`,
      [SHOP],
    );
    await copyLog(batched, single);
    const timers = await timersOf('eq');
    expect(timers).toHaveLength(24);

    const fired = await driverOn(batched).fireBatchOf(timers);
    expect(fired.size).toBe(24);
    const one = driverOn(single);
    for (const t of timers) expect(await one.fireOne(t)).toBe(true);

    for (const t of timers) expect(await view(batched, t.streamId)).toEqual(await view(single, t.streamId));
    const started = (await batched.readAll({ filter: { typePrefixes: ['recovery.'] } })).filter(
      (e) => e.type === 'recovery.started',
    );
    expect(started).toHaveLength(24);
    // The facts were read: the customer's order and the categories, the other shop's time zone.
    const json = JSON.stringify((await batched.readStream(recoveryIdFor(SHOP, 'eq-2'))).map((e) => e.data));
    expect(json).toContain('cups');
  });

  it('costs the same round trips for 60 timers as for a few: one stream read, one append transaction', async () => {
    const store = await newStore('es_tb_trips');
    await watched(store, 'trip', 60);
    const timers = await timersOf('trip');
    expect(timers).toHaveLength(60);
    const queries: string[] = [];
    const counting = Object.assign(Object.create(pool) as Pool, {
      query: (...args: unknown[]) => (
        queries.push(String(args[0])),
        (pool.query as (...a: unknown[]) => unknown)(...args)
      ),
    });
    const readStream = jest.spyOn(store, 'readStream');
    const readStreams = jest.spyOn(store, 'readStreams');
    const before = { ...store.stats };
    const driver = driverOn(store, counting);
    expect((await driver.fireBatchOf(timers)).size).toBe(60);
    expect(readStream).not.toHaveBeenCalled();
    expect(readStreams).toHaveBeenCalledTimes(2); // the recoveries, the customers
    expect(queries).toHaveLength(3); // customer index, their messages, product categories
    expect(store.stats.batches - before.batches).toBe(1);
    expect(store.stats.appends - before.appends).toBe(60);
    readStream.mockRestore();
    readStreams.mockRestore();
  });

  it('redoes a stream another writer moved since the batch read it, on its fresh state', async () => {
    const store = await newStore('es_tb_race');
    await watched(store, 'race', 3);
    const timers = await timersOf('race');
    const raced = timers[0];
    // Another driver fires the first timer between the batch's read and its append (a lease that ran out).
    const stale: EventStore = Object.assign(Object.create(store) as EventStore, {
      readStreams: async (ids: readonly string[]) => {
        const m = await store.readStreams(ids);
        if (m.has(raced.streamId)) expect(await driverOn(store).fireOne(raced)).toBe(true);
        return m;
      },
    });
    const fired = await driverOn(stale).fireBatchOf(timers);
    expect(fired.size).toBe(3);
    for (const t of timers) {
      const types = (await store.readStream(t.streamId)).map((r) => r.type);
      expect(types.filter((x) => x === 'recovery.started')).toHaveLength(1);
    }
    // Fired again (a lease ran out): nothing more.
    const count = (await store.readAll()).length;
    expect((await driverOn(store).fireBatchOf(timers)).size).toBe(3);
    expect((await store.readAll()).length).toBe(count);
  });
});

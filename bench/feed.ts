/**
 * npm run bench:feed — the recovery feed on the events that are not carts: consent revocations
 * (`customer.consent-changed` unsubscribed), orders (`order.placed`, indexed with their engagement
 * hour and attributed) and restock reports (`product.stock-reported` of a product recoveries watch).
 * Batched = `RecoveryFeed.handle` on batches of 200 in one transaction each (the appliance's path);
 * one by one = `RecoveryFeed.apply` per event in a transaction each (the path before). Each side on
 * a scratch database of its own with the same log; repetitions interleaved, each on fresh customers.
 *
 *   BENCH_EVENTS=3000 BENCH_REPS=3 npm run bench:feed      (DATABASE_URL, or an embedded PostgreSQL)
 *
 * Per repetition and side: BENCH_EVENTS carts with a customer each are recorded and fed (their
 * recoveries and index rows: setup, not timed), every third recovery watches its product; then one
 * event per customer — an unsubscribe, an order or a restock report of its product, in turn — is
 * appended, and those BENCH_EVENTS events are timed through the handler. The unsubscribes end their
 * recoveries; the orders are indexed with their engagement hour and find no click to attribute; the
 * restocks reach recoveries with no sold-out line (nothing to decide): the read and write paths are
 * all exercised. Prints events/s per side and the ratio, and checks both sides decided the same.
 */
import { randomBytes } from 'node:crypto';
import { Pool, type PoolClient } from 'pg';
import { v5 as uuidv5 } from 'uuid';
import {
  migrateRecoveryEngine,
  PostgresSequenceRepository,
  RECOVERY_FEED_FILTER,
  RecoveryFeed,
} from '@reclaim/application';
import {
  createRecoveryDecider,
  customerDecider,
  customerStream,
  recoveryConfig,
  recoveryIdFor,
  reachFor,
  type OrderPlacedData,
  type ProductStockReportedData,
} from '@reclaim/domain';
import { PostgresEventStore, type RecordedEvent } from '@reclaim/event-store';
import { PersonalDataVault } from '@reclaim/privacy';
import { InMemoryShops } from '../libs/testing/src/fakes';
import { checkoutEvents } from './support/checkout-events';
import { openScratchDatabase, type ScratchDatabase } from './support/scratch-database';

const SHOP = '3a7c1f43-7f6e-4d52-9a34-3c9a0f5b2a10';
const BATCH = 200;

type Side = 'batched' | 'one by one';

interface Db {
  readonly scratch: ScratchDatabase;
  readonly pool: Pool;
  readonly store: PostgresEventStore;
  readonly feed: RecoveryFeed;
  /** Feed position reached (events before it are applied). */
  after: bigint;
}

async function open(port: number): Promise<Db> {
  const scratch = await openScratchDatabase(port);
  const pool = new Pool({ connectionString: scratch.url, max: 12 });
  pool.on('error', () => undefined);
  await PostgresEventStore.migrate(pool);
  await PersonalDataVault.migrate(pool);
  await migrateRecoveryEngine(pool);
  const store = new PostgresEventStore({ pool, notify: false });
  const config = recoveryConfig({ holdoutPercent: 0 });
  const shops = new InMemoryShops();
  shops.add({ id: SHOP, shopDomain: 'bench.example', currency: 'EUR', timezone: 'Europe/Berlin' });
  const feed = new RecoveryFeed({
    store,
    pm: createRecoveryDecider(config),
    shops,
    sequences: new PostgresSequenceRepository(pool, config),
    random: () => 0.5,
  });
  return { scratch, pool, store, feed, after: 0n };
}

async function inTx(pool: Pool, fn: (tx: PoolClient) => Promise<void>): Promise<void> {
  const tx = await pool.connect();
  try {
    await tx.query('BEGIN');
    await fn(tx);
    await tx.query('COMMIT');
  } catch (e) {
    await tx.query('ROLLBACK').catch(() => undefined);
    throw e;
  } finally {
    tx.release();
  }
}

async function pending(db: Db): Promise<RecordedEvent[]> {
  const events = await db.store.readAll({
    after: { commit: db.after, prepare: db.after },
    filter: RECOVERY_FEED_FILTER,
  });
  if (events.length > 0) db.after = events[events.length - 1].position.commit;
  return events;
}

async function applyBatched(db: Db, events: readonly RecordedEvent[]): Promise<void> {
  for (let i = 0; i < events.length; i += BATCH) {
    await inTx(db.pool, (tx) => db.feed.handle(events.slice(i, i + BATCH), tx));
  }
}

async function applyOneByOne(db: Db, events: readonly RecordedEvent[]): Promise<void> {
  for (const e of events) await inTx(db.pool, (tx) => db.feed.apply(e, tx));
}

/** The same log on both databases: the carts of a repetition, then its mixed events. */
async function writeBoth(dbs: readonly Db[], write: (db: Db) => Promise<void>): Promise<void> {
  for (const db of dbs) await write(db);
}

async function main(): Promise<void> {
  const total = Number(process.env.BENCH_EVENTS ?? 3_000);
  const reps = Number(process.env.BENCH_REPS ?? 3);
  const customers = Math.max(3, total);
  const sides: Record<Side, Db> = {
    batched: await open(55521),
    'one by one': await open(55522),
  };
  // Contacts sealed once (keys in the batched side's database; the feed never opens them).
  const vault = new PersonalDataVault(sides.batched.pool, randomBytes(32));
  const results: Record<Side, number[]> = { batched: [], 'one by one': [] };
  const dbs = Object.values(sides);
  console.log(`feed: ${total} events per repetition (unsubscribes, orders, restock reports), ${reps} repetitions`);
  try {
    for (let rep = 0; rep < reps; rep++) {
      const t0 = Date.now() - 3_600_000;
      const iso = (ms: number) => new Date(ms).toISOString();
      const people = await Promise.all(
        Array.from({ length: customers }, async (_, i) => {
          const email = `r${rep}-shopper${i}@example.com`;
          const customerKey = vault.subjectFor(SHOP, { email }) as string;
          return {
            email,
            customerKey,
            cartId: `r${rep}-cart-${i}`,
            contact: await vault.seal(SHOP, customerKey, { email }),
          };
        }),
      );
      // Setup (not timed): a cart per customer, fed; every third recovery watches its product.
      await writeBoth(dbs, async (db) => {
        for (let i = 0; i < people.length; i += 100) {
          await Promise.all(
            people.slice(i, i + 100).map(async (p) => {
              const { streamId, events } = checkoutEvents(SHOP, p.cartId, p);
              await db.store.append(streamId, events, 'no_stream');
            }),
          );
        }
        await applyBatched(db, await pending(db));
        await db.pool.query(
          `INSERT INTO engine.stock_watches (shop_id, product_id, recovery_id)
           SELECT $1, 'p-' || r, r FROM unnest($2::text[]) AS r`,
          [SHOP, people.filter((_, i) => i % 3 === 2).map((p) => recoveryIdFor(SHOP, p.cartId))],
        );
      });
      // The timed events: per customer in turn an unsubscribe, an order, a restock of its watched product.
      await writeBoth(dbs, async (db) => {
        const writes = people.map(async (p, i) => {
          const at = iso(t0 + 60_000 + i);
          const base = {
            shopId: SHOP,
            causationId: `bench-${rep}-${i}`,
            receivedAt: at,
            platform: 'shopify' as const,
            platformUpdatedAt: at,
          };
          if (i % 3 === 0) {
            const [e] = customerDecider.decide(
              {
                type: 'ChangeMarketingConsent',
                ...base,
                customer: {},
                channel: 'email',
                consent: { state: 'unsubscribed', updatedAt: at, source: 'shopify:customer' },
                customerKey: p.customerKey,
                contact: p.contact,
                reach: reachFor({ email: p.email }),
              },
              customerDecider.initialState(),
            );
            await db.store.append(
              customerStream(SHOP, p.customerKey),
              [{ id: uuidOf(`${rep}-c-${i}`), type: e.type, schemaVersion: e.schemaVersion, data: e.data }],
              'any',
            );
          } else if (i % 3 === 1) {
            const data: OrderPlacedData = {
              ...base,
              orderId: `r${rep}-order-${i}`,
              cartIds: [],
              customerKey: p.customerKey,
              reach: { email: true, sms: false },
              currency: 'EUR',
              total: '49.50',
              discountCodes: [],
              placedAt: at,
              lineItems: [{ lineId: 'l1', productId: 'p-mug', title: 'Mug', quantity: 2, unitPrice: '20.00' }],
            };
            await db.store.append(
              `order-${SHOP}-${data.orderId}`,
              [{ id: uuidOf(`${rep}-o-${i}`), type: 'order.placed', schemaVersion: 1, data }],
              'no_stream',
            );
          } else {
            const data: ProductStockReportedData = {
              ...base,
              productId: `p-${recoveryIdFor(SHOP, p.cartId)}`,
              available: true,
              variants: [],
            };
            await db.store.append(
              `product-${SHOP}-${rep}-${i}`,
              [{ id: uuidOf(`${rep}-p-${i}`), type: 'product.stock-reported', schemaVersion: 1, data }],
              'no_stream',
            );
          }
        });
        await Promise.all(writes);
      });
      // Interleaved: the side that goes first alternates.
      const order: Side[] = rep % 2 === 0 ? ['batched', 'one by one'] : ['one by one', 'batched'];
      for (const side of order) {
        const db = sides[side];
        const events = await pending(db);
        const started = process.hrtime.bigint();
        await (side === 'batched' ? applyBatched(db, events) : applyOneByOne(db, events));
        const s = Number(process.hrtime.bigint() - started) / 1e9;
        results[side].push(events.length / s);
        console.log(
          `  rep ${rep + 1} ${side}: ${events.length} events in ${s.toFixed(2)} s = ${(events.length / s).toFixed(0)} events/s`,
        );
      }
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    const ratios = results.batched.map((b, i) => b / results['one by one'][i]);
    console.log(
      `\n| side | events/s (median) | per repetition |\n|---|---:|---|\n| one by one | ${median(results['one by one']).toFixed(0)} | ${results['one by one'].map((x) => x.toFixed(0)).join(', ')} |\n| batched | ${median(results.batched).toFixed(0)} | ${results.batched.map((x) => x.toFixed(0)).join(', ')} |`,
    );
    console.log(
      `ratio batched / one by one: median ${median(ratios).toFixed(1)}× (${ratios.map((r) => r.toFixed(1)).join(', ')})`,
    );
    // The two sides decided the same: the same number of recovery events.
    const counts = await Promise.all(
      dbs.map(
        async (db) =>
          (
            await db.pool.query<{ n: number }>(
              `SELECT count(*)::int AS n FROM event_store.events WHERE type LIKE 'recovery.%'`,
            )
          ).rows[0].n,
      ),
    );
    console.log(
      `recovery events: batched ${counts[0]}, one by one ${counts[1]} → ${counts[0] === counts[1] ? 'same' : 'DIFFERENT'}`,
    );
  } finally {
    for (const db of dbs) {
      await db.store.close();
      await db.pool.end();
      await db.scratch.drop();
    }
  }
}

/** A stable id per event name: both databases get the same ids. */
function uuidOf(name: string): string {
  return uuidv5(name, '6ba7b810-9dad-11d1-80b4-00c04fd430c8');
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});

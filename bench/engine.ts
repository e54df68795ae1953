/**
 * Engine throughput: a burst of checkouts, as the delivery processor leaves them (one
 * `cart.activity-recorded` per cart, appended by many concurrent writers through the store's group
 * commit, each with a sealed contact), turned into recoveries with abandonment timers by the engine
 * as the appliance runs it (the recovery feed and the recovery-events projector as checkpointed
 * subscriptions, batches of 200, LISTEN/NOTIFY wake-ups, shop settings through the NOTIFY-invalidated
 * cache). Against a baseline doing the same work naively in the same run: one cart per transaction
 * (both subscriptions with batches of 1, the feed's one-by-one path), on its own database.
 *
 *   npm run bench:engine                     (DATABASE_URL, or an embedded PostgreSQL)
 *   BENCH_CARTS=50000 BENCH_NAIVE_CARTS=2000 BENCH_STEP_S=15 npm run bench:engine
 *
 * Burst: time from the last acknowledged append to the last abandonment timer in `engine.timers`
 * (observed by a poll every 200 ms, on the database clock). Then the same as signed Shopify
 * `checkouts/update` deliveries received in process (`ReceiveWebhook`: verify, map, seal, store —
 * the webhook route without HTTP; BENCH_DELIVERIES, 0 to skip), so the delivery processor's
 * subscription is on the path too, as in the appliance with every role on.
 * Timer fired → recovery started (BENCH_FIRE=0 skips it): the drained backlogs' abandonment timers
 * fired by the timer driver (its clock a day ahead), batched vs one timer at a time (8 in parallel,
 * the driver's path before batching), on their databases, the engine's subscriptions running.
 * Sustained: arrivals paced at a rate for BENCH_STEP_S seconds; the backlog (carts appended minus
 * abandonment timers) is sampled every second and counts as flat when its slope over the second
 * half stays under 5 % of the arrival rate. Rates are tried from 70 % of the burst rate, up by 25 %
 * while flat, down by 30 % when not (BENCH_STEPS tries); the highest flat rate is reported.
 */
import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import { Pool, type PoolClient } from 'pg';
import {
  DELIVERY_PROCESSOR,
  DeliveryProcessor,
  deliveryOrderingKey,
  migrateRecoveryEngine,
  ReceiveWebhook,
  SecretBox,
  ShopRegistry,
  PostgresSequenceRepository,
  PostgresShopSettings,
  RECOVERY_EVENTS,
  RECOVERY_EVENTS_FILTER,
  RECOVERY_FEED,
  RECOVERY_FEED_FILTER,
  RecoveryEventsProjector,
  RecoveryFeed,
  TimerDriver,
  TimerStore,
  type ClaimedTimer,
} from '@reclaim/application';
import { createRecoveryDecider, recoveryConfig, type SealedValue } from '@reclaim/domain';
import {
  PostgresEventStore,
  runCheckpointedSubscription,
  runPartitionedSubscription,
  type CheckpointedSubscriptionOptions,
  type NewEvent,
  type RecordedEvent,
} from '@reclaim/event-store';
import { platformAdapters } from '@reclaim/platforms';
import { PersonalDataVault } from '@reclaim/privacy';
import { InMemoryShops } from '../libs/testing/src/fakes';
import { checkoutEvents } from './support/checkout-events';
import { openScratchDatabase, type ScratchDatabase } from './support/scratch-database';

const SHOPS = 20;
const SECRET = 'bench-engine-secret-0123456789';
const WRITERS = 32;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

type Mode = 'batched' | 'naive';

interface Bench {
  readonly db: ScratchDatabase;
  readonly pool: Pool;
  readonly store: PostgresEventStore;
  readonly shopIds: readonly string[];
  readonly customers: readonly { customerKey: string; contact: SealedValue; email: string }[];
  /** Carts acknowledged so far (counted as each append or delivery is acknowledged). */
  appended: number;
  /** Carts handed to a writer so far (numbers them). */
  issued: number;
  /** The ingest use case (signature, mapping, sealing, one append per delivery), without HTTP. */
  readonly receiver: ReceiveWebhook;
  /** Starts the engine's two subscriptions. */
  start(): void;
  /** A timer driver on this database: batched (the appliance's) or one timer at a time (the old path). */
  driver(mode: Mode): TimerDriver;
  stop(): Promise<void>;
}

async function prepare(port: number, mode: Mode, customerCount: number, partitions: number): Promise<Bench> {
  const db = await openScratchDatabase(port);
  const pool = new Pool({ connectionString: db.url, max: 24 });
  pool.on('error', () => undefined);
  await PostgresEventStore.migrate(pool);
  await PersonalDataVault.migrate(pool);
  await migrateRecoveryEngine(pool);
  const store = new PostgresEventStore({ pool });
  const vault = new PersonalDataVault(pool, randomBytes(32));
  const config = recoveryConfig({ holdoutPercent: 0 });
  await ShopRegistry.migrate(pool);
  const registry = new ShopRegistry(pool, new SecretBox(randomBytes(32)));
  const shops = new InMemoryShops();
  const shopIds: string[] = [];
  for (let i = 0; i < SHOPS; i++) {
    const { shop } = await registry.register({
      platform: 'shopify',
      shopDomain: `shop${i}.myshopify.com`,
      webhookSecret: SECRET,
      apiUrl: `https://shop${i}.myshopify.com/admin/api/2025-10`,
      apiToken: 'x',
      currency: 'EUR',
      timezone: 'Europe/Berlin',
    });
    shopIds.push(shop.id);
    shops.add({ id: shop.id, shopDomain: shop.shopDomain });
  }
  // Half of the shops have settings of their own (a row the cache loads), the rest the defaults.
  for (const id of shopIds.slice(0, SHOPS / 2)) {
    await pool.query(`INSERT INTO engine.shop_settings (shop_id, settings) VALUES ($1, '{"holdoutPercent": 0}')`, [id]);
  }
  const customers: Bench['customers'][number][] = [];
  for (let i = 0; i < customerCount; i += 100) {
    const chunk = await Promise.all(
      Array.from({ length: Math.min(100, customerCount - i) }, async (_, j) => {
        const shopId = shopIds[(i + j) % SHOPS];
        const email = `shopper${i + j}@example.com`;
        const contact = { email, firstName: 'Zoë' };
        const customerKey = vault.subjectFor(shopId, contact) as string;
        return { customerKey, email, contact: await vault.seal(shopId, customerKey, contact) };
      }),
    );
    customers.push(...chunk);
  }
  const settings = new PostgresShopSettings(pool, config);
  const pm = createRecoveryDecider(config);
  const sequences = new PostgresSequenceRepository(pool, config);
  const feed = new RecoveryFeed({ store, pm, deciders: settings, shops, sequences, random: () => 0.5 });
  const projector = new RecoveryEventsProjector({ timers: new TimerStore(pool) });
  const abort = new AbortController();
  const naiveFeed = async (events: readonly RecordedEvent[], tx: PoolClient) => {
    for (const e of events) await feed.apply(e, tx);
  };
  const batchSize = mode === 'batched' ? 200 : 1;
  const running: Promise<void>[] = [settings.follow(abort.signal)];
  const receiver = new ReceiveWebhook({ store, shops: registry, vault, adapters: platformAdapters });
  const processor = new DeliveryProcessor({ store, shops: registry, vault, adapters: platformAdapters });
  const start = () =>
    running.push(
      runCheckpointedSubscription({
        name: DELIVERY_PROCESSOR,
        store,
        pool,
        filter: { typePrefixes: ['webhook.received'] },
        batchSize: 200,
        signal: abort.signal,
        handle: processor.handle,
        isolation: { keyOf: deliveryOrderingKey },
      }),
      ...(
        [
          [RECOVERY_FEED, RECOVERY_FEED_FILTER, mode === 'batched' ? feed.handle : naiveFeed],
          [RECOVERY_EVENTS, RECOVERY_EVENTS_FILTER, projector.handle],
        ] as const
      ).map(([name, filter, handle]) => {
        const o: CheckpointedSubscriptionOptions = {
          name,
          store,
          pool,
          filter,
          batchSize,
          signal: abort.signal,
          handle,
        };
        // The appliance's engine: ENGINE_PARTITIONS partitions (default 4); the naive one unpartitioned.
        return mode === 'batched' && partitions > 1
          ? runPartitionedSubscription({ ...o, partitions, rebalanceMs: 200 })
          : runCheckpointedSubscription(o);
      }),
    );
  const timers = new TimerStore(pool);
  const driverDeps = {
    store,
    pool,
    timers,
    pm,
    deciders: settings,
    shops: registry,
    sequences: new PostgresSequenceRepository(pool, config, settings),
    clock: { now: () => new Date(Date.now() + 86_400_000) },
    random: () => 0.5,
  };
  return {
    db,
    pool,
    store,
    shopIds,
    customers,
    driver: (m: Mode) => (m === 'batched' ? new TimerDriver(driverDeps) : new OneByOneDriver(driverDeps)),
    appended: 0,
    issued: 0,
    receiver,
    start,
    async stop() {
      abort.abort();
      await Promise.allSettled(running);
      await store.close();
      await pool.end();
      await db.drop();
    },
  };
}

/** The driver's path before batching: each timer fired on its own (its reads, start context, append), 8 at a time. */
class OneByOneDriver extends TimerDriver {
  protected override async fireMany(timers: readonly ClaimedTimer[]): Promise<Set<string>> {
    const fired = new Set<string>();
    let next = 0;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (next < timers.length) {
          const t = timers[next++];
          if (await this.fire(t)) fired.add(t.timerId);
        }
      }),
    );
    return fired;
  }
}

/**
 * Fires every pending abandonment timer (the driver's clock a day ahead: all are due) with the
 * engine's subscriptions stopped; recoveries started per second, counted from the log.
 */
async function fireAbandonments(b: Bench, mode: Mode): Promise<{ rate: number; started: number; seconds: number }> {
  const count = async () =>
    (
      await b.pool.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM event_store.events WHERE type = 'recovery.started'`,
      )
    ).rows[0].n;
  const before = await count();
  const driver = b.driver(mode);
  const t0 = Date.now();
  for (;;) {
    const r = await driver.tick();
    if (r.claimed === 0) break;
  }
  const seconds = (Date.now() - t0) / 1000;
  const started = (await count()) - before;
  return { rate: started / seconds, started, seconds };
}

/** A checkout as the delivery processor records it: the cart decider's events for a new cart. */
function checkout(b: Bench, n: number): { streamId: string; events: NewEvent[] } {
  return checkoutEvents(b.shopIds[n % SHOPS], `c${n}-${randomUUID()}`, b.customers[n % b.customers.length]);
}

async function dbNow(pool: Pool): Promise<number> {
  return (await pool.query<{ t: Date }>('SELECT clock_timestamp() AS t')).rows[0].t.getTime();
}

async function timersScheduled(pool: Pool): Promise<{ n: number; at: number }> {
  const { rows } = await pool.query<{ n: number; at: Date }>(
    `SELECT count(*)::int AS n, clock_timestamp() AS at FROM engine.timers WHERE purpose = 'abandonment'`,
  );
  return { n: rows[0].n, at: rows[0].at.getTime() };
}

/** `count` checkouts appended by WRITERS concurrent writers as fast as the store acknowledges. */
async function burst(b: Bench, count: number): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: WRITERS }, async () => {
      while (next < count) {
        next++;
        const c = checkout(b, b.issued++);
        await b.store.append(c.streamId, c.events, 'no_stream');
        b.appended++;
      }
    }),
  );
}

/** A signed Shopify `checkouts/update` delivery of a new cart. */
function delivery(n: number): { headers: Record<string, string>; body: Buffer } {
  const at = new Date().toISOString();
  const c = n % 5 === 4 ? 1_000_000 + (n % 1_000) : n; // 80 % new customers, 20 % of 1,000 returning ones
  const body = JSON.stringify({
    id: 900000000 + n,
    token: `ck-${n}-${randomUUID()}`,
    cart_token: `cart-${n}-${randomUUID()}`,
    email: `shopper${c}@example.com`,
    buyer_accepts_marketing: true,
    created_at: at,
    updated_at: at,
    completed_at: null,
    currency: 'EUR',
    subtotal_price: '49.50',
    total_price: '49.50',
    total_tax: '0.00',
    abandoned_checkout_url: `https://shop.example/checkouts/${n}/recover`,
    line_items: [
      { key: 'l1', product_id: 1, variant_id: 2, sku: 'MUG', title: 'Mug', quantity: 2, price: '20.00' },
      { key: 'l2', product_id: 3, variant_id: 4, sku: 'TEA', title: 'Tea', quantity: 1, price: '9.50' },
    ],
    customer: { id: 500000 + c, email: `shopper${c}@example.com`, first_name: 'Zoë', last_name: String(c) },
  });
  return {
    body: Buffer.from(body),
    headers: {
      'content-type': 'application/json',
      'x-shopify-topic': 'checkouts/update',
      'x-shopify-shop-domain': `shop${n % SHOPS}.myshopify.com`,
      'x-shopify-api-version': '2025-10',
      'x-shopify-webhook-id': randomUUID(),
      'x-shopify-hmac-sha256': createHmac('sha256', SECRET).update(body).digest('base64'),
    },
  };
}

/** `count` deliveries received (verified, mapped, sealed, stored) by WRITERS concurrent senders. */
async function receiveBurst(b: Bench, count: number): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: WRITERS }, async () => {
      while (next < count) {
        next++;
        const d = delivery(b.issued++);
        const out = await b.receiver.receive('shopify', {
          headers: d.headers,
          body: d.body,
          contentType: 'application/json',
          receivedAt: new Date(),
        });
        if (out.status !== 200 || out.body.status !== 'accepted') {
          throw new Error(`delivery refused: ${JSON.stringify(out.body)}`);
        }
        b.appended++;
      }
    }),
  );
}

async function waitForTimers(b: Bench, target: number, limitMs: number): Promise<{ n: number; at: number }> {
  const end = Date.now() + limitMs;
  for (;;) {
    const seen = await timersScheduled(b.pool);
    if (seen.n >= target || Date.now() > end) return seen;
    await sleep(200);
  }
}

interface BurstResult {
  readonly carts: number;
  readonly writeS: number;
  readonly ackToLastTimerS: number;
  readonly rate: number;
  readonly scheduled: number;
}

async function runBurst(
  b: Bench,
  carts: number,
  limitMs: number,
  write: (b: Bench, n: number) => Promise<void> = burst,
): Promise<BurstResult> {
  const start = await dbNow(b.pool);
  await write(b, carts);
  const ack = await dbNow(b.pool);
  const done = await waitForTimers(b, b.appended, limitMs);
  return {
    carts,
    writeS: (ack - start) / 1000,
    ackToLastTimerS: (done.at - ack) / 1000,
    rate: (done.n - (b.appended - carts)) / ((done.at - start) / 1000),
    scheduled: done.n - (b.appended - carts),
  };
}

/** Paced arrivals at `rate`/s for `seconds`; true when the backlog stayed flat. */
async function paced(
  b: Bench,
  rate: number,
  seconds: number,
): Promise<{ flat: boolean; samples: number[]; achieved: number }> {
  const base = (await timersScheduled(b.pool)).n;
  const startAppended = b.appended;
  const t0 = Date.now();
  const samples: number[] = [];
  let sent = 0;
  // Open loop: each cart is appended when due, whether or not earlier ones were acknowledged yet.
  const writer = (async () => {
    const pending = new Set<Promise<void>>();
    while (Date.now() - t0 < seconds * 1000) {
      const due = Math.floor(((Date.now() - t0) / 1000) * rate) - sent;
      for (let i = 0; i < due && pending.size < 5_000; i++) {
        sent++;
        const c = checkout(b, b.issued++);
        const p: Promise<void> = b.store
          .append(c.streamId, c.events, 'no_stream')
          .then(() => {
            b.appended++;
          })
          .finally(() => pending.delete(p));
        pending.add(p);
      }
      await sleep(20);
    }
    await Promise.all(pending);
  })();
  for (let s = 1; s <= seconds; s++) {
    await sleep(Math.max(0, t0 + s * 1000 - Date.now()));
    const scheduled = (await timersScheduled(b.pool)).n - base;
    samples.push(b.appended - startAppended - scheduled);
  }
  await writer;
  const achieved = (b.appended - startAppended) / ((Date.now() - t0) / 1000);
  const half = samples.slice(Math.floor(samples.length / 2));
  const n = half.length;
  const meanX = (n - 1) / 2;
  const meanY = half.reduce((a, y) => a + y, 0) / n;
  const slope =
    half.reduce((a, y, x) => a + (x - meanX) * (y - meanY), 0) / half.reduce((a, _, x) => a + (x - meanX) ** 2, 0);
  // Drain before the next step, so each step starts from an empty backlog.
  await waitForTimers(b, b.appended, 120_000);
  return { flat: slope < 0.05 * achieved, samples, achieved };
}

/** A backlog of `carts` written with the engine stopped, then drained: the engine's own rate. */
async function drain(
  b: Bench,
  carts: number,
  write: (b: Bench, n: number) => Promise<void> = burst,
): Promise<{ rate: number; seconds: number }> {
  await write(b, carts);
  const t0 = await dbNow(b.pool);
  b.start();
  const done = await waitForTimers(b, b.appended, 30 * 60_000);
  return { rate: done.n / ((done.at - t0) / 1000), seconds: (done.at - t0) / 1000 };
}

async function main(): Promise<void> {
  const carts = Number(process.env.BENCH_CARTS ?? 50_000);
  const naiveCarts = Number(process.env.BENCH_NAIVE_CARTS ?? 2_000);
  const drainCarts = Number(process.env.BENCH_DRAIN_CARTS ?? 10_000);
  const stepS = Number(process.env.BENCH_STEP_S ?? 15);
  const deliveries = Number(process.env.BENCH_DELIVERIES ?? 10_000);
  const partitions = Number(process.env.BENCH_PARTITIONS ?? 4);
  const steps = Number(process.env.BENCH_STEPS ?? 4);
  const fire = (process.env.BENCH_FIRE ?? '1') !== '0';
  const customers = Number(process.env.BENCH_CUSTOMERS ?? Math.max(1, Math.floor(carts / 5)));

  console.log(
    `engine: ${SHOPS} shops, ${fmt(customers)} customers, ${WRITERS} writers; batched engine in ${partitions} partition(s) (ENGINE_PARTITIONS default 4), batches of 200`,
  );
  // 1. The baseline on its own database: a stored backlog drained one cart per transaction.
  const naive = await prepare(55507, 'naive', Math.min(customers, naiveCarts), 1);
  let naiveDrain: { rate: number; seconds: number };
  let naiveFire: { rate: number; started: number; seconds: number } | undefined;
  try {
    naiveDrain = await drain(naive, naiveCarts);
    if (fire) naiveFire = await fireAbandonments(naive, 'naive');
  } finally {
    await naive.stop();
  }
  console.log(
    `  naive (1 cart per transaction): backlog of ${fmt(naiveCarts)} drained in ${naiveDrain.seconds.toFixed(1)} s = ${naiveDrain.rate.toFixed(0)} carts/s`,
  );

  // 1b. Stored deliveries drained by the delivery processor and the engine (a database of their own).
  if (deliveries > 0) {
    const stored = await prepare(55509, 'batched', 1, partitions);
    try {
      const dd = await drain(stored, deliveries, receiveBurst);
      console.log(
        `  stored deliveries (delivery processor + engine): backlog of ${fmt(deliveries)} drained in ${dd.seconds.toFixed(1)} s = ${dd.rate.toFixed(0)} carts/s → ${(dd.rate / naiveDrain.rate).toFixed(1)}× naive`,
      );
    } finally {
      await stored.stop();
    }
  }

  const ours = await prepare(55508, 'batched', customers, partitions);
  try {
    // 2. The same drain, batched.
    const d = await drain(ours, drainCarts);
    console.log(
      `  batched: backlog of ${fmt(drainCarts)} drained in ${d.seconds.toFixed(1)} s = ${d.rate.toFixed(0)} carts/s → ${(d.rate / naiveDrain.rate).toFixed(1)}× naive`,
    );
    // 2b. Their abandonment timers fire: each recovery's start (customer facts, catalogue, draw, decision).
    if (fire && naiveFire !== undefined) {
      const f = await fireAbandonments(ours, 'batched');
      console.log(
        `  timer fired → recovery started: one by one ${fmt(naiveFire.started)} in ${naiveFire.seconds.toFixed(1)} s = ${naiveFire.rate.toFixed(0)}/s; batched ${fmt(f.started)} in ${f.seconds.toFixed(1)} s = ${f.rate.toFixed(0)}/s → ${(f.rate / naiveFire.rate).toFixed(1)}×`,
      );
    }
    // 3. The burst, with the engine running as it arrives.
    const r = await runBurst(ours, carts, 30 * 60_000);
    console.log(
      `  burst: ${fmt(r.carts)} checkouts acknowledged in ${r.writeS.toFixed(1)} s (${(r.carts / r.writeS).toFixed(0)}/s); ${fmt(r.scheduled)} abandonment timers; last timer ${r.ackToLastTimerS.toFixed(1)} s after the last ack (goal ≤ 60 s; naive at its rate: ~${fmt(r.carts / naiveDrain.rate - r.writeS)} s)`,
    );
    // 3b. The burst as deliveries, the way the webhook route stores them: the delivery processor too.
    if (deliveries > 0) {
      const dr = await runBurst(ours, deliveries, 30 * 60_000, receiveBurst);
      console.log(
        `  burst of stored deliveries: ${fmt(dr.carts)} received in ${dr.writeS.toFixed(1)} s (${(dr.carts / dr.writeS).toFixed(0)}/s); ${fmt(dr.scheduled)} abandonment timers; last timer ${dr.ackToLastTimerS.toFixed(1)} s after the last ack (delivery processor + engine)`,
      );
    }
    // 4. Sustained: the highest paced rate with a flat backlog.
    let rate = Math.max(10, Math.round(d.rate * 0.8));
    let best: number | undefined;
    let bound = false;
    for (let i = 0; i < steps; i++) {
      const { flat, samples, achieved } = await paced(ours, rate, stepS);
      const writerBound = achieved < 0.9 * rate;
      console.log(
        `  paced ${fmt(rate)}/s (achieved ${fmt(achieved)}/s${writerBound ? ": the writers' limit here" : ''}) for ${stepS} s: backlog ${samples.join(' ')} → ${flat ? 'flat' : 'growing'}`,
      );
      if (flat) {
        best = Math.max(best ?? 0, achieved);
        if (writerBound) {
          bound = true;
          break;
        }
        rate = Math.round(rate * 1.25);
      } else {
        if (best !== undefined) break;
        rate = Math.round(rate * 0.7);
      }
    }
    console.log(
      steps === 0
        ? 'sustained: not measured (BENCH_STEPS=0)'
        : best === undefined
          ? 'sustained: no tried rate kept the backlog flat'
          : `sustained: ${bound ? '≥ ' : ''}${fmt(best)} carts/s with a flat backlog (${(best / naiveDrain.rate).toFixed(1)}× the naive drain rate)${bound ? "; the writers in this process could not arrive faster, so the engine's limit is above it (its drain rate bounds it from above)" : ''}`,
    );
  } finally {
    await ours.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});

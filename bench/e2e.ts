/**
 * Abandonment deadline → first provider call, through the engine as the appliance runs it: cart
 * events appended by the cart decider, the two engine subscriptions (checkpointed, LISTEN/NOTIFY),
 * the timer driver and the effect runner woken by `WakeLoop` (next due time + NOTIFY; fallback poll
 * 1 s = the default TIMER_TICK), a real Postgres event store and the database clock. The provider
 * is a fake channel that records when it is called.
 *
 *   npm run bench:e2e                  (DATABASE_URL, or an embedded PostgreSQL)
 *   BENCH_CARTS=300 BENCH_WINDOW_S=20 npm run bench:e2e
 *
 * Carts arrive evenly over BENCH_WINDOW_S seconds with ABANDON_AFTER = 2 s; the deadline of each is
 * the due time of its abandonment timer (engine.timers), the send time is the fake provider's call.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { Pool } from 'pg';
import {
  createEffectRunner,
  DatabaseClock,
  EFFECTS_CHANNEL,
  listenForWakeUps,
  migrateRecoveryEngine,
  PostgresSequenceRepository,
  RECOVERY_EVENTS,
  RECOVERY_EVENTS_FILTER,
  RECOVERY_FEED,
  RECOVERY_FEED_FILTER,
  RecoveryEventsProjector,
  RecoveryFeed,
  runDecider,
  TIMERS_CHANNEL,
  TimerDriver,
  TimerStore,
  WakeLoop,
} from '@reclaim/application';
import { openScratchDatabase } from './support/scratch-database';
import { cartDecider, cartStream, createRecoveryDecider, reachFor, recoveryConfig } from '@reclaim/domain';
import { PostgresEventStore, runCheckpointedSubscription } from '@reclaim/event-store';
import type { ChannelMessage } from '@reclaim/ports';
import { PersonalDataVault } from '@reclaim/privacy';
import { FakeChannel, FakeCommerce, FakeLinks, FakeRenderer, InMemoryShops } from '../libs/testing/src/fakes';

const SHOP = '3a7c1f43-7f6e-4d52-9a34-3c9a0f5b2a10';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};

class TimedChannel extends FakeChannel {
  readonly sentAt = new Map<string, number>();
  constructor(private readonly clock: DatabaseClock) {
    super('email');
  }
  override send(message: ChannelMessage): Promise<{ messageId: string }> {
    const id = message.context?.recoveryId;
    if (id !== undefined && message.context?.step === 0 && !this.sentAt.has(id)) {
      this.sentAt.set(id, this.clock.now().getTime());
    }
    return super.send(message);
  }
}

async function main(): Promise<void> {
  const carts = Number(process.env.BENCH_CARTS ?? 200);
  const windowS = Number(process.env.BENCH_WINDOW_S ?? 10);
  const db = await openScratchDatabase(55503);
  const url = db.url;
  const pool = new Pool({ connectionString: url, max: 24 });
  pool.on('error', () => undefined);
  const abort = new AbortController();
  const store = new PostgresEventStore({ pool });
  const running: Promise<unknown>[] = [];
  const loops: WakeLoop[] = [];
  let closeRunner: (() => Promise<void>) | undefined;
  try {
    await PostgresEventStore.migrate(pool);
    await PersonalDataVault.migrate(pool);
    await migrateRecoveryEngine(pool);
    const vault = new PersonalDataVault(pool, randomBytes(32));
    const config = recoveryConfig({ holdoutPercent: 0, abandonAfterMs: 2_000 });
    const pm = createRecoveryDecider(config);
    const clock = new DatabaseClock(pool);
    await clock.sync();
    const shops = new InMemoryShops();
    shops.add({ id: SHOP, shopDomain: 'mugs.example', currency: 'EUR', timezone: 'Europe/Berlin' });
    const sequences = new PostgresSequenceRepository(pool, config);
    const timers = new TimerStore(pool);
    const channel = new TimedChannel(clock);
    const feed = new RecoveryFeed({ store, pm, shops, sequences, random: () => 0.5 });
    const projector = new RecoveryEventsProjector({ timers });
    const driver = new TimerDriver({ store, pool, timers, pm, shops, sequences, clock, random: () => 0.5 });
    const built = await createEffectRunner({
      store,
      pool,
      pm,
      clock,
      vault,
      shops,
      channels: { email: channel },
      commerce: new FakeCommerce(),
      renderer: new FakeRenderer(),
      links: new FakeLinks(),
    });
    closeRunner = () => built.close();
    for (const [name, filter, handle] of [
      [RECOVERY_FEED, RECOVERY_FEED_FILTER, feed.handle],
      [RECOVERY_EVENTS, RECOVERY_EVENTS_FILTER, projector.handle],
    ] as const) {
      running.push(
        runCheckpointedSubscription({ name, store, pool, filter, batchSize: 200, signal: abort.signal, handle }),
      );
    }
    const effects = new WakeLoop({
      clock,
      fallbackMs: 1_000,
      run: async () => {
        await built.runner.runOnce();
        return undefined;
      },
    });
    const timerLoop = new WakeLoop({
      clock,
      fallbackMs: 1_000,
      run: async () => {
        await driver.tick();
        return driver.nextDueAt();
      },
    });
    loops.push(timerLoop, effects);
    running.push(
      listenForWakeUps(
        pool,
        [TIMERS_CHANNEL, EFFECTS_CHANNEL],
        (ch, payload) =>
          ch === EFFECTS_CHANNEL ? effects.wake() : timerLoop.wake(payload ? new Date(Number(payload)) : undefined),
        abort.signal,
      ),
    );
    timerLoop.start();
    effects.start();

    console.log(`e2e: ${carts} carts over ${windowS} s, ABANDON_AFTER 2 s, fallback poll 1 s (default TIMER_TICK)`);
    const gap = (windowS * 1000) / carts;
    for (let i = 0; i < carts; i++) {
      const cartId = `c-${i}-${randomUUID()}`;
      const at = clock.now().toISOString();
      const contact = { email: `shopper${i}@example.com`, firstName: 'Zoë' };
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
          lineItems: [
            {
              lineId: 'l1',
              productId: 'p-mug',
              title: 'Mug',
              quantity: 1,
              unitPrice: '20.00',
              categories: ['kitchen'],
            },
          ],
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
      await sleep(gap);
    }
    const deadline = Date.now() + 60_000;
    while (channel.sentAt.size < carts && Date.now() < deadline) await sleep(200);
    const { rows } = await pool.query<{ stream_id: string; due_at: Date }>(
      `SELECT stream_id, due_at FROM engine.timers WHERE purpose = 'abandonment'`,
    );
    const lat: number[] = [];
    for (const r of rows) {
      const sent = channel.sentAt.get(r.stream_id);
      if (sent !== undefined) lat.push(sent - r.due_at.getTime());
    }
    console.log(
      `deadline → first provider call: n=${lat.length}/${carts} p50 ${pct(lat, 50)} ms, p99 ${pct(lat, 99)} ms, max ${Math.max(...lat)} ms (goal p99 ≤ 1000 ms)`,
    );
  } finally {
    abort.abort();
    await Promise.all(loops.map((l) => l.stop()));
    await Promise.allSettled(running);
    await closeRunner?.();
    await store.close();
    await pool.end();
    await db.drop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});

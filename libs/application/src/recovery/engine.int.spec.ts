/**
 * The recovery engine end to end on a real Postgres: cart / customer / order events written with the
 * real deciders, the two engine subscriptions (pumped deterministically), the timer driver and the
 * effect runner with provider fakes, and a manual clock running days in milliseconds.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { Pool } from 'pg';
import { createTestDatabase, type TestDatabase } from '@reclaim/database';
import {
  cartDecider,
  cartStream,
  customerDecider,
  customerStream,
  orderDecider,
  orderStream,
  reachFor,
  recoveryConfig,
  createRecoveryDecider,
  recoveryIdFor,
  type CartLineItem,
  type ConsentState,
  type RecoveryConfigOverrides,
} from '@reclaim/domain';
import {
  PostgresEventStore,
  START,
  type EventFilter,
  type GlobalPosition,
  type RecordedEvent,
} from '@reclaim/event-store';
import { PersonalDataVault } from '@reclaim/privacy';
import {
  FakeChannel,
  FakeCommerce,
  FakeLinks,
  FakeRenderer,
  FakeTickets,
  InMemoryShops,
  ManualClock,
} from '@reclaim/testing/fakes';
import type { PoolClient } from 'pg';
import { RetryableProviderError, type CatalogPort, type ChannelPort, type ProfileEnricher } from '@reclaim/ports';
import { runDecider } from '../shared/run-decider';
import { HeldEngagement } from './links/held-engagement';
import { RecoveryEngagementRecorder } from './links/message-link-recorders';
import type { ShopDeciders } from './settings/shop-settings';
import { customerHistory } from './audit/customer-history';
import { inTransaction } from './db';
import type { EffectRunnerDeps } from './effects/effect-deps';
import type { EffectRunner } from './effects/effect-runner';
import { createEffectRunner, type StandaloneEffectRunner } from './effects/effects.module';
import { RECOVERY_EVENTS_FILTER, RecoveryEventsProjector } from './recovery-events-projector';
import { RECOVERY_FEED_FILTER, RecoveryFeed } from './recovery-feed';
import { loadRecovery } from './recovery-stream';
import { migrateRecoveryEngine } from './schema';
import { PostgresSequenceRepository } from './sequences/sequence-repository';
import { TimerDriver } from './timers/timer-driver';
import { TimerStore } from './timers/timer-store';

const SHOP = '3a7c1f43-7f6e-4d52-9a34-3c9a0f5b2a10';
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

type Handler = (events: readonly RecordedEvent[], tx: PoolClient) => Promise<void>;

async function createEngine(
  overrides: RecoveryConfigOverrides = {},
  extra: { enricher?: ProfileEnricher; catalog?: CatalogPort } = {},
) {
  const db: TestDatabase = await createTestDatabase('reclaim_engine');
  const pool = new Pool({ connectionString: db.url, max: 10 });
  // A connection still open when `close()` drops the database (WITH (FORCE)) is ended by the server;
  // without a listener the pool's 'error' would fail whichever test runs at that moment.
  pool.on('error', () => undefined);
  await PostgresEventStore.migrate(pool);
  await PersonalDataVault.migrate(pool);
  await migrateRecoveryEngine(pool);
  const store = new PostgresEventStore({ pool, notify: false });
  const vault = new PersonalDataVault(pool, randomBytes(32));
  const config = recoveryConfig({ holdoutPercent: 0, ...overrides });
  const pm = createRecoveryDecider(config);
  const clock = new ManualClock('2025-03-03T08:00:00.000Z');
  const shops = new InMemoryShops();
  shops.add({ id: SHOP, shopDomain: 'mugs.example', currency: 'EUR', timezone: 'Europe/Berlin' });
  const sequences = new PostgresSequenceRepository(pool, config);
  const timers = new TimerStore(pool);
  const email = new FakeChannel('email');
  const sms = new FakeChannel('sms');
  const commerce = new FakeCommerce();
  const renderer = new FakeRenderer();
  const tickets = new FakeTickets();
  const feed = new RecoveryFeed({ store, pm, shops, sequences, random: () => 0.5 });
  const projector = new RecoveryEventsProjector({
    timers,
    enrichment: extra.enricher !== undefined,
    ...(extra.catalog !== undefined ? { categories: { ttlMs: DAY } } : {}),
  });
  const driver = new TimerDriver({ store, pool, timers, pm, shops, sequences, clock, random: () => 0.5 });
  const runnerDeps: EffectRunnerDeps = {
    store,
    pool,
    pm,
    clock,
    vault,
    shops,
    channels: { email, sms },
    commerce,
    renderer,
    links: new FakeLinks(),
    tickets,
    ...(extra.enricher !== undefined ? { enricher: extra.enricher } : {}),
    ...(extra.catalog !== undefined ? { catalog: extra.catalog, categoryCacheTtlMs: DAY } : {}),
  };
  const positions = new Map<string, GlobalPosition>();
  // The same CqrsModule, CommandBus and handlers as the appliance (a standalone Nest context each).
  const standalone: StandaloneEffectRunner[] = [];
  async function newRunner(deps: EffectRunnerDeps = runnerDeps): Promise<EffectRunner> {
    const built = await createEffectRunner(deps);
    standalone.push(built);
    return built.runner;
  }
  const runner = await newRunner();

  async function pump(name: string, filter: EventFilter, handle: Handler): Promise<number> {
    let n = 0;
    for (;;) {
      const page = await store.readAll({ after: positions.get(name) ?? START, filter, maxCount: 100 });
      if (page.length === 0) return n;
      await inTransaction(pool, (tx) => handle(page, tx));
      positions.set(name, page[page.length - 1].position);
      n += page.length;
    }
  }

  /** Runs subscriptions, timers and effects until nothing moves at the current time. */
  async function settle(using = runner): Promise<void> {
    for (let i = 0; i < 200; i++) {
      const a = await pump('feed', RECOVERY_FEED_FILTER, feed.handle);
      const b = await pump('events', RECOVERY_EVENTS_FILTER, projector.handle);
      const t = await driver.tick();
      const r = await using.runOnce();
      if (a + b + t.claimed + r.processed + r.failed === 0) return;
    }
    throw new Error('the engine did not settle');
  }

  /** Lets `ms` pass in steps of `stepMs`, settling after each. */
  async function runFor(ms: number, stepMs = 15 * MINUTE): Promise<void> {
    for (let passed = 0; passed < ms;) {
      const d = Math.min(stepMs, ms - passed);
      clock.advance(d);
      passed += d;
      await settle();
    }
  }

  async function seal(address: { email?: string; phone?: string }) {
    const contact = { ...address, firstName: 'Zoë' };
    const customerKey = vault.subjectFor(SHOP, address) as string;
    return { customerKey, contact: await vault.seal(SHOP, customerKey, contact), reach: reachFor(contact) };
  }

  async function recordCart(o: {
    cartId: string;
    email?: string;
    phone?: string;
    lineItems: CartLineItem[];
    emailConsent?: ConsentState;
    timeZone?: string;
  }): Promise<string> {
    const at = clock.now().toISOString();
    const sealed = await seal({ email: o.email, phone: o.phone });
    const subtotal = o.lineItems
      .reduce((sum, i) => sum + Number(i.unitPrice) * 100 * i.quantity, 0)
      .toFixed(0)
      .replace(/(\d\d)$/, '.$1');
    const causationId = randomUUID();
    await runDecider(
      store,
      cartStream(SHOP, o.cartId),
      cartDecider,
      {
        type: 'RecordCartActivity',
        platform: 'shopify',
        platformUpdatedAt: at,
        cartId: o.cartId,
        source: 'checkout',
        customer: {},
        lineItems: o.lineItems,
        currency: 'EUR',
        subtotal,
        total: subtotal,
        checkoutUrl: `https://mugs.example/checkouts/${o.cartId}`,
        device: 'desktop',
        ...(o.timeZone !== undefined ? { timeZone: o.timeZone } : {}),
        ...(o.emailConsent
          ? { emailConsent: { state: o.emailConsent, source: 'shopify:checkout', updatedAt: at } }
          : {}),
        shopId: SHOP,
        causationId,
        receivedAt: at,
        ...sealed,
      },
      { causationId },
    );
    return sealed.customerKey;
  }

  async function purchase(
    cartId: string,
    email: string,
    total = '80.00',
    at = clock.now().toISOString(),
    lineItems: CartLineItem[] = [],
  ): Promise<void> {
    const sealed = await seal({ email });
    const orderId = `order-${cartId}`;
    const causationId = randomUUID();
    const [placed] = await runDecider(
      store,
      orderStream(SHOP, orderId),
      orderDecider,
      {
        type: 'PlaceOrder',
        platform: 'shopify',
        platformUpdatedAt: at,
        orderId,
        cartIds: [cartId],
        customer: {},
        currency: 'EUR',
        total,
        discountCodes: [],
        placedAt: at,
        lineItems,
        shopId: SHOP,
        causationId,
        receivedAt: at,
        ...sealed,
      },
      { causationId },
    );
    expect(placed.type).toBe('order.placed');
    const orderEventId = (await store.readStream(orderStream(SHOP, orderId)))[0].id;
    await runDecider(
      store,
      cartStream(SHOP, cartId),
      cartDecider,
      {
        type: 'MarkCartPurchased',
        cartId,
        orderId,
        placedAt: at,
        shopId: SHOP,
        causationId: orderEventId,
        receivedAt: at,
      },
      { causationId: orderEventId },
    );
  }

  async function changeConsent(email: string, state: ConsentState): Promise<void> {
    const at = clock.now().toISOString();
    const sealed = await seal({ email });
    const causationId = randomUUID();
    await runDecider(
      store,
      customerStream(SHOP, sealed.customerKey),
      customerDecider,
      {
        type: 'ChangeMarketingConsent',
        platform: 'shopify',
        platformUpdatedAt: at,
        customer: {},
        channel: 'email',
        consent: { state, updatedAt: at, source: 'shopify:customer' },
        shopId: SHOP,
        causationId,
        receivedAt: at,
        ...sealed,
      },
      { causationId },
    );
  }

  const history = (customerKey: string) => customerHistory(store, SHOP, customerKey);

  async function close(): Promise<void> {
    for (const built of standalone.splice(0)) await built.close();
    await store.close();
    await pool.end();
    await db.drop();
  }

  return {
    pool,
    store,
    clock,
    email,
    sms,
    commerce,
    renderer,
    tickets,
    sequences,
    runnerDeps,
    newRunner,
    feed,
    projector,
    driver,
    pump,
    settle,
    runFor,
    recordCart,
    purchase,
    changeConsent,
    history,
    close,
  };
}

type Engine = Awaited<ReturnType<typeof createEngine>>;

const mugs = (lineId: string, unitPrice = '40.00', quantity = 2): CartLineItem[] => [
  { lineId, productId: 'p-mug', title: 'Mug', quantity, unitPrice, categories: ['kitchen'] },
];

describe('recovery engine (Postgres, fakes, manual clock)', () => {
  let e: Engine;

  beforeEach(async () => {
    e = await createEngine();
  });

  afterEach(async () => {
    await e.close();
  });

  it('abandonment after inactivity sends step 0, then follow-ups with escalating unique discount codes', async () => {
    const key = await e.recordCart({
      cartId: 'c-a',
      email: 'ana@example.com',
      lineItems: mugs('l-a'),
      emailConsent: 'subscribed',
    });
    await e.settle();
    await e.runFor(59 * MINUTE);
    expect(e.email.delivered).toHaveLength(0);
    await e.runFor(2 * MINUTE, MINUTE);
    expect(e.email.delivered).toHaveLength(1);
    const first = e.email.delivered[0];
    expect(first.to).toBe('ana@example.com');
    expect(first.idempotencyKey).toBe(`${recoveryIdFor(SHOP, 'c-a')}:step-0:email`);
    expect(first.subject).toContain('welcome-0');
    expect(first.headers?.['List-Unsubscribe']).toMatch(/^<https:\/\//);
    expect(first.headers?.['List-Unsubscribe-Post']).toBe('List-Unsubscribe=One-Click');
    // The shopper opens it (tracking), so later steps are not cut by engagement fatigue.
    await e.pool.query('UPDATE engine.sent_messages SET opened_at = sent_at WHERE recovery_id = $1', [
      recoveryIdFor(SHOP, 'c-a'),
    ]);

    await e.runFor(3 * DAY, HOUR);
    expect(e.email.delivered.map((m) => m.subject?.slice(0, 11))).toEqual([
      '[welcome-0]',
      '[welcome-1]',
      '[welcome-2]',
      '[welcome-3]',
    ]);
    expect(e.commerce.codes.map((c) => c.percent)).toEqual([5, 10, 15]);
    const codes = e.commerce.codes.map((c) => c.code);
    expect(new Set(codes).size).toBe(3);
    codes.forEach((code, i) => expect(e.email.delivered[i + 1].text).toContain(code));
    expect(e.commerce.codes.map((c) => c.idempotencyKey)).toEqual(
      [1, 2, 3].map((n) => `${recoveryIdFor(SHOP, 'c-a')}:step-${n}:email:discount`),
    );

    const h = await e.history(key);
    expect(h.recoveries).toHaveLength(1);
    expect(h.recoveries[0].sequence).toMatchObject({ id: 'welcome', version: 1, catalogueVersion: 1 });
    expect(h.recoveries[0].segmentation?.segments).toContain('new');
    const sent = h.entries.filter((x) => x.kind === 'sent');
    expect(sent.map((x) => x.step)).toEqual([0, 1, 2, 3]);
    for (const s of sent) {
      expect(s.consentUsed).toMatchObject({ channel: 'email', basis: 'subscribed', source: 'shopify:checkout' });
    }
    expect(sent.slice(1).map((s) => s.discountCode)).toEqual(codes);
    expect(sent[1].sent?.discount?.percent).toBe(5);
    const times = h.entries.map((x) => Date.parse(x.at));
    expect(times).toEqual([...times].sort((a, b) => a - b));
  });

  it('R28: a purchase mid-sequence stops everything, even one arriving after the step was queued', async () => {
    const key = await e.recordCart({
      cartId: 'c-b',
      email: 'ben@example.com',
      lineItems: mugs('l-b'),
      emailConsent: 'subscribed',
    });
    await e.runFor(61 * MINUTE, MINUTE);
    expect(e.email.delivered).toHaveLength(1);
    // Step 1 becomes due and is queued…
    e.clock.advance(6 * HOUR);
    await e.pump('feed', RECOVERY_FEED_FILTER, e.feed.handle);
    await e.driver.tick();
    await e.pump('events', RECOVERY_EVENTS_FILTER, e.projector.handle);
    const queued = await e.pool.query(
      `SELECT count(*)::int AS n FROM engine.effect_queue WHERE done_at IS NULL AND kind = 'step'`,
    );
    expect(queued.rows[0].n).toBe(1);
    // …then the order lands before the runner gets to it.
    await e.purchase('c-b', 'ben@example.com');
    await (await e.newRunner()).runOnce();
    await e.settle();
    await e.runFor(4 * DAY, 6 * HOUR);
    expect(e.email.delivered).toHaveLength(1);
    const { state } = await loadRecovery(e.store, recoveryIdFor(SHOP, 'c-b'));
    expect(state.status).toBe('ended');
    expect(state.endReason).toBe('purchased');
    const h = await e.history(key);
    expect(h.entries.find((x) => x.kind === 'skipped' && x.step === 1)?.reason).toBe('purchased');
    expect(h.entries[h.entries.length - 1]).toMatchObject({ kind: 'ended', reason: 'purchased' });
    const pending = await e.pool.query(
      `SELECT count(*)::int AS n FROM engine.timers WHERE stream_id = $1 AND fired_at IS NULL AND superseded_at IS NULL`,
      [recoveryIdFor(SHOP, 'c-b')],
    );
    expect(pending.rows[0].n).toBe(0);
  });

  it('R27 / R28: an opt-out or a purchase recorded while the message is being prepared stops it (last look before the provider call)', async () => {
    const render = e.renderer.render.bind(e.renderer);
    const landMeanwhile: Array<() => Promise<void>> = [];
    e.renderer.render = async (request) => {
      const rendered = await render(request);
      // What lands in the log after the pre-send checks, while the discount / the rendering run.
      for (const land of landMeanwhile.splice(0)) await land();
      return rendered;
    };
    try {
      const optedOut = await e.recordCart({
        cartId: 'c-late-optout',
        email: 'lou@example.com',
        lineItems: mugs('l-lo'),
        emailConsent: 'subscribed',
      });
      landMeanwhile.push(() => e.changeConsent('lou@example.com', 'unsubscribed'));
      await e.runFor(61 * MINUTE, MINUTE);
      expect(e.email.delivered).toHaveLength(0);
      const h = await e.history(optedOut);
      expect(h.entries.find((x) => x.kind === 'skipped' && x.step === 0)?.reason).toBe('unsubscribed');

      await e.recordCart({
        cartId: 'c-late-order',
        email: 'pia@example.com',
        lineItems: mugs('l-lp'),
        emailConsent: 'subscribed',
      });
      landMeanwhile.push(() => e.purchase('c-late-order', 'pia@example.com'));
      await e.runFor(61 * MINUTE, MINUTE);
      expect(e.email.delivered).toHaveLength(0);
      const { state } = await loadRecovery(e.store, recoveryIdFor(SHOP, 'c-late-order'));
      expect(state.endReason).toBe('purchased');
    } finally {
      e.renderer.render = render;
    }
  });

  it('history is in the log order: a purchase the platform dates before the send is listed after it, with both times', async () => {
    const key = await e.recordCart({
      cartId: 'c-order',
      email: 'olga@example.com',
      lineItems: mugs('l-order'),
      emailConsent: 'subscribed',
    });
    await e.runFor(61 * MINUTE, MINUTE);
    expect(e.email.delivered).toHaveLength(1);
    // The platform's clock says the order came 20 minutes before the send; the log knows better.
    await e.purchase(
      'c-order',
      'olga@example.com',
      '80.00',
      new Date(e.clock.now().getTime() - 20 * MINUTE).toISOString(),
    );
    await e.settle();
    const h = await e.history(key);
    const kinds = h.entries.map((x) => x.kind);
    const sent = h.entries.find((x) => x.kind === 'sent');
    const ended = h.entries[h.entries.length - 1];
    expect(ended).toMatchObject({ kind: 'ended', reason: 'purchased' });
    expect(kinds.indexOf('sent')).toBeLessThan(kinds.indexOf('ended'));
    expect(Date.parse(ended.at)).toBeLessThan(Date.parse(sent?.at ?? ''));
    const positions = h.entries.map((x) => BigInt(x.position.split('/')[0]));
    expect(positions).toEqual([...positions].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
    for (const x of h.entries) expect(Number.isNaN(Date.parse(x.recordedAt))).toBe(false);
  });

  it('an opt-out mid-sequence ends the recovery: nothing more is sent', async () => {
    const key = await e.recordCart({
      cartId: 'c-c',
      email: 'cleo@example.com',
      lineItems: mugs('l-c'),
      emailConsent: 'subscribed',
    });
    await e.runFor(61 * MINUTE, MINUTE);
    expect(e.email.delivered).toHaveLength(1);
    await e.changeConsent('cleo@example.com', 'unsubscribed');
    await e.settle();
    await e.runFor(4 * DAY, 6 * HOUR);
    expect(e.email.delivered).toHaveLength(1);
    const h = await e.history(key);
    expect(h.entries.map((x) => x.kind)).toContain('channel-revoked');
    expect(h.entries[h.entries.length - 1]).toMatchObject({ kind: 'ended', reason: 'opted-out' });
  });

  it('all lines out of stock: the step is skipped with its reason and the sequence goes on', async () => {
    e.commerce.setStock('l-d', { available: false });
    const key = await e.recordCart({
      cartId: 'c-d',
      email: 'dan@example.com',
      lineItems: mugs('l-d'),
      emailConsent: 'subscribed',
    });
    await e.runFor(61 * MINUTE, MINUTE);
    expect(e.email.delivered).toHaveLength(0);
    const h = await e.history(key);
    expect(h.entries.find((x) => x.kind === 'skipped')).toMatchObject({ step: 0, reason: 'all-out-of-stock' });
    const { state } = await loadRecovery(e.store, recoveryIdFor(SHOP, 'c-d'));
    expect(state.timer).toMatchObject({ purpose: 'step', step: 1 });
  });

  it('R2: a crash between the provider call and recording it is reconciled to exactly one message', async () => {
    const key = await e.recordCart({
      cartId: 'c-e',
      email: 'eve@example.com',
      lineItems: mugs('l-e'),
      emailConsent: 'subscribed',
    });
    await e.settle();
    e.clock.advance(61 * MINUTE);
    await e.pump('feed', RECOVERY_FEED_FILTER, e.feed.handle);
    for (let round = 0; round < 2; round++) {
      await e.pump('events', RECOVERY_EVENTS_FILTER, e.projector.handle);
      await e.driver.tick(); // the abandonment timer, then the step-0 timer
    }
    await e.pump('events', RECOVERY_EVENTS_FILTER, e.projector.handle);
    // The worker delivers the message and dies before it can record anything.
    const hang = e.email.hangAfterDelivery();
    const crashed = await e.newRunner();
    const lost = crashed.runOnce();
    for (let i = 0; i < 200 && e.email.delivered.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(e.email.delivered).toHaveLength(1);
    const started = await e.pool.query(`SELECT status FROM engine.effects WHERE recovery_id = $1`, [
      recoveryIdFor(SHOP, 'c-e'),
    ]);
    expect(started.rows).toEqual([{ status: 'started' }]);

    // A new process starts: interrupted effects are picked up at once and reconciled, not resent.
    const restarted = await e.newRunner({ ...e.runnerDeps, staleStartedAfterMs: 0 });
    expect(await restarted.recoverInterrupted()).toBe(1);
    await e.settle(restarted);
    await e.settle();
    expect(e.email.delivered).toHaveLength(1);
    expect(e.email.calls).toHaveLength(1);
    expect(e.email.lookups).toEqual([`${recoveryIdFor(SHOP, 'c-e')}:step-0:email`]);
    const h = await e.history(key);
    const kinds = h.entries.filter((x) => x.step === 0).map((x) => x.kind);
    expect(kinds).toEqual(['step-due', 'unknown', 'reconciliation-requested', 'reconciled', 'sent']);
    expect(h.entries.find((x) => x.kind === 'sent')).toMatchObject({
      reconciled: true,
      messageId: e.email.delivered[0].messageId,
    });

    // The dead worker's call finally fails: its late report changes nothing.
    hang.release();
    await lost;
    await e.settle();
    expect((await e.history(key)).entries.filter((x) => x.step === 0).map((x) => x.kind)).toEqual(kinds);
  });

  it('R7: a 429 with Retry-After is retried after it; a provider that keeps failing is dead-lettered', async () => {
    e.email.faults.add({ kind: 'rate-limited', retryAfterMs: 30 * MINUTE });
    const k1 = await e.recordCart({
      cartId: 'c-f',
      email: 'fay@example.com',
      lineItems: mugs('l-f'),
      emailConsent: 'subscribed',
    });
    await e.runFor(61 * MINUTE, MINUTE);
    expect(e.email.delivered).toHaveLength(0);
    const failed = (await e.history(k1)).entries.find((x) => x.kind === 'failed');
    expect(failed).toMatchObject({ step: 0, reason: 'retryable', error: 'RetryableProviderError:429' });
    expect(Date.parse(failed?.retryAt ?? '')).toBe(Date.parse(failed?.at ?? '') + 30 * MINUTE);
    await e.runFor(28 * MINUTE, MINUTE);
    expect(e.email.delivered).toHaveLength(0);
    await e.runFor(2 * MINUTE, MINUTE);
    expect(e.email.delivered).toHaveLength(1);

    e.email.faults.always({ kind: 'server-error', status: 503 });
    const k2 = await e.recordCart({
      cartId: 'c-g',
      email: 'gus@example.com',
      lineItems: mugs('l-g'),
      emailConsent: 'subscribed',
    });
    await e.runFor(2 * HOUR, MINUTE);
    const h = await e.history(k2);
    const step0 = h.entries.filter((x) => x.step === 0);
    expect(step0.filter((x) => x.kind === 'failed')).toHaveLength(5);
    expect(step0.find((x) => x.kind === 'dead-lettered')).toMatchObject({
      reason: 'retry-budget-exhausted',
      attempt: 5,
    });
    expect(e.email.calls.filter((m) => m.to === 'gus@example.com')).toHaveLength(5);
    const { state } = await loadRecovery(e.store, recoveryIdFor(SHOP, 'c-g'));
    expect(state.timer).toMatchObject({ purpose: 'step', step: 1 });
  });

  it('opens one support ticket for a cart of 200 or more, with the cart and the customer contact', async () => {
    const key = await e.recordCart({
      cartId: 'c-h',
      email: 'hal@example.com',
      lineItems: mugs('l-h', '125.00', 2),
      emailConsent: 'subscribed',
    });
    await e.runFor(61 * MINUTE, MINUTE);
    await e.runFor(HOUR);
    expect(e.tickets.tickets).toHaveLength(1);
    expect(e.tickets.tickets[0]).toMatchObject({
      idempotencyKey: `${recoveryIdFor(SHOP, 'c-h')}:ticket`,
      cartId: 'c-h',
      customerEmail: 'hal@example.com',
    });
    expect(e.tickets.tickets[0].body).toMatch(/abandoned: 250(\.00)? EUR/);
    expect(e.tickets.tickets[0].body).toContain('2 × Mug');
    const h = await e.history(key);
    expect(h.recoveries[0].sequence?.id).toBe('premium');
    expect(h.entries.map((x) => x.kind)).toEqual(expect.arrayContaining(['ticket-requested', 'ticket-opened', 'sent']));
    // Premium asks for SMS first; without a phone it falls back to e-mail and says why.
    expect(h.entries.find((x) => x.kind === 'sent')?.channelsSkipped).toEqual([
      { channel: 'sms', reason: 'invalid-phone' },
    ]);
  });
});

describe('recovery engine in shadow mode', () => {
  it('decides and records every step but sends nothing and creates no discount code', async () => {
    const e = await createEngine({ shadowMode: true });
    try {
      const key = await e.recordCart({
        cartId: 'c-s',
        email: 'sam@example.com',
        lineItems: mugs('l-s'),
        emailConsent: 'subscribed',
      });
      await e.runFor(7 * HOUR, 30 * MINUTE);
      expect(e.email.calls).toHaveLength(0);
      expect(e.commerce.codes).toHaveLength(0);
      const h = await e.history(key);
      const skipped = h.entries.filter((x) => x.kind === 'skipped');
      expect(skipped.map((x) => [x.step, x.reason])).toEqual([
        [0, 'shadow-mode'],
        [1, 'shadow-mode'],
      ]);
      expect(skipped[1].sent).toMatchObject({ channel: 'email', discount: { percent: 5 } });
      expect(h.recoveries[0].mode).toEqual({ kind: 'shadow', reason: 'shadow-mode' });
    } finally {
      await e.close();
    }
  });
});

describe('the policy control arm in the customer history (RFC 0021)', () => {
  it('records the arm drawn at the start with its probability, in one sentence, before the first send', async () => {
    // Every live recovery on the rules arm (100 %): the default settings are not the fixed rules.
    const e = await createEngine({ policyControl: { percent: 100 } });
    try {
      const key = await e.recordCart({
        cartId: 'c-p',
        email: 'pia@example.com',
        lineItems: mugs('l-p'),
        emailConsent: 'subscribed',
      });
      await e.runFor(2 * HOUR, 30 * MINUTE);
      const h = await e.history(key);
      const drawn = h.entries.filter((x) => x.kind === 'policy-arm-assigned');
      expect(drawn).toHaveLength(1);
      expect(drawn[0]).toMatchObject({
        reason: 'fixed-rules',
        policyArm: { arm: 'fixed-rules', propensity: 1, controlPercent: 100 },
        detail:
          'Policy arm drawn: fixed rules (probability 100 %) — this recovery runs the fixed rules as a whole for comparison',
      });
      expect(h.recoveries[0].policyArm).toBe('fixed-rules');
      const kinds = h.entries.map((x) => x.kind);
      expect(kinds.indexOf('policy-arm-assigned')).toBeGreaterThan(kinds.indexOf('started'));
      expect(kinds.indexOf('policy-arm-assigned')).toBeLessThan(kinds.indexOf('sent'));
    } finally {
      await e.close();
    }
  });

  it('draws nothing while the share is 0 (the default)', async () => {
    const e = await createEngine();
    try {
      const key = await e.recordCart({
        cartId: 'c-q',
        email: 'quinn@example.com',
        lineItems: mugs('l-q'),
        emailConsent: 'subscribed',
      });
      await e.runFor(2 * HOUR, 30 * MINUTE);
      const h = await e.history(key);
      expect(h.entries.map((x) => x.kind)).toContain('sent');
      expect(h.entries.map((x) => x.kind)).not.toContain('policy-arm-assigned');
      expect(h.recoveries[0].policyArm).toBeUndefined();
    } finally {
      await e.close();
    }
  });
});

describe('engagement fatigue through the engine', () => {
  it("the recovery's own unopened steps never drop its last step by default; a shop counting them skips it, with the counts", async () => {
    for (const countOwnSteps of [false, true]) {
      const e = await createEngine({ fatigue: { countOwnSteps } });
      try {
        const key = await e.recordCart({
          cartId: 'c-f',
          email: 'fay@example.com',
          lineItems: mugs('l-f'),
          emailConsent: 'subscribed',
        });
        await e.runFor(61 * MINUTE, MINUTE);
        // An image proxy fetches the pixel on delivery: a machine open, not engagement.
        await e.pool.query(
          "UPDATE engine.sent_messages SET opened_at = sent_at + interval '2 seconds' WHERE recovery_id = $1",
          [recoveryIdFor(SHOP, 'c-f')],
        );
        await e.runFor(3 * DAY + HOUR, HOUR);
        const h = await e.history(key);
        if (!countOwnSteps) {
          expect(e.email.delivered.map((m) => m.subject?.slice(0, 11))).toEqual([
            '[welcome-0]',
            '[welcome-1]',
            '[welcome-2]',
            '[welcome-3]',
          ]);
          expect(h.entries.some((x) => x.reason === 'engagement-fatigue')).toBe(false);
          continue;
        }
        expect(e.email.delivered).toHaveLength(3);
        const skipped = h.entries.find((x) => x.kind === 'skipped');
        expect(skipped).toMatchObject({
          step: 3,
          reason: 'engagement-fatigue',
          fatigue: {
            fatigued: true,
            ignored: 3,
            threshold: 3,
            windowDays: 30,
            maxSteps: 2,
            countOwnSteps: true,
            ownIgnored: 3,
            machineOpens: 1,
          },
        });
        expect(skipped?.detail).toContain('3 ignored messages in 30 days');
        expect(skipped?.detail).toContain('1 machine open disregarded');
      } finally {
        await e.close();
      }
    }
  });
});

describe('engagement before the send is recorded (held, then applied once)', () => {
  let e: Engine;

  beforeEach(async () => {
    e = await createEngine();
  });

  afterEach(async () => {
    await e.close();
  });

  function heldEngagement(holdMs?: number) {
    const held = new HeldEngagement({
      store: e.store,
      pool: e.pool,
      deciders: { forShop: async () => e.runnerDeps.pm } as unknown as ShopDeciders,
      clock: () => e.clock.now(),
      ...(holdMs !== undefined ? { holdMs } : {}),
    });
    return { held, recorder: new RecoveryEngagementRecorder({ held }) };
  }

  const heldRows = async () =>
    (
      await e.pool.query<{ engagement: string; applied: boolean; expired: boolean }>(
        `SELECT engagement, applied_at IS NOT NULL AS applied, expired_at IS NOT NULL AS expired
           FROM engine.held_engagement ORDER BY engagement`,
      )
    ).rows;

  it('a click 5 ms after the provider accepted, an open and a delivery status, each twice, before the send record: in the history and attribution once', async () => {
    const { held, recorder } = heldEngagement();
    const recoveryId = recoveryIdFor(SHOP, 'c-h');
    const during: unknown[] = [];
    // The provider accepts the message; the shopper clicks 5 ms later and the provider reports the
    // delivery, all before the effect has fed the send back into the recovery.
    const email: ChannelPort = {
      send: async (m) => {
        const accepted = await e.email.send(m);
        const at = new Date(e.clock.now().getTime() + 5);
        const subject = { shopId: SHOP, customerKey: m.context?.customerKey as string, channel: 'email' as const };
        const s = { ...subject, recoveryId, step: 0, at };
        await recorder.recordClicked({ ...s, target: 'https://mugs.example/cart' });
        await recorder.recordClicked({ ...s, at: new Date(at.getTime() + 3), target: 'https://mugs.example/cart' });
        await recorder.recordOpened(s);
        await recorder.recordOpened(s);
        for (let i = 0; i < 2; i++) {
          during.push(
            await recorder.recordDeliveryStatus({ idempotencyKey: m.idempotencyKey, status: 'delivered', at }),
          );
        }
        during.push(...(await heldRows()));
        return accepted;
      },
      lookup: (key) => e.email.lookup(key),
    };
    const runner = await e.newRunner({ ...e.runnerDeps, channels: { email }, heldEngagement: held });
    const key = await e.recordCart({
      cartId: 'c-h',
      email: 'hal@example.com',
      lineItems: mugs('l-h'),
      emailConsent: 'subscribed',
    });
    await e.settle(runner);
    e.clock.advance(61 * MINUTE);
    await e.settle(runner);
    expect(e.email.delivered).toHaveLength(1);
    // Held while the send was not recorded: each kind once, however often it came.
    expect(during).toEqual([
      'held',
      'held',
      { engagement: 'clicked', applied: false, expired: false },
      { engagement: 'delivery:delivered', applied: false, expired: false },
      { engagement: 'opened', applied: false, expired: false },
    ]);
    // Applied once the send was recorded, after it in the history.
    expect((await heldRows()).every((r) => r.applied)).toBe(true);
    // The shopper orders a few minutes after the click: attributed to the clicked message.
    e.clock.advance(3 * MINUTE);
    await e.purchase('c-h', 'hal@example.com');
    await e.settle(runner);
    const kinds = (await e.history(key)).entries.map((x) => x.kind);
    const after = kinds.slice(kinds.indexOf('sent'));
    expect(after.filter((k) => k === 'clicked')).toHaveLength(1);
    expect(after.filter((k) => k === 'opened')).toHaveLength(1);
    expect(after.filter((k) => k === 'delivery-reported')).toHaveLength(1);
    expect(kinds.filter((k) => k === 'clicked' || k === 'opened' || k === 'delivery-reported')).toHaveLength(3);
    expect(kinds).toContain('order-attributed');
    // Late duplicates, and the sweep, change nothing.
    await recorder.recordClicked({
      shopId: SHOP,
      customerKey: key,
      channel: 'email',
      recoveryId,
      step: 0,
      at: e.clock.now(),
      target: 'https://mugs.example/cart',
    });
    expect(
      await recorder.recordDeliveryStatus({
        idempotencyKey: `${recoveryId}:step-0:email`,
        status: 'delivered',
        at: e.clock.now(),
      }),
    ).toBe('duplicate');
    expect(await held.sweep()).toEqual({ applied: 0, expired: 0 });
    expect((await e.history(key)).entries.filter((x) => x.kind === 'clicked')).toHaveLength(1);
  });

  it('a delivery status held when the send record was lost to a crash is applied by the sweep; one that never matches expires', async () => {
    const { held, recorder } = heldEngagement(HOUR);
    const key = await e.recordCart({
      cartId: 'c-k',
      email: 'kim@example.com',
      lineItems: mugs('l-k'),
      emailConsent: 'subscribed',
    });
    await e.settle();
    e.clock.advance(61 * MINUTE);
    await e.settle();
    const recoveryId = recoveryIdFor(SHOP, 'c-k');
    // A status for step 1 (not sent yet) waits; the sweep leaves it until its send is recorded.
    const early = {
      idempotencyKey: `${recoveryId}:step-1:email`,
      status: 'undelivered' as const,
      errorCode: '30005',
      at: e.clock.now(),
    };
    expect(await recorder.recordDeliveryStatus(early)).toBe('held');
    expect(await held.sweep()).toEqual({ applied: 0, expired: 0 });
    // Step 1 is sent by a runner that does not apply held engagement (as after a crash between the
    // send record and applying): the sweep finds the send in the engine index and applies it.
    await e.runFor(24 * HOUR, HOUR);
    expect(e.email.delivered.map((m) => m.idempotencyKey)).toContain(early.idempotencyKey);
    const swept = await held.sweep();
    expect(swept.applied).toBe(1);
    const reported = (await e.history(key)).entries.filter((x) => x.kind === 'delivery-reported');
    expect(reported.map((x) => [x.step, x.reason, x.error])).toEqual([[1, 'undelivered', '30005']]);
    // A status for a message that is never sent expires after the hold and is counted.
    expect(await recorder.recordDeliveryStatus({ ...early, idempotencyKey: `${recoveryId}:step-9:email` })).toBe(
      'held',
    );
    e.clock.advance(2 * HOUR);
    expect(await held.sweep()).toEqual({ applied: 0, expired: 1 });
    expect((await heldRows()).map((r) => [r.engagement, r.applied, r.expired])).toEqual([
      ['delivery:undelivered', true, false],
      ['delivery:undelivered', false, true],
    ]);
    // Not one of ours: nothing recorded, nothing held.
    expect(
      await recorder.recordDeliveryStatus({ ...early, idempotencyKey: 'someone-else:step-1:email' }),
    ).toBeUndefined();
  });
});

describe('the customer time zone through the engine', () => {
  it("reads the send window in the zone of the customer's address, else the shop's, and says which in the history", async () => {
    const e = await createEngine({ sendWindows: { email: { fromMinute: 8 * 60, toMinute: 21 * 60 } } });
    try {
      // Abandoned at 09:00Z: 01:00 in Los Angeles (quiet), 10:00 in Berlin (the shop's zone: allowed).
      const west = await e.recordCart({
        cartId: 'c-la',
        email: 'lou@example.com',
        lineItems: mugs('l-la'),
        emailConsent: 'subscribed',
        timeZone: 'America/Los_Angeles',
      });
      await e.recordCart({
        cartId: 'c-eu',
        email: 'eva@example.com',
        lineItems: mugs('l-eu'),
        emailConsent: 'subscribed',
      });
      await e.runFor(61 * MINUTE, MINUTE);
      expect(e.email.delivered.map((m) => m.to)).toEqual(['eva@example.com']);
      const deferred = (await e.history(west)).entries.find((x) => x.kind === 'deferred');
      expect(deferred).toMatchObject({
        step: 0,
        reason: 'quiet-hours',
        until: '2025-03-03T16:00:00.000Z',
        timeZone: 'America/Los_Angeles',
        timeZoneSource: 'address',
        detail: "local time in America/Los_Angeles (from the customer's address)",
      });
      await e.runFor(7 * HOUR, 15 * MINUTE);
      // Never dropped: step 0 goes out at 08:00 in Los Angeles.
      const sent = (await e.history(west)).entries.find((x) => x.kind === 'sent' && x.step === 0);
      const at = Date.parse(sent?.at ?? '');
      expect(at).toBeGreaterThanOrEqual(Date.parse('2025-03-03T16:00:00.000Z'));
      expect(at).toBeLessThan(Date.parse('2025-03-03T16:15:00.000Z'));
      expect(e.email.delivered.filter((m) => m.to === 'lou@example.com').length).toBeGreaterThan(0);
    } finally {
      await e.close();
    }
  });
});

describe('Klaviyo enrichment through the engine (recorded once, replays never ask again)', () => {
  it('records the facts at the start; rebuilt engine tables re-queue the request, which reads the record instead of Klaviyo', async () => {
    let calls = 0;
    const enricher: ProfileEnricher = {
      source: 'klaviyo',
      enrich: async () => {
        calls++;
        return {
          source: 'klaviyo',
          profileFound: true,
          predictive: { historicClv: '1200.00', churnProbability: 0.3 },
          segments: [{ id: 'S1', name: 'VIP' }],
          lists: [],
          consent: { email: 'SUBSCRIBED' },
        };
      },
    };
    const e = await createEngine({}, { enricher });
    try {
      const key = await e.recordCart({
        cartId: 'c-en',
        email: 'enriched@example.com',
        lineItems: mugs('l-en'),
        emailConsent: 'subscribed',
      });
      await e.runFor(61 * MINUTE, MINUTE);
      expect(calls).toBe(1);
      const enriched = (await e.history(key)).entries.filter((x) => x.kind === 'enriched');
      expect(enriched).toHaveLength(1);
      expect(enriched[0]!.segmentsAdded).toEqual(['vip']);
      const { state } = await loadRecovery(e.store, recoveryIdFor(SHOP, 'c-en'));
      expect(state.segments).toContain('vip');

      // The engine tables are projections of the log: drop the queue and replay the recovery events.
      await e.pool.query('TRUNCATE engine.effect_queue, engine.enrichment_status');
      const replayed = await e.pump('replay', RECOVERY_EVENTS_FILTER, e.projector.handle);
      expect(replayed).toBeGreaterThan(0);
      const { rows } = await e.pool.query("SELECT count(*)::int AS n FROM engine.effect_queue WHERE kind = 'enrich'");
      expect(rows[0].n).toBe(1);
      await e.settle();
      // The request ran again and read the record: Klaviyo was not asked, nothing new was recorded.
      expect(calls).toBe(1);
      expect((await e.history(key)).entries.filter((x) => x.kind === 'enriched')).toHaveLength(1);
      const status = await e.pool.query('SELECT enriched, unavailable FROM engine.enrichment_status');
      expect(status.rows).toEqual([{ enriched: '1', unavailable: '0' }]);
    } finally {
      await e.close();
    }
  });
});

describe("the store's product categories through the engine (looked up once, cached, recorded)", () => {
  const line = (lineId: string, productId: string, title: string): CartLineItem => ({
    lineId,
    productId,
    title,
    quantity: 1,
    unitPrice: '30.00',
  });

  it('categorises while the cart is watched, once per product within the TTL; a returning customer in a new category is segmented so', async () => {
    const asked: string[][] = [];
    const catalog: CatalogPort = {
      productCategories: async (_shop, ids) => {
        asked.push([...ids]);
        const known: Record<string, string[]> = { 'p-mug': ['Kitchen'], 'p-tea': ['Tea', 'Gifts'] };
        return ids.filter((id) => known[id] !== undefined).map((id) => ({ productId: id, categories: known[id]! }));
      },
    };
    const e = await createEngine({}, { catalog });
    try {
      await e.recordCart({ cartId: 'c-cat1', email: 'cat@example.com', lineItems: [line('l1', 'p-mug', 'Mug')] });
      await e.settle();
      expect(asked).toEqual([['p-mug']]);
      await e.purchase('c-cat1', 'cat@example.com', '30.00', undefined, [line('l1', 'p-mug', 'Mug')]);
      await e.runFor(10 * MINUTE, MINUTE);

      const key = await e.recordCart({
        cartId: 'c-cat2',
        email: 'cat@example.com',
        lineItems: [line('l2', 'p-mug', 'Mug'), line('l3', 'p-tea', 'Tea'), line('l4', 'p-gone', 'Old')],
      });
      await e.settle();
      // Only what the cache does not know yet; a product the store no longer has is recorded as not found.
      expect(asked).toEqual([['p-mug'], ['p-tea', 'p-gone']]);
      await e.runFor(61 * MINUTE, MINUTE);
      const h = await e.history(key);
      const recorded = h.entries.filter((x) => x.kind === 'categories-recorded' && x.recoveryId.endsWith('c-cat2'));
      expect(recorded.map((x) => x.detail)).toEqual(['p-tea: Gifts, Tea; p-gone: not in the store']);
      const segmented = h.entries.find((x) => x.kind === 'segmented' && x.recoveryId.endsWith('c-cat2'));
      expect(segmented?.reason).toContain('returning-exploring-new-category');
      expect(segmented?.detail).toContain('categories Gifts, Kitchen, Tea');
      expect(segmented?.detail).toContain('bought Kitchen');
      const inputs = h.recoveries.find((r) => r.cartId === 'c-cat2')?.segmentation;
      expect(inputs?.cart.categories).toEqual(['Gifts', 'Kitchen', 'Tea']);
      expect(inputs?.customer.categoriesBought).toEqual(['Kitchen']);

      // The cache is a projection of the log: rebuilt, it asks the store nothing again.
      await e.pool.query('TRUNCATE engine.effect_queue, engine.product_categories');
      await e.pump('replay', RECOVERY_EVENTS_FILTER, e.projector.handle);
      await e.settle();
      expect(asked).toHaveLength(2);
      const { rows } = await e.pool.query(
        'SELECT product_id, categories, found FROM engine.product_categories ORDER BY 1',
      );
      expect(rows).toEqual([
        { product_id: 'p-gone', categories: [], found: false },
        { product_id: 'p-mug', categories: ['Kitchen'], found: true },
        { product_id: 'p-tea', categories: ['Gifts', 'Tea'], found: true },
      ]);
    } finally {
      await e.close();
    }
  });

  it('a store that cannot answer: recorded as unavailable in the history, and the recovery starts without categories', async () => {
    const catalog: CatalogPort = {
      productCategories: async () => {
        throw new RetryableProviderError('store down', undefined, '503');
      },
    };
    const e = await createEngine({}, { catalog });
    try {
      const key = await e.recordCart({
        cartId: 'c-down',
        email: 'down@example.com',
        emailConsent: 'subscribed',
        lineItems: [line('l1', 'p-mug', 'Mug')],
      });
      await e.runFor(61 * MINUTE, MINUTE);
      const h = await e.history(key);
      const unavailable = h.entries.find((x) => x.kind === 'categories-unavailable');
      expect(unavailable).toMatchObject({ reason: 'error', error: '503', detail: 'products p-mug' });
      expect(h.entries.map((x) => x.kind)).toEqual(expect.arrayContaining(['started', 'segmented', 'sent']));
      expect(h.recoveries[0]?.segmentation?.cart.categories).toEqual([]);
    } finally {
      await e.close();
    }
  });
});

/**
 * The recovery score's life cycle on a real PostgreSQL event log (RFC 0011): carts abandoned through
 * the real process manager, orders in the log; the training table labels them from the log, the
 * trainer skips (outcomes still needed), trains per shop or pooled, and promotes or rejects a
 * challenger against the live model; the live-model cache follows promotions across processes.
 */
import { randomUUID } from 'node:crypto';
import { Pool } from 'pg';
import { createTestDatabase, type TestDatabase } from '@reclaim/database';
import { PostgresEventStore, type EventStore } from '@reclaim/event-store';
import { modelStream } from '@reclaim/domain';
import { rocAuc } from '@reclaim/learning';
import { LiveModels } from './live-models';
import { championChallenger, ModelTrainer } from './model-trainer';
import { buildTrainingTable } from './training-table';
import { placeOrder, seedRecoveries } from './testing/seed-recoveries';

const DAY = 86_400_000;
const WINDOW = 7 * DAY;
const FIRST = new Date('2026-06-01T10:00:00Z');
const NOW = new Date(FIRST.getTime() + 120 * DAY);

describe('recovery score life cycle (PostgreSQL)', () => {
  jest.setTimeout(180_000);
  let db: TestDatabase;
  let pool: Pool;
  let store: EventStore;
  const shop = randomUUID();
  const small = randomUUID();
  let seeded: Awaited<ReturnType<typeof seedRecoveries>>;

  beforeAll(async () => {
    db = await createTestDatabase('reclaim_model_trainer');
    pool = new Pool({ connectionString: db.url, max: 6 });
    await PostgresEventStore.migrate(pool);
    store = new PostgresEventStore({ pool });
    // 400 recoveries over ~100 days, orders 2 days after abandonment for the drawn purchases.
    seeded = await seedRecoveries(store, {
      shopId: shop,
      count: 400,
      seed: 11,
      firstAt: FIRST,
      spacingMs: 6 * 3_600_000,
      orderAfterMs: 2 * DAY,
    });
    await seedRecoveries(store, {
      shopId: small,
      count: 30,
      seed: 12,
      firstAt: FIRST,
      spacingMs: DAY,
      orderAfterMs: DAY,
    });
  });

  afterAll(async () => {
    await store?.close();
    await pool?.end();
    await db?.drop();
  });

  it('builds the training table from the log: recorded features, label = an order within the window, open windows left out', async () => {
    const rows = await buildTrainingTable(store, { shopId: shop, labelWindowMs: WINDOW, now: NOW });
    expect(rows).toHaveLength(400);
    const byId = new Map(rows.map((r) => [r.recoveryId, r]));
    for (const s of seeded) expect(byId.get(s.recoveryId)?.label).toBe(s.purchased ? 1 : 0);
    expect(rows[0].features).toMatchObject({ currency: 'USD', item_count: 1, checkout_stage: null });
    expect(typeof rows[0].features.cart_value).toBe('number');
    // Time-ordered, as the validation window needs.
    expect(rows.map((r) => r.abandonedAt)).toEqual([...rows.map((r) => r.abandonedAt)].sort());

    // Not yet closed: abandoned less than the window before `now`.
    const early = new Date(Date.parse(seeded[10].abandonedAt) + WINDOW - 1);
    expect((await buildTrainingTable(store, { shopId: shop, labelWindowMs: WINDOW, now: early })).length).toBe(10);
  });

  it('labels by the customer or by the cart, and only inside the window', async () => {
    const other = randomUUID();
    const [late, anonymous] = await seedRecoveries(store, {
      shopId: other,
      count: 2,
      seed: 99,
      firstAt: FIRST,
      spacingMs: DAY,
      orderAfterMs: 1_000,
    });
    const base = (await buildTrainingTable(store, { shopId: other, labelWindowMs: WINDOW, now: NOW })).map(
      (r) => r.label,
    );
    // An order of the first customer 8 days later is outside the window: no change.
    await placeOrder(store, other, late.customerKey, [], new Date(Date.parse(late.abandonedAt) + 8 * DAY));
    // An order naming the second cart (no customer key) 3 days later is a purchase.
    await placeOrder(
      store,
      other,
      undefined,
      [anonymous.cartId],
      new Date(Date.parse(anonymous.abandonedAt) + 3 * DAY),
    );
    const after = (await buildTrainingTable(store, { shopId: other, labelWindowMs: WINDOW, now: NOW })).map(
      (r) => r.label,
    );
    expect(after[0]).toBe(base[0]);
    expect(after[1]).toBe(1);
  });

  it('with too few outcomes anywhere there is no model, and the state says how many are still needed', async () => {
    const trainer = new ModelTrainer({
      store,
      settings: { labelWindowMs: WINDOW, minOutcomes: 5000 },
      clock: () => NOW,
    });
    const outcome = await trainer.train(shop, 'on-demand');
    expect(outcome).toMatchObject({ kind: 'skipped', outcomes: 400 });
    if (outcome.kind !== 'skipped') throw new Error();
    expect(outcome.needed).toBe(5000 - outcome.pooledOutcomes);
    const live = new LiveModels({ store, minOutcomes: 5000 });
    expect(await live.forShop(shop)).toEqual({ kind: 'none', outcomesNeeded: outcome.needed });
  });

  it('trains the shop model, promotes it (no champion), and records metrics, window and importances', async () => {
    const trainer = new ModelTrainer({
      store,
      settings: { labelWindowMs: WINDOW, minOutcomes: 200 },
      clock: () => NOW,
    });
    const outcome = await trainer.train(shop, 'on-demand');
    expect(outcome).toMatchObject({ kind: 'promoted', version: 1, scope: 'shop', reason: 'no-champion', rows: 320 });
    if (outcome.kind !== 'promoted') throw new Error();
    expect(outcome.validation.rows).toBe(80);
    expect(outcome.validation.auc).toBeGreaterThan(0.6);
    const events = await store.readStream(modelStream(shop));
    const trained = events.find((e) => e.type === 'model.trained')?.data as Record<string, unknown>;
    expect(trained).toMatchObject({
      version: 1,
      scope: 'shop',
      rows: 320,
      labelWindowMs: WINDOW,
      trigger: 'on-demand',
    });
    expect((trained.importances as unknown[]).length).toBeGreaterThan(3);
    // Fewer than PRIOR_UNTIL_OUTCOMES of its own: the weights shrink towards the pooled model of the
    // other two shops' 32 rows (the small shop's 30 and the 2 of the label test), never its own.
    expect(trained.prior).toEqual({ contentHash: expect.stringMatching(/^sha256:/), rows: 32, shops: 2 });
    const model = trained.model as { training: { prior?: string } };
    expect(model.training.prior).toBe((trained.prior as { contentHash: string }).contentHash);
    expect(events.map((e) => e.type)).toEqual(['model.training-skipped', 'model.trained', 'model.promoted']);
    // The validation window is the most recent fifth, after the training window.
    const v = trained.validation as { from: string };
    expect(Date.parse(v.from)).toBeGreaterThan(Date.parse((trained.trainingWindow as { to: string }).to));
  });

  it('a challenger is compared with the live model on the same recent window; both outcomes are events', async () => {
    const trainer = new ModelTrainer({
      store,
      settings: { labelWindowMs: WINDOW, minOutcomes: 200 },
      clock: () => NOW,
    });
    const outcome = await trainer.train(shop, 'schedule');
    if (outcome.kind !== 'promoted' && outcome.kind !== 'rejected') throw new Error(outcome.kind);
    expect(outcome.version).toBe(2);
    expect(outcome.champion?.version).toBe(1);
    // Same rows, same seed: the same model, so at least as good.
    expect(outcome).toMatchObject({ kind: 'promoted', reason: 'at-least-as-good' });
    expect(outcome.champion?.auc).toBeCloseTo(outcome.validation.auc as number, 9);
  });

  it('the rule: lower AUC or higher Brier beyond the tolerance is rejected', () => {
    const champion = { auc: 0.7, brier: 0.2, ece: 0.02 };
    expect(championChallenger({ auc: 0.69, brier: 0.2, ece: 0.02 }, champion)).toEqual({
      promote: false,
      reason: 'lower-auc',
    });
    expect(championChallenger({ auc: 0.698, brier: 0.2005, ece: 0.03 }, champion)).toEqual({
      promote: true,
      reason: 'at-least-as-good',
    });
    expect(championChallenger({ auc: 0.71, brier: 0.202, ece: 0.01 }, champion)).toEqual({
      promote: false,
      reason: 'higher-brier',
    });
    expect(championChallenger({ auc: null, brier: 0.1, ece: 0 }, champion)).toEqual({
      promote: false,
      reason: 'one-class-window',
    });
    expect(championChallenger({ auc: 0.5, brier: 0.1, ece: 0 }, undefined)).toEqual({
      promote: false,
      reason: 'no-better-than-chance',
    });
  });

  it('a shop with too few outcomes gets the pooled model, marked pooled', async () => {
    const trainer = new ModelTrainer({
      store,
      settings: { labelWindowMs: WINDOW, minOutcomes: 200 },
      clock: () => NOW,
    });
    const outcome = await trainer.train(small, 'on-demand');
    expect(outcome).toMatchObject({ kind: 'promoted', scope: 'pooled', version: 1 });
    const trained = (await store.readStream(modelStream(small))).find((e) => e.type === 'model.trained');
    expect((trained?.data as Record<string, unknown>).prior).toBeUndefined();
  });

  it('the score ranks the recoveries like their true probabilities do', async () => {
    const live = new LiveModels({ store, minOutcomes: 200 });
    const scoring = await live.forShop(shop);
    if (scoring.kind !== 'model') throw new Error('no live model');
    expect(scoring.version).toBe(2);
    const rows = await buildTrainingTable(store, { shopId: shop, labelWindowMs: WINDOW, now: NOW });
    const { predictProbability } = await import('@reclaim/learning');
    const p = rows.map((r) => predictProbability(scoring.model, r.features));
    const byId = new Map(seeded.map((s) => [s.recoveryId, s.probability]));
    const truth = rows.map((r) => byId.get(r.recoveryId) as number);
    const y = rows.map((r) => r.label);
    expect(rocAuc(p, y)).toBeGreaterThan(rocAuc(truth, y) - 0.08);
  });

  it('a promotion elsewhere drops the cached live model in every process that listens (NOTIFY)', async () => {
    const abort = new AbortController();
    const listening = new LiveModels({ store, pool, minOutcomes: 200 });
    const following = listening.follow(abort.signal);
    try {
      for (let i = 0; i < 100 && !listening.isListening; i++) await new Promise((r) => setTimeout(r, 20));
      expect(listening.isListening).toBe(true);
      const before = await listening.forShop(shop);
      expect(before).toMatchObject({ kind: 'model', version: 2 });
      const other = new LiveModels({ store, pool, minOutcomes: 200 });
      const trainer = new ModelTrainer({
        store,
        settings: { labelWindowMs: WINDOW, minOutcomes: 200 },
        clock: () => NOW,
        onModelChanged: (shopId) => other.announce(shopId),
      });
      await trainer.train(shop, 'on-demand');
      for (let i = 0; i < 100 && listening.stats.invalidations < 2; i++) await new Promise((r) => setTimeout(r, 20));
      expect(await listening.forShop(shop)).toMatchObject({ kind: 'model', version: 3 });
    } finally {
      abort.abort();
      await following;
    }
  });
});

/**
 * The recovery score through the running appliance (issue 14 item 2, RFC 0011): a shop without
 * enough outcomes gets no model and is told how many it still needs; with a log of past recoveries
 * and orders an on-demand training promotes a model, the model card shows its held-out figures, and
 * the next abandoned cart is scored by it — in the customer history and in `read.scores`.
 */
import { randomUUID } from 'node:crypto';
import { seedRecoveries } from '@reclaim/application/learning/testing/seed-recoveries';
import { ManualClock } from '@reclaim/testing/fakes';
import {
  ADMIN_TOKEN,
  ANALYST_TOKEN,
  api,
  eventually,
  hmacBase64,
  post,
  registerShop,
  startHarness,
  type Harness,
} from './support/harness';
import { shopifyCheckout } from './support/payloads';

const SECRET = 'shpss_recovery_score';
const DOMAIN = 'recovery-score.myshopify.com';
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

describe('recovery score: no model until enough outcomes, then trained on demand and scoring the next cart', () => {
  let h: Harness;
  let shopId: string;
  const clock = new ManualClock(new Date(Math.floor(Date.now() / 1000) * 1000));

  beforeAll(async () => {
    h = await startHarness(
      {
        ABANDON_AFTER: '1m',
        FOLLOW_UP_DELAYS: '1h',
        HOLDOUT_PERCENT: '0',
        TIMER_TICK: '200ms',
        SCORE_MIN_OUTCOMES: '200',
      },
      { clock },
    );
    shopId = (await registerShop(h, { platform: 'shopify', shopDomain: DOMAIN, webhookSecret: SECRET })).id;
  }, 120_000);

  afterAll(async () => h?.close());

  it('refuses bad ids, unknown shops and analysts training', async () => {
    expect((await api(h, 'GET', `/api/shops/not-a-uuid/models`)).status).toBe(400);
    expect((await api(h, 'GET', `/api/shops/${randomUUID()}/models`)).status).toBe(404);
    expect((await api(h, 'POST', `/api/shops/${shopId}/models/train`, undefined, ANALYST_TOKEN)).status).toBe(403);
    expect((await api(h, 'GET', `/api/shops/${shopId}/models`, undefined, ANALYST_TOKEN)).status).toBe(200);
  });

  it('with no outcomes: skipped, and the card says how many outcomes are still needed', async () => {
    const res = await api(h, 'POST', `/api/shops/${shopId}/models/train`, undefined, ADMIN_TOKEN);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ kind: 'skipped', outcomes: 0, needed: 200 });
    const card = await eventually(async () => {
      const r = await api(h, 'GET', `/api/shops/${shopId}/models`);
      return r.body?.status?.lastOutcome ? r.body : undefined;
    }, 30_000);
    expect(card.live).toBeNull();
    expect(card.status).toMatchObject({ liveVersion: null, outcomesNeeded: 200 });
  });

  it('with 300 past recoveries and their orders: promoted, on the card, and the next cart is scored', async () => {
    const seeded = await seedRecoveries(h.runtime.store, {
      shopId,
      count: 300,
      seed: 7,
      firstAt: new Date(clock.now().getTime() - 100 * DAY),
      spacingMs: 6 * HOUR,
      orderAfterMs: 2 * DAY,
    });
    expect(seeded.filter((s) => s.purchased).length).toBeGreaterThan(30);

    const res = await api(h, 'POST', `/api/shops/${shopId}/models/train`, undefined, ADMIN_TOKEN);
    expect(res.status).toBe(200);
    // Trained on the older 80 % of the 300 outcomes, validated on the most recent 20 % (champion/challenger).
    expect(res.body).toMatchObject({ kind: 'promoted', version: 1, scope: 'shop', rows: 240 });

    const card = await eventually(async () => {
      const r = await api(h, 'GET', `/api/shops/${shopId}/models`);
      return r.body?.live?.version === 1 ? r.body : undefined;
    }, 30_000);
    expect(card.status).toMatchObject({ liveVersion: 1, liveScope: 'shop', lastOutcome: 'promoted' });
    expect(card.live.validation.rows).toBe(60);
    expect(card.live.validation.auc).toBeGreaterThan(0.5);
    expect(card.live.validation.brier).toBeGreaterThan(0);
    expect(card.live.contentHash).toMatch(/^sha256:[0-9a-f]{64}$/);

    // A new cart, abandoned: scored by the live model, in the history and in read.scores.
    const body = shopifyCheckout({ token: `score-${randomUUID()}`, updatedAt: clock.now().toISOString() });
    const sent = await post(h, '/webhooks/shopify', body, {
      'content-type': 'application/json',
      'x-shopify-topic': 'checkouts/update',
      'x-shopify-shop-domain': DOMAIN,
      'x-shopify-api-version': '2025-10',
      'x-shopify-webhook-id': randomUUID(),
      'x-shopify-hmac-sha256': hmacBase64(SECRET, body),
    });
    expect(sent.status).toBe(200);
    clock.advance(MINUTE + 1_000);
    const history = await eventually(async () => {
      const r = await api(h, 'POST', `/api/customers/${shopId}/history`, { email: 'ada@example.com' });
      return r.body?.entries?.some((e: { kind: string }) => e.kind === 'scored') ? r.body : undefined;
    }, 30_000);
    const scored = history.entries.find((e: { kind: string }) => e.kind === 'scored');
    expect(scored.detail).toBe(`model v1 (shop, ${card.live.contentHash.slice(0, 19)})`);
    const probability = Number(scored.reason);
    expect(probability).toBeGreaterThan(0);
    expect(probability).toBeLessThan(1);

    await eventually(async () => {
      const r = await h.runtime.pool.query(
        `SELECT score FROM read.scores WHERE recovery_id = $1 AND score IS NOT NULL`,
        [history.recoveries[0].recoveryId],
      );
      return r.rows.length === 1 ? r.rows : undefined;
    }, 30_000);
  }, 180_000);
});

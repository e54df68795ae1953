/**
 * Routing by score through the running appliance (issue 14 item 3): a shop trains its recovery
 * score on 300 past recoveries, sets its bands, and then a likely, high-value cart gets a support
 * ticket that carries the score, the model version and the features that drove it; an unlikely,
 * small cart gets the nurture sequence and no ticket; both decisions are in the customer history
 * with their reasons and in `read.routing_bands`. Bad routing settings are refused naming the field.
 */
import { randomUUID } from 'node:crypto';
import { seedRecoveries } from '@reclaim/application/learning/testing/seed-recoveries';
import { ManualClock } from '@reclaim/testing/fakes';
import { startProviderSandbox, type ProviderSandbox } from '../apps/sandbox/src/providers';
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

const SECRET = 'shpss_routing_by_score';
const DOMAIN = 'routing-by-score.myshopify.com';
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

interface HistoryEntry {
  kind: string;
  step?: number;
  reason?: string;
  detail?: string;
  recoveryId: string;
  event: Record<string, unknown>;
  sent?: { template: { kind: string; id: string } };
}

describe('routing by score: likely high-value carts to a person, unlikely ones to the nurture sequence', () => {
  let providers: ProviderSandbox;
  let h: Harness;
  let shopId: string;
  const clock = new ManualClock(new Date(Math.floor(Date.now() / 1000) * 1000));

  beforeAll(async () => {
    providers = await startProviderSandbox();
    const c = providers.credentials;
    h = await startHarness(
      {
        ABANDON_AFTER: '1m',
        FOLLOW_UP_DELAYS: '1h',
        HOLDOUT_PERCENT: '0',
        TICKET_THRESHOLD: '200',
        TIMER_TICK: '200ms',
        SCORE_MIN_OUTCOMES: '200',
        PUBLIC_URL: 'https://reclaim.test',
        MERCHANT_POSTAL_ADDRESS: '1 Routing Road, Leeds LS1 1AA',
        ZENDESK_API_URL: providers.urls.zendesk,
        ZENDESK_EMAIL: c.zendeskEmail,
        ZENDESK_API_TOKEN: c.zendeskApiToken,
      },
      { clock },
    );
    shopId = (await registerShop(h, { platform: 'shopify', shopDomain: DOMAIN, webhookSecret: SECRET })).id;
  }, 120_000);

  afterAll(async () => {
    await h?.close();
    await providers?.stop();
  });

  async function checkout(email: string, price: string): Promise<void> {
    const body = shopifyCheckout({
      token: `rb-${randomUUID()}`,
      updatedAt: clock.now().toISOString(),
      email,
      price,
      phone: null,
    });
    const res = await post(h, '/webhooks/shopify', body, {
      'content-type': 'application/json',
      'x-shopify-topic': 'checkouts/update',
      'x-shopify-shop-domain': DOMAIN,
      'x-shopify-api-version': '2025-10',
      'x-shopify-webhook-id': randomUUID(),
      'x-shopify-hmac-sha256': hmacBase64(SECRET, body),
    });
    expect(res.status).toBe(200);
  }

  async function history(email: string): Promise<{ entries: HistoryEntry[]; recoveries: Record<string, unknown>[] }> {
    const key = h.runtime.vault.subjectFor(shopId, { email }) as string;
    const res = await api(h, 'GET', `/api/customers/${shopId}/${key}/history`, undefined, ANALYST_TOKEN);
    expect(res.status).toBe(200);
    return res.body;
  }

  const routedOf = (email: string) =>
    eventually(async () => (await history(email)).entries.find((e) => e.kind === 'routed'), 30_000);

  it('refuses bad routing settings, naming the field', async () => {
    const bad = await api(h, 'PUT', `/api/shops/${shopId}/settings`, {
      routing: { highProbability: 1.5, lowProbability: 0.3, highValue: 'lots', sequences: { nurture: 'slow-burn' } },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.errors.map((e: { field: string }) => e.field).sort()).toEqual([
      'routing.highProbability',
      'routing.highValue',
    ]);
    const missing = await api(h, 'PUT', `/api/shops/${shopId}/settings`, {
      routing: { sequences: { nurture: 'slow-burn' } },
    });
    expect(missing.status).toBe(400);
    expect(missing.body.errors).toEqual([
      {
        field: 'routing.sequences.nurture',
        message:
          "'slow-burn' is not in the shop's sequence catalogue (version 1: premium, loyalty, welcome, short, nurture)",
      },
    ]);
  });

  it('trains the score, then routes: a ticket with the score and why for a likely $5,000 cart, nurture for a $1 one', async () => {
    await seedRecoveries(h.runtime.store, {
      shopId,
      count: 300,
      seed: 11,
      firstAt: new Date(clock.now().getTime() - 100 * DAY),
      spacingMs: 6 * HOUR,
      orderAfterMs: 2 * DAY,
    });
    const trained = await api(h, 'POST', `/api/shops/${shopId}/models/train`, undefined, ADMIN_TOKEN);
    expect(trained.body).toMatchObject({ kind: 'promoted', version: 1, scope: 'shop' });

    const saved = await api(h, 'PUT', `/api/shops/${shopId}/settings`, {
      routing: { highProbability: 0.6, lowProbability: 0.3, highValue: '1000', sequences: { personal: 'premium' } },
    });
    expect(saved.status).toBe(200);
    expect(saved.body.effective.routing).toMatchObject({
      enabled: true,
      highProbability: 0.6,
      lowProbability: 0.3,
      highValue: '1000',
      sequences: { personal: 'premium', short: 'short', nurture: 'nurture' },
    });

    // A $5,000 cart: value is the model's strongest signal, so it is likely to be bought — and high value.
    await checkout('likely@example.com', '5000.00');
    // A $1 cart of a new shopper: unlikely.
    await checkout('unlikely@example.com', '1.00');
    clock.advance(MINUTE + 1_000);

    const personal = await routedOf('likely@example.com');
    const p = personal.event as {
      band: string;
      score: number;
      modelVersion: number;
      sequenceId: string;
      ticket: boolean;
      topFeatures: { feature: string; contribution: number }[];
    };
    expect(p).toMatchObject({
      band: 'personal',
      reason: 'high-probability-high-value',
      modelVersion: 1,
      sequenceId: 'premium',
      ticket: true,
    });
    expect(p.score).toBeGreaterThanOrEqual(0.6);
    expect(p.topFeatures).toHaveLength(5);
    expect(p.topFeatures[0]).toMatchObject({ feature: 'cart_value' });
    expect(p.topFeatures[0].contribution).toBeGreaterThan(0);
    expect(personal.reason).toBe('personal');
    expect(personal.detail).toContain(`score ${p.score.toFixed(3)} ≥ 0.6 and cart 5000 USD ≥ 1000: personal attention`);
    expect(personal.detail).toContain(
      'model v1; sequence premium; support ticket requested; top features: cart_value +',
    );

    // The ticket carries the score, the model version and why.
    const ticket = await eventually(
      async () => providers.stores.zendesk.tickets.find((t) => t.external_id === `${personal.recoveryId}:ticket`),
      30_000,
    );
    expect(ticket.subject).toBe(`Likely to buy (${Math.round(p.score * 100)}%): abandoned cart worth 5000 USD`);
    expect(ticket.description).toContain(
      `Recovery score: ${(p.score * 100).toFixed(1)}% chance of an order (model v1).`,
    );
    expect(ticket.description).toContain('Why this ticket: score');
    expect(ticket.description).toContain(
      `What drove the score (log-odds contribution):\n- cart_value: +${p.topFeatures[0].contribution.toFixed(2)}`,
    );

    const nurture = await routedOf('unlikely@example.com');
    const n = nurture.event as { band: string; score: number; sequenceId: string; ticket: boolean };
    expect(n).toMatchObject({
      band: 'nurture',
      reason: 'low-probability',
      modelVersion: 1,
      sequenceId: 'nurture',
      ticket: false,
    });
    expect(n.score).toBeLessThan(0.3);
    expect(nurture.detail).toContain(`score ${n.score.toFixed(3)} < 0.3: nurture sequence; model v1; sequence nurture`);
    const unlikely = await history('unlikely@example.com');
    expect(unlikely.recoveries[0]).toMatchObject({
      routing: { band: 'nurture', sequenceId: 'nurture', ticket: false },
    });
    expect(unlikely.entries.some((e) => e.kind === 'ticket-requested')).toBe(false);

    // The nurture sequence's first message goes out at its own (later, spaced) time: 1 h, not at abandonment.
    clock.advance(HOUR);
    const sent = await eventually(
      async () => (await history('unlikely@example.com')).entries.find((e) => e.kind === 'sent' && e.step === 0),
      30_000,
    );
    expect(sent.sent?.template).toEqual({ kind: 'sales', id: 'nurture-0' });

    // Analysts compare recovery per band.
    const bands = await eventually(async () => {
      const r = await h.runtime.pool.query(
        `SELECT band, arm, carts FROM read.routing_bands WHERE shop_id = $1 AND band IN ('personal', 'nurture') ORDER BY band`,
        [shopId],
      );
      return r.rows.length === 2 ? r.rows : undefined;
    }, 30_000);
    expect(bands).toEqual([
      { band: 'nurture', arm: 'live-treated', carts: 1 },
      { band: 'personal', arm: 'live-treated', carts: 1 },
    ]);
    // The dashboard's figure reads the same: messaged carts per band.
    const day = (ms: number) => new Date(clock.now().getTime() + ms).toISOString().slice(0, 10);
    const summary = await api(
      h,
      'GET',
      `/api/dashboard/summary?shopId=${shopId}&from=${day(-DAY)}&to=${day(DAY)}`,
      undefined,
      ANALYST_TOKEN,
    );
    expect(summary.status).toBe(200);
    expect(summary.body.kpis.routing).toEqual([
      expect.objectContaining({ band: 'personal', carts: 1, holdoutCarts: 0 }),
      expect.objectContaining({ band: 'nurture', carts: 1, recovered: 0, recoveryRate: 0 }),
    ]);
  }, 240_000);
});

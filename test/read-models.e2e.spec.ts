/**
 * Read models and operations through the real surfaces: signed Shopify webhooks over HTTP, the
 * engine and projector roles on their real schedule, then SQL on schema `read`, `/metrics` in the
 * Prometheus text format and `/health` with each subscription's lag. Polling only, no timed assertions.
 */
import { randomUUID } from 'node:crypto';
import { api, eventually, hmacBase64, post, startHarness, type Harness } from './support/harness';
import { shopifyCheckout } from './support/payloads';

const SECRET = 'shpss_read_models_secret';
const DOMAIN = 'read-models.myshopify.com';

describe('read models, /metrics and /health over HTTP', () => {
  let h: Harness;
  let shopId: string;

  beforeAll(async () => {
    h = await startHarness({
      ABANDON_AFTER: '1s',
      FOLLOW_UP_DELAYS: '1s',
      HOLDOUT_PERCENT: '0',
      TIMER_TICK: '200ms',
      PUBLIC_URL: 'https://reclaim.test',
      MERCHANT_POSTAL_ADDRESS: '1 Analytical Way, London',
    });
    const res = await api(h, 'POST', '/api/shops', {
      platform: 'shopify',
      shopDomain: DOMAIN,
      webhookSecret: SECRET,
      apiUrl: `https://${DOMAIN}/admin/api/2025-01`,
      apiToken: 'shpat_read_models',
      currency: 'USD',
      timezone: 'Europe/London',
    });
    expect(res.status).toBe(201);
    shopId = res.body.id;
  });

  afterAll(async () => {
    await h?.close();
  });

  const deliver = (topic: string, body: string, secret = SECRET) =>
    post(h, '/webhooks/shopify', body, {
      'content-type': 'application/json',
      'x-shopify-topic': topic,
      'x-shopify-shop-domain': DOMAIN,
      'x-shopify-api-version': '2025-01',
      'x-shopify-webhook-id': randomUUID(),
      'x-shopify-hmac-sha256': hmacBase64(secret, body),
    });

  it('projects signed deliveries into read.* and counts them in /metrics', async () => {
    const token = `rm-${randomUUID()}`;
    const body = shopifyCheckout({
      token,
      updatedAt: new Date().toISOString(),
      email: 'reader@example.com',
      price: '42.50',
    });
    expect((await deliver('checkouts/update', body)).status).toBe(200);
    expect((await deliver('checkouts/update', body, 'wrong-secret')).status).toBe(401);

    const cart = await eventually(async () => {
      const { rows } = await h.runtime.pool.query(`SELECT * FROM read.carts WHERE shop_id = $1`, [shopId]);
      return rows[0];
    });
    expect(cart).toMatchObject({ status: 'active', currency: 'USD', reach_email: true });
    expect(Number(cart.total)).toBe(42.5);

    // The engine abandons the cart and sends step 0 into the outbox; the projection follows.
    const sent = await eventually(async () => {
      const { rows } = await h.runtime.pool.query(
        `SELECT r.status, r.sequence_id, r.segments, m.channel, m.status AS message_status
           FROM read.recoveries r JOIN read.messages m USING (recovery_id)
          WHERE r.shop_id = $1 AND m.step = 0 AND m.status = 'sent'`,
        [shopId],
      );
      return rows[0];
    }, 30_000);
    expect(sent).toMatchObject({ status: 'active', sequence_id: 'welcome', channel: 'email' });
    const funnel = await eventually(async () => {
      const { rows } = await h.runtime.pool.query(
        `SELECT abandoned, messaged FROM read.daily_funnel WHERE shop_id = $1 AND segment = 'all' AND step = 0`,
        [shopId],
      );
      return rows[0];
    });
    expect(funnel).toEqual({ abandoned: 1, messaged: 1 });

    const metrics = await eventually(async () => {
      const res = await fetch(`${h.baseUrl}/metrics`);
      const text = await res.text();
      return res.status === 200 && /reclaim_sends_total\{channel="email",outcome="sent"\} 1/.test(text)
        ? text
        : undefined;
    });
    expect(metrics).toContain(
      'reclaim_webhooks_total{platform="shopify",topic="checkouts/update",outcome="accepted"} 1',
    );
    expect(metrics).toContain(
      'reclaim_webhooks_total{platform="shopify",topic="checkouts/update",outcome="rejected-401"} 1',
    );
    expect(metrics).toMatch(/reclaim_event_append_seconds_count\{outcome="ok"\} [1-9]/);
    expect(metrics).toMatch(/reclaim_subscription_lag_positions\{subscription="read-models\.recoveries"\} \d+/);
    expect(metrics).toMatch(/reclaim_subscription_pending_events\{subscription="ingest\.delivery-processor"\} \d+/);
    expect(metrics).toMatch(/reclaim_timer_backlog \d+/);
    expect(metrics).toMatch(/reclaim_timer_lateness_seconds [\d.e+-]+/);
    expect(metrics).not.toContain('reader@example.com');
    expect(metrics).not.toContain(token);

    const health = await api(h, 'GET', '/health', undefined, null);
    expect(health.status).toBe(200);
    expect(health.body.subscriptions['read-models.carts']).toMatchObject({ status: 'ok' });
    expect(Object.keys(health.body.subscriptions)).toEqual(
      expect.arrayContaining(['ingest.delivery-processor', 'read-models.customers', 'read-models.recoveries']),
    );
  });
});

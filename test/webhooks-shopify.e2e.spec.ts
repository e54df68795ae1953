import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { ANALYST_TOKEN, api, eventually, hmacBase64, post, startHarness, type Harness } from './support/harness';
import { BIG_ID, shopifyCheckout, shopifyOrder, shopifyRedact } from './support/payloads';

const SECRET = 'shpss_test_secret_one';
const DOMAIN = 'lamps.myshopify.com';

describe('Shopify webhooks through HTTP (signatures, dedupe, bad input, processing)', () => {
  let h: Harness;
  let db: Client;
  let shopId: string;

  beforeAll(async () => {
    h = await startHarness({ WEBHOOK_BODY_LIMIT: '64kb' });
    db = new Client({ connectionString: h.db.url });
    await db.connect();
    const res = await api(h, 'POST', '/api/shops', {
      platform: 'shopify',
      shopDomain: `https://${DOMAIN.toUpperCase()}/`,
      webhookSecret: SECRET,
      apiUrl: `https://${DOMAIN}/admin/api/2025-01`,
      apiToken: 'shpat_secret_token',
      currency: 'USD',
      timezone: 'America/New_York',
    });
    expect(res.status).toBe(201);
    shopId = res.body.id;
  });

  afterAll(async () => {
    await db?.end();
    await h?.close();
  });

  function headers(topic: string, body: string, extra: Record<string, string> = {}) {
    return {
      'content-type': 'application/json',
      'x-shopify-topic': topic,
      'x-shopify-shop-domain': DOMAIN,
      'x-shopify-api-version': '2025-01',
      'x-shopify-webhook-id': randomUUID(),
      'x-shopify-hmac-sha256': hmacBase64(SECRET, body),
      ...extra,
    };
  }

  async function countEvents(where: string, params: unknown[] = []): Promise<number> {
    const { rows } = await db.query(`SELECT count(*)::int AS n FROM event_store.events WHERE ${where}`, params);
    return rows[0].n;
  }

  async function deliveries(): Promise<number> {
    return countEvents(`stream_id LIKE $1`, [`delivery-shopify-${shopId}-%`]);
  }

  it('accepts a signed delivery once, and a duplicate or replay changes nothing (R17)', async () => {
    const body = shopifyCheckout({ token: 'tok-dup', updatedAt: '2026-11-20T10:05:00-05:00' });
    const hdrs = headers('checkouts/update', body);
    const before = await deliveries();
    const first = await post(h, '/webhooks/shopify', body, hdrs);
    expect(first).toEqual({
      status: 200,
      body: expect.objectContaining({ status: 'accepted', deliveryId: hdrs['x-shopify-webhook-id'] }),
    });
    for (let i = 0; i < 3; i++) {
      const again = await post(h, '/webhooks/shopify', body, hdrs);
      expect(again.status).toBe(200);
    }
    expect(await deliveries()).toBe(before + 1);
  });

  it.each([
    ['a flipped byte', (b: string, hd: Record<string, string>) => ({ body: b.replace('Desk', 'Dusk'), hd })],
    ['re-serialised JSON', (b: string, hd: Record<string, string>) => ({ body: JSON.stringify(JSON.parse(b)), hd })],
    [
      'a wrong secret',
      (b: string, hd: Record<string, string>) => ({
        body: b,
        hd: { ...hd, 'x-shopify-hmac-sha256': hmacBase64('wrong-secret', b) },
      }),
    ],
    [
      'a hex signature',
      (b: string, hd: Record<string, string>) => ({
        body: b,
        hd: { ...hd, 'x-shopify-hmac-sha256': Buffer.from(hd['x-shopify-hmac-sha256'], 'base64').toString('hex') },
      }),
    ],
    [
      'no signature header',
      (b: string, hd: Record<string, string>) => ({
        body: b,
        hd: Object.fromEntries(Object.entries(hd).filter(([k]) => k !== 'x-shopify-hmac-sha256')),
      }),
    ],
    [
      "another shop's domain (R18)",
      (b: string, hd: Record<string, string>) => ({
        body: b,
        hd: { ...hd, 'x-shopify-shop-domain': 'other.myshopify.com' },
      }),
    ],
  ])('answers 401 and stores nothing for %s (R16)', async (_name, tamper) => {
    const body = shopifyCheckout({ token: `tok-${randomUUID()}`, updatedAt: '2026-11-20T10:05:00-05:00' });
    const { body: sent, hd } = tamper(body, headers('checkouts/update', body));
    const before = await deliveries();
    const res = await post(h, '/webhooks/shopify', sent, hd);
    expect(res.status).toBe(401);
    expect(await deliveries()).toBe(before);
  });

  it('answers 400 naming the problem for malformed JSON and 415 for a wrong content type, storing nothing (R9)', async () => {
    const before = await deliveries();
    const truncated = shopifyCheckout({ token: 'tok-trunc', updatedAt: '2026-11-20T10:05:00-05:00' }).slice(0, 200);
    const bad = await post(h, '/webhooks/shopify', truncated, headers('checkouts/update', truncated));
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatch(/json/i);
    const body = shopifyCheckout({ token: 'tok-ct', updatedAt: '2026-11-20T10:05:00-05:00' });
    const wrongType = await post(
      h,
      '/webhooks/shopify',
      body,
      headers('checkouts/update', body, { 'content-type': 'text/plain' }),
    );
    expect(wrongType.status).toBe(415);
    expect(wrongType.body.field).toBe('content-type');
    expect(await deliveries()).toBe(before);
  });

  it('answers 413 for a body over WEBHOOK_BODY_LIMIT, storing nothing (R10)', async () => {
    const before = await deliveries();
    const huge = shopifyCheckout({
      token: 'tok-big',
      updatedAt: '2026-11-20T10:05:00-05:00',
      name: 'x'.repeat(70 * 1024),
    });
    const res = await post(h, '/webhooks/shopify', huge, headers('checkouts/update', huge));
    expect(res.status).toBe(413);
    expect(res.body.error).toMatch(/WEBHOOK_BODY_LIMIT/);
    expect(await deliveries()).toBe(before);
  });

  it('parks an unknown topic with 200 (R15) and quarantines bad money with a reason (R12)', async () => {
    const body = '{"id": 1, "something": "new"}';
    const parked = await post(h, '/webhooks/shopify', body, headers('inventory_levels/teleport', body));
    expect(parked).toEqual({ status: 200, body: expect.objectContaining({ status: 'parked' }) });
    expect(await countEvents(`type = 'webhook.parked' AND data->>'shopId' = $1`, [shopId])).toBe(1);

    const badMoney = shopifyCheckout({ token: 'tok-money', updatedAt: '2026-11-20T10:05:00-05:00', price: '12,50' });
    const q = await post(h, '/webhooks/shopify', badMoney, headers('checkouts/update', badMoney));
    expect(q.status).toBe(200);
    expect(q.body.status).toBe('quarantined');
    expect(q.body.reason).toEqual(expect.any(String));
    expect(await countEvents(`type = 'webhook.quarantined' AND data->>'shopId' = $1`, [shopId])).toBe(1);
    expect(await countEvents(`type = 'cart.activity-recorded' AND data->>'cartId' = 'cart-tok-money'`)).toBe(0);
  });

  it('applies a checkout: lossless ids, decimal money, and no personal data in clear text', async () => {
    const body = shopifyCheckout({ token: 'tok-apply', updatedAt: '2026-11-20T10:05:00-05:00' });
    expect((await post(h, '/webhooks/shopify', body, headers('checkouts/create', body))).status).toBe(200);
    const row = await eventually(async () => {
      const { rows } = await db.query(
        `SELECT data::text AS text, data FROM event_store.events WHERE type = 'cart.activity-recorded' AND data->>'cartId' = 'cart-tok-apply'`,
      );
      return rows[0];
    });
    expect(row.data.total).toMatch(/^249(\.0+)?$/); // a decimal string, never a float
    expect(row.data.currency).toBe('USD');
    expect(row.data.lineItems[0].variantId).toBe('9123456789012345678');
    expect(row.data.platformCustomerId ?? row.data.customerKey).toBeDefined();
    expect(row.data.reach).toEqual({ email: true, sms: true });
    expect(row.data.contact.$sealed).toBe('aes-256-gcm/v2');
    const { rows: all } = await db.query(`SELECT string_agg(data::text, ' ') AS t FROM event_store.events`);
    for (const pii of ['ada@example.com', '+14155550123', 'Lovelace', 'Analytical Way'])
      expect(all[0].t).not.toContain(pii);
    expect(all[0].t).not.toContain(BIG_ID.slice(0, 15) + '2'); // never the float-rounded id
  });

  it('keeps a purchased cart purchased whatever order the deliveries arrive in (R14)', async () => {
    const token = 'tok-order';
    const order = shopifyOrder({ checkoutToken: token });
    const late = shopifyCheckout({ token, updatedAt: '2026-11-20T11:59:00-05:00' });
    const stale = shopifyCheckout({ token, updatedAt: '2026-11-20T09:00:00-05:00' });
    expect((await post(h, '/webhooks/shopify', order, headers('orders/create', order))).status).toBe(200);
    // Shopify keys a cart by its cart_token (checkout and cart share one stream).
    const cartKey = `cart-${token}`;
    await eventually(
      async () => (await countEvents(`type = 'cart.purchased' AND data->>'cartId' = $1`, [cartKey])) === 1,
    );
    expect((await post(h, '/webhooks/shopify', late, headers('checkouts/update', late))).status).toBe(200);
    expect((await post(h, '/webhooks/shopify', stale, headers('checkouts/update', stale))).status).toBe(200);
    await eventually(async () => {
      const { rows } = await db.query(
        `SELECT count(*)::int AS n FROM event_store.events WHERE type = 'webhook.received' AND data->>'shopId' = $1`,
        [shopId],
      );
      const cp = await db.query(
        `SELECT position FROM event_store.subscription_checkpoints WHERE name = 'ingest.delivery-processor'`,
      );
      const head = await db.query(
        `SELECT max(global_position)::text AS p FROM event_store.events WHERE type = 'webhook.received'`,
      );
      return rows[0].n > 0 && cp.rows[0] && BigInt(cp.rows[0].position.split('/')[0]) >= BigInt(head.rows[0].p);
    });
    const { rows } = await db.query(`SELECT type FROM event_store.events WHERE stream_id LIKE $1 ORDER BY revision`, [
      `cart-${shopId}-${cartKey}`,
    ]);
    expect(rows.map((r) => r.type)).toEqual(['cart.purchased']);
  });

  it('accepts the previous secret during a rotation window, and only the new one after it', async () => {
    const rotated = await api(h, 'POST', `/api/shops/${shopId}/rotate-secret`, {
      webhookSecret: 'shpss_test_secret_two',
      previousValidFor: '1h',
    });
    expect(rotated.status).toBe(200);
    const body = shopifyCheckout({ token: 'tok-rot', updatedAt: '2026-11-20T10:05:00-05:00' });
    expect((await post(h, '/webhooks/shopify', body, headers('checkouts/update', body))).status).toBe(200);
    const withNew = {
      ...headers('checkouts/update', body),
      'x-shopify-hmac-sha256': hmacBase64('shpss_test_secret_two', body),
    };
    expect((await post(h, '/webhooks/shopify', body, withNew)).status).toBe(200);
    const expired = await api(h, 'POST', `/api/shops/${shopId}/rotate-secret`, {
      webhookSecret: 'shpss_test_secret_three',
      previousValidFor: '0s',
    });
    expect(expired.status).toBe(200);
    expect((await post(h, '/webhooks/shopify', body, headers('checkouts/update', body))).status).toBe(401);
  });

  it('answers 503 and stores nothing when the event store cannot append (R6)', async () => {
    const body = shopifyCheckout({ token: 'tok-down', updatedAt: '2026-11-20T10:05:00-05:00' });
    const hd = {
      ...headers('checkouts/update', body),
      'x-shopify-hmac-sha256': hmacBase64('shpss_test_secret_three', body),
    };
    // Only the delivery append fails (background workers keep appending meanwhile).
    const store = h.runtime.store;
    const original = store.append.bind(store);
    const spy = jest
      .spyOn(store, 'append')
      .mockImplementation((stream, events, expected) =>
        stream.startsWith('delivery-')
          ? Promise.reject(new Error('connection terminated'))
          : original(stream, events, expected),
      );
    const before = await deliveries();
    const res = await post(h, '/webhooks/shopify', body, hd);
    spy.mockRestore();
    expect(res.status).toBe(503);
    expect(await deliveries()).toBe(before);
    expect((await post(h, '/webhooks/shopify', body, hd)).status).toBe(200); // the platform's retry lands
  });

  it('shreds the customer on customers/redact: earlier sealed data becomes unreadable (R29)', async () => {
    const { rows } = await db.query(
      `SELECT data FROM event_store.events WHERE type = 'cart.activity-recorded' AND data->>'cartId' = 'cart-tok-apply'`,
    );
    const sealed = rows[0].data.contact;
    expect(await h.runtime.vault.open(shopId, sealed)).not.toBeNull();
    const body = shopifyRedact();
    const hd = {
      ...headers('customers/redact', body),
      'x-shopify-hmac-sha256': hmacBase64('shpss_test_secret_three', body),
    };
    expect((await post(h, '/webhooks/shopify', body, hd)).status).toBe(200);
    await eventually(async () => (await h.runtime.vault.open(shopId, sealed)) === null);
  });
});

describe('admin API: shops', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => h?.close());

  const valid = {
    platform: 'woocommerce',
    shopDomain: 'https://Woo.Example.com/',
    webhookSecret: 'woo-secret-123',
    apiUrl: 'https://woo.example.com/wp-json/wc/v3',
    apiToken: 'ck_x:cs_y',
    currency: 'EUR',
    timezone: 'Europe/Berlin',
  };

  it('requires a token (401) and refuses writes with the analyst token (403) (R19)', async () => {
    expect((await api(h, 'GET', '/api/shops', undefined, null)).status).toBe(401);
    expect((await api(h, 'GET', '/api/shops', undefined, 'nope')).status).toBe(401);
    expect((await api(h, 'POST', '/api/shops', valid, ANALYST_TOKEN)).status).toBe(403);
    expect((await api(h, 'GET', '/api/shops', undefined, ANALYST_TOKEN)).status).toBe(200);
  });

  it('answers 400 naming each bad field and writes nothing', async () => {
    const res = await api(h, 'POST', '/api/shops', {
      ...valid,
      currency: 'euros',
      timezone: 'Mars/Olympus',
      platform: 'magento',
    });
    expect(res.status).toBe(400);
    const text = JSON.stringify(res.body.message);
    expect(text).toMatch(/currency/);
    expect(text).toMatch(/timezone/);
    expect(text).toMatch(/platform/);
    expect((await api(h, 'GET', '/api/shops')).body).toEqual([]);
  });

  it('registers, lists without secrets, returns the CartFlows URL once, and refuses a duplicate (409)', async () => {
    const created = await api(h, 'POST', '/api/shops', valid);
    expect(created.status).toBe(201);
    expect(created.body.shopDomain).toBe('woo.example.com');
    expect(created.body.cartflowsUrl).toMatch(/\/webhooks\/woocommerce\/cartflows\/[A-Za-z0-9_-]{20,}$/);
    const list = await api(h, 'GET', '/api/shops');
    expect(list.body).toHaveLength(1);
    const text = JSON.stringify(list.body);
    expect(text).not.toContain('woo-secret-123');
    expect(text).not.toContain('cs_y');
    expect(text).not.toContain('cartflows');
    expect((await api(h, 'POST', '/api/shops', valid)).status).toBe(409);
    const { rows } = await h.runtime.pool.query(`SELECT * FROM app.shops`);
    expect(JSON.stringify(rows)).not.toContain('woo-secret-123');
  });

  it('serves /health and the OpenAPI document', async () => {
    const health = await api(h, 'GET', '/health', undefined, null);
    expect(health.status).toBe(200);
    expect(health.body.checks).toEqual({ database: { status: 'up' }, eventStore: { status: 'up' } });
    const docs = await fetch(`${h.baseUrl}/docs-json`);
    expect(docs.status).toBe(200);
    expect(Object.keys(((await docs.json()) as { paths: object }).paths)).toContain('/api/shops');
  });
});

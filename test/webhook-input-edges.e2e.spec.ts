import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { signStandardWebhook } from '@reclaim/platforms';
import { api, eventually, hmacBase64, post, registerShop, startHarness, type Harness } from './support/harness';
import { shopifyCheckout } from './support/payloads';

const SHOPIFY_SECRET = 'shpss_edges_secret';
const SHOPIFY_DOMAIN = 'edges.myshopify.com';
const BC_SECRET = 'whsec_' + Buffer.from('bigcommerce-edges-secret-0123456789').toString('base64');
const BC_HASH = 'edges123';
const WOO_SECRET = 'woo-edges-secret-0123456789';
const WOO_DOMAIN = 'edges-woo.example.com';

/**
 * Input edge cases on the webhook routes (issue 11 item 3; R9, R10, R16): the signature is
 * checked on the raw bytes before anything is parsed; content type, size and nesting limits have
 * their own answers naming what failed; NUL and unpaired surrogates never reach PostgreSQL (an
 * identifier is refused with 400 naming it, free text is stored with U+FFFD); never a 503.
 */
describe('webhook input edge cases', () => {
  let h: Harness;
  let db: Client;
  let shopifyId: string;

  beforeAll(async () => {
    h = await startHarness({ WEBHOOK_BODY_LIMIT: '64kb' });
    db = new Client({ connectionString: h.db.url });
    await db.connect();
    shopifyId = (
      await registerShop(h, { platform: 'shopify', shopDomain: SHOPIFY_DOMAIN, webhookSecret: SHOPIFY_SECRET })
    ).id;
    await registerShop(h, { platform: 'bigcommerce', shopDomain: BC_HASH, webhookSecret: BC_SECRET });
    await registerShop(h, { platform: 'woocommerce', shopDomain: WOO_DOMAIN, webhookSecret: WOO_SECRET });
  });

  afterAll(async () => {
    await db?.end();
    await h?.close();
  });

  const stored = async (): Promise<number> =>
    (
      await db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM event_store.events WHERE stream_id LIKE 'delivery-%'`,
      )
    ).rows[0]!.n;

  const shopify = (body: string, extra: Record<string, string | undefined> = {}, signed: string = body) => {
    const headers: Record<string, string> = {};
    const all: Record<string, string | undefined> = {
      'content-type': 'application/json',
      'x-shopify-topic': 'checkouts/update',
      'x-shopify-shop-domain': SHOPIFY_DOMAIN,
      'x-shopify-api-version': '2025-01',
      'x-shopify-webhook-id': randomUUID(),
      'x-shopify-hmac-sha256': hmacBase64(SHOPIFY_SECRET, signed),
      ...extra,
    };
    for (const [k, v] of Object.entries(all)) if (v !== undefined) headers[k] = v;
    return post(h, '/webhooks/shopify', body, headers);
  };

  const bigcommerce = (body: string) => {
    const id = randomUUID();
    const timestamp = Math.floor(Date.now() / 1000);
    return post(h, '/webhooks/bigcommerce', body, {
      'content-type': 'application/json',
      'webhook-id': id,
      'webhook-timestamp': String(timestamp),
      'webhook-signature': signStandardWebhook(BC_SECRET, id, timestamp, Buffer.from(body)),
    });
  };

  const woo = (body: string) =>
    post(h, '/webhooks/woocommerce', body, {
      'content-type': 'application/json',
      'x-wc-webhook-source': `https://${WOO_DOMAIN}/`,
      'x-wc-webhook-topic': 'order.updated',
      'x-wc-webhook-signature': hmacBase64(WOO_SECRET, body),
    });

  it('checks the signature before parsing: a flipped byte that breaks the JSON is 401, a signed broken body 400 (R9, R16)', async () => {
    const before = await stored();
    const body = shopifyCheckout({ token: 'tok-flip', updatedAt: '2026-11-20T10:05:00-05:00' });
    const flipped = body.replace('"token"', '"token\u0001');
    expect((await shopify(flipped, {}, body)).status).toBe(401);
    const broken = body.slice(0, 120);
    const signedBroken = await shopify(broken);
    expect(signedBroken.status).toBe(400);
    expect(signedBroken.body.field).toBe('body');
    // BigCommerce names the store only in the body: found without parsing, so a broken signed body is 400 too.
    const bc = `{"scope":"store/cart/created","data":{"type":"cart","id":"c1"},"hash":"h1","created_at":1767225600,"producer":"stores/${BC_HASH}"`;
    expect((await bigcommerce(bc)).status).toBe(400);
    expect(await stored()).toBe(before);
  });

  it('answers 415 naming the header for a missing or wrong Content-Type (R9)', async () => {
    const before = await stored();
    const body = shopifyCheckout({ token: 'tok-ct', updatedAt: '2026-11-20T10:05:00-05:00' });
    for (const ct of [undefined, 'text/plain', 'application/x-www-form-urlencoded']) {
      const res = await shopify(body, { 'content-type': ct });
      expect(res.status).toBe(415);
      expect(res.body.field).toBe('content-type');
    }
    expect(await stored()).toBe(before);
  });

  it('answers 413 naming the limit for deep nesting and for an oversized body (R10)', async () => {
    const before = await stored();
    const deep = `{"id":1,"x":${'['.repeat(5000)}${']'.repeat(5000)}}`;
    const nested = await shopify(deep);
    expect(nested.status).toBe(413);
    expect(nested.body.error).toMatch(/MAX_JSON_DEPTH/);
    const big = shopifyCheckout({ token: 'tok-big', updatedAt: '2026-11-20T10:05:00-05:00', name: 'x'.repeat(70_000) });
    const large = await shopify(big);
    expect(large.status).toBe(413);
    expect(large.body.error).toMatch(/WEBHOOK_BODY_LIMIT/);
    expect(await stored()).toBe(before);
  });

  it('refuses NUL and unpaired surrogates in identifiers with 400 naming the field, never 503', async () => {
    const before = await stored();
    const scope = await bigcommerce(
      `{"scope":"store/cart/\\u0000created","data":{"type":"cart","id":"c1"},"hash":"h2","created_at":1767225600,"producer":"stores/${BC_HASH}"}`,
    );
    expect(scope).toMatchObject({ status: 400, body: { field: 'scope' } });
    const order = await woo('{"id":"42\\u0000","date_modified_gmt":"2026-11-20T10:00:00","status":"processing"}');
    expect(order).toMatchObject({ status: 400, body: { field: 'id' } });
    const lone = await woo('{"id":43,"date_modified_gmt":"2026-11-20T10:00:00\\udfff","status":"processing"}');
    expect(lone).toMatchObject({ status: 400, body: { field: 'id' } });
    expect(await stored()).toBe(before);
    // A payload id the mapper cannot use is quarantined (200, parked with the field and reason; the body sealed).
    const cartId = await bigcommerce(
      `{"scope":"store/cart/abandoned","data":{"type":"cart","id":"c\\ud800"},"hash":"h3","created_at":1767225600,"producer":"stores/${BC_HASH}"}`,
    );
    expect(cartId).toMatchObject({ status: 200, body: { status: 'quarantined', field: 'data.id' } });
  });

  it('stores free text with NUL or an unpaired surrogate safely (U+FFFD) and applies it', async () => {
    const body = shopifyCheckout({
      token: 'tok-text',
      updatedAt: '2026-11-20T10:05:00-05:00',
      name: 'Lamp \\u0000 \\ud83d',
    });
    const res = await shopify(body);
    expect(res).toMatchObject({ status: 200, body: { status: 'accepted' } });
    await eventually(async () => {
      const { rows } = await db.query<{ t: string }>(
        `SELECT data::text AS t FROM event_store.events WHERE type = 'cart.activity-recorded' AND data->>'cartId' = 'cart-tok-text'`,
      );
      return rows[0]?.t.includes('Lamp \ufffd \ufffd');
    });
  });

  it('answers a clear final page for a valid unsubscribe link of a removed shop, not 503', async () => {
    const gone = randomUUID();
    const token = h.runtime.engine.linkDeps.tokens.unsubscribe({
      shopId: gone,
      recoveryId: `recovery-${gone}-cart-1`,
      step: 0,
      channel: 'email',
      customerKey: 'e-0123456789abcdef0123456789abcdef',
    });
    const oneClick = await fetch(`${h.baseUrl}/u/${token}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'List-Unsubscribe=One-Click',
    });
    expect(oneClick.status).toBe(200);
    expect(await oneClick.text()).toMatch(/no longer sends/);
    const page = await fetch(`${h.baseUrl}/u/${token}?via=page`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'List-Unsubscribe=One-Click',
    });
    expect(page.status).toBe(200);
    expect(await page.text()).toMatch(/no longer sends/);
    expect(shopifyId).toBeDefined();
  });
});

describe('outbound URL guard at registration (R22)', () => {
  let h: Harness;
  beforeAll(async () => {
    // The appliance default: no loopback or private store URLs.
    h = await startHarness({ ALLOW_PRIVATE_STORE_URLS: 'false' });
  });
  afterAll(async () => h?.close());

  it.each([
    'http://169.254.169.254/latest/meta-data',
    'http://127.0.0.1:9000/admin/api',
    'http://localhost/admin/api',
    'http://10.0.0.7/admin/api',
    'http://metadata.google.internal/',
  ])('refuses apiUrl %s with 400 naming apiUrl, storing nothing', async (apiUrl) => {
    const res = await api(h, 'POST', '/api/shops', {
      platform: 'shopify',
      shopDomain: 'guard.myshopify.com',
      webhookSecret: 'guard-secret-123456',
      apiUrl,
      apiToken: 'guard-api-token-123',
      currency: 'USD',
      timezone: 'UTC',
    });
    expect(res.status).toBe(400);
    expect(JSON.stringify(res.body.message)).toMatch(/apiUrl/);
    expect((await api(h, 'GET', '/api/shops')).body).toEqual([]);
  });
});

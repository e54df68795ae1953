import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { Client } from 'pg';
import { signStandardWebhook } from '@reclaim/platforms';
import { api, eventually, hmacBase64, post, startHarness, type Harness } from './support/harness';

const BC_SECRET = 'whsec_' + Buffer.from('bigcommerce-test-secret-0123456789').toString('base64');
const BC_HASH = 'abc123xyz';
const WOO_SECRET = 'woo-secret-0123456789';
const WOO_DOMAIN = 'woo.example.com';

/** A stand-in for the BigCommerce Management API: serves one cart, 404 for the rest, and records the auth header. */
function bigCommerceStub(cartId: string): Promise<{ server: Server; url: string; tokens: string[] }> {
  const tokens: string[] = [];
  const server = createServer((req, res) => {
    tokens.push(String(req.headers['x-auth-token']));
    if (req.url?.startsWith(`/stores/${BC_HASH}/v3/carts/${cartId}`)) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(`{"data":{"id":"${cartId}","customer_id":0,"email":"grace@example.com","currency":{"code":"USD"},
        "base_amount":320.5,"cart_amount":320.50,"created_time":"2026-11-20T10:00:00+00:00","updated_time":"2026-11-20T10:10:00+00:00",
        "line_items":{"physical_items":[{"id":"li-1","product_id":77,"variant_id":501,"sku":"TENT-2","name":"Two-person tent","quantity":1,
        "list_price":320.5,"sale_price":320.50,"image_url":"https://cdn.example.com/tent.jpg","url":"https://bc.example.com/tent/"}],
        "digital_items":[],"custom_items":[]},"redirect_urls":{"checkout_url":"https://bc.example.com/checkout?cart=${cartId}"}}}`);
      return;
    }
    res.writeHead(404, { 'content-type': 'application/json' });
    res.end('{"status":404,"title":"Not found"}');
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      resolve({ server, url: `http://127.0.0.1:${port}/stores/${BC_HASH}`, tokens });
    }),
  );
}

describe('BigCommerce and WooCommerce webhooks through HTTP', () => {
  let h: Harness;
  let db: Client;
  let stub: Awaited<ReturnType<typeof bigCommerceStub>>;
  let bcShopId: string;
  let wooShopId: string;
  let cartflowsUrl: string;
  const cartId = randomUUID();

  beforeAll(async () => {
    h = await startHarness();
    db = new Client({ connectionString: h.db.url });
    await db.connect();
    stub = await bigCommerceStub(cartId);
    const bc = await api(h, 'POST', '/api/shops', {
      platform: 'bigcommerce',
      shopDomain: BC_HASH,
      webhookSecret: BC_SECRET,
      apiUrl: stub.url,
      apiToken: 'bc-api-token',
      currency: 'USD',
      timezone: 'America/Chicago',
    });
    expect(bc.status).toBe(201);
    bcShopId = bc.body.id;
    const woo = await api(h, 'POST', '/api/shops', {
      platform: 'woocommerce',
      shopDomain: `https://${WOO_DOMAIN}`,
      webhookSecret: WOO_SECRET,
      apiUrl: `https://${WOO_DOMAIN}/wp-json/wc/v3`,
      apiToken: 'ck:cs',
      currency: 'EUR',
      timezone: 'Europe/Berlin',
    });
    expect(woo.status).toBe(201);
    wooShopId = woo.body.id;
    cartflowsUrl = new URL(woo.body.cartflowsUrl).pathname;
  });

  afterAll(async () => {
    await db?.end();
    await h?.close();
    stub?.server.close();
  });

  function bcDelivery(scope: string, data: object, opts: { id?: string; timestamp?: number; secret?: string } = {}) {
    const body = JSON.stringify({
      scope,
      store_id: '1025646',
      data,
      hash: randomUUID().replace(/-/g, ''),
      created_at: Math.floor(Date.now() / 1000),
      producer: `stores/${BC_HASH}`,
    });
    const id = opts.id ?? `msg_${randomUUID()}`;
    const ts = opts.timestamp ?? Math.floor(Date.now() / 1000);
    return {
      body,
      headers: {
        'content-type': 'application/json',
        'webhook-id': id,
        'webhook-timestamp': String(ts),
        'webhook-signature': signStandardWebhook(opts.secret ?? BC_SECRET, id, ts, Buffer.from(body)),
      },
    };
  }

  async function count(sql: string, params: unknown[]): Promise<number> {
    const { rows } = await db.query(`SELECT count(*)::int AS n FROM event_store.events WHERE ${sql}`, params);
    return rows[0].n;
  }

  it('BigCommerce: a signed thin delivery is stored once, then the cart is fetched with the shop token and recorded', async () => {
    const d = bcDelivery('store/cart/created', { type: 'cart', id: cartId });
    expect((await post(h, '/webhooks/bigcommerce', d.body, d.headers)).status).toBe(200);
    expect((await post(h, '/webhooks/bigcommerce', d.body, d.headers)).status).toBe(200); // BigCommerce duplicates occur
    expect(await count(`stream_id LIKE $1`, [`delivery-bigcommerce-${bcShopId}-%`])).toBe(1);
    const row = await eventually(async () => {
      const { rows } = await db.query(
        `SELECT data FROM event_store.events WHERE type = 'cart.activity-recorded' AND data->>'cartId' = $1`,
        [cartId],
      );
      return rows[0];
    });
    expect(row.data.total).toBe('320.5');
    expect(row.data.lineItems[0]).toEqual(
      expect.objectContaining({ productId: '77', variantId: '501', unitPrice: '320.5' }),
    );
    expect(JSON.stringify(row.data)).not.toContain('grace@example.com');
    expect(stub.tokens).toContain('bc-api-token');
  });

  it('BigCommerce: a stale timestamp, a wrong secret or another store hash are refused with 401 (R16, R17, R18)', async () => {
    const stale = bcDelivery(
      'store/cart/updated',
      { type: 'cart', id: cartId },
      { timestamp: Math.floor(Date.now() / 1000) - 3 * 86400 },
    );
    expect((await post(h, '/webhooks/bigcommerce', stale.body, stale.headers)).status).toBe(401);
    const wrong = bcDelivery(
      'store/cart/updated',
      { type: 'cart', id: cartId },
      { secret: 'whsec_' + Buffer.from('nope-nope-nope-nope').toString('base64') },
    );
    expect((await post(h, '/webhooks/bigcommerce', wrong.body, wrong.headers)).status).toBe(401);
    const other = bcDelivery('store/cart/updated', { type: 'cart', id: cartId });
    const otherBody = other.body.replace(`stores/${BC_HASH}`, 'stores/someoneelse');
    expect((await post(h, '/webhooks/bigcommerce', otherBody, other.headers)).status).toBe(401);
  });

  it('BigCommerce: a cart the API no longer has is recorded as deleted', async () => {
    const gone = randomUUID();
    const d = bcDelivery('store/cart/updated', { type: 'cart', id: gone });
    expect((await post(h, '/webhooks/bigcommerce', d.body, d.headers)).status).toBe(200);
    await eventually(async () => (await count(`type = 'cart.deleted' AND data->>'cartId' = $1`, [gone])) === 1);
  });

  it('WooCommerce: the unsigned ping gets 200 and stores nothing; signed orders are deduped by resource and modification time', async () => {
    const before = await count(`stream_id LIKE $1`, [`delivery-woocommerce-${wooShopId}-%`]);
    const ping = await post(h, '/webhooks/woocommerce', 'webhook_id=17', {
      'content-type': 'application/x-www-form-urlencoded',
      'x-wc-webhook-source': `https://${WOO_DOMAIN}/`,
    });
    expect(ping.status).toBe(200);
    const order = JSON.stringify({
      id: 4711,
      status: 'processing',
      currency: 'EUR',
      total: '59.90',
      discount_total: '0.00',
      date_created_gmt: '2026-11-20T10:00:00',
      date_modified_gmt: '2026-11-20T10:01:00',
      customer_id: 12,
      billing: { first_name: 'Émilie', last_name: 'Zoë', email: 'emilie@example.com', phone: '+4915112345678' },
      line_items: [
        {
          id: 1,
          product_id: 5,
          variation_id: 0,
          name: 'Mug ☕',
          quantity: 2,
          price: 29.95,
          subtotal: '59.90',
          total: '59.90',
          sku: 'MUG',
        },
      ],
      coupon_lines: [],
    });
    const headers = (deliveryId: string) => ({
      'content-type': 'application/json',
      'x-wc-webhook-source': `https://${WOO_DOMAIN}/`,
      'x-wc-webhook-topic': 'order.created',
      'x-wc-webhook-resource': 'order',
      'x-wc-webhook-event': 'created',
      'x-wc-webhook-delivery-id': deliveryId, // not stable across retries: not used for dedupe
      'x-wc-webhook-signature': hmacBase64(WOO_SECRET, order),
    });
    expect((await post(h, '/webhooks/woocommerce', order, headers('1'))).status).toBe(200);
    expect((await post(h, '/webhooks/woocommerce', order, headers('2'))).status).toBe(200);
    expect(await count(`stream_id LIKE $1`, [`delivery-woocommerce-${wooShopId}-%`])).toBe(before + 1);
    await eventually(async () => (await count(`type = 'order.placed' AND data->>'orderId' = '4711'`, [])) === 1);
    const bad = await post(h, '/webhooks/woocommerce', order, {
      ...headers('3'),
      'x-wc-webhook-signature': hmacBase64('wrong', order),
    });
    expect(bad.status).toBe(401);
  });

  it('WooCommerce CartFlows: accepted only at the shop secret URL, unsigned, form-encoded', async () => {
    const form = new URLSearchParams({
      first_name: 'Ana',
      last_name: 'Lima',
      email: 'ana@example.com',
      phone_number: '+5511912345678',
      checkout_url: `https://${WOO_DOMAIN}/checkout/?wcf_ac_token=tok-42`,
      product_names: 'Mug ☕',
      cart_total: '59.90',
      order_status: 'abandoned',
    }).toString();
    const h1 = { 'content-type': 'application/x-www-form-urlencoded' };
    expect((await post(h, '/webhooks/woocommerce/cartflows/not-the-token', form, h1)).status).toBe(404);
    expect((await post(h, cartflowsUrl, form, h1)).status).toBe(200);
    expect((await post(h, cartflowsUrl, form, h1)).status).toBe(200);

    await eventually(
      async () => (await count(`type = 'cart.abandoned-by-platform' AND data->>'shopId' = $1`, [wooShopId])) === 1,
    );
    const { rows } = await db.query(
      `SELECT data FROM event_store.events WHERE type = 'cart.activity-recorded' AND data->>'shopId' = $1`,
      [wooShopId],
    );
    expect(rows).toHaveLength(1);
    expect(rows[0].data.total).toBe('59.9');
    expect(JSON.stringify(rows[0].data)).not.toMatch(/ana@example\.com|Lima|\+5511912345678/);
  });
});

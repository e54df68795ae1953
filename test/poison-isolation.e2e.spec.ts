import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { Client } from 'pg';
import { signStandardWebhook } from '@reclaim/platforms';
import { api, ANALYST_TOKEN, eventually, hmacBase64, post, startHarness, type Harness } from './support/harness';

const BC_SECRET = 'whsec_' + Buffer.from('bigcommerce-poison-secret-0123456789').toString('base64');
const BC_HASH = 'poison42';
const WOO_SECRET = 'woo-poison-secret-0123456789';
const WOO_DOMAIN = 'woo-healthy.example.com';

/**
 * A BigCommerce store API that is unreachable (every connection reset) until `heal()`; then it
 * serves every cart.
 */
function flakyStore(): Promise<{ server: Server; url: string; heal(): void; calls: () => number }> {
  let healthy = false;
  let calls = 0;
  const server = createServer((req, res) => {
    calls++;
    if (!healthy) {
      req.socket.destroy();
      return;
    }
    const id = /carts\/([^/?]+)/.exec(req.url ?? '')?.[1] ?? 'x';
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(`{"data":{"id":"${id}","customer_id":0,"email":"poison@example.com","currency":{"code":"USD"},
      "base_amount":10,"cart_amount":10,"created_time":"2026-11-20T10:00:00+00:00","updated_time":"2026-11-20T10:10:00+00:00",
      "line_items":{"physical_items":[{"id":"li-1","product_id":7,"variant_id":8,"sku":"S","name":"Sock","quantity":1,
      "list_price":10,"sale_price":10,"image_url":"https://cdn.example.com/s.jpg","url":"https://bc.example.com/s/"}],
      "digital_items":[],"custom_items":[]},"redirect_urls":{"checkout_url":"https://bc.example.com/checkout"}}}`);
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      resolve({
        server,
        url: `http://127.0.0.1:${port}/stores/${BC_HASH}`,
        heal: () => {
          healthy = true;
        },
        calls: () => calls,
      });
    }),
  );
}

/**
 * Issue 11 item 1 (the critical repro): a BigCommerce shop whose store API is unreachable must not
 * stop the other shops' deliveries from being applied. Its delivery is retried with back-off, then
 * parked as a dead letter: listed on the dashboard, counted in /metrics, named by /health, and
 * applied by the admin's retry once the store answers again.
 */
describe('poison isolation of the delivery processor (R1, issue 11)', () => {
  let h: Harness;
  let db: Client;
  let store: Awaited<ReturnType<typeof flakyStore>>;
  let bcShopId: string;
  let wooShopId: string;

  beforeAll(async () => {
    h = await startHarness({ DEAD_LETTER_ATTEMPTS: '2', DEAD_LETTER_BACKOFF: '100ms' });
    db = new Client({ connectionString: h.db.url });
    await db.connect();
    store = await flakyStore();
    const bc = await api(h, 'POST', '/api/shops', {
      platform: 'bigcommerce',
      shopDomain: BC_HASH,
      webhookSecret: BC_SECRET,
      apiUrl: store.url,
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
  });

  afterAll(async () => {
    await db?.end();
    await h?.close();
    store?.server.close();
  });

  function bcCart(cartId: string) {
    const body = JSON.stringify({
      scope: 'store/cart/created',
      store_id: '1025646',
      data: { type: 'cart', id: cartId },
      hash: randomUUID().replace(/-/g, ''),
      created_at: Math.floor(Date.now() / 1000),
      producer: `stores/${BC_HASH}`,
    });
    const id = `msg_${randomUUID()}`;
    const ts = Math.floor(Date.now() / 1000);
    return {
      body,
      headers: {
        'content-type': 'application/json',
        'webhook-id': id,
        'webhook-timestamp': String(ts),
        'webhook-signature': signStandardWebhook(BC_SECRET, id, ts, Buffer.from(body)),
      },
    };
  }

  function wooOrder(id: number) {
    const body = JSON.stringify({
      id,
      status: 'processing',
      currency: 'EUR',
      total: '12.00',
      discount_total: '0.00',
      date_created_gmt: '2026-11-20T10:00:00',
      date_modified_gmt: '2026-11-20T10:01:00',
      customer_id: 0,
      billing: { first_name: 'Ada', last_name: 'L', email: `ada${id}@example.com`, phone: '' },
      line_items: [
        {
          id: 1,
          product_id: 5,
          variation_id: 0,
          name: 'Mug',
          quantity: 1,
          price: 12,
          subtotal: '12.00',
          total: '12.00',
          sku: 'MUG',
        },
      ],
      coupon_lines: [],
    });
    return {
      body,
      headers: {
        'content-type': 'application/json',
        'x-wc-webhook-source': `https://${WOO_DOMAIN}/`,
        'x-wc-webhook-topic': 'order.created',
        'x-wc-webhook-resource': 'order',
        'x-wc-webhook-event': 'created',
        'x-wc-webhook-delivery-id': String(id),
        'x-wc-webhook-signature': hmacBase64(WOO_SECRET, body),
      },
    };
  }

  async function count(sql: string, params: unknown[]): Promise<number> {
    const { rows } = await db.query(`SELECT count(*)::int AS n FROM event_store.events WHERE ${sql}`, params);
    return rows[0].n;
  }

  it('the unreachable store holds back only its own delivery; the other shop flows; the dead letter is visible and retried', async () => {
    const cartId = `poison-${randomUUID()}`;
    const d = bcCart(cartId);
    expect((await post(h, '/webhooks/bigcommerce', d.body, d.headers)).status).toBe(200);
    // Every later delivery, of another shop, is applied although the poison one comes first in the log.
    for (const id of [9001, 9002, 9003]) {
      const o = wooOrder(id);
      expect((await post(h, '/webhooks/woocommerce', o.body, o.headers)).status).toBe(200);
    }
    await eventually(
      async () => (await count(`type = 'order.placed' AND data->>'shopId' = $1`, [wooShopId])) === 3,
      60_000,
    );

    // Retried with back-off, then parked with its error.
    const letter = await eventually(async () => {
      const list = await api(h, 'GET', '/api/dashboard/dead-letters', undefined, ANALYST_TOKEN);
      return list.body.find(
        (l: { status: string; subscription: string }) =>
          l.status === 'parked' && l.subscription === 'ingest.delivery-processor',
      );
    }, 60_000);
    expect(letter).toMatchObject({ eventType: 'webhook.received', attempts: 2, events: 1 });
    expect(letter.key).toContain(bcShopId);
    expect(letter.error).not.toBe('');
    expect(store.calls()).toBeGreaterThanOrEqual(2);
    expect(await count(`type = 'cart.activity-recorded' AND data->>'cartId' = $1`, [cartId])).toBe(0);

    const health = (await fetch(`${h.baseUrl}/health`).then((r) => r.json())) as {
      status: string;
      degraded?: string[];
    };
    expect(health.status).toBe('degraded');
    expect(health.degraded).toEqual(expect.arrayContaining(['ingest.delivery-processor: 1 dead letter']));
    const metrics = await fetch(`${h.baseUrl}/metrics`, { headers: { authorization: `Bearer ${ANALYST_TOKEN}` } }).then(
      (r) => r.text(),
    );
    expect(metrics).toMatch(/reclaim_dead_letters\{subscription="ingest\.delivery-processor",status="parked"\} 1/);

    // The analyst may look, only the admin may retry; a key that is not blocked is a 404.
    const body = { subscription: letter.subscription, key: letter.key };
    expect((await api(h, 'POST', '/api/dashboard/dead-letters/retry', body, ANALYST_TOKEN)).status).toBe(403);
    expect((await api(h, 'POST', '/api/dashboard/dead-letters/retry', { ...body, key: 'nope' })).status).toBe(404);
    expect((await api(h, 'POST', '/api/dashboard/dead-letters/retry', { subscription: 1 })).status).toBe(400);
    store.heal();
    expect((await api(h, 'POST', '/api/dashboard/dead-letters/retry', body)).status).toBe(202);
    await eventually(
      async () => (await count(`type = 'cart.activity-recorded' AND data->>'cartId' = $1`, [cartId])) === 1,
      30_000,
    );
    await eventually(async () => (await api(h, 'GET', '/api/dashboard/dead-letters')).body.length === 0);
    const after = (await fetch(`${h.baseUrl}/health`).then((r) => r.json())) as { degraded?: string[] };
    expect(after.degraded ?? []).not.toEqual(expect.arrayContaining([expect.stringContaining('delivery-processor')]));
  });
});

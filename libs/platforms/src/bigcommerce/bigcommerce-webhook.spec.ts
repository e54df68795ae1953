import fc from 'fast-check';
import { createServer, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { RawWebhook } from '@reclaim/ports';
import { parseJsonLossless } from '../common';
import { bigCommerceWebhookAdapter as adapter, BigCommerceWebhookAdapter } from './bigcommerce-webhook.adapter';
import {
  BigCommerceApiClient,
  BigCommerceAuthError,
  BigCommerceNotFoundError,
  BigCommerceRetryBudgetExhaustedError,
} from './bigcommerce-api.client';
import { mapBigCommerceCart } from './bigcommerce-api.mappers';
import { signStandardWebhook } from './standard-webhooks';

const NOW = new Date('2026-03-01T12:00:00Z');
const TS = Math.floor(NOW.getTime() / 1000);
const SECRET = `whsec_${Buffer.from('reclaim-bigcommerce-test-key-32b').toString('base64')}`;
const body = `{"scope":"store/cart/converted","store_id":"1025646","data":{"type":"cart","id":"d30016e2-23c0-4a90-884f-2e92ac135476","orderId":9007199254740993},"hash":"b86db7c7","created_at":${TS},"producer":"stores/Abc123"}`;

function delivery(overrides: Record<string, string | undefined> = {}, text = body, ts = TS): RawWebhook {
  const buf = Buffer.from(text);
  return {
    headers: {
      'content-type': 'application/json',
      'webhook-id': 'msg_2x9',
      'webhook-timestamp': String(ts),
      'webhook-signature': signStandardWebhook(SECRET, 'msg_2x9', ts, buf),
      ...overrides,
    },
    body: buf,
    receivedAt: NOW,
  };
}

describe('BigCommerce signature (Standard Webhooks, R16/R17)', () => {
  it('accepts a valid signature, one among several, and a rotated secret', () => {
    const raw = delivery();
    expect(adapter.verify(raw, [SECRET], NOW)).toBe(true);
    expect(adapter.verify(raw, ['whsec_b2xk', SECRET], NOW)).toBe(true);
    const sig = raw.headers['webhook-signature']!;
    expect(
      adapter.verify(
        { ...raw, headers: { ...raw.headers, 'webhook-signature': `v1,AAAA ${sig} v2,zzz` } },
        [SECRET],
        NOW,
      ),
    ).toBe(true);
  });

  it('accepts a plain (non-whsec) client secret used as UTF-8 bytes', () => {
    const buf = Buffer.from(body);
    const raw = delivery({ 'webhook-signature': signStandardWebhook('client-secret', 'msg_2x9', TS, buf) });
    expect(adapter.verify(raw, ['client-secret'], NOW)).toBe(true);
  });

  it('rejects a flipped byte, wrong secret, missing header, hex, and a timestamp outside 5 minutes', () => {
    const raw = delivery();
    const flipped = Buffer.from(raw.body);
    flipped[3] = flipped[3]! ^ 0x20;
    expect(adapter.verify({ ...raw, body: flipped }, [SECRET], NOW)).toBe(false);
    expect(adapter.verify(raw, ['whsec_d3Jvbmc='], NOW)).toBe(false);
    expect(adapter.verify(delivery({ 'webhook-signature': undefined }), [SECRET], NOW)).toBe(false);
    const hex = Buffer.from(raw.headers['webhook-signature']!.slice(3), 'base64').toString('hex');
    expect(adapter.verify(delivery({ 'webhook-signature': `v1,${hex}` }), [SECRET], NOW)).toBe(false);
    expect(adapter.verify(delivery({}, body, TS - 301), [SECRET], NOW)).toBe(false);
    expect(adapter.verify(delivery({}, body, TS + 301), [SECRET], NOW)).toBe(false);
    expect(adapter.verify(delivery({}, body, TS - 299), [SECRET], NOW)).toBe(true);
  });

  it('falls back to the shared-secret header for hooks created the older way', () => {
    const raw = delivery({ 'webhook-signature': undefined, 'x-reclaim-webhook-secret': 'per-shop-secret' });
    expect(adapter.verify(raw, ['per-shop-secret'], NOW)).toBe(true);
    expect(adapter.verify(raw, ['per-shop-secreT'], NOW)).toBe(false);
  });
});

describe('BigCommerce inspect and map', () => {
  it('reads the store hash, scope and delivery id (webhook-id, else hash)', () => {
    expect(adapter.inspect(delivery())).toMatchObject({
      ok: true,
      shopDomain: 'abc123',
      topic: 'store/cart/converted',
      deliveryId: 'msg_2x9',
    });
    expect(adapter.inspect(delivery({ 'webhook-id': undefined }))).toMatchObject({ ok: true, deliveryId: 'b86db7c7' });
  });

  it('answers 400 for malformed JSON and missing producer, 415 for a wrong content type', () => {
    expect(adapter.inspect(delivery({}, '{"scope":'))).toMatchObject({ ok: false, status: 400, field: 'body' });
    expect(adapter.inspect(delivery({ 'content-type': 'text/html' }))).toMatchObject({ ok: false, status: 415 });
    expect(adapter.identify(delivery({ 'content-type': 'text/html' }))).toMatchObject({ ok: false, status: 415 });
    expect(adapter.inspect(delivery({}, body.replace('"producer":"stores/Abc123"', '"x":1')))).toMatchObject({
      ok: false,
      field: 'producer',
    });
  });

  it('identifies the store by a lexical scan of the raw body, so a body that does not parse is still verified first', () => {
    expect(adapter.identify(delivery())).toEqual({ ok: true, shopDomain: 'abc123' });
    expect(adapter.identify(delivery({}, body.slice(0, -1)))).toEqual({ ok: true, shopDomain: 'abc123' });
    expect(adapter.identify(delivery({}, '{"scope":"store/cart/created"}'))).toMatchObject({ ok: false, status: 401 });
  });

  it('answers 400 naming scope or hash for NUL or an unpaired surrogate, 413 for deep nesting', () => {
    const nul = body.replace('store/cart/converted', 'store/cart/\\u0000converted');
    expect(adapter.inspect(delivery({}, nul))).toMatchObject({ ok: false, status: 400, field: 'scope' });
    const lone = body.replace(/"hash":\s*"[^"]*"/, '"hash":"\\udc00x"');
    expect(adapter.inspect(delivery({ 'webhook-id': undefined }, lone))).toMatchObject({
      ok: false,
      status: 400,
      field: 'hash',
    });
    const deep = body.replace('"data":', `"deep":${'['.repeat(100)}${']'.repeat(100)},"data":`);
    expect(adapter.inspect(delivery({}, deep))).toMatchObject({ ok: false, status: 413, field: 'body' });
    expect(adapter.inspect(delivery({}, '['.repeat(200_000)))).toMatchObject({ ok: false, status: 413 });
  });

  it('maps converted carts directly with a lossless order id', () => {
    const r = adapter.inspect(delivery());
    if (!r.ok) throw new Error(r.error);
    expect(adapter.map(r, { shopCurrency: 'USD' })).toEqual({
      outcome: 'commands',
      commands: [
        {
          type: 'CompleteCheckout',
          platform: 'bigcommerce',
          platformUpdatedAt: NOW.toISOString(),
          cartId: 'd30016e2-23c0-4a90-884f-2e92ac135476',
          orderId: '9007199254740993',
          completedAt: NOW.toISOString(),
        },
      ],
    });
  });

  it('asks to fetch thin cart updates and reports unknown scopes', () => {
    const updated = body.replace('store/cart/converted', 'store/cart/updated');
    const r = adapter.inspect(delivery({}, updated));
    if (!r.ok) throw new Error(r.error);
    expect(adapter.map(r, { shopCurrency: 'USD' })).toEqual({
      outcome: 'fetch',
      resource: { type: 'cart', id: 'd30016e2-23c0-4a90-884f-2e92ac135476' },
    });
    const unknown = adapter.inspect(delivery({}, body.replace('store/cart/converted', 'store/product/updated')));
    if (!unknown.ok) throw new Error(unknown.error);
    expect(adapter.map(unknown, { shopCurrency: 'USD' })).toEqual({
      outcome: 'unknown-topic',
      topic: 'store/product/updated',
    });
  });

  it('never throws on arbitrary JSON-ish bodies', () => {
    fc.assert(
      fc.property(fc.oneof(fc.json(), fc.string()), (text) => {
        const r = adapter.inspect(delivery({}, text));
        if (r.ok) expect(() => adapter.map(r, { shopCurrency: 'USD' })).not.toThrow();
      }),
    );
  });
});

describe('BigCommerce cart mapper', () => {
  it('quarantines a negative sale price', () => {
    const cart = `{"data":{"id":"c1","customer_id":0,"email":"","currency":{"code":"USD"},"base_amount":10,"cart_amount":10,
      "line_items":{"physical_items":[{"id":"l1","product_id":1,"variant_id":2,"name":"X","quantity":1,"sale_price":-1}]},
      "updated_time":"2026-01-01T00:00:00+00:00"}}`;
    expect(() => mapBigCommerceCart(parseJsonLossless(cart), { shopCurrency: 'USD', receivedAt: NOW })).toThrow(
      'data.line_items.physical_items[0].sale_price: negative amount (-1)',
    );
  });
});

describe('BigCommerceApiClient against a local stub', () => {
  let server: Server;
  let apiUrl: string;
  const script: Array<{ status: number; headers?: Record<string, string>; body?: string; hang?: boolean }> = [];
  const seen: Array<{ url: string; token: string | undefined; accept: string | undefined }> = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      seen.push({
        url: req.url ?? '',
        token: req.headers['x-auth-token'] as string | undefined,
        accept: req.headers.accept,
      });
      const step = script.shift() ?? { status: 500 };
      if (step.hang) return; // never answers: the client's timeout must fire
      res.writeHead(step.status, { 'content-type': 'application/json', ...step.headers });
      res.end(step.body ?? '{}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    apiUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/stores/abc123`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  beforeEach(() => {
    script.length = 0;
    seen.length = 0;
  });

  function client(extra: Partial<ConstructorParameters<typeof BigCommerceApiClient>[0]> = {}) {
    const sleeps: number[] = [];
    const c = new BigCommerceApiClient({
      sleep: async (ms) => {
        sleeps.push(ms);
      },
      random: () => 1,
      now: () => NOW,
      baseDelayMs: 100,
      ...extra,
    });
    return { c, sleeps };
  }

  const cartBody =
    '{"data":{"id":"c1","currency":{"code":"USD"},"base_amount":27.95,"cart_amount":27.95,"line_items":{}},"meta":{}}';
  /** The cart's checkout (`GET /v3/checkouts/{id}`, documented fields): a shipping option chosen. */
  const checkoutBody =
    '{"data":{"id":"c1","billing_address":{"email":"jane@example.com"},"consignments":[{"id":"k1","shipping_address":{"address1":"1 Main St","city":"Austin"},"selected_shipping_option":{"id":"o1","cost":5}}]},"meta":{}}';

  it('honours Retry-After and X-Rate-Limit-Time-Reset-Ms on 429, then succeeds', async () => {
    script.push(
      { status: 429, headers: { 'retry-after': '2' } },
      { status: 429, headers: { 'x-rate-limit-time-reset-ms': '1500' } },
    );
    script.push({ status: 200, body: cartBody }, { status: 200, body: checkoutBody });
    const { c, sleeps } = client();
    const cart = (await c.getCart(apiUrl, 'tok', 'c1')) as { data: { id: string }; checkout?: unknown };
    expect(cart.data.id).toBe('c1');
    expect(cart.checkout).toMatchObject({ data: { id: 'c1', billing_address: { email: 'jane@example.com' } } });
    expect(seen[3]?.url).toBe('/stores/abc123/v3/checkouts/c1');
    expect(sleeps).toEqual([2000, 1500]);
    expect(seen[0]).toEqual({
      url: '/stores/abc123/v3/carts/c1?include=line_items.physical_items.options,line_items.digital_items.options,redirect_urls',
      token: 'tok',
      accept: 'application/json',
    });
  });

  it('backs off on 5xx then succeeds', async () => {
    // A checkout the store does not have (404) leaves the cart as it is.
    script.push({ status: 503 }, { status: 502 }, { status: 200, body: cartBody }, { status: 404 });
    const { c, sleeps } = client();
    await expect(c.getCart(apiUrl, 'tok', 'c1')).resolves.not.toHaveProperty('checkout');
    expect(sleeps).toEqual([100, 200]);
  });

  it('throws NotFound on 404 without retrying, Auth on 401', async () => {
    script.push({ status: 404 });
    const { c } = client();
    await expect(c.getCart(apiUrl, 'tok', 'gone')).rejects.toBeInstanceOf(BigCommerceNotFoundError);
    expect(seen).toHaveLength(1);
    script.push({ status: 401 });
    await expect(c.getOrder(apiUrl, 'bad', '1')).rejects.toBeInstanceOf(BigCommerceAuthError);
  });

  it('gives up when the budget is exhausted', async () => {
    script.push({ status: 429, headers: { 'retry-after': '120' } });
    const { c, sleeps } = client({ maxTotalDelayMs: 60_000 });
    await expect(c.getCart(apiUrl, 'tok', 'c1')).rejects.toBeInstanceOf(BigCommerceRetryBudgetExhaustedError);
    expect(sleeps).toEqual([]);
    script.push({ status: 500 }, { status: 500 });
    const { c: c2 } = client({ maxAttempts: 2 });
    await expect(c2.getCart(apiUrl, 'tok', 'c1')).rejects.toMatchObject({ attempts: 2, status: 500 });
  });

  it('times out a hanging request and retries it', async () => {
    script.push({ status: 0, hang: true }, { status: 200, body: cartBody }, { status: 403 });
    const { c, sleeps } = client({ timeoutMs: 200 });
    await expect(c.getCart(apiUrl, 'tok', 'c1')).resolves.toBeDefined();
    expect(sleeps).toHaveLength(1);
  });

  describe('resolve: the webhook port loads thin payloads through the client', () => {
    const stored = (scope: string, data: string) => ({
      topic: scope,
      deliveryId: 'd-1',
      body: `{"scope":"${scope}","data":${data},"created_at":${TS},"producer":"stores/abc123"}`,
      receivedAt: NOW,
    });
    const shop = () => ({ shopDomain: 'abc123', currency: 'USD', apiUrl, apiToken: 'tok' });

    it('fetches the cart a thin delivery points at, with the shop token, and maps it', async () => {
      script.push({ status: 200, body: cartBody }, { status: 200, body: checkoutBody });
      const { c } = client();
      const resolved = await new BigCommerceWebhookAdapter(undefined, c).resolve(
        stored('store/cart/updated', '{"type":"cart","id":"c1"}'),
        shop(),
      );
      expect(resolved).toMatchObject({
        outcome: 'commands',
        commands: [{ type: 'RecordCartActivity', cartId: 'c1', checkoutStage: 'payment' }],
      });
      expect(seen[0]?.token).toBe('tok');
    });

    it('turns a cart gone from the store into DeleteCart, another missing resource into ignored', async () => {
      script.push({ status: 404 }, { status: 404 });
      const bc = new BigCommerceWebhookAdapter(undefined, client().c);
      await expect(
        bc.resolve(stored('store/cart/updated', '{"type":"cart","id":"gone"}'), shop()),
      ).resolves.toMatchObject({
        outcome: 'commands',
        commands: [{ type: 'DeleteCart', cartId: 'gone', platform: 'bigcommerce' }],
      });
      await expect(bc.resolve(stored('store/order/created', '{"type":"order","id":7}'), shop())).resolves.toEqual({
        outcome: 'ignored',
        reason: 'order 7 not found',
      });
    });

    it('rejects while the store keeps failing (the delivery processor retries), and needs no call for a full payload', async () => {
      script.push({ status: 500 }, { status: 500 });
      const bc = new BigCommerceWebhookAdapter(undefined, client({ maxAttempts: 2 }).c);
      await expect(
        bc.resolve(stored('store/cart/updated', '{"type":"cart","id":"c1"}'), shop()),
      ).rejects.toBeInstanceOf(BigCommerceRetryBudgetExhaustedError);
      seen.length = 0;
      await expect(
        bc.resolve(stored('store/cart/abandoned', '{"type":"cart","id":"c2"}'), shop()),
      ).resolves.toMatchObject({ outcome: 'commands', commands: [{ type: 'ReportCartAbandoned', cartId: 'c2' }] });
      expect(seen).toHaveLength(0);
    });
  });

  it('returns the customer or NotFound for an empty list', async () => {
    script.push({ status: 200, body: '{"data":[{"id":32,"email":"a@b.c"}]}' }, { status: 200, body: '{"data":[]}' });
    const { c } = client();
    await expect(c.getCustomer(apiUrl, 'tok', '32')).resolves.toMatchObject({ email: 'a@b.c' });
    expect(seen[0]?.url).toBe('/stores/abc123/v3/customers?id:in=32&include=addresses');
    await expect(c.getCustomer(apiUrl, 'tok', '33')).rejects.toBeInstanceOf(BigCommerceNotFoundError);
  });
});

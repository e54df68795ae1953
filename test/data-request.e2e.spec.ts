/**
 * R29, a customer's data request answered: Shopify's `customers/data_request` is listed for the
 * shop, and the admin downloads everything Reclaim holds about that customer (profile and carts
 * with the contact opened from the vault, recoveries, the message history) as a JSON attachment.
 * After `customers/redact` the same export holds no personal data any more. A manual clock moves
 * the engine; only polling (`eventually`) waits for the background work.
 */
import { randomUUID } from 'node:crypto';
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
import { shopifyCheckout, shopifyRedact } from './support/payloads';

const SECRET = 'shpss_data_request';
const DOMAIN = 'data-request.myshopify.com';
const MINUTE = 60_000;

function dataRequest(): string {
  // Shopify's customers/data_request payload (documented shape), the checkout's customer.
  return `{"shop_id":954889,"shop_domain":"${DOMAIN}","orders_requested":[299938,280263],"customer":{"id":6012345678901234567,"email":"ada@example.com","phone":"+14155550123"},"data_request":{"id":9999}}`;
}

describe('R29: a customer data request is listed and answered with an export; after redact it holds no personal data', () => {
  let h: Harness;
  let shopId: string;
  const clock = new ManualClock(new Date(Math.floor(Date.now() / 1000) * 1000));
  const cartToken = `dr-${randomUUID()}`;

  beforeAll(async () => {
    h = await startHarness(
      { ABANDON_AFTER: '1m', FOLLOW_UP_DELAYS: '1h', HOLDOUT_PERCENT: '0', TIMER_TICK: '200ms' },
      { clock },
    );
    shopId = (await registerShop(h, { platform: 'shopify', shopDomain: DOMAIN, webhookSecret: SECRET })).id;
  });

  afterAll(async () => h?.close());

  const send = (topic: string, body: string) =>
    post(h, '/webhooks/shopify', body, {
      'content-type': 'application/json',
      'x-shopify-topic': topic,
      'x-shopify-shop-domain': DOMAIN,
      'x-shopify-api-version': '2025-10',
      'x-shopify-webhook-id': randomUUID(),
      'x-shopify-hmac-sha256': hmacBase64(SECRET, body),
    });

  async function download(path: string, init: { method?: string; body?: unknown; token?: string } = {}) {
    const res = await fetch(`${h.baseUrl}${path}`, {
      method: init.method ?? 'GET',
      headers: {
        authorization: `Bearer ${init.token ?? ADMIN_TOKEN}`,
        ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      body: init.body !== undefined ? JSON.stringify(init.body) : undefined,
    });
    const text = await res.text();
    return { status: res.status, headers: res.headers, text, json: () => JSON.parse(text) };
  }

  it('lists the request, and the admin downloads profile, carts and history; analysts may not', async () => {
    const checkout = shopifyCheckout({ token: cartToken, updatedAt: clock.now().toISOString() });
    expect((await send('checkouts/update', checkout)).status).toBe(200);
    clock.advance(MINUTE + 1_000);
    const history = await eventually(async () => {
      const res = await api(h, 'POST', `/api/customers/${shopId}/history`, { email: 'ada@example.com' });
      return res.body?.entries?.some((e: { kind: string }) => e.kind === 'started') ? res.body : undefined;
    }, 30_000);

    expect((await send('customers/data_request', dataRequest())).status).toBe(200);
    const listed = await eventually(async () => {
      const res = await api(h, 'GET', `/api/customers/${shopId}/data-requests`, undefined, ANALYST_TOKEN);
      return res.status === 200 && res.body.requests.length > 0 ? res.body.requests : undefined;
    });
    expect(listed).toEqual([
      {
        customerKey: history.customerKey,
        platform: 'shopify',
        requestedAt: expect.any(String),
        redactedAt: null,
        exportUrl: `/api/customers/${shopId}/${encodeURIComponent(history.customerKey)}/export`,
      },
    ]);

    // Personal data: the analyst token is refused, the admin's gets an attachment.
    expect((await download(listed[0].exportUrl, { token: ANALYST_TOKEN })).status).toBe(403);
    const res = await download(listed[0].exportUrl);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-disposition')).toMatch(/^attachment; filename="reclaim-customer-.+\.json"$/);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const data = res.json();
    expect(data).toMatchObject({
      format: 'reclaim.customer-data-export',
      version: 1,
      shopId,
      customerKey: history.customerKey,
      erased: false,
      // The customer stream holds the request (no customers/* profile delivery in this shop).
      profile: { dataRequests: 1 },
    });
    expect(data.carts).toHaveLength(1);
    expect(data.carts[0]).toMatchObject({
      cartId: expect.stringContaining(cartToken),
      status: 'active',
      contact: { email: 'ada@example.com', firstName: 'Ada', lastName: 'Lovelace' },
      contents: { currency: 'USD', total: expect.any(String) },
    });
    expect(data.carts[0].contents.lineItems.length).toBeGreaterThan(0);
    expect(data.recoveries.map((r: { recoveryId: string }) => r.recoveryId)).toEqual(
      history.recoveries.map((r: { recoveryId: string }) => r.recoveryId),
    );
    expect(data.history.map((e: { kind: string }) => e.kind)).toEqual(
      expect.arrayContaining(history.entries.map((e: { kind: string }) => e.kind)),
    );

    // The same export looked up by the address (in the body, never in the URL).
    const byEmail = await download(`/api/customers/${shopId}/export`, {
      method: 'POST',
      body: { email: 'ada@example.com' },
    });
    expect(byEmail.status).toBe(200);
    expect(byEmail.json().customerKey).toBe(history.customerKey);
  });

  it('answers bad input with the field named, and an unknown shop with 404', async () => {
    const bad = await download(`/api/customers/${shopId}/not%20a%20key/export`);
    expect(bad.status).toBe(400);
    expect(bad.text).toContain('customerKey');
    const noEmail = await download(`/api/customers/${shopId}/export`, { method: 'POST', body: { email: 'nope' } });
    expect(noEmail.status).toBe(400);
    expect(noEmail.text).toContain('email');
    expect((await download(`/api/customers/${randomUUID()}/e-abc/export`)).status).toBe(404);
  });

  it('after customers/redact the export is erased: no address, name or phone left, the request shows redacted', async () => {
    const redact = shopifyRedact().replace('lamps.myshopify.com', DOMAIN);
    expect((await send('customers/redact', redact)).status).toBe(200);
    const url = `/api/customers/${shopId}/data-requests`;
    const row = await eventually(async () => {
      const res = await api(h, 'GET', url);
      return res.body.requests[0]?.redactedAt ? res.body.requests[0] : undefined;
    });
    const res = await download(row.exportUrl);
    expect(res.status).toBe(200);
    const data = res.json();
    expect(data.erased).toBe(true);
    expect(data.profile?.contact ?? null).toBeNull();
    for (const cart of data.carts) expect(cart.contact).toBeNull();
    for (const pii of ['ada@example.com', 'Lovelace', '+14155550123', 'Analytical Way']) {
      expect(res.text).not.toContain(pii);
    }
  });
});

/**
 * A customer's recovery history looked up by e-mail address (`POST /api/customers/:shopId/history`,
 * the address in the body): the same history as by customer key, bad input names the field, the
 * analyst token may not use it, and the address never reaches the logs. Own file: it captures logs
 * (nestjs-pino keeps its root logger in module state). Polling only, no timed assertions.
 */
import { randomUUID } from 'node:crypto';
import { FakeCommerce } from '@reclaim/testing/fakes';
import { ANALYST_TOKEN, api, eventually, hmacBase64, post, startHarness, type Harness } from './support/harness';
import { shopifyCheckout } from './support/payloads';

const SECRET = 'shpss_history_by_email';
const DOMAIN = 'history-by-email.myshopify.com';
const EMAIL = 'grace.hopper@example.com';

describe('customer history by e-mail over HTTP', () => {
  let h: Harness;
  let shopId: string;

  beforeAll(async () => {
    h = await startHarness(
      {
        ABANDON_AFTER: '1s',
        HOLDOUT_PERCENT: '0',
        TIMER_TICK: '200ms',
        MERCHANT_POSTAL_ADDRESS: '1 Harbour Road, Springfield',
      },
      { captureLogs: true, adapters: { commerce: new FakeCommerce() } },
    );
    const res = await api(h, 'POST', '/api/shops', {
      platform: 'shopify',
      shopDomain: DOMAIN,
      webhookSecret: SECRET,
      apiUrl: `https://${DOMAIN}/admin/api/2025-01`,
      apiToken: 'shpat_history',
      currency: 'USD',
      timezone: 'UTC',
    });
    expect(res.status).toBe(201);
    shopId = res.body.id;
    const body = shopifyCheckout({ token: `hist-${randomUUID()}`, updatedAt: new Date().toISOString(), email: EMAIL });
    const delivered = await post(h, '/webhooks/shopify', body, {
      'content-type': 'application/json',
      'x-shopify-topic': 'checkouts/update',
      'x-shopify-shop-domain': DOMAIN,
      'x-shopify-api-version': '2025-01',
      'x-shopify-webhook-id': randomUUID(),
      'x-shopify-hmac-sha256': hmacBase64(SECRET, body),
    });
    expect(delivered.status).toBe(200);
  });

  afterAll(async () => {
    await h?.close();
  });

  it('answers the same history as the customer key, whatever the case and spacing of the address', async () => {
    const key = h.runtime.vault.subjectFor(shopId, { email: EMAIL }) as string;
    const byKey = await eventually(async () => {
      const res = await api(h, 'GET', `/api/customers/${shopId}/${key}/history`);
      return res.status === 200 && res.body.entries.some((e: { kind: string }) => e.kind === 'sent') ? res : undefined;
    });
    const byEmail = await api(h, 'POST', `/api/customers/${shopId}/history`, { email: `  ${EMAIL.toUpperCase()} ` });
    expect(byEmail.status).toBe(200);
    expect(byEmail.body.customerKey).toBe(key);
    expect(byEmail.body.entries.map((e: { kind: string; at: string }) => [e.kind, e.at])).toEqual(
      byKey.body.entries.map((e: { kind: string; at: string }) => [e.kind, e.at]).slice(0, byEmail.body.entries.length),
    );
    expect(JSON.stringify(byEmail.body)).not.toContain(EMAIL);
  });

  it('an unknown address has an empty history, not an error', async () => {
    const res = await api(h, 'POST', `/api/customers/${shopId}/history`, { email: 'nobody@example.com' });
    expect(res.status).toBe(200);
    expect(res.body.entries).toEqual([]);
  });

  it('names the field of a missing or malformed address (400), and an unknown shop is 404', async () => {
    for (const body of [{}, { email: 'not-an-address' }, { email: 42 }, { email: `${'a'.repeat(320)}@x.org` }]) {
      const res = await api(h, 'POST', `/api/customers/${shopId}/history`, body);
      expect([JSON.stringify(body).slice(0, 40), res.status, res.body.errors]).toEqual([
        JSON.stringify(body).slice(0, 40),
        400,
        [{ field: 'email', message: 'must be an e-mail address' }],
      ]);
    }
    const unknown = await api(h, 'POST', `/api/customers/${randomUUID()}/history`, { email: EMAIL });
    expect(unknown.status).toBe(404);
  });

  it('needs the admin token: the analyst token is read-only, no token is 401', async () => {
    const analyst = await api(h, 'POST', `/api/customers/${shopId}/history`, { email: EMAIL }, ANALYST_TOKEN);
    expect(analyst.status).toBe(403);
    const anonymous = await fetch(`${h.baseUrl}/api/customers/${shopId}/history`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: EMAIL }),
    });
    expect(anonymous.status).toBe(401);
  });

  it('never writes the address to the logs', () => {
    const text = h.logs.join('');
    expect(text).toContain('/history');
    expect(text.toLowerCase()).not.toContain(EMAIL);
    expect(text).not.toContain('not-an-address');
  });
});

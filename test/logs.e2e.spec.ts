/**
 * R21: logs carry no personal data or secrets. In its own file: nestjs-pino keeps its root
 * logger in module state, so one appliance per Jest module registry.
 */
import { randomUUID } from 'node:crypto';
import { ADMIN_TOKEN, api, eventually, hmacBase64, post, startHarness } from './support/harness';
import { shopifyCheckout } from './support/payloads';

const SECRET = 'shpss_test_secret_logs';
const DOMAIN = 'logs.myshopify.com';

describe('logs (R21)', () => {
  it('carry no personal data or secrets, even at debug level, through signed deliveries, processing and errors', async () => {
    const h = await startHarness({}, { captureLogs: true });
    try {
      const res = await api(h, 'POST', '/api/shops', {
        platform: 'shopify',
        shopDomain: DOMAIN,
        webhookSecret: SECRET,
        apiUrl: `https://${DOMAIN}/admin/api/2025-01`,
        apiToken: 'shpat_secret_token',
        currency: 'USD',
        timezone: 'UTC',
      });
      const shopId = res.body.id;
      const body = shopifyCheckout({ token: 'tok-logs', updatedAt: '2026-11-20T10:05:00-05:00' });
      const hd = {
        'content-type': 'application/json',
        'x-shopify-topic': 'checkouts/update',
        'x-shopify-shop-domain': DOMAIN,
        'x-shopify-webhook-id': randomUUID(),
        'x-shopify-hmac-sha256': hmacBase64(SECRET, body),
      };
      expect((await post(h, '/webhooks/shopify', body, hd)).status).toBe(200);
      expect((await post(h, '/webhooks/shopify', body, { ...hd, 'x-shopify-hmac-sha256': 'bad' })).status).toBe(401);
      const q = shopifyCheckout({ token: 'tok-logs-q', updatedAt: '2026-11-20T10:05:00-05:00', price: '-1' });
      await post(h, '/webhooks/shopify', q, {
        ...hd,
        'x-shopify-webhook-id': randomUUID(),
        'x-shopify-hmac-sha256': hmacBase64(SECRET, q),
      });
      await eventually(async () => {
        const { rows } = await h.runtime.pool.query(
          `SELECT 1 FROM event_store.events WHERE type = 'cart.activity-recorded' AND data->>'shopId' = $1`,
          [shopId],
        );
        return rows.length > 0;
      });
      const text = h.logs.join('');
      const lines = text.split('\n').filter(Boolean);
      expect(lines.length).toBeGreaterThan(10);
      expect(text).toContain('"msg":"webhook refused"'); // refusals are logged: platform, status, reason
      expect(text).toContain('"status":401');
      for (const secret of [
        'ada@example.com',
        '+14155550123',
        'Lovelace',
        'Analytical Way',
        SECRET,
        'shpat_secret_token',
        ADMIN_TOKEN,
        hd['x-shopify-hmac-sha256'],
      ]) {
        expect(text).not.toContain(secret);
      }
    } finally {
      await h.close();
    }
  });
});

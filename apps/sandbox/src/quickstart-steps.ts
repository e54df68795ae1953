/** What `npm run quickstart` registers and sends (shared with its test). */
import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import { DEMO_CATALOGUE } from './simulator';

export const QUICKSTART_SHOP = {
  platform: 'shopify',
  shopDomain: 'quickstart-lamps.myshopify.com',
  webhookSecret: 'shpss_quickstart_sandbox_app_secret',
  currency: 'USD',
  timezone: 'UTC',
} as const;

export const QUICKSTART_SETTINGS = {
  mode: 'live',
  holdoutPercent: 0,
  storeName: 'Quickstart Lamps',
  postalAddress: 'Quickstart Lamps, 1 Sandbox Street, Springfield 12345, USA',
  domainAliases: ['quickstart-lamps.myshopify.com'],
  // The walk-through must not wait for the morning: no e-mail quiet hours for this shop.
  quietHours: { email: null },
} as const;

/** A Shopify `checkouts/create` delivery of one lamp, signed with the quick-start shop's secret. */
export function sampleCheckout(email: string, now = new Date()): { body: string; headers: Record<string, string> } {
  const token = randomBytes(12).toString('hex');
  const lamp = DEMO_CATALOGUE[0];
  const at = now.toISOString();
  const body = JSON.stringify({
    id: Number(`9${String(now.getTime()).slice(-9)}`),
    token: `ck-${token}`,
    cart_token: token,
    email,
    buyer_accepts_marketing: true,
    created_at: at,
    updated_at: at,
    completed_at: null,
    currency: 'USD',
    presentment_currency: 'USD',
    subtotal_price: lamp.price,
    total_price: lamp.price,
    total_tax: '0.00',
    abandoned_checkout_url: `https://${QUICKSTART_SHOP.shopDomain}/checkouts/${token}/recover`,
    source_name: 'web',
    line_items: [
      {
        key: `line-1-${lamp.variantId}`,
        product_id: Number(lamp.productId),
        variant_id: Number(lamp.variantId),
        sku: lamp.sku,
        title: lamp.title,
        quantity: 1,
        price: lamp.price,
      },
    ],
    customer: { id: 7000001, email, first_name: 'Ada', last_name: 'Lovelace' },
  });
  return {
    body,
    headers: {
      'content-type': 'application/json',
      'x-shopify-topic': 'checkouts/create',
      'x-shopify-shop-domain': QUICKSTART_SHOP.shopDomain,
      'x-shopify-api-version': '2025-01',
      'x-shopify-webhook-id': randomUUID(),
      'x-shopify-hmac-sha256': createHmac('sha256', QUICKSTART_SHOP.webhookSecret).update(body).digest('base64'),
    },
  };
}

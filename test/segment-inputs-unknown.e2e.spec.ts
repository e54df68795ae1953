/**
 * What the platform does not send is recorded as unknown, with the reason, in the running appliance:
 * Shopify's 2026-07 checkouts/create sample (../shared/fixtures: landing_site and referring_site
 * null, no client_details, source_name "web" — the sales channel) and a BigCommerce cart (the API
 * reference's cart, fetched from the store stand-in after a signed thin store/cart/created
 * delivery; BigCommerce's cart and checkout APIs carry no referrer, landing page or user agent).
 * The customer history's `segmented` entry names the device and traffic source as unknown and why.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { signStandardWebhook } from '@reclaim/platforms';
import { SANDBOX_CREDENTIALS, startStoreSandbox, type StoreSandbox } from '../apps/sandbox/src/stores';
import { ManualClock } from '@reclaim/testing/fakes';
import { api, eventually, hmacBase64, post, startHarness, type Harness } from './support/harness';

const FIXTURES = path.resolve(__dirname, '../../shared/fixtures');
const present = existsSync(FIXTURES);
if (!present) console.warn(`segment-inputs-unknown e2e: skipped, ${FIXTURES} is missing`);
const describeIfFixtures = present ? describe : describe.skip;

const SHOPIFY_SECRET = 'shpss_unknown_inputs';
const SHOPIFY_DOMAIN = 'unknown-inputs.myshopify.com';
const BC_SECRET = 'whsec_' + Buffer.from('bigcommerce-unknown-inputs-0123456789').toString('base64');
const BC_HASH = 'unknowninputs1';

interface History {
  entries: { kind: string; cartId: string; reason?: string; detail?: string }[];
  recoveries: { cartId: string; segmentation?: { cart: { device: string; trafficSource?: string } } }[];
}

describeIfFixtures('inputs a platform does not send: unknown, with the reason in the customer history', () => {
  let stores: StoreSandbox;
  let h: Harness;
  let shopifyShop: string;
  let bcShop: string;
  const clock = new ManualClock(new Date(Math.floor(Date.now() / 1000) * 1000));
  const fixture = (rel: string) =>
    JSON.parse(readFileSync(path.join(FIXTURES, rel), 'utf8')) as Record<string, unknown>;

  beforeAll(async () => {
    stores = await startStoreSandbox();
    h = await startHarness(
      { ABANDON_AFTER: '1m', HOLDOUT_PERCENT: '0', TIMER_TICK: '200ms', STORE_ADAPTERS: 'on' },
      { clock },
    );
    const shopify = await api(h, 'POST', '/api/shops', {
      platform: 'shopify',
      shopDomain: SHOPIFY_DOMAIN,
      webhookSecret: SHOPIFY_SECRET,
      apiUrl: stores.urls.shopify,
      apiToken: SANDBOX_CREDENTIALS.shopify,
      currency: 'USD',
      timezone: 'UTC',
      registerWebhooks: false,
    });
    expect(shopify.status).toBe(201);
    shopifyShop = shopify.body.id;
    const bc = await api(h, 'POST', '/api/shops', {
      platform: 'bigcommerce',
      shopDomain: BC_HASH,
      webhookSecret: BC_SECRET,
      apiUrl: stores.urls.bigcommerce,
      apiToken: SANDBOX_CREDENTIALS.bigcommerce,
      currency: 'USD',
      timezone: 'UTC',
      registerWebhooks: false,
    });
    expect(bc.status).toBe(201);
    bcShop = bc.body.id;
  }, 60_000);

  afterAll(async () => {
    await h?.close();
    await stores?.stop();
  });

  async function segmented(shopId: string, email: string, cartId: string) {
    return eventually(async () => {
      const res = await api(h, 'POST', `/api/customers/${shopId}/history`, { email });
      if (res.status !== 200) return undefined;
      const got = res.body as History;
      const entry = got.entries.find((e) => e.cartId === cartId && e.kind === 'segmented');
      const recovery = got.recoveries.find((r) => r.cartId === cartId);
      return entry !== undefined && recovery?.segmentation !== undefined ? { entry, recovery } : undefined;
    }, 30_000);
  }

  it("Shopify's 2026-07 checkout sample: device and traffic source unknown, because the checkout carried neither", async () => {
    const sample = fixture('shopify/webhook_checkouts_create.json');
    const at = clock.now().toISOString();
    const body = JSON.stringify({ ...sample, created_at: at, updated_at: at });
    const res = await post(h, '/webhooks/shopify', body, {
      'content-type': 'application/json',
      'x-shopify-topic': 'checkouts/create',
      'x-shopify-shop-domain': SHOPIFY_DOMAIN,
      'x-shopify-api-version': '2026-07',
      'x-shopify-webhook-id': randomUUID(),
      'x-shopify-hmac-sha256': hmacBase64(SHOPIFY_SECRET, body),
    });
    expect(res.status).toBe(200);
    const cartId = String(sample['cart_token']);
    await eventually(async () => {
      const r = await api(h, 'POST', `/api/customers/${shopifyShop}/history`, { email: 'example@email.com' });
      return r.status === 200 ? true : undefined;
    }, 30_000);
    clock.advance(61_000);
    const { entry, recovery } = await segmented(shopifyShop, 'example@email.com', cartId);
    expect(recovery.segmentation?.cart).toMatchObject({ device: 'unknown', trafficSource: 'unknown' });
    expect(entry.detail).toContain('checkout stage shipping');
    expect(entry.detail).toContain('device unknown (the Shopify checkout carried no user agent or device type)');
    expect(entry.detail).toContain(
      'traffic source unknown (the Shopify checkout carried no referrer, landing page or UTM source)',
    );
  }, 90_000);

  it('a BigCommerce cart (API reference sample): device and traffic source unknown, because the cart API carries neither', async () => {
    const sample = fixture('bigcommerce/api_cart_response_example.json') as { data: Record<string, unknown> };
    const cartId = String(sample.data['id']);
    const email = 'bc-shopper@example.com';
    const at = clock.now().toISOString();
    stores.seedBigCommerce({
      carts: { [cartId]: { ...sample, data: { ...sample.data, email, updated_time: at, created_time: at } } },
    });
    const payload = JSON.stringify({
      scope: 'store/cart/created',
      store_id: '1025646',
      data: { type: 'cart', id: cartId },
      hash: randomUUID().replace(/-/g, ''),
      created_at: Math.floor(clock.now().getTime() / 1000),
      producer: `stores/${BC_HASH}`,
    });
    const id = `msg_${randomUUID()}`;
    const ts = Math.floor(Date.now() / 1000);
    const res = await post(h, '/webhooks/bigcommerce', payload, {
      'content-type': 'application/json',
      'webhook-id': id,
      'webhook-timestamp': String(ts),
      'webhook-signature': signStandardWebhook(BC_SECRET, id, ts, Buffer.from(payload)),
    });
    expect(res.status).toBe(200);
    await eventually(async () => {
      const r = await api(h, 'POST', `/api/customers/${bcShop}/history`, { email });
      return r.status === 200 ? true : undefined;
    }, 30_000);
    clock.advance(61_000);
    const { entry, recovery } = await segmented(bcShop, email, cartId);
    expect(recovery.segmentation?.cart).toMatchObject({ device: 'unknown', trafficSource: 'unknown' });
    expect(entry.detail).toContain('device unknown (the BigCommerce cart carried no user agent or device type)');
    expect(entry.detail).toContain(
      'traffic source unknown (the BigCommerce cart carried no referrer, landing page or UTM source)',
    );
  }, 90_000);
});

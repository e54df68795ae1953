/**
 * The segmentation's inputs filled from the platform in the running appliance: a WooCommerce shop
 * connected to the store stand-in (STORE_ADAPTERS=on), signed order webhooks built from the REST
 * order sample with WooCommerce's order attribution meta (../shared/fixtures). A first order left
 * pending and then paid teaches what the shopper bought (its product categories asked from the store
 * once); a second order left pending in another category is abandoned: the recovery is segmented
 * `returning-exploring-new-category`, at the payment stage, on mobile, from the newsletter, and the
 * customer history says so.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { SANDBOX_CREDENTIALS, startStoreSandbox, type StoreSandbox } from '../apps/sandbox/src/stores';
import { ManualClock } from '@reclaim/testing/fakes';
import { api, eventually, hmacBase64, post, startHarness, type Harness } from './support/harness';

const FIXTURES = path.resolve(__dirname, '../../shared/fixtures');
const present = existsSync(FIXTURES);
if (!present) console.warn(`segment-inputs e2e: skipped, ${FIXTURES} is missing`);
const describeIfFixtures = present ? describe : describe.skip;

const SECRET = 'woo-segment-inputs-secret';
const DOMAIN = 'woo-segments.example.com';
const EMAIL = 'john.doe@example.com'; // the sample order's billing address

interface HistoryEntry {
  kind: string;
  cartId: string;
  reason?: string;
  detail?: string;
}
interface History {
  entries: HistoryEntry[];
  recoveries: {
    cartId: string;
    segmentation?: {
      segments: string[];
      cart: { categories: string[]; checkoutStage?: string; device: string; trafficSource?: string };
      customer: { ordersCount: number; categoriesBought: string[] };
    };
  }[];
}

const gmt = (d: Date) => d.toISOString().replace(/\.\d{3}Z$/, '');

describeIfFixtures('segment inputs from WooCommerce orders in the running appliance', () => {
  let stores: StoreSandbox;
  let h: Harness;
  let shopId: string;
  const clock = new ManualClock(new Date(Math.floor(Date.now() / 1000) * 1000));

  const sample = () =>
    JSON.parse(readFileSync(path.join(FIXTURES, 'woocommerce/webhook_order_created_body.json'), 'utf8')) as Record<
      string,
      unknown
    >;
  const attribution = () =>
    (
      JSON.parse(
        readFileSync(
          path.join(FIXTURES, 'woocommerce/api_v3_order_meta_data_order_attribution_CONSTRUCTED.json'),
          'utf8',
        ),
      ) as { meta_data: { id: number; key: string; value: string }[] }
    ).meta_data;

  /** The sample order as order `id` with one line of `productId`, in `status`, modified now. */
  function order(id: number, status: string, productId: string, price: string, meta: unknown[] = []): string {
    const o = sample();
    const now = gmt(clock.now());
    Object.assign(o, {
      id,
      status,
      date_created_gmt: now,
      date_modified_gmt: now,
      date_paid_gmt: status === 'processing' ? now : null,
      total: price,
      line_items: [
        {
          id: id * 10,
          name: 'Item',
          product_id: Number(productId),
          variation_id: 0,
          quantity: 1,
          subtotal: price,
          total: price,
          price: Number(price),
        },
      ],
      meta_data: meta,
    });
    return JSON.stringify(o);
  }

  function deliver(topic: string, body: string) {
    return post(h, '/webhooks/woocommerce', body, {
      'content-type': 'application/json',
      'x-wc-webhook-source': `https://${DOMAIN}/`,
      'x-wc-webhook-topic': topic,
      'x-wc-webhook-resource': 'order',
      'x-wc-webhook-event': topic.split('.')[1] ?? 'updated',
      'x-wc-webhook-delivery-id': randomUUID(),
      'x-wc-webhook-signature': hmacBase64(SECRET, body),
    });
  }

  async function history(): Promise<History> {
    const res = await api(h, 'POST', `/api/customers/${shopId}/history`, { email: EMAIL });
    if (res.status !== 200) throw new Error(`history ${res.status}`);
    return res.body as History;
  }

  beforeAll(async () => {
    stores = await startStoreSandbox();
    h = await startHarness(
      {
        ABANDON_AFTER: '1m',
        HOLDOUT_PERCENT: '0',
        TIMER_TICK: '200ms',
        STORE_ADAPTERS: 'on',
        CATEGORY_CACHE_TTL: '24h',
      },
      { clock },
    );
    const res = await api(h, 'POST', '/api/shops', {
      platform: 'woocommerce',
      shopDomain: `https://${DOMAIN}`,
      webhookSecret: SECRET,
      apiUrl: stores.urls.woocommerce,
      apiToken: SANDBOX_CREDENTIALS.woocommerce,
      currency: 'USD',
      timezone: 'UTC',
      registerWebhooks: false,
    });
    expect(res.status).toBe(201);
    shopId = res.body.id;
  }, 60_000);

  afterAll(async () => {
    await h?.close();
    await stores?.stop();
  });

  it('a returning shopper exploring a new category: categories from the store, stage, device and source in the history', async () => {
    // 1. The first order, left pending (a cart), then paid: a bag (Bags, Accessories).
    expect((await deliver('order.created', order(1001, 'pending', '632910393', '24.50'))).status).toBe(200);
    await eventually(async () => (await history()).entries.some((e) => e.kind === 'categories-recorded'), 30_000);
    clock.advance(10_000);
    expect((await deliver('order.updated', order(1001, 'processing', '632910393', '24.50'))).status).toBe(200);
    await eventually(
      async () => (await history()).entries.some((e) => e.cartId === 'order-1001' && e.kind === 'ended'),
      30_000,
    );

    // 2. A second order left pending, on a phone, from the newsletter: a music player (Electronics).
    clock.advance(10_000);
    const meta = attribution().map((m) =>
      m.key === '_wc_order_attribution_device_type'
        ? { ...m, value: 'Mobile' }
        : m.key === '_wc_order_attribution_utm_source'
          ? { ...m, value: 'Newsletter' }
          : m,
    );
    expect((await deliver('order.created', order(1002, 'pending', '632910392', '199.00', meta))).status).toBe(200);
    const categorised = await eventually(async () => {
      const e = (await history()).entries.find((x) => x.cartId === 'order-1002' && x.kind === 'categories-recorded');
      return e;
    }, 30_000);
    expect(categorised.detail).toBe('632910392: Electronics, Music players');

    // 3. The shopper stays away: the recovery starts and is segmented on those inputs.
    clock.advance(61_000);
    const h2 = await eventually(async () => {
      const got = await history();
      return got.recoveries.find((r) => r.cartId === 'order-1002')?.segmentation ? got : undefined;
    }, 30_000);
    const segmentation = h2.recoveries.find((r) => r.cartId === 'order-1002')!.segmentation!;
    expect(segmentation.segments).toEqual(expect.arrayContaining(['returning', 'returning-exploring-new-category']));
    expect(segmentation.cart).toMatchObject({
      categories: ['Electronics', 'Music players'],
      checkoutStage: 'payment',
      device: 'mobile',
      trafficSource: 'newsletter',
    });
    expect(segmentation.customer).toMatchObject({ ordersCount: 1, categoriesBought: ['Accessories', 'Bags'] });
    const segmented = h2.entries.find((e) => e.cartId === 'order-1002' && e.kind === 'segmented');
    expect(segmented?.reason).toContain('returning-exploring-new-category');
    expect(segmented?.detail).toBe(
      'categories Electronics, Music players; checkout stage payment; device mobile; traffic source newsletter; 1 orders before; bought Accessories, Bags',
    );
    // Each product was asked from the store once.
    const asked = stores.received({ platform: 'woocommerce' }).filter((r) => r.path.endsWith('/products'));
    expect(asked).toHaveLength(2);
  }, 120_000);
});

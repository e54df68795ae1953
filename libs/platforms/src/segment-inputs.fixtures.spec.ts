/**
 * The segmentation's cart inputs — checkout stage, device, traffic source — from each platform's
 * sample payloads (../shared/fixtures): Shopify checkouts (the 2026-07 webhook sample and the REST
 * checkout with a chosen shipping line) and carts, a BigCommerce cart (the API reference's cart),
 * and a WooCommerce order left unpaid (the REST order sample with the order attribution meta of
 * WooCommerce's own sample data).
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { RecordCartActivity } from '@reclaim/domain';
import type { RawWebhook } from '@reclaim/ports';
import { hmacSha256, parseJsonLossless, type JsonObject } from './common';
import { shopifyWebhookAdapter } from './shopify';
import { mapShopifyCheckout, shopifyCheckoutStage } from './shopify/shopify-mappers';
import { mapBigCommerceCart } from './bigcommerce';
import { wooCommerceWebhookAdapter } from './woocommerce/woocommerce-webhook.adapter';
import { mapWooOrder, wooCheckoutStage, wooTrafficSource } from './woocommerce/woocommerce-mappers';
import {
  bigCommerceCategoryNames,
  bigCommerceProductCategoriesOf,
  shopifyProductCategoriesOf,
  wooProductCategoriesOf,
} from './commerce';

const FIXTURES = path.resolve(__dirname, '../../..', '../shared/fixtures');
const SECRET = 'inputs-test-secret';
const NOW = new Date('2026-03-01T12:00:00Z');
const present = existsSync(FIXTURES);
if (!present) console.warn(`segment-inputs fixtures: skipped, ${FIXTURES} is missing`);
const describeIfFixtures = present ? describe : describe.skip;
const read = (rel: string) => readFileSync(path.join(FIXTURES, rel));
const lossless = (rel: string): JsonObject => parseJsonLossless(read(rel).toString('utf8')) as JsonObject;

function shopify(file: string, topic: string) {
  const body = read(`shopify/${file}`);
  const raw: RawWebhook = {
    headers: {
      'content-type': 'application/json',
      'x-shopify-topic': topic,
      'x-shopify-shop-domain': 'snowdevil.myshopify.com',
      'x-shopify-webhook-id': `wh-${file}`,
      'x-shopify-api-version': '2026-07',
      'x-shopify-hmac-sha256': hmacSha256(SECRET, body).toString('base64'),
    },
    body,
    receivedAt: NOW,
  };
  const inspected = shopifyWebhookAdapter.inspect(raw);
  if (!inspected.ok) throw new Error(inspected.error);
  const result = shopifyWebhookAdapter.map(inspected, { shopCurrency: 'USD' });
  if (result.outcome !== 'commands') throw new Error(JSON.stringify(result));
  return result.commands;
}

/** The sample order as the shopper left it: unpaid, with the attribution meta WooCommerce records. */
function unpaidWooOrder(status = 'pending'): Buffer {
  const order = JSON.parse(read('woocommerce/webhook_order_created_body.json').toString('utf8')) as Record<
    string,
    unknown
  >;
  const attribution = JSON.parse(
    read('woocommerce/api_v3_order_meta_data_order_attribution_CONSTRUCTED.json').toString('utf8'),
  ) as { meta_data: unknown[] };
  order['status'] = status;
  order['date_paid_gmt'] = null;
  order['meta_data'] = [...(order['meta_data'] as unknown[]), ...attribution.meta_data];
  return Buffer.from(JSON.stringify(order));
}

function woo(topic: string, body: Buffer) {
  const raw: RawWebhook = {
    headers: {
      'content-type': 'application/json',
      'x-wc-webhook-topic': topic,
      'x-wc-webhook-source': 'https://example.com/',
      'x-wc-webhook-delivery-id': '1',
      'x-wc-webhook-signature': hmacSha256(SECRET, body).toString('base64'),
    },
    body,
    receivedAt: NOW,
  };
  const inspected = wooCommerceWebhookAdapter.inspect(raw);
  if (!inspected.ok) throw new Error(inspected.error);
  return wooCommerceWebhookAdapter.map(inspected, { shopCurrency: 'USD' });
}

describeIfFixtures('checkout stage, device and traffic source from the sample payloads', () => {
  it('Shopify checkout (2026-07 sample): a shipping address, no rate chosen → the shipping step', () => {
    const [activity] = shopify('webhook_checkouts_create.json', 'checkouts/create') as [RecordCartActivity];
    expect(activity.checkoutStage).toBe('shipping');
    // The sample has no client details, landing site or referrer (source_name "web" is the sales
    // channel): nothing to claim; the recovery records both as unknown with that reason.
    expect(activity.device).toBeUndefined();
    expect(activity.trafficSource).toBeUndefined();
    expect(activity.landingSite).toBeUndefined();
    expect(activity.referrer).toBeUndefined();
  });

  it('Shopify checkout with a utm_source cart attribute (note_attributes): the source from it, unless the landing page has one', () => {
    const base = lossless('shopify/webhook_checkouts_create.json');
    const attributes = [
      { name: 'gift_note', value: 'Happy birthday' },
      { name: 'utm_source', value: 'Instagram' },
    ];
    const [withAttribute] = mapShopifyCheckout({ ...base, note_attributes: attributes }, 'USD', NOW) as [
      RecordCartActivity,
    ];
    expect(withAttribute.trafficSource).toBe('instagram');
    const [landing] = mapShopifyCheckout(
      { ...base, note_attributes: attributes, landing_site: '/?utm_source=newsletter' },
      'USD',
      NOW,
    ) as [RecordCartActivity];
    expect(landing.trafficSource).toBeUndefined();
    expect(landing.landingSite).toBe('/?utm_source=newsletter');
    // The REST sample's attributes (engraving, colour) say nothing about the source.
    const rest = (lossless('shopify/admin_rest/checkouts.json')['checkouts'] as JsonObject[])[0]!;
    expect((mapShopifyCheckout(rest, 'USD', NOW)[0] as RecordCartActivity).trafficSource).toBeUndefined();
  });

  it('Shopify checkout (REST sample): a chosen shipping line → the payment step', () => {
    const body = lossless('shopify/admin_rest/checkouts.json');
    const checkout = (body['checkouts'] as JsonObject[])[0]!;
    const [activity] = mapShopifyCheckout(checkout, 'USD', NOW) as [RecordCartActivity];
    expect(activity.checkoutStage).toBe('payment');
  });

  it('Shopify stage: gateway → payment; contact only → contact; nothing → cart', () => {
    const base = lossless('shopify/webhook_checkouts_create.json');
    expect(shopifyCheckoutStage({ ...base, gateway: 'shopify_payments' })).toBe('payment');
    expect(shopifyCheckoutStage({ ...base, shipping_address: null })).toBe('contact');
    expect(shopifyCheckoutStage({ ...base, shipping_address: null, email: null, phone: null, customer: null })).toBe(
      'cart',
    );
    expect(shopifyCheckoutStage({ ...base, shipping_lines: [], shipping_line: { title: 'Standard' } })).toBe('payment');
  });

  it('Shopify checkout with client details and a UTM landing page: device and source from them', () => {
    const base = lossless('shopify/webhook_checkouts_create.json');
    const [activity] = mapShopifyCheckout(
      {
        ...base,
        client_details: { user_agent: 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile/15E148' },
        landing_site: '/products/belt?utm_source=Newsletter',
      },
      'USD',
      NOW,
    ) as [RecordCartActivity];
    expect(activity.device).toBe('mobile');
    expect(activity.landingSite).toBe('/products/belt?utm_source=Newsletter');
  });

  it('Shopify cart (carts/create sample): the cart step', () => {
    const [activity] = shopify('webhook_carts_create.json', 'carts/create') as [RecordCartActivity];
    expect(activity.checkoutStage).toBe('cart');
  });

  it('BigCommerce cart (API reference sample): a signed-in customer → contact; source not given by the API', () => {
    const activity = mapBigCommerceCart(parseJsonLossless(read('bigcommerce/api_cart_response_example.json')), {
      shopCurrency: 'USD',
      receivedAt: NOW,
    });
    expect(activity.checkoutStage).toBe('contact');
    expect(activity.trafficSource).toBe('unknown');
    const guest = JSON.parse(read('bigcommerce/api_cart_response_example.json').toString('utf8')) as {
      data: Record<string, unknown>;
    };
    guest.data['customer_id'] = 0;
    guest.data['email'] = '';
    expect(
      mapBigCommerceCart(parseJsonLossless(JSON.stringify(guest)), { shopCurrency: 'USD', receivedAt: NOW })
        .checkoutStage,
    ).toBe('cart');
  });

  it("BigCommerce cart with its checkout (GET /v3/checkouts/{id}; no vendor sample: the documented fields): the checkout's stage wins", () => {
    const cart = JSON.parse(read('bigcommerce/api_cart_response_example.json').toString('utf8')) as Record<
      string,
      unknown
    >;
    const withCheckout = (data: Record<string, unknown>) =>
      mapBigCommerceCart(parseJsonLossless(JSON.stringify({ ...cart, checkout: { data, meta: {} } })), {
        shopCurrency: 'USD',
        receivedAt: NOW,
      }).checkoutStage;
    const address = {
      first_name: 'Jane',
      address1: '1 Main St',
      city: 'Austin',
      postal_code: '78701',
      country_code: 'US',
    };
    expect(
      withCheckout({
        billing_address: { email: 'jane@example.com' },
        consignments: [{ id: 'c1', shipping_address: address, selected_shipping_option: { id: 'opt', cost: 5 } }],
      }),
    ).toBe('payment');
    expect(
      withCheckout({
        billing_address: { email: 'jane@example.com' },
        consignments: [{ id: 'c1', shipping_address: address, selected_shipping_option: null }],
      }),
    ).toBe('shipping');
    expect(withCheckout({ billing_address: { email: 'jane@example.com' }, consignments: [] })).toBe('contact');
  });

  it('WooCommerce order left pending: a cart at the payment step, device and source from the order attribution', () => {
    const result = woo('order.created', unpaidWooOrder());
    if (result.outcome !== 'commands') throw new Error(JSON.stringify(result));
    const [activity] = result.commands as [RecordCartActivity];
    expect(activity).toMatchObject({
      type: 'RecordCartActivity',
      cartId: 'order-727',
      source: 'checkout',
      checkoutStage: 'payment',
      device: 'desktop',
      trafficSource: 'woocommerce.com',
      landingSite: 'https://wordpress.ddev.site/product/belt/',
      referrer: 'https://woocommerce.com/',
      timeZone: 'America/Los_Angeles',
    });
    expect(activity.lineItems.map((l) => l.productId)).toEqual(['93', '22']);
  });

  it('WooCommerce checkout draft: the stage from the form filled so far', () => {
    const draft = JSON.parse(unpaidWooOrder('checkout-draft').toString('utf8')) as Record<string, unknown>;
    expect(wooCheckoutStage(parseJsonLossless(JSON.stringify(draft)) as JsonObject)).toBe('payment');
    draft['shipping_lines'] = [];
    expect(wooCheckoutStage(parseJsonLossless(JSON.stringify(draft)) as JsonObject)).toBe('shipping');
    draft['shipping'] = {};
    expect(wooCheckoutStage(parseJsonLossless(JSON.stringify(draft)) as JsonObject)).toBe('contact');
  });

  it('WooCommerce traffic source: utm_source, else the referrer host, else the source type', () => {
    expect(wooTrafficSource({ utm_source: 'Google', referrer: 'https://www.bing.com/' })).toBe('google');
    expect(wooTrafficSource({ referrer: 'https://www.bing.com/search', source_type: 'organic' })).toBe('bing.com');
    expect(wooTrafficSource({ source_type: 'typein' })).toBe('direct');
    expect(wooTrafficSource({ source_type: 'organic' })).toBe('organic');
    expect(wooTrafficSource({})).toBe('unknown');
  });

  it('WooCommerce order paid later: the order names the unpaid cart it buys', () => {
    const order = lossless('woocommerce/webhook_order_created_body.json');
    expect(mapWooOrder(order, 'USD', NOW).cartIds).toEqual(['order-727']);
  });
});

describeIfFixtures('product categories from the sample API answers', () => {
  it('BigCommerce: the product sample (categories 23, 21) named by the categories sample', () => {
    const product = (lossless('bigcommerce/catalog_v3_product_get_200.json')['data'] as JsonObject) ?? {};
    const names = bigCommerceCategoryNames(parseJsonLossless(read('bigcommerce/catalog_v3_categories_get_200.json')));
    expect(bigCommerceProductCategoriesOf([product], names)).toEqual([
      { productId: '174', categories: ['Shop All', 'Kitchen'] },
    ]);
    // The category trees' answer carries `category_id` instead of `id`.
    expect([
      ...bigCommerceCategoryNames(parseJsonLossless(read('bigcommerce/catalog_v3_tree_categories_get_200.json'))),
    ]).toEqual([['12', 'Bath']]);
  });

  it('WooCommerce: the product sample (Clothing, T-shirts)', () => {
    expect(
      wooProductCategoriesOf(parseJsonLossless(read('woocommerce/api_v3_product_retrieve_response.json'))),
    ).toEqual([{ productId: '794', categories: ['Clothing', 'T-shirts'] }]);
  });

  it('Shopify: product type and collection titles of Product nodes (no vendor sample exists: built from the schema)', () => {
    const data = parseJsonLossless(
      JSON.stringify({
        nodes: [
          {
            __typename: 'Product',
            id: 'gid://shopify/Product/788032119674292922',
            productType: 'Snowboard',
            collections: { nodes: [{ title: 'Winter' }, { title: 'Snowboard' }] },
          },
          null,
          { __typename: 'Product', id: 'gid://shopify/Product/1', productType: '', collections: { nodes: [] } },
        ],
      }),
    ) as JsonObject;
    expect(shopifyProductCategoriesOf(data)).toEqual([
      { productId: '788032119674292922', categories: ['Snowboard', 'Winter'] },
      { productId: '1', categories: [] },
    ]);
  });
});

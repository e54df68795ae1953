import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { CompleteCheckout, PlaceOrder, RecordCartActivity } from '@reclaim/domain';
import type { MappingResult, RawWebhook } from '@reclaim/ports';
import { hmacSha256, isObject, parseJsonLossless, strOf } from './common';
import { shopifyWebhookAdapter } from './shopify';
import { wooCommerceWebhookAdapter } from './woocommerce';
import { bigCommerceWebhookAdapter, mapBigCommerceCart, signStandardWebhook } from './bigcommerce';

/** Real provider samples live outside the repo (never copied in). */
const REPO_ROOT = path.resolve(__dirname, '../../..');
const FIXTURES = path.resolve(REPO_ROOT, '../shared/fixtures');
const SECRET = 'conformance-test-secret';
const NOW = new Date('2026-03-01T12:00:00Z');

const describeIfFixtures: (name: string, body: () => void) => void = existsSync(FIXTURES)
  ? describe
  : (name, body) => describe.skip(`${name} [skipped: ${FIXTURES} not found]`, body);
if (!existsSync(FIXTURES)) console.warn(`[platforms conformance] skipped: fixtures folder ${FIXTURES} does not exist`);

const read = (rel: string): Buffer => readFileSync(path.join(FIXTURES, rel));
const json = (rel: string): Record<string, unknown> =>
  JSON.parse(read(rel).toString('utf8')) as Record<string, unknown>;

function commandsOf(result: MappingResult) {
  if (result.outcome !== 'commands') throw new Error(`expected commands, got ${JSON.stringify(result)}`);
  return result.commands;
}

describeIfFixtures('Shopify fixtures', () => {
  const topicOf = (file: string): string =>
    file
      .replace(/^webhook_/, '')
      .replace(/\.json$/, '')
      .replace(/^(checkouts|carts|orders|customers|shop)_/, '$1/');
  const files = existsSync(FIXTURES)
    ? readdirSync(path.join(FIXTURES, 'shopify')).filter((f) => /^webhook_.*\.json$/.test(f))
    : [];

  function deliver(file: string) {
    const body = read(`shopify/${file}`);
    const raw: RawWebhook = {
      headers: {
        'content-type': 'application/json',
        'x-shopify-topic': topicOf(file),
        'x-shopify-shop-domain': 'snowdevil.myshopify.com',
        'x-shopify-webhook-id': `wh-${file}`,
        'x-shopify-api-version': '2026-07',
        'x-shopify-hmac-sha256': hmacSha256(SECRET, body).toString('base64'),
      },
      body,
      receivedAt: NOW,
    };
    expect(shopifyWebhookAdapter.verify(raw, [SECRET], NOW)).toBe(true);
    const inspected = shopifyWebhookAdapter.inspect(raw);
    if (!inspected.ok) throw new Error(inspected.error);
    return shopifyWebhookAdapter.map(inspected, { shopCurrency: 'USD' });
  }

  it('covers every webhook fixture', () => {
    expect(files.length).toBeGreaterThanOrEqual(13);
    for (const file of files) {
      const result = deliver(file);
      const fixture = json(`shopify/${file}`);
      expect(['commands', 'ignored']).toContain(result.outcome);
      if (file === 'webhook_customers_marketing_consent_update.json') {
        expect(result).toEqual({ outcome: 'ignored', reason: 'sms_marketing_consent.state is null or absent' });
      }
      if (result.outcome === 'commands') expect(result.commands.every((c) => c.platform === 'shopify')).toBe(true);
      expect(fixture).toBeDefined();
    }
  });

  it('checkouts/create: cart keyed by cart_token, money and lines as in the fixture', () => {
    const [cmd] = commandsOf(deliver('webhook_checkouts_create.json')) as [RecordCartActivity];
    expect(cmd).toMatchObject({
      type: 'RecordCartActivity',
      cartId: 'eeafa272cebfd4b22385bc4b645e762c',
      total: '421.88',
      subtotal: '398.00',
      currency: 'USD',
      checkoutUrl: 'https://checkout.local/548380009/checkouts/123123123/recover?key=example-secret-token',
      customer: { platformCustomerId: '603851970716743426' },
      contact: { email: 'example@email.com' },
      platformUpdatedAt: '2022-01-01T00:00:00.000Z',
    });
    expect(cmd.lineItems.map((l) => [l.productId, l.variantId, l.quantity, l.unitPrice])).toEqual([
      ['632910392', '808950810', 1, '199.00'],
      ['632910392', '808950810', 1, '199.00'],
    ]);
  });

  it('checkouts/delete and carts/create', () => {
    expect(commandsOf(deliver('webhook_checkouts_delete.json'))).toMatchObject([
      { type: 'DeleteCart', cartId: 'eeafa272cebfd4b22385bc4b645e762c' },
    ]);
    const [cart] = commandsOf(deliver('webhook_carts_create.json')) as [RecordCartActivity];
    expect(cart).toMatchObject({ cartId: 'exampleCartId', subtotal: '59.97', currency: 'USD', source: 'cart' });
    expect(cart.lineItems[0]).toMatchObject({
      productId: '788032119674292922',
      variantId: '704912205188288575',
      quantity: 3,
      unitPrice: '19.99',
    });
  });

  it('orders/create keeps the 2^53+ id exactly', () => {
    const [order] = commandsOf(deliver('webhook_orders_create.json')) as [PlaceOrder];
    const text = read('shopify/webhook_orders_create.json').toString('utf8');
    expect(text).toContain('"id": 820982911946154508');
    expect(order).toMatchObject({
      orderId: '820982911946154508',
      total: '359.97',
      totalDiscounts: '20.00',
      cartIds: [],
      currency: 'USD',
    });
    expect(order.lineItems).toHaveLength(3);
  });

  it('admin REST checkout and order link through the same cart_token', () => {
    const checkouts = (parseJsonLossless(read('shopify/admin_rest/checkouts.json')) as { checkouts: unknown[] })
      .checkouts;
    const order = (parseJsonLossless(read('shopify/admin_rest/order.json')) as { order: unknown }).order;
    const c = commandsOf(
      (() => {
        const body = Buffer.from(
          JSON.stringify(JSON.parse(read('shopify/admin_rest/checkouts.json').toString()).checkouts[0]),
        );
        const inspected = shopifyWebhookAdapter.inspect({
          headers: {
            'content-type': 'application/json',
            'x-shopify-topic': 'checkouts/update',
            'x-shopify-shop-domain': 's.myshopify.com',
            'x-shopify-webhook-id': '1',
          },
          body,
          receivedAt: NOW,
        });
        if (!inspected.ok) throw new Error(inspected.error);
        return shopifyWebhookAdapter.map(inspected, { shopCurrency: 'USD' });
      })(),
    );
    expect(checkouts.length).toBeGreaterThan(0);
    expect(isObject(order)).toBe(true);
    const cartId = (c[0] as RecordCartActivity).cartId;
    expect(cartId).toBe('68778783ad298f1c80c3bafcddeea02f');
    const orderCartToken = isObject(order) ? strOf(order['cart_token']) : undefined;
    expect(orderCartToken).toBe(cartId);
  });

  it('compliance topics', () => {
    expect(commandsOf(deliver('webhook_customers_redact.json'))).toMatchObject([
      { type: 'RedactCustomer', customer: { platformCustomerId: '191167' }, orderIds: ['299938', '280263', '220458'] },
    ]);
    expect(commandsOf(deliver('webhook_customers_data_request.json'))).toMatchObject([
      { type: 'RequestCustomerData', dataRequestId: '9999' },
    ]);
    expect(commandsOf(deliver('webhook_shop_redact.json'))).toMatchObject([{ type: 'RedactShop' }]);
    expect(commandsOf(deliver('webhook_customers_email_marketing_consent_update.json'))).toMatchObject([
      {
        type: 'ChangeMarketingConsent',
        channel: 'email',
        consent: { state: 'not_subscribed' },
        customer: { platformCustomerId: '706405506930370084' },
      },
    ]);
  });
});

describeIfFixtures('BigCommerce fixtures', () => {
  const dir = 'bigcommerce/webhooks';
  const files = existsSync(FIXTURES) ? readdirSync(path.join(FIXTURES, dir)).filter((f) => f.endsWith('.json')) : [];

  it('inspects, verifies and maps every webhook sample', () => {
    expect(files.length).toBeGreaterThanOrEqual(40);
    for (const file of files) {
      const body = read(`${dir}/${file}`);
      const ts = Math.floor(NOW.getTime() / 1000);
      const raw: RawWebhook = {
        headers: {
          'content-type': 'application/json',
          'webhook-id': `msg-${file}`,
          'webhook-timestamp': String(ts),
          'webhook-signature': signStandardWebhook(SECRET, `msg-${file}`, ts, body),
        },
        body,
        receivedAt: NOW,
      };
      const inspected = bigCommerceWebhookAdapter.inspect(raw);
      if (body.length === 0) {
        expect(inspected).toMatchObject({ ok: false, status: 400 }); // store_app_uninstalled.json is empty upstream
        continue;
      }
      if (!inspected.ok) throw new Error(`${file}: ${inspected.error}`);
      expect(bigCommerceWebhookAdapter.verify(raw, [SECRET], NOW)).toBe(true);
      const fixture = json(`${dir}/${file}`);
      expect(inspected.topic).toBe(fixture['scope']);
      const result = bigCommerceWebhookAdapter.map(inspected, { shopCurrency: 'USD' });
      const scope = String(fixture['scope']);
      const data = fixture['data'] as Record<string, unknown>;
      if (scope.startsWith('store/cart/lineItem/'))
        expect(result).toEqual({ outcome: 'fetch', resource: { type: 'cart', id: data['cartId'] } });
      else if (['store/cart/created', 'store/cart/updated', 'store/cart/couponApplied'].includes(scope)) {
        expect(result).toEqual({ outcome: 'fetch', resource: { type: 'cart', id: data['id'] } });
      } else if (scope === 'store/order/created')
        expect(result).toEqual({ outcome: 'fetch', resource: { type: 'order', id: String(data['id']) } });
      else if (scope === 'store/cart/abandoned')
        expect(commandsOf(result)).toMatchObject([{ type: 'ReportCartAbandoned', cartId: data['id'] }]);
      else if (scope === 'store/cart/deleted')
        expect(commandsOf(result)).toMatchObject([{ type: 'DeleteCart', cartId: data['id'] }]);
      else if (scope === 'store/cart/converted') {
        const [done] = commandsOf(result) as [CompleteCheckout];
        expect(done).toMatchObject({
          cartId: data['id'],
          orderId: String(data['orderId']),
          completedAt: new Date(Number(fixture['created_at']) * 1000).toISOString(),
        });
      } else if (scope.startsWith('store/customer/')) expect(['fetch', 'ignored']).toContain(result.outcome);
      else if (scope === 'store/product/inventory/updated' || scope === 'store/sku/inventory/updated') {
        const inventory = data['inventory'] as Record<string, unknown>;
        expect(commandsOf(result)).toMatchObject([
          { type: 'ReportProductStock', productId: String(inventory['product_id']) },
        ]);
      } else expect(result).toEqual({ outcome: 'unknown-topic', topic: scope });
    }
  });

  it('maps the cart API response', () => {
    const cart = mapBigCommerceCart(parseJsonLossless(read('bigcommerce/api_cart_response_example.json')), {
      shopCurrency: 'USD',
      receivedAt: NOW,
    });
    expect(cart).toMatchObject({
      cartId: 'bc218c65-7a32-4ab7-8082-68730c074d02',
      customer: { platformCustomerId: '11' },
      currency: 'USD',
      subtotal: '189.75',
      total: '212.81',
      platformUpdatedAt: '2018-09-17T14:53:40.000Z',
    });
    expect(cart.contact.email).toBeUndefined();
    expect(cart.lineItems.map((l) => [l.productId, l.variantId, l.quantity, l.unitPrice])).toEqual([
      ['191', '362', 5, '27.95'],
      ['custom:78239b69-1952-4c35-9d58-ea30158b4e39', undefined, 1, '5.99'],
    ]);
  });
});

describeIfFixtures('WooCommerce fixtures', () => {
  it.each(['webhook_order_created_body.json', 'api_v3_order_update_response.json'])('maps %s to PlaceOrder', (file) => {
    const body = read(`woocommerce/${file}`);
    const raw: RawWebhook = {
      headers: {
        'content-type': 'application/json',
        'x-wc-webhook-topic': 'order.created',
        'x-wc-webhook-source': 'https://example.com/',
        'x-wc-webhook-signature': hmacSha256(SECRET, body).toString('base64'),
      },
      body,
      receivedAt: NOW,
    };
    expect(wooCommerceWebhookAdapter.verify(raw, [SECRET], NOW)).toBe(true);
    const inspected = wooCommerceWebhookAdapter.inspect(raw);
    if (!inspected.ok) throw new Error(inspected.error);
    const fixture = json(`woocommerce/${file}`);
    expect(inspected.deliveryId).toBe(`order.created:${String(fixture['id'])}:${String(fixture['date_modified_gmt'])}`);
    const result = wooCommerceWebhookAdapter.map(inspected, { shopCurrency: 'USD' });
    if (fixture['status'] !== 'processing' && fixture['status'] !== 'completed' && fixture['status'] !== 'on-hold') {
      expect(result.outcome).toBe('ignored');
      return;
    }
    const [order] = commandsOf(result) as [PlaceOrder];
    expect(order).toMatchObject({
      orderId: String(fixture['id']),
      total: fixture['total'],
      currency: fixture['currency'],
      financialStatus: fixture['status'],
    });
    const lines = fixture['line_items'] as Array<Record<string, unknown>>;
    expect(order.lineItems.map((l) => [l.lineId, l.productId, l.quantity])).toEqual(
      lines.map((l) => [String(l['id']), String(l['product_id']), l['quantity']]),
    );
    expect(order.contact.email).toBe((fixture['billing'] as Record<string, unknown>)['email']);
  });
});

import fc from 'fast-check';
import type { CompleteCheckout, PlaceOrder, RecordCartActivity } from '@reclaim/domain';
import type { RawWebhook } from '@reclaim/ports';
import { hmacSha256 } from '../common';
import { shopifyWebhookAdapter as adapter } from './shopify-webhook.adapter';

const SECRET = 'shpss_test_secret';
const NOW = new Date('2026-03-01T12:00:00Z');

function delivery(topic: string, body: string, overrides: Record<string, string | undefined> = {}): RawWebhook {
  const buf = Buffer.from(body, 'utf8');
  return {
    headers: {
      'content-type': 'application/json',
      'x-shopify-topic': topic,
      'x-shopify-shop-domain': 'Reclaim-Test.myshopify.com',
      'x-shopify-webhook-id': 'b54557e4-bdd9-4b37-8a5f-bf7d70bcd043',
      'x-shopify-api-version': '2026-07',
      'x-shopify-hmac-sha256': hmacSha256(SECRET, buf).toString('base64'),
      ...overrides,
    },
    body: buf,
    receivedAt: NOW,
  };
}

// Written by us after Shopify's documented checkout resource shape.
const checkout = `{
  "token": "9f1c2a7e0b",
  "cart_token": "c1-77aa",
  "email": "zoë@例え.jp",
  "phone": "+4915112345678",
  "currency": "EUR",
  "presentment_currency": "EUR",
  "created_at": "2026-02-28T10:00:00+01:00",
  "updated_at": "2026-02-28T10:05:00+01:00",
  "completed_at": null,
  "landing_site": "/products/mug?utm_source=newsletter",
  "referring_site": "https://www.google.com/",
  "abandoned_checkout_url": "https://reclaim-test.myshopify.com/123/checkouts/9f1c2a7e0b/recover?key=abc",
  "customer_locale": "de-DE",
  "buyer_accepts_marketing": true,
  "client_details": { "browser_ip": "203.0.113.9", "user_agent": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile/15E148" },
  "subtotal_price": "39.80",
  "total_price": "44.70",
  "line_items": [
    { "key": "k1", "product_id": 9007199254740993, "variant_id": 9007199254740995, "title": "Mug", "variant_title": "Blue",
      "quantity": 2, "price": "19.90", "sku": "MUG-B", "image_url": "https://cdn.shopify.com/mug.png",
      "price_set": { "presentment_money": { "amount": "19.90", "currency_code": "EUR" } } }
  ],
  "customer": { "id": 9007199254740999, "first_name": "Zoë", "last_name": "Ünal",
    "sms_marketing_consent": { "state": "subscribed", "opt_in_level": "single_opt_in", "consent_updated_at": "2026-01-01T00:00:00Z", "consent_collected_from": "SHOPIFY" } }
}`;

describe('Shopify webhook signature (R16)', () => {
  const raw = delivery('checkouts/update', checkout);

  it('accepts the right secret, and the old+new pair during a rotation', () => {
    expect(adapter.verify(raw, [SECRET], NOW)).toBe(true);
    expect(adapter.verify(raw, ['old-secret', SECRET], NOW)).toBe(true);
  });

  it('rejects a flipped byte, re-serialised JSON, a wrong secret, a missing header and hex', () => {
    const flipped = Buffer.from(raw.body);
    flipped[10] = flipped[10]! ^ 0x01;
    expect(adapter.verify({ ...raw, body: flipped }, [SECRET], NOW)).toBe(false);
    const reserialised = Buffer.from(JSON.stringify(JSON.parse(checkout)));
    expect(adapter.verify({ ...raw, body: reserialised }, [SECRET], NOW)).toBe(false);
    expect(adapter.verify(raw, ['wrong'], NOW)).toBe(false);
    expect(
      adapter.verify({ ...raw, headers: { ...raw.headers, 'x-shopify-hmac-sha256': undefined } }, [SECRET], NOW),
    ).toBe(false);
    const hex = hmacSha256(SECRET, raw.body).toString('hex');
    expect(adapter.verify({ ...raw, headers: { ...raw.headers, 'x-shopify-hmac-sha256': hex } }, [SECRET], NOW)).toBe(
      false,
    );
  });
});

describe('Shopify inspect', () => {
  it('extracts shop, topic, delivery id and api version', () => {
    const r = adapter.inspect(delivery('checkouts/update', checkout));
    expect(r).toMatchObject({
      ok: true,
      shopDomain: 'reclaim-test.myshopify.com',
      topic: 'checkouts/update',
      deliveryId: 'b54557e4-bdd9-4b37-8a5f-bf7d70bcd043',
      apiVersion: '2026-07',
    });
  });

  it.each([
    ['truncated JSON', delivery('checkouts/update', checkout.slice(0, 50)), 'body'],
    [
      'missing webhook id',
      delivery('checkouts/update', checkout, { 'x-shopify-webhook-id': undefined }),
      'x-shopify-webhook-id',
    ],
    ['missing shop', delivery('checkouts/update', checkout, { 'x-shopify-shop-domain': '' }), 'x-shopify-shop-domain'],
  ])('answers 400 for %s', (_name, raw, field) => {
    expect(adapter.inspect(raw)).toMatchObject({ ok: false, status: 400, field });
  });

  it('answers 415 naming the header for a wrong or missing content type, before reading the body', () => {
    for (const ct of ['text/plain', undefined]) {
      const raw = delivery('checkouts/update', checkout, { 'content-type': ct });
      expect(adapter.identify(raw)).toMatchObject({ ok: false, status: 415, field: 'content-type' });
      expect(adapter.inspect(raw)).toMatchObject({ ok: false, status: 415, field: 'content-type' });
    }
    expect(adapter.identify(delivery('checkouts/update', '{"broken'))).toEqual({
      ok: true,
      shopDomain: 'reclaim-test.myshopify.com',
      topic: 'checkouts/update',
    });
  });

  it('answers 400 naming the header for NUL or an unpaired surrogate in the topic', () => {
    expect(adapter.inspect(delivery('checkouts/\ud800update', checkout))).toMatchObject({
      ok: false,
      status: 400,
      field: 'x-shopify-topic',
    });
  });

  it('never throws on arbitrary bytes and headers', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 300 }),
        fc.dictionary(
          fc.constantFrom('content-type', 'x-shopify-topic', 'x-shopify-shop-domain', 'x-shopify-webhook-id'),
          fc.string(),
        ),
        (bytes, headers) => {
          const raw: RawWebhook = { headers, body: Buffer.from(bytes), receivedAt: NOW };
          const r = adapter.inspect(raw);
          expect(typeof r.ok).toBe('boolean');
          expect(adapter.verify(raw, [SECRET], NOW)).toBe(false);
          if (r.ok) expect(() => adapter.map(r, { shopCurrency: 'USD' })).not.toThrow();
        },
      ),
    );
  });
});

function mapped(topic: string, body: string, headers: Record<string, string | undefined> = {}) {
  const r = adapter.inspect(delivery(topic, body, headers));
  if (!r.ok) throw new Error(r.error);
  return adapter.map(r, { shopCurrency: 'USD' });
}

describe('Shopify mapping', () => {
  it('maps an open checkout to RecordCartActivity with every field, ids lossless', () => {
    const result = mapped('checkouts/update', checkout);
    expect(result.outcome).toBe('commands');
    if (result.outcome !== 'commands') return;
    expect(result.commands).toHaveLength(1);
    const cmd = result.commands[0] as RecordCartActivity;
    expect(cmd).toMatchObject({
      type: 'RecordCartActivity',
      platform: 'shopify',
      cartId: 'c1-77aa',
      cartToken: 'c1-77aa',
      source: 'checkout',
      platformUpdatedAt: '2026-02-28T09:05:00.000Z',
      customer: { platformCustomerId: '9007199254740999' },
      contact: { email: 'zoë@例え.jp', phone: '+4915112345678', firstName: 'Zoë', lastName: 'Ünal', ip: '203.0.113.9' },
      currency: 'EUR',
      subtotal: '39.80',
      total: '44.70',
      checkoutUrl: 'https://reclaim-test.myshopify.com/123/checkouts/9f1c2a7e0b/recover?key=abc',
      landingSite: '/products/mug?utm_source=newsletter',
      referrer: 'https://www.google.com/',
      device: 'mobile',
      locale: 'de-DE',
      emailConsent: { state: 'subscribed', source: 'shopify:checkout' },
      smsConsent: {
        state: 'subscribed',
        optInLevel: 'single_opt_in',
        source: 'shopify:shopify',
        updatedAt: '2026-01-01T00:00:00.000Z',
      },
    });
    expect(cmd.lineItems).toEqual([
      {
        lineId: 'k1',
        productId: '9007199254740993',
        variantId: '9007199254740995',
        sku: 'MUG-B',
        title: 'Mug',
        variantTitle: 'Blue',
        imageUrl: 'https://cdn.shopify.com/mug.png',
        productUrl: undefined,
        quantity: 2,
        unitPrice: '19.90',
      },
    ]);
  });

  it('adds CompleteCheckout when completed_at is set', () => {
    const result = mapped(
      'checkouts/update',
      checkout.replace('"completed_at": null', '"completed_at": "2026-02-28T10:07:00+01:00"'),
    );
    if (result.outcome !== 'commands') throw new Error(result.outcome);
    const done = result.commands[1] as CompleteCheckout;
    expect(done).toMatchObject({
      type: 'CompleteCheckout',
      cartId: 'c1-77aa',
      completedAt: '2026-02-28T09:07:00.000Z',
    });
  });

  it('still maps known topics under an unknown API version (R15)', () => {
    expect(mapped('checkouts/update', checkout, { 'x-shopify-api-version': '2099-01' }).outcome).toBe('commands');
  });

  it('links an order back to its cart and checkout tokens', () => {
    const order = `{"id": 5000000000000000001, "cart_token": "c1-77aa", "checkout_token": "9f1c2a7e0b", "email": "a@b.c",
      "currency": "EUR", "total_price": "44.70", "subtotal_price": "39.80", "total_discounts": "0.00",
      "discount_codes": [{"code": "WELCOME10", "amount": "0.00", "type": "percentage"}], "financial_status": "paid",
      "processed_at": "2026-02-28T10:07:00+01:00", "updated_at": "2026-02-28T10:07:01+01:00",
      "line_items": [{"id": 1, "product_id": 2, "variant_id": 3, "title": "Mug", "quantity": 2, "price": "19.90"}]}`;
    const result = mapped('orders/paid', order);
    if (result.outcome !== 'commands') throw new Error(result.outcome);
    expect(result.commands[0] as PlaceOrder).toMatchObject({
      type: 'PlaceOrder',
      orderId: '5000000000000000001',
      cartIds: ['c1-77aa', '9f1c2a7e0b'],
      total: '44.70',
      discountCodes: ['WELCOME10'],
      financialStatus: 'paid',
      placedAt: '2026-02-28T09:07:00.000Z',
    });
  });

  it.each([
    ['-1', 'negative amount (-1)'],
    ['"12,50"', 'comma decimal separator is ambiguous ("12,50")'],
    ['1e308', 'amount exceeds the maximum of 1000000000000'],
    ['"NaN"', 'not a finite number (NaN)'],
  ])('quarantines a line price of %s with its reason (R12)', (price, reason) => {
    const bad = checkout.replace('"price": "19.90"', `"price": ${price}`);
    expect(mapped('checkouts/update', bad)).toEqual({ outcome: 'quarantined', field: 'line_items[0].price', reason });
  });

  it('quarantines mixed currencies', () => {
    const bad = checkout.replace('"currency_code": "EUR"', '"currency_code": "USD"');
    expect(mapped('checkouts/update', bad)).toEqual({
      outcome: 'quarantined',
      field: 'currency',
      reason: 'mixed currencies: EUR, USD',
    });
  });

  it('reports unknown topics and non-object payloads', () => {
    expect(mapped('products/delete', '{"id": 1}')).toEqual({ outcome: 'unknown-topic', topic: 'products/delete' });
    expect(mapped('checkouts/update', '[1,2]')).toEqual({
      outcome: 'invalid',
      field: '$',
      reason: 'payload is not a JSON object',
    });
  });

  it('maps consent updates, ignoring a null state', () => {
    const sms = mapped(
      'customers/marketing_consent_update',
      '{"id": 706405506930370084, "phone": "+16135551212", "sms_marketing_consent": {"state": "unsubscribed", "opt_in_level": "single_opt_in", "consent_updated_at": "2026-02-01T00:00:00Z", "consent_collected_from": "OTHER"}}',
    );
    expect(sms).toMatchObject({
      outcome: 'commands',
      commands: [
        {
          type: 'ChangeMarketingConsent',
          channel: 'sms',
          customer: { platformCustomerId: '706405506930370084' },
          contact: { phone: '+16135551212' },
          consent: { state: 'unsubscribed', source: 'shopify:other' },
          platformUpdatedAt: '2026-02-01T00:00:00.000Z',
        },
      ],
    });
    expect(
      mapped('customers/marketing_consent_update', '{"id": 1, "sms_marketing_consent": {"state": null}}').outcome,
    ).toBe('ignored');
  });
});

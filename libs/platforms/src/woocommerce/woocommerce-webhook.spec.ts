import fc from 'fast-check';
import type { RawWebhook } from '@reclaim/ports';
import { hmacSha256 } from '../common';
import { wooCommerceWebhookAdapter as adapter } from './woocommerce-webhook.adapter';
import { inspectCartflows, mapCartflows } from './cartflows';

const SECRET = 'wc-secret';
const NOW = new Date('2026-03-01T12:00:00Z');

const order = `{"id": 9007199254740993, "status": "processing", "currency": "EUR", "date_created_gmt": "2026-02-28T09:00:00",
  "date_modified_gmt": "2026-02-28T09:01:00", "date_paid_gmt": "2026-02-28T09:00:30", "total": "31.00", "discount_total": "2.00",
  "customer_id": 0, "customer_ip_address": "198.51.100.7",
  "billing": {"first_name": "أحمد", "last_name": "Doe", "email": "ahmed@example.com", "phone": "+33612345678", "address_1": "1 Rue", "city": "Paris", "country": "FR"},
  "line_items": [{"id": 315, "name": "Tea", "product_id": 93, "variation_id": 0, "quantity": 2, "subtotal": "30.00", "price": 15}],
  "coupon_lines": [{"id": 1, "code": "spring"}]}`;

function delivery(topic: string, body: string, overrides: Record<string, string | undefined> = {}): RawWebhook {
  const buf = Buffer.from(body);
  return {
    headers: {
      'content-type': 'application/json',
      'x-wc-webhook-topic': topic,
      'x-wc-webhook-source': 'https://Shop.Example.com/',
      'x-wc-webhook-delivery-id': String(Math.floor(Math.random() * 1e6)),
      'x-wc-webhook-signature': hmacSha256(SECRET, buf).toString('base64'),
      ...overrides,
    },
    body: buf,
    receivedAt: NOW,
  };
}

describe('WooCommerce signature and ping', () => {
  it('verifies the signature with rotation and rejects tampering', () => {
    const raw = delivery('order.updated', order);
    expect(adapter.verify(raw, ['old', SECRET], NOW)).toBe(true);
    expect(adapter.verify({ ...raw, body: Buffer.from(order.replace('31.00', '31.01')) }, [SECRET], NOW)).toBe(false);
    expect(
      adapter.verify(delivery('order.updated', order, { 'x-wc-webhook-signature': undefined }), [SECRET], NOW),
    ).toBe(false);
  });

  it('recognises the unsigned form-encoded ping', () => {
    const ping: RawWebhook = {
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: Buffer.from('webhook_id=42'),
      receivedAt: NOW,
    };
    expect(adapter.inspect(ping)).toMatchObject({ ok: true, isPing: true, topic: 'ping', deliveryId: 'ping:42' });
    const notPing = { ...ping, body: Buffer.from('hello=1') };
    expect(adapter.inspect(notPing)).toMatchObject({ ok: false, status: 400 });
  });
});

describe('WooCommerce inspect and map', () => {
  it('derives a stable delivery id from id + date_modified_gmt + topic', () => {
    const a = adapter.inspect(delivery('order.updated', order));
    const b = adapter.inspect(delivery('order.updated', order));
    expect(a).toMatchObject({
      ok: true,
      shopDomain: 'shop.example.com',
      deliveryId: 'order.updated:9007199254740993:2026-02-28T09:01:00',
    });
    expect(b.ok && a.ok && b.deliveryId === a.deliveryId).toBe(true);
  });

  it('answers 400 for truncated JSON and a missing source', () => {
    expect(adapter.inspect(delivery('order.updated', order.slice(0, 40)))).toMatchObject({
      ok: false,
      status: 400,
      field: 'body',
    });
    expect(adapter.inspect(delivery('order.updated', order, { 'x-wc-webhook-source': undefined }))).toMatchObject({
      ok: false,
      status: 400,
    });
  });

  it('maps a paid order to PlaceOrder; GMT dates without offset are UTC', () => {
    const r = adapter.inspect(delivery('order.created', order));
    if (!r.ok) throw new Error(r.error);
    expect(adapter.map(r, { shopCurrency: 'USD' })).toMatchObject({
      outcome: 'commands',
      commands: [
        {
          type: 'PlaceOrder',
          platform: 'woocommerce',
          orderId: '9007199254740993',
          platformUpdatedAt: '2026-02-28T09:01:00.000Z',
          placedAt: '2026-02-28T09:00:30.000Z',
          currency: 'EUR',
          total: '31.00',
          subtotal: '30',
          discountCodes: ['spring'],
          contact: { firstName: 'أحمد', email: 'ahmed@example.com', ip: '198.51.100.7' },
          lineItems: [
            { lineId: '315', productId: '93', variantId: undefined, quantity: 2, unitPrice: '15', title: 'Tea' },
          ],
        },
      ],
    });
  });

  it('an unpaid order is the cart it stands for; cancelled orders and identity-less cart action hooks are ignored; unknown topics are parked', () => {
    const pending = adapter.inspect(delivery('order.updated', order.replace('"processing"', '"pending"')));
    if (!pending.ok) throw new Error(pending.error);
    const mapped = adapter.map(pending, { shopCurrency: 'EUR' });
    expect(mapped).toMatchObject({
      outcome: 'commands',
      commands: [
        {
          type: 'RecordCartActivity',
          cartId: 'order-9007199254740993',
          source: 'checkout',
          checkoutStage: 'payment',
          trafficSource: 'unknown',
          subtotal: '30',
          total: '31.00',
        },
      ],
    });
    const cancelled = adapter.inspect(delivery('order.updated', order.replace('"processing"', '"cancelled"')));
    if (!cancelled.ok) throw new Error(cancelled.error);
    expect(adapter.map(cancelled, { shopCurrency: 'USD' }).outcome).toBe('ignored');
    const action = adapter.inspect(
      delivery('action.woocommerce_add_to_cart', '{"action":"woocommerce_add_to_cart","arg":"a1b2c3"}'),
    );
    if (!action.ok) throw new Error(action.error);
    expect(adapter.map(action, { shopCurrency: 'USD' }).outcome).toBe('ignored');
    expect(action.deliveryId).toMatch(/^action\.woocommerce_add_to_cart:sha256:[0-9a-f]{64}$/);
    const unknown = adapter.inspect(delivery('coupon.created', '{"id": 1}'));
    if (!unknown.ok) throw new Error(unknown.error);
    expect(adapter.map(unknown, { shopCurrency: 'USD' })).toEqual({
      outcome: 'unknown-topic',
      topic: 'coupon.created',
    });
  });

  it('quarantines a comma-decimal total', () => {
    const r = adapter.inspect(delivery('order.created', order.replace('"total": "31.00"', '"total": "31,00"')));
    if (!r.ok) throw new Error(r.error);
    expect(adapter.map(r, { shopCurrency: 'USD' })).toEqual({
      outcome: 'quarantined',
      field: 'total',
      reason: 'comma decimal separator is ambiguous ("31,00")',
    });
  });

  it('inspect never throws on arbitrary bytes and headers', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 200 }),
        fc.constantFrom('application/json', 'application/x-www-form-urlencoded', 'text/plain', ''),
        fc.string(),
        (bytes, type, topic) => {
          const raw: RawWebhook = {
            headers: { 'content-type': type, 'x-wc-webhook-topic': topic, 'x-wc-webhook-source': 'https://a.example' },
            body: Buffer.from(bytes),
            receivedAt: NOW,
          };
          const r = adapter.inspect(raw);
          if (r.ok) expect(() => adapter.map(r, { shopCurrency: 'USD' })).not.toThrow();
        },
      ),
    );
  });
});

describe('CartFlows Cart Abandonment Recovery payload', () => {
  const form = new URLSearchParams({
    first_name: 'Zoë',
    last_name: 'Ünal',
    email: 'zoe@example.com',
    phone_number: '+4915112345678',
    billing_address: 'Hauptstr. 1, Berlin',
    checkout_url: 'https://shop.example.com/checkout/?wcf_ac_token=tok-123',
    product_names: 'Tea, Mug',
    order_status: 'abandoned',
    cart_total: '42.50',
    coupon_code: '',
    product_table: '<table></table>',
  }).toString();
  const raw = (body: string): RawWebhook => ({
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: Buffer.from(body),
    receivedAt: NOW,
  });

  it('maps an abandoned cart to activity + ReportCartAbandoned keyed by the wcf_ac_token', () => {
    const inspected = inspectCartflows(raw(form), 'shop.example.com');
    if (!inspected.ok) throw new Error(inspected.error);
    expect(mapCartflows(inspected, { shopCurrency: 'EUR' })).toMatchObject({
      outcome: 'commands',
      commands: [
        {
          type: 'RecordCartActivity',
          cartId: 'wcf:tok-123',
          total: '42.50',
          currency: 'EUR',
          contact: { email: 'zoe@example.com', firstName: 'Zoë', phone: '+4915112345678' },
          checkoutUrl: 'https://shop.example.com/checkout/?wcf_ac_token=tok-123',
        },
        { type: 'ReportCartAbandoned', cartId: 'wcf:tok-123', platformUpdatedAt: NOW.toISOString() },
      ],
    });
  });

  it('comes in through the secret URL entry of the port, and resolves again from the stored body', async () => {
    const secretUrl = adapter.secretUrl;
    const inspected = secretUrl.inspect(raw(form), 'shop.example.com');
    if (!inspected.ok) throw new Error(inspected.error);
    const atReceipt = secretUrl.map(inspected, { shopCurrency: 'EUR' });
    const shop = { shopDomain: 'shop.example.com', currency: 'EUR', apiUrl: '', apiToken: '' };
    const stored = {
      topic: inspected.topic,
      deliveryId: inspected.deliveryId,
      contentType: 'application/x-www-form-urlencoded',
      body: form,
      receivedAt: NOW,
    };
    await expect(adapter.resolve(stored, shop)).resolves.toEqual(atReceipt);
    await expect(adapter.resolve({ ...stored, body: 'nothing=here' }, shop)).resolves.toMatchObject({
      outcome: 'invalid',
      field: 'body',
    });
  });

  it('quarantines a bad total and rejects JSON bodies', () => {
    const inspected = inspectCartflows(raw(form.replace('cart_total=42.50', 'cart_total=-1')), 'shop.example.com');
    if (!inspected.ok) throw new Error(inspected.error);
    expect(mapCartflows(inspected, { shopCurrency: 'EUR' })).toEqual({
      outcome: 'quarantined',
      field: 'cart_total',
      reason: 'negative amount (-1)',
    });
    expect(inspectCartflows({ ...raw('{}'), headers: { 'content-type': 'application/json' } }, 'x')).toMatchObject({
      ok: false,
      status: 415,
    });
  });
});

describe('WooCommerce resolve (stored deliveries)', () => {
  it('maps a stored JSON delivery as it was mapped at receipt', async () => {
    const inspected = adapter.inspect(delivery('order.updated', order));
    if (!inspected.ok) throw new Error(inspected.error);
    const atReceipt = adapter.map(inspected, { shopCurrency: 'EUR' });
    expect(atReceipt.outcome).toBe('commands');
    const resolved = await adapter.resolve(
      { topic: 'order.updated', deliveryId: inspected.deliveryId, body: order, receivedAt: NOW },
      { shopDomain: 'shop.example.com', currency: 'EUR', apiUrl: '', apiToken: '' },
    );
    expect(resolved).toEqual(atReceipt);
  });
});

import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import type { RecordedEvent } from '@reclaim/event-store';
import { INTEGRATION_EVENT_SCHEMA, integrationEventSchemaFor, toOutboundMessage } from './integration-event';
import { isPersonalDataKey, scrubPersonalData } from './personal-data';

const sealed = { $sealed: 'aes-256-gcm/v1', subject: 'cust-1', iv: 'aXY=', ct: 'Y3Q=', tag: 'dGFn' } as const;

function recorded(data: unknown, metadata: Record<string, unknown> = { shopId: 'shop-1' }): RecordedEvent {
  return {
    id: '6f1c1d2e-8a4b-4c1e-9f00-0123456789ab',
    type: 'CheckoutUpdated',
    schemaVersion: 2,
    data,
    metadata,
    streamId: 'cart-shop-1-9007199254740993',
    revision: 9007199254740993n,
    position: { commit: 42n, prepare: 42n },
    recordedAt: new Date('2026-01-02T03:04:05.000Z'),
  };
}

describe('personal data in Kafka payloads (R21)', () => {
  it.each([
    'email',
    'customerEmail',
    'phone',
    'phone_number',
    'name',
    'first_name',
    'lastName',
    'address1',
    'shippingAddress',
    'browser_ip',
    'ip',
    'zip',
  ])('treats %s as a personal-data key', (key) => expect(isPersonalDataKey(key)).toBe(true));

  it.each([
    'productName',
    'shopName',
    'templateName',
    'cartId',
    'emailConsent',
    'title',
    'currency',
    'shipping',
    'type',
  ])('does not treat %s as a personal-data key', (key) => expect(isPersonalDataKey(key)).toBe(false));

  it('removes clear-text personal fields at any depth and reports the paths, not the values', () => {
    const { value, removed } = scrubPersonalData({
      cartId: '123',
      email: 'shopper@example.com',
      customer: { first_name: 'Ada', phone: '+441234567890', tags: ['vip'] },
      lineItems: [{ productName: 'Mug', name: 'Ada Lovelace' }],
      billing_address: { city: 'London', street: '1 Road' },
    });
    expect(value).toEqual({ cartId: '123', customer: { tags: ['vip'] }, lineItems: [{ productName: 'Mug' }] });
    expect([...removed].sort()).toEqual([
      '/billing_address',
      '/customer/first_name',
      '/customer/phone',
      '/email',
      '/lineItems/0/name',
    ]);
    expect(JSON.stringify(removed)).not.toContain('example.com');
  });

  it('keeps sealed values as ciphertext, stripped to their five fields', () => {
    const { value, removed } = scrubPersonalData({ email: { ...sealed, extra: 'leak' }, hasPhone: true, phone: null });
    expect(value).toEqual({ email: sealed, hasPhone: true, phone: null });
    expect(removed).toEqual([]);
  });

  it('removes an address object that mixes sealed and clear-text parts', () => {
    const { value, removed } = scrubPersonalData({ shippingAddress: { line1: sealed, country: 'GB' } });
    expect(value).toEqual({});
    expect(removed).toEqual(['/shippingAddress']);
  });
});

describe('toOutboundMessage', () => {
  const ajv = new Ajv2020({ strict: true, allErrors: true });
  addFormats(ajv);
  const validate = ajv.compile(INTEGRATION_EVENT_SCHEMA);

  it('keys by stream id, sets the contract headers and a schema-valid value without clear-text PII', () => {
    const { message, removedPaths } = toOutboundMessage(
      recorded(
        { cartId: '9007199254740993', total: '12.50', email: 'a@b.example', contact: sealed },
        {
          shopId: 'shop-1',
          correlationId: 'corr-1',
          ip: '203.0.113.9',
        },
      ),
    );
    expect(message.key).toBe('cart-shop-1-9007199254740993');
    expect(message.headers).toEqual({
      'event-id': '6f1c1d2e-8a4b-4c1e-9f00-0123456789ab',
      'event-type': 'CheckoutUpdated',
      'schema-version': '2',
      'shop-id': 'shop-1',
      'content-type': 'application/json',
    });
    expect(removedPaths).toEqual(['/email']);
    expect(message.value).not.toContain('a@b.example');
    expect(message.value).not.toContain('203.0.113.9');
    const value = JSON.parse(message.value);
    expect(validate(value)).toBe(true);
    expect(value).toMatchObject({
      revision: '9007199254740993',
      position: '42',
      recordedAt: '2026-01-02T03:04:05.000Z',
      shopId: 'shop-1',
      correlationId: 'corr-1',
      causationId: null,
      data: { cartId: '9007199254740993', total: '12.50', contact: sealed },
    });
  });

  it('omits the shop-id header when the event has no shop', () => {
    const { message } = toOutboundMessage(recorded({ x: 1 }, {}));
    expect(message.headers['shop-id']).toBeUndefined();
    expect(validate(JSON.parse(message.value))).toBe(true);
  });

  it('the envelope schema rejects a value that breaks the contract', () => {
    const { message } = toOutboundMessage(recorded({ x: 1 }));
    const value = { ...JSON.parse(message.value), revision: 7, extra: true };
    expect(validate(value)).toBe(false);
  });

  it('a per-type schema constrains type, version and data', () => {
    const check = ajv.compile(
      integrationEventSchemaFor('CheckoutUpdated', 2, {
        type: 'object',
        required: ['cartId'],
        properties: {
          cartId: { type: 'string' },
          contact: { $ref: INTEGRATION_EVENT_SCHEMA.$id + '#/$defs/sealedValue' },
        },
      }),
    );
    expect(check(JSON.parse(toOutboundMessage(recorded({ cartId: '1', contact: sealed })).message.value))).toBe(true);
    expect(check(JSON.parse(toOutboundMessage(recorded({ cartId: 1 })).message.value))).toBe(false);
    expect(check(JSON.parse(toOutboundMessage(recorded({ cartId: '1', contact: 'clear' })).message.value))).toBe(false);
  });
});

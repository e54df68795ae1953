import { DeciderSpecification } from '@reclaim/testing';
import { shopDecider } from '../shop/shop.decider';
import type { CartActivityRecorded } from '../cart/cart.messages';
import { CURRENT_SCHEMA_VERSIONS, EventTypes, isCatalogueEventType } from './catalogue';
import type { DomainEvent } from './envelope';
import { recoveryIdFor } from '../recovery/types';
import {
  cartStream,
  customerStream,
  deliveryStream,
  orderStream,
  parseRecoveryId,
  parseStreamName,
  shopStream,
  StreamCategories,
} from './streams';
import { UnknownSchemaVersionError, UpcasterRegistry, upcastEvent } from './upcasters';

const shopId = '4f1c1f43-7f6e-4d52-9a34-3c9a0f5b2a10';

describe('event catalogue', () => {
  it('has one dotted, kebab-case name and a version for every type', () => {
    const types = Object.values(EventTypes);
    expect(new Set(types).size).toBe(types.length);
    for (const t of types) {
      expect(t).toMatch(/^[a-z]+\.[a-z]+(-[a-z]+)*$/);
      expect(CURRENT_SCHEMA_VERSIONS[t]).toBeGreaterThanOrEqual(1);
    }
    expect(isCatalogueEventType('cart.purchased')).toBe(true);
    expect(isCatalogueEventType('CartPurchasedEvent')).toBe(false);
  });
});

describe('stream names', () => {
  it('builds and parses names with ids that contain dashes', () => {
    const id = 'a-b--c-';
    expect(cartStream(shopId, id)).toBe(`cart-${shopId}-a-b--c-`);
    expect(parseStreamName(cartStream(shopId, id))).toEqual({ category: 'cart', shopId, id });
    expect(parseStreamName(customerStream(shopId, 'e-00ff'))).toEqual({ category: 'customer', shopId, id: 'e-00ff' });
    expect(parseStreamName(orderStream(shopId, '820982911946154508'))).toEqual({
      category: 'order',
      shopId,
      id: '820982911946154508',
    });
    expect(parseStreamName(deliveryStream('shopify', shopId, 'b1c-2'))).toEqual({
      category: 'delivery',
      platform: 'shopify',
      shopId,
      id: 'b1c-2',
    });
    expect(parseStreamName(shopStream(shopId))).toEqual({ category: 'shop', shopId });
  });

  it('parses the recovery stream (its name is the recovery id) like every other category', () => {
    expect(StreamCategories.recovery).toBe('recovery');
    const recoveryId = recoveryIdFor(shopId, 'cart-a-b');
    expect(parseStreamName(recoveryId)).toEqual({ category: 'recovery', shopId, id: 'cart-a-b' });
    expect(parseRecoveryId(recoveryId)).toEqual({ shopId, cartId: 'cart-a-b' });
    expect(parseRecoveryId(cartStream(shopId, 'cart-a-b'))).toBeUndefined();
    expect(parseRecoveryId('recovery-x')).toBeUndefined();
    expect(parseRecoveryId(`recovery-${shopId}-`)).toBeUndefined();
  });

  it('refuses non-UUID shops, empty ids and unknown platforms', () => {
    expect(() => cartStream('shop-1', 'c')).toThrow('UUID');
    expect(() => cartStream(shopId, '')).toThrow('non-empty');
    expect(() => deliveryStream('magento' as never, shopId, 'd')).toThrow('platform');
    expect(parseStreamName('cart-nope')).toBeUndefined();
    expect(parseStreamName(`timer-${shopId}-c1`)).toBeUndefined();
    expect(parseStreamName(`cart-${shopId}-`)).toBeUndefined();
  });
});

describe('upcasters', () => {
  it('returns current-version events unchanged', () => {
    const e: DomainEvent = { type: 'cart.deleted', schemaVersion: 1, data: { cartId: 'c' } };
    expect(upcastEvent(e)).toBe(e);
  });

  it('passes through events of other catalogues and refuses versions from the future', () => {
    const foreign: DomainEvent = { type: 'elsewhere.step-scheduled', schemaVersion: 7, data: {} };
    expect(upcastEvent(foreign)).toBe(foreign);
    expect(() => upcastEvent({ type: 'cart.deleted', schemaVersion: 2, data: {} })).toThrow(UnknownSchemaVersionError);
  });

  it("knows the recovery stream's events like any other: current kept, future refused, old upcast", () => {
    expect(isCatalogueEventType('recovery.message-sent')).toBe(true);
    expect(CURRENT_SCHEMA_VERSIONS['recovery.message-sent']).toBe(1);
    const sent: DomainEvent = { type: 'recovery.message-sent', schemaVersion: 1, data: { step: 0 } };
    expect(upcastEvent(sent)).toBe(sent);
    expect(() => upcastEvent({ ...sent, schemaVersion: 2 })).toThrow(UnknownSchemaVersionError);
    const registry = new UpcasterRegistry(CURRENT_SCHEMA_VERSIONS).register(
      'recovery.message-sent',
      0,
      (v0: { [k: string]: unknown }) => ({ ...v0, reconciled: false }),
    );
    expect(registry.upcast({ ...sent, schemaVersion: 0 })).toEqual({
      type: 'recovery.message-sent',
      schemaVersion: 1,
      data: { step: 0, reconciled: false },
    });
  });

  it('upcasts a fabricated v0 cart activity to v1 through a registered step', () => {
    // v0 (fabricated): `updatedAt` instead of `platformUpdatedAt`, `total` as minor units, no `reach`.
    const registry = new UpcasterRegistry(CURRENT_SCHEMA_VERSIONS).register(
      'cart.activity-recorded',
      0,
      (v0: { updatedAt: string; totalCents: number; [k: string]: unknown }) => {
        const { updatedAt, totalCents, ...rest } = v0;
        const total = `${Math.trunc(totalCents / 100)}.${String(totalCents % 100).padStart(2, '0')}`;
        return { ...rest, platformUpdatedAt: updatedAt, total, subtotal: total, reach: { email: false, sms: false } };
      },
    );
    const v0: DomainEvent = {
      type: 'cart.activity-recorded',
      schemaVersion: 0,
      data: { cartId: 'c1', updatedAt: '2020-01-01T00:00:00.000Z', totalCents: 1250 },
    };
    const v1 = registry.upcast<CartActivityRecorded>(v0);
    expect(v1.schemaVersion).toBe(1);
    expect(v1.data).toEqual({
      cartId: 'c1',
      platformUpdatedAt: '2020-01-01T00:00:00.000Z',
      total: '12.50',
      subtotal: '12.50',
      reach: { email: false, sms: false },
    });
    expect(() => upcastEvent(v0)).toThrow('no upcaster to v1');
    expect(() => registry.register('cart.activity-recorded', 0, (d) => d)).toThrow('twice');
  });
});

describe('shop decider', () => {
  const spec = DeciderSpecification.for(shopDecider);
  const redact = {
    type: 'RedactShop' as const,
    platform: 'shopify' as const,
    shopId,
    causationId: 'd1',
    receivedAt: '2026-03-01T10:00:00.000Z',
    platformUpdatedAt: '',
  };

  it('records a shop redaction once per delivery', () => {
    spec
      .given([])
      .when(redact)
      .then([
        {
          type: 'shop.redacted',
          schemaVersion: 1,
          data: {
            shopId,
            causationId: 'd1',
            receivedAt: '2026-03-01T10:00:00.000Z',
            platform: 'shopify',
            requestedAt: '2026-03-01T10:00:00.000Z',
          },
        },
      ]);
    spec.given(shopDecider.decide(redact, shopDecider.initialState())).when(redact).thenNothing();
  });
});

import { initialCartState, initialCustomerState, type CartState, type CustomerState } from '@reclaim/domain';
import { AcceleratedClock } from './clock';
import { cartSnapshotOf, consentOf, trafficSourceOf } from './facts';
import { parseRecoveryId } from '@reclaim/domain';

describe('engine facts (pure)', () => {
  it('consent: the newest observation wins between the customer stream and the checkout, with its evidence', () => {
    const customer: CustomerState = {
      ...initialCustomerState(),
      status: 'known',
      consent: {
        email: {
          state: 'unsubscribed',
          source: 'shopify:customer',
          consentUpdatedAt: '2025-03-02T10:00:00.000Z',
          recordedAt: '2025-03-02T10:00:01.000Z',
          causationId: 'x',
        },
      },
    };
    const cart = (at: string): CartState => ({
      ...initialCartState(),
      snapshot: {
        source: 'checkout',
        lineItems: [],
        currency: 'EUR',
        subtotal: '1',
        total: '1',
        emailConsent: { state: 'subscribed', source: 'shopify:checkout', consentUpdatedAt: at },
      },
    });
    expect(consentOf(customer, cart('2025-03-01T00:00:00.000Z')).email).toEqual({
      status: 'unsubscribed',
      source: 'shopify:customer',
      at: '2025-03-02T10:00:00.000Z',
    });
    expect(consentOf(customer, cart('2025-03-03T00:00:00.000Z')).email).toEqual({
      status: 'subscribed',
      source: 'shopify:checkout',
      at: '2025-03-03T00:00:00.000Z',
    });
    expect(consentOf(undefined, undefined)).toEqual({});
  });

  it('parses recovery ids whose cart id contains dashes', () => {
    const shopId = '3a7c1f43-7f6e-4d52-9a34-3c9a0f5b2a10';
    expect(parseRecoveryId(`recovery-${shopId}-a-b-c`)).toEqual({ shopId, cartId: 'a-b-c' });
    expect(parseRecoveryId(`cart-${shopId}-a`)).toBeUndefined();
  });

  it('traffic source is a category, never a full URL', () => {
    expect(trafficSourceOf('/products/x?utm_source=Newsletter&email=a@b.c', undefined)).toBe('newsletter');
    expect(trafficSourceOf(undefined, 'https://www.google.com/search?q=mugs')).toBe('google.com');
    expect(trafficSourceOf(undefined, 'not a url')).toBe('direct');
  });

  it("the recovery's cart: the stage and source the platform showed, else derived as before", () => {
    const cart = (extra: Partial<NonNullable<CartState['snapshot']>>): CartState => ({
      ...initialCartState(),
      snapshot: {
        source: 'checkout',
        lineItems: [{ lineId: '1', productId: 'p', quantity: 1, unitPrice: '5', title: 'Tea' }],
        currency: 'EUR',
        subtotal: '5',
        total: '5',
        referrer: 'https://www.google.com/',
        ...extra,
      },
    });
    expect(
      cartSnapshotOf(cart({ checkoutStage: 'payment', trafficSource: 'woocommerce.com', device: 'Desktop' })),
    ).toMatchObject({
      checkoutStage: 'payment',
      trafficSource: 'woocommerce.com',
      device: 'desktop',
    });
    // Recorded before the stage was mapped: a checkout reached the contact step.
    expect(cartSnapshotOf(cart({}))).toMatchObject({
      checkoutStage: 'contact',
      trafficSource: 'google.com',
      device: 'unknown',
      unknownInputs: { device: 'the store checkout carried no user agent or device type' },
    });
  });

  it('an input the platform did not send is unknown, with the reason (never a made-up direct)', () => {
    const base = initialCartState();
    const snapshot = {
      source: 'checkout' as const,
      lineItems: [{ lineId: '1', productId: 'p', quantity: 1, unitPrice: '5', title: 'Tea' }],
      currency: 'USD',
      subtotal: '5',
      total: '5',
    };
    // Shopify's 2026-07 checkout sample: no landing site, referrer or client details.
    expect(cartSnapshotOf({ ...base, platform: 'shopify', snapshot })).toMatchObject({
      trafficSource: 'unknown',
      device: 'unknown',
      unknownInputs: {
        device: 'the Shopify checkout carried no user agent or device type',
        trafficSource: 'the Shopify checkout carried no referrer, landing page or UTM source',
      },
    });
    // BigCommerce carts: the mapper says unknown; the reason names the cart.
    expect(
      cartSnapshotOf({
        ...base,
        platform: 'bigcommerce',
        snapshot: { ...snapshot, source: 'cart', trafficSource: 'unknown' },
      })?.unknownInputs,
    ).toEqual({
      device: 'the BigCommerce cart carried no user agent or device type',
      trafficSource: 'the BigCommerce cart carried no referrer, landing page or UTM source',
    });
    // A landing page without a referrer is a direct visit; a known device has no reason.
    expect(
      cartSnapshotOf({ ...base, platform: 'shopify', snapshot: { ...snapshot, landingSite: '/', device: 'mobile' } }),
    ).toMatchObject({ trafficSource: 'direct', device: 'mobile' });
    expect(
      cartSnapshotOf({ ...base, platform: 'shopify', snapshot: { ...snapshot, landingSite: '/', device: 'mobile' } })
        ?.unknownInputs,
    ).toBeUndefined();
  });

  it('an accelerated clock runs time faster from its start', () => {
    let t = 1_000_000;
    const base = { now: () => new Date(t) };
    const clock = new AcceleratedClock(60, new Date('2025-01-01T00:00:00.000Z'), base);
    t += 1_000;
    expect(clock.now().toISOString()).toBe('2025-01-01T00:01:00.000Z');
  });
});

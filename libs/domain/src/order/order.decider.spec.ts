import { DeciderSpecification } from '@reclaim/testing';
import type { PlaceOrderCommand } from './order.messages';
import { InvalidCommandError, foldEvents } from '../shared/decider';
import { orderDecider } from './order.decider';

const shopId = '4f1c1f43-7f6e-4d52-9a34-3c9a0f5b2a10';
const spec = DeciderSpecification.for(orderDecider);

const placeOrder = (over: Partial<PlaceOrderCommand> = {}): PlaceOrderCommand => ({
  type: 'PlaceOrder',
  platform: 'shopify',
  shopId,
  orderId: '820982911946154508',
  causationId: 'delivery-orders-create-1',
  receivedAt: '2026-03-01T10:05:30.000Z',
  platformUpdatedAt: '2026-03-01T10:05:00-05:00',
  cartIds: ['checkout-token-1', 'cart-token-1', 'checkout-token-1'],
  customer: { platformCustomerId: '115310627314723954' },
  reach: { email: true, sms: false },
  customerKey: 'e-00112233445566778899aabbccddeeff',
  currency: 'USD',
  total: '398.00',
  subtotal: '398.00',
  totalDiscounts: '0.00',
  discountCodes: ['WELCOME10'],
  placedAt: '2026-03-01T10:05:00-05:00',
  lineItems: [{ lineId: '1', productId: '632910392', title: 'IPod Nano', quantity: 1, unitPrice: '199.00' }],
  ...over,
});

describe('order decider', () => {
  it('places an order once, linking the carts (deduplicated) and normalising times to UTC', () => {
    spec
      .given([])
      .when(placeOrder())
      .then([
        {
          type: 'order.placed',
          schemaVersion: 1,
          data: {
            shopId,
            causationId: 'delivery-orders-create-1',
            receivedAt: '2026-03-01T10:05:30.000Z',
            platform: 'shopify',
            platformUpdatedAt: '2026-03-01T10:05:30.000Z',
            platformTimeAnomaly: 'future',
            orderId: '820982911946154508',
            cartIds: ['checkout-token-1', 'cart-token-1'],
            platformCustomerId: '115310627314723954',
            customerKey: 'e-00112233445566778899aabbccddeeff',
            reach: { email: true, sms: false },
            currency: 'USD',
            total: '398',
            subtotal: '398',
            totalDiscounts: '0',
            discountCodes: ['WELCOME10'],
            placedAt: '2026-03-01T10:05:30.000Z',
            lineItems: [{ lineId: '1', productId: '632910392', title: 'IPod Nano', quantity: 1, unitPrice: '199' }],
          },
        },
      ]);
  });

  it('keeps a sane offset time as given (converted to UTC)', () => {
    const [e] = orderDecider.decide(placeOrder({ placedAt: '2026-03-01T05:04:00-05:00' }), orderDecider.initialState());
    expect(e.data.placedAt).toBe('2026-03-01T10:04:00.000Z');
  });

  it('is idempotent per order id: a retry or an orders/updated delivery places nothing', () => {
    const placed = orderDecider.decide(placeOrder(), orderDecider.initialState());
    spec.given(placed).when(placeOrder()).thenNothing();
    spec
      .given(placed)
      .when(placeOrder({ causationId: 'delivery-orders-updated-2', total: '10.00' }))
      .thenNothing();
    expect(foldEvents(orderDecider, placed)).toMatchObject({
      status: 'placed',
      total: '398',
      cartIds: ['checkout-token-1', 'cart-token-1'],
    });
  });

  it.each([
    ['total', { total: '-1' }],
    ['totalDiscounts', { totalDiscounts: '1e3' }],
    ['currency', { currency: 'usd' }],
    [
      'lineItems[0].unitPrice',
      { lineItems: [{ lineId: '1', productId: 'p', title: 't', quantity: 1, unitPrice: 'NaN' }] },
    ],
  ])('quarantines bad %s', (field, over) => {
    spec
      .given([])
      .when(placeOrder(over as Partial<PlaceOrderCommand>))
      .thenThrows(InvalidCommandError, (e) => e.field === field);
  });
});

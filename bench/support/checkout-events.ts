/**
 * A new cart's checkout as the delivery processor records it (the cart decider's events), for the
 * benches that fill a scratch log directly: two lines, a subscribed e-mail, a mobile device.
 */
import { randomUUID } from 'node:crypto';
import { cartDecider, cartStream, reachFor, type SealedValue } from '@reclaim/domain';
import type { NewEvent } from '@reclaim/event-store';

export interface BenchCustomer {
  readonly customerKey: string;
  readonly contact: SealedValue;
  readonly email: string;
}

export function checkoutEvents(
  shopId: string,
  cartId: string,
  customer: BenchCustomer,
): { streamId: string; events: NewEvent[] } {
  const at = new Date().toISOString();
  const causationId = randomUUID();
  const decided = cartDecider.decide(
    {
      type: 'RecordCartActivity',
      platform: 'shopify',
      platformUpdatedAt: at,
      cartId,
      source: 'checkout',
      customer: {},
      lineItems: [
        { lineId: 'l1', productId: 'p-mug', title: 'Mug', quantity: 2, unitPrice: '20.00', categories: ['kitchen'] },
        { lineId: 'l2', productId: 'p-tea', title: 'Tea', quantity: 1, unitPrice: '9.50' },
      ],
      currency: 'EUR',
      subtotal: '49.50',
      total: '49.50',
      checkoutUrl: `https://shop.example/checkouts/${cartId}`,
      device: 'mobile',
      emailConsent: { state: 'subscribed', source: 'shopify:checkout', updatedAt: at },
      shopId,
      causationId,
      receivedAt: at,
      customerKey: customer.customerKey,
      contact: customer.contact,
      reach: reachFor({ email: customer.email }),
    },
    cartDecider.initialState(),
  );
  return {
    streamId: cartStream(shopId, cartId),
    events: decided.map((e) => ({
      id: randomUUID(),
      type: e.type,
      schemaVersion: e.schemaVersion,
      data: e.data,
      metadata: { shopId, causationId },
    })),
  };
}

import fc from 'fast-check';
import { DeciderSpecification } from '@reclaim/testing';
import type {
  CartCommand,
  CartEvent,
  CompleteCheckoutCommand,
  DeleteCartCommand,
  MarkCartPurchasedCommand,
  RecordCartActivityCommand,
  ReportCartAbandonedCommand,
} from './cart.messages';
import { InvalidCommandError, foldEvents } from '../shared/decider';
import type { SealedValue } from '../shared/sealed-value';
import { cartDecider, isCartConverted, type CartState } from './cart.decider';

const shopId = '4f1c1f43-7f6e-4d52-9a34-3c9a0f5b2a10';
const cartId = 'c1';
const sealed: SealedValue = { $sealed: 'aes-256-gcm/v1', subject: 'e-0123', iv: 'AAAA', ct: 'BBBB', tag: 'CCCC' };
const spec = DeciderSpecification.for(cartDecider);

const activity = (n: number, over: Partial<RecordCartActivityCommand> = {}): RecordCartActivityCommand => ({
  type: 'RecordCartActivity',
  platform: 'shopify',
  shopId,
  cartId,
  causationId: `delivery-activity-${n}`,
  receivedAt: `2026-03-01T10:${String(n).padStart(2, '0')}:30.000Z`,
  platformUpdatedAt: `2026-03-01T10:${String(n).padStart(2, '0')}:00.000Z`,
  source: 'checkout',
  customer: { platformCustomerId: '7410852963074108529' },
  contact: sealed,
  reach: { email: true, sms: false },
  customerKey: 'e-0123',
  lineItems: [{ lineId: 'l1', productId: '9007199254740993', title: 'Mug ☕', quantity: 2, unitPrice: '12.50' }],
  currency: 'EUR',
  subtotal: '25.00',
  total: '25.00',
  ...over,
});

const abandoned = (n: number): ReportCartAbandonedCommand => ({
  type: 'ReportCartAbandoned',
  platform: 'bigcommerce',
  shopId,
  cartId,
  causationId: `delivery-abandon-${n}`,
  receivedAt: `2026-03-01T10:${String(n).padStart(2, '0')}:30.000Z`,
  platformUpdatedAt: `2026-03-01T10:${String(n).padStart(2, '0')}:00.000Z`,
});

const checkout = (n: number): CompleteCheckoutCommand => ({
  type: 'CompleteCheckout',
  platform: 'shopify',
  shopId,
  cartId,
  orderId: 'o1',
  causationId: `delivery-checkout-${n}`,
  receivedAt: `2026-03-01T10:${String(n).padStart(2, '0')}:30.000Z`,
  platformUpdatedAt: `2026-03-01T10:${String(n).padStart(2, '0')}:00.000Z`,
  completedAt: `2026-03-01T10:${String(n).padStart(2, '0')}:00.000Z`,
});

const purchase = (n: number, orderId = 'o1'): MarkCartPurchasedCommand => ({
  type: 'MarkCartPurchased',
  shopId,
  cartId,
  orderId,
  causationId: `order-placed-${orderId}-${n}`,
  receivedAt: `2026-03-01T10:${String(n).padStart(2, '0')}:30.000Z`,
  placedAt: `2026-03-01T10:${String(n).padStart(2, '0')}:00.000Z`,
});

const deletion = (n: number): DeleteCartCommand => ({
  type: 'DeleteCart',
  platform: 'woocommerce',
  shopId,
  cartId,
  causationId: `delivery-delete-${n}`,
  receivedAt: `2026-03-01T10:${String(n).padStart(2, '0')}:30.000Z`,
  platformUpdatedAt: `2026-03-01T10:${String(n).padStart(2, '0')}:00.000Z`,
});

/** Runs commands one by one against the evolving state, as the application does. */
function run(
  commands: readonly CartCommand[],
  start: readonly CartEvent[] = [],
): { state: CartState; events: CartEvent[] } {
  const events: CartEvent[] = [...start];
  let state = foldEvents(cartDecider, events);
  for (const c of commands) {
    const produced = cartDecider.decide(c, state);
    for (const e of produced) state = cartDecider.evolve(state, e);
    events.push(...produced);
  }
  return { state, events };
}

const eventsOf = (c: CartCommand, given: readonly CartEvent[] = []): CartEvent[] =>
  cartDecider.decide(c, foldEvents(cartDecider, given));

describe('cart decider', () => {
  it('records the first activity with the snapshot, sealed contact and no personal data', () => {
    spec
      .given([])
      .when(activity(1))
      .then([
        {
          type: 'cart.activity-recorded',
          schemaVersion: 1,
          data: {
            shopId,
            causationId: 'delivery-activity-1',
            receivedAt: '2026-03-01T10:01:30.000Z',
            platform: 'shopify',
            platformUpdatedAt: '2026-03-01T10:01:00.000Z',
            cartId,
            source: 'checkout',
            platformCustomerId: '7410852963074108529',
            customerKey: 'e-0123',
            contact: sealed,
            reach: { email: true, sms: false },
            lineItems: [
              { lineId: 'l1', productId: '9007199254740993', title: 'Mug ☕', quantity: 2, unitPrice: '12.5' },
            ],
            currency: 'EUR',
            subtotal: '25',
            total: '25',
          },
        },
      ]);
  });

  it('records a newer activity and ignores an older or equally old one (no rollback)', () => {
    const first = eventsOf(activity(5));
    expect(eventsOf(activity(6), first)).toHaveLength(1);
    spec.given(first).when(activity(4)).thenNothing();
    spec
      .given(first)
      .when(activity(5, { causationId: 'other-delivery-same-time' }))
      .thenNothing();
  });

  it('keeps the newest snapshot whatever order two updates arrive in', () => {
    const older = activity(1, { total: '10.00', subtotal: '10.00' });
    const newer = activity(2, { total: '30.00', subtotal: '30.00' });
    expect(run([older, newer]).state.snapshot?.total).toBe('30');
    expect(run([newer, older]).state.snapshot?.total).toBe('30');
  });

  it('produces nothing for a duplicate delivery (same causation id)', () => {
    const given = eventsOf(activity(1));
    spec.given(given).when(activity(1)).thenNothing();
    spec
      .given(given)
      .when(activity(9, { causationId: 'delivery-activity-1' }))
      .thenNothing();
  });

  it('clamps a platform time a year ahead so later genuine updates still apply', () => {
    const future = activity(1, { platformUpdatedAt: '2027-03-01T10:00:00.000Z' });
    const [e] = eventsOf(future);
    expect(e.type === 'cart.activity-recorded' && e.data.platformTimeAnomaly).toBe('future');
    expect(e.data.receivedAt).toBe('2026-03-01T10:01:30.000Z');
    const { state } = run([future, activity(2, { total: '99.00' })]);
    expect(state.snapshot?.total).toBe('99');
  });

  it('treats epoch 0 as unknown (uses receivedAt) rather than as the oldest possible time', () => {
    const epoch = activity(3, { platformUpdatedAt: '1970-01-01T00:00:00Z', total: '7.00' });
    const [e] = eventsOf(epoch);
    expect(e.type === 'cart.activity-recorded' && e.data.platformUpdatedAt).toBe('2026-03-01T10:03:30.000Z');
    expect(e.type === 'cart.activity-recorded' && e.data.platformTimeAnomaly).toBe('unknown');
    expect(run([activity(2), epoch]).state.snapshot?.total).toBe('7');
  });

  it('marks the cart abandoned when the platform says so, and active again after newer activity', () => {
    expect(run([activity(1), abandoned(2)]).state.status).toBe('abandoned');
    expect(run([activity(1), abandoned(2), activity(3)]).state.status).toBe('active');
    expect(run([abandoned(2), activity(1)]).state.status).toBe('abandoned');
    spec
      .given(run([activity(3)]).events)
      .when(abandoned(2))
      .thenNothing();
  });

  it('stays purchased whatever arrives after the purchase', () => {
    const bought = run([activity(1), purchase(2)]).events;
    spec.given(bought).when(activity(9)).thenNothing();
    spec.given(bought).when(abandoned(9)).thenNothing();
    spec.given(bought).when(checkout(9)).thenNothing();
    spec.given(bought).when(deletion(9)).thenNothing();
    spec.given(bought).when(purchase(9, 'o2')).thenNothing();
    expect(run([activity(9), checkout(9), deletion(9)], bought).state.status).toBe('purchased');
  });

  it('records a purchase after deletion, and ignores activity after deletion', () => {
    const deleted = run([activity(1), deletion(2)]).events;
    spec.given(deleted).when(activity(5)).thenNothing();
    spec
      .given(deleted)
      .when(purchase(3))
      .then([
        {
          type: 'cart.purchased',
          schemaVersion: 1,
          data: {
            shopId,
            causationId: 'order-placed-o1-3',
            receivedAt: '2026-03-01T10:03:30.000Z',
            cartId,
            orderId: 'o1',
            placedAt: '2026-03-01T10:03:00.000Z',
          },
        },
      ]);
  });

  it('counts a completed checkout as converted; the order then makes it purchased', () => {
    const { state } = run([activity(1), checkout(2)]);
    expect(state.status).toBe('checkout-completed');
    expect(isCartConverted(state)).toBe(true);
    expect(run([activity(1), checkout(2), purchase(3)]).state.status).toBe('purchased');
  });

  it.each([
    ['negative price', { total: '-1' }, 'total'],
    ['NaN', { subtotal: 'NaN' }, 'subtotal'],
    ['1e308', { total: '1e308' }, 'total'],
    ['comma decimal', { total: '12,50' }, 'total'],
    ['a float number', { total: 12.5 as unknown as string }, 'total'],
    ['bad currency', { currency: 'euro' }, 'currency'],
  ])('refuses %s with the offending field', (_name, over, field) => {
    spec
      .given([])
      .when(activity(1, over as Partial<RecordCartActivityCommand>))
      .thenThrows(InvalidCommandError, (e) => e.field === field);
  });

  it('refuses a bad line item price and quantity', () => {
    const item = { lineId: 'l1', productId: 'p', title: 't', quantity: 1, unitPrice: '0' };
    spec
      .given([])
      .when(activity(1, { lineItems: [item, { ...item, unitPrice: '-1' }] }))
      .thenThrows(InvalidCommandError, (e) => e.field === 'lineItems[1].unitPrice');
    spec
      .given([])
      .when(activity(1, { lineItems: [{ ...item, quantity: 1.5 }] }))
      .thenThrows(InvalidCommandError, (e) => e.field === 'lineItems[0].quantity');
  });

  it('refuses a command whose receivedAt is not a timestamp', () => {
    spec
      .given([])
      .when(activity(1, { receivedAt: 'yesterday' }))
      .thenThrows(InvalidCommandError, (e) => e.field === 'receivedAt');
  });

  it('ends purchased for every arrival order of updates, checkout, abandonment, deletion and order, with duplicates', () => {
    const others: CartCommand[] = [
      activity(1),
      activity(2, { total: '30.00' }),
      activity(3, { platformUpdatedAt: '2027-01-01T00:00:00Z' }),
      activity(4, { platformUpdatedAt: '1970-01-01T00:00:00Z' }),
      abandoned(5),
      checkout(6),
      deletion(7),
    ];
    fc.assert(
      fc.property(
        fc.shuffledSubarray(others),
        fc.nat(),
        fc.array(fc.tuple(fc.nat(), fc.nat()), { maxLength: 4 }),
        (subset, purchaseAt, duplicates) => {
          const sequence: CartCommand[] = [...subset];
          sequence.splice(purchaseAt % (sequence.length + 1), 0, purchase(8));
          for (const [which, where] of duplicates) {
            sequence.splice(where % (sequence.length + 1), 0, sequence[which % sequence.length]);
          }
          const { state, events } = run(sequence);
          expect(state.status).toBe('purchased');
          expect(state.orderId).toBe('o1');
          // Nothing is recorded after the purchase, so nothing can trigger a reminder (R14).
          expect(events[events.length - 1].type).toBe('cart.purchased');
          expect(events.filter((e) => e.type === 'cart.purchased')).toHaveLength(1);
        },
      ),
    );
  });

  it('reaches the same final state whatever order the activity deliveries arrive in', () => {
    const deliveries = [1, 2, 3, 4, 5].map((n) => activity(n, { total: `${n}0.00` }));
    const expected = run(deliveries).state;
    fc.assert(
      fc.property(fc.shuffledSubarray(deliveries, { minLength: 5, maxLength: 5 }), (order) => {
        const { state } = run(order);
        expect(state.snapshot).toEqual(expected.snapshot);
        expect(state.status).toBe('active');
      }),
    );
  });

  it('bounds the remembered causation ids', () => {
    const commands = Array.from({ length: 200 }, (_, i) =>
      activity(1, {
        causationId: `d-${i}`,
        platformUpdatedAt: new Date(Date.UTC(2026, 2, 1, 9, 0, i)).toISOString(),
      }),
    );
    expect(run(commands).state.seenCausationIds.length).toBeLessThanOrEqual(64);
  });
});

describe('cart time zone', () => {
  it("records the zone of the checkout's address and keeps it through later updates without one", () => {
    const [first] = cartDecider.decide(activity(1, { timeZone: 'America/Chicago' }), cartDecider.initialState());
    expect(first.data).toMatchObject({ timeZone: 'America/Chicago' });
    const state = foldEvents(cartDecider, [first]);
    const [second] = cartDecider.decide(activity(2), state);
    expect(second.data).not.toHaveProperty('timeZone');
    expect(foldEvents(cartDecider, [first, second]).snapshot?.timeZone).toBe('America/Chicago');
  });
});

describe('cart checkout stage and traffic source', () => {
  it('records the stage and source the platform showed, and refuses an unknown stage naming the field', () => {
    const [e] = cartDecider.decide(
      activity(1, { checkoutStage: 'payment', trafficSource: 'newsletter' }),
      cartDecider.initialState(),
    );
    expect(e.data).toMatchObject({ checkoutStage: 'payment', trafficSource: 'newsletter' });
    expect(foldEvents(cartDecider, [e]).snapshot).toMatchObject({
      checkoutStage: 'payment',
      trafficSource: 'newsletter',
    });
    expect(() =>
      cartDecider.decide(activity(1, { checkoutStage: 'review' as unknown as 'cart' }), cartDecider.initialState()),
    ).toThrow(/checkoutStage/);
  });
});

describe('cart shipping choice', () => {
  it('records the chosen option and estimate as the platform stated them, and refuses empty words naming the field', () => {
    const [e] = cartDecider.decide(
      activity(1, { shipping: { method: ' Ground ', estimate: '1-2 business days' } }),
      cartDecider.initialState(),
    );
    expect(e.data).toMatchObject({ shipping: { method: 'Ground', estimate: '1-2 business days' } });
    expect(foldEvents(cartDecider, [e]).snapshot?.shipping).toEqual({
      method: 'Ground',
      estimate: '1-2 business days',
    });
    expect(() => cartDecider.decide(activity(1, { shipping: { estimate: '' } }), cartDecider.initialState())).toThrow(
      /shipping\.estimate/,
    );
    expect(() => cartDecider.decide(activity(1, { shipping: {} }), cartDecider.initialState())).toThrow(/shipping/);
  });
});

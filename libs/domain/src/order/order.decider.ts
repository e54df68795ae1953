import type { OrderCommand, OrderEvent, OrderPlaced, PlaceOrderCommand } from './order.messages';
import { event } from '../events/catalogue';
import type { IsoTimestamp } from '../inbound/inbound-types';
import { InvalidCommandError, rememberCausation, type Decider } from '../shared/decider';
import { effectivePlatformTime } from '../shared/time';
import {
  validCurrency,
  validId,
  validLineItems,
  validMoney,
  validOptionalMoney,
  validTimestamp,
} from '../shared/validation';

export interface OrderState {
  readonly status: 'none' | 'placed';
  readonly orderId?: string;
  readonly cartIds: readonly string[];
  readonly customerKey?: string;
  readonly currency?: string;
  readonly total?: string;
  readonly placedAt?: IsoTimestamp;
  readonly seenCausationIds: readonly string[];
}

export const initialOrderState = (): OrderState => ({ status: 'none', cartIds: [], seenCausationIds: [] });

function decidePlaceOrder(c: PlaceOrderCommand, s: OrderState): OrderEvent[] {
  validId(c.orderId, 'orderId');
  c.cartIds.forEach((id, i) => validId(id, `cartIds[${i}]`));
  const currency = validCurrency(c.currency);
  const total = validMoney(c.total, 'total');
  const subtotal = validOptionalMoney(c.subtotal, 'subtotal');
  const totalDiscounts = validOptionalMoney(c.totalDiscounts, 'totalDiscounts');
  const lineItems = validLineItems(c.lineItems);
  if (!Array.isArray(c.discountCodes) || c.discountCodes.some((d) => typeof d !== 'string')) {
    throw new InvalidCommandError('must be a list of strings', 'discountCodes');
  }
  // Idempotent per order id: orders/create, orders/updated and retries all place it once.
  if (s.status === 'placed') return [];
  const time = effectivePlatformTime(c.platformUpdatedAt, c.receivedAt);
  const placedAt = effectivePlatformTime(c.placedAt, c.receivedAt).at;
  return [
    event<OrderPlaced>('order.placed', {
      shopId: c.shopId,
      causationId: c.causationId,
      receivedAt: validTimestamp(c.receivedAt, 'receivedAt'),
      platform: c.platform,
      platformUpdatedAt: time.at,
      ...(time.anomaly ? { platformTimeAnomaly: time.anomaly } : {}),
      orderId: c.orderId,
      cartIds: [...new Set(c.cartIds)],
      ...(c.customer.platformCustomerId !== undefined ? { platformCustomerId: c.customer.platformCustomerId } : {}),
      ...(c.customerKey !== undefined ? { customerKey: c.customerKey } : {}),
      ...(c.contact !== undefined ? { contact: c.contact } : {}),
      reach: c.reach,
      currency,
      total,
      ...(subtotal !== undefined ? { subtotal } : {}),
      ...(totalDiscounts !== undefined ? { totalDiscounts } : {}),
      discountCodes: [...c.discountCodes],
      ...(c.financialStatus !== undefined ? { financialStatus: c.financialStatus } : {}),
      placedAt,
      ...(c.landingSite !== undefined ? { landingSite: c.landingSite } : {}),
      ...(c.referrer !== undefined ? { referrer: c.referrer } : {}),
      ...(c.timeZone !== undefined ? { timeZone: c.timeZone } : {}),
      lineItems,
    }),
  ];
}

export function decideOrder(command: OrderCommand, state: OrderState): OrderEvent[] {
  if (state.seenCausationIds.includes(command.causationId)) return [];
  switch (command.type) {
    case 'PlaceOrder':
      return decidePlaceOrder(command, state);
  }
}

export function evolveOrder(state: OrderState, e: OrderEvent): OrderState {
  const s: OrderState = { ...state, seenCausationIds: rememberCausation(state.seenCausationIds, e.data.causationId) };
  switch (e.type) {
    case 'order.placed':
      if (s.status === 'placed') return s;
      return {
        ...s,
        status: 'placed',
        orderId: e.data.orderId,
        cartIds: e.data.cartIds,
        customerKey: e.data.customerKey,
        currency: e.data.currency,
        total: e.data.total,
        placedAt: e.data.placedAt,
      };
  }
}

export const orderDecider: Decider<OrderState, OrderCommand, OrderEvent> = {
  decide: decideOrder,
  evolve: evolveOrder,
  initialState: initialOrderState,
};

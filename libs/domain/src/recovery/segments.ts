import type { SegmentThresholds } from './config';
import { gte, isDecimalString } from './money';
import type { CheckoutStage, DecimalString, Device, IsoTimestamp, UnknownInputs } from './types';

export type Segment =
  | 'new'
  | 'returning'
  | 'vip'
  | 'returning-exploring-new-category'
  | 'high-value-cart'
  | 'price-sensitive'
  | 'mobile-checkout-friction';

export const SEGMENTS: readonly Segment[] = [
  'new',
  'returning',
  'vip',
  'returning-exploring-new-category',
  'high-value-cart',
  'price-sensitive',
  'mobile-checkout-friction',
];

/** Read-model facts about the customer, supplied by the application when a recovery starts. */
export interface CustomerFeatures {
  readonly ordersCount: number;
  /** Lifetime spend in shop currency. */
  readonly totalSpent: DecimalString;
  readonly lastPurchaseAt?: IsoTimestamp;
  readonly previousAbandonments: number;
  readonly previousRecoveries: number;
  /** Orders placed with a discount code. */
  readonly discountOrdersCount: number;
  readonly categoriesBought: readonly string[];
  /** Recovery messages ignored in a row (no open, no click), most recent first. */
  readonly ignoredRecoveryMessages?: number;
}

export interface CartFeatures {
  readonly value: DecimalString;
  readonly categories: readonly string[];
  readonly itemCount: number;
  readonly device: Device;
  readonly trafficSource?: string;
  /** Why the device or traffic source is `unknown` (optional, added without a version bump). */
  readonly unknownInputs?: UnknownInputs;
  /** Local hour (0-23) at abandonment, customer's time zone else the shop's. */
  readonly hourOfDay?: number;
  readonly checkoutStage?: CheckoutStage;
}

export interface Segmentation {
  readonly segments: readonly Segment[];
  readonly customer: CustomerFeatures;
  readonly cart: CartFeatures;
  readonly thresholds: SegmentThresholds;
}

const SAW_SHIPPING: readonly CheckoutStage[] = ['shipping', 'payment'];
const IN_CHECKOUT: readonly CheckoutStage[] = ['contact', 'shipping', 'payment'];

/** Pure function of the features; the result carries its inputs so it can be recorded as is. */
export function segment(customer: CustomerFeatures, cart: CartFeatures, thresholds: SegmentThresholds): Segmentation {
  const segments: Segment[] = [];
  const returning = customer.ordersCount > 0;
  segments.push(returning ? 'returning' : 'new');
  const spentOk = isDecimalString(customer.totalSpent) && gte(customer.totalSpent, thresholds.vipMinTotalSpent);
  if (returning && (customer.ordersCount >= thresholds.vipMinOrders || spentOk)) segments.push('vip');
  // Only against categories known to be bought: a returning customer whose orders' categories are
  // unknown (bought before the appliance watched, or never categorised) is not "exploring".
  const bought = new Set(customer.categoriesBought);
  if (returning && bought.size > 0 && cart.categories.some((c) => !bought.has(c))) {
    segments.push('returning-exploring-new-category');
  }
  if (isDecimalString(cart.value) && gte(cart.value, thresholds.highValueCart)) segments.push('high-value-cart');
  const sawShipping = cart.checkoutStage !== undefined && SAW_SHIPPING.includes(cart.checkoutStage);
  if (customer.discountOrdersCount > 0 || sawShipping) segments.push('price-sensitive');
  if (cart.device === 'mobile' && cart.checkoutStage !== undefined && IN_CHECKOUT.includes(cart.checkoutStage)) {
    segments.push('mobile-checkout-friction');
  }
  return { segments, customer, cart, thresholds };
}

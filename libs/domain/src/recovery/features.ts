/**
 * The feature vector a recovery records when it starts (`recovery.features-recorded`): what was
 * known about the cart and the customer at abandonment, flat and named, so a model is trained only
 * on what was known then (no leakage from later events) and every decision can be explained later.
 * Built from the facts the start already has (the segmentation's inputs, the abandonment time and
 * the local time zone). Money stays a decimal string here; a trainer turns it into a number.
 *
 * Changing the vector (a feature added, renamed or computed differently) bumps
 * `RECOVERY_FEATURES_SCHEMA`; recorded vectors are never recomputed, so a training table names
 * the schema each row was recorded with.
 */
import { isValidTimeZone, localParts } from './quiet-hours';
import type { Segmentation } from './segments';
import { toMs } from './time';
import type { DecimalString, IsoTimestamp } from './types';

export const RECOVERY_FEATURES_SCHEMA = 1;

export interface RecoveryFeatures {
  readonly cart_value: DecimalString;
  readonly currency: string;
  readonly item_count: number;
  /** The cart's categories, sorted, joined by `|` (empty string: none). */
  readonly categories: string;
  readonly category_count: number;
  readonly returning: boolean;
  readonly orders_count: number;
  readonly total_spent: DecimalString;
  /** Whole days from the last purchase to the abandonment; null for a customer who never bought. */
  readonly days_since_last_purchase: number | null;
  readonly previous_abandonments: number;
  readonly previous_recoveries: number;
  readonly discount_orders: number;
  readonly device: string;
  readonly traffic_source: string | null;
  /** Local hour (0–23) and weekday (0 = Sunday) at abandonment, in the customer's zone else the shop's. */
  readonly local_hour: number | null;
  readonly local_weekday: number | null;
  readonly checkout_stage: string | null;
  /** Recovery messages ignored in a row before this cart (engagement history); null when unknown. */
  readonly ignored_recovery_messages: number | null;
}

const DAY_MS = 86_400_000;

export function featuresAtAbandonment(
  segmentation: Segmentation,
  abandonedAt: IsoTimestamp,
  currency: string,
  timeZone: string,
): RecoveryFeatures {
  const { cart, customer } = segmentation;
  const abandonedMs = toMs(abandonedAt);
  const local = isValidTimeZone(timeZone) ? localParts(abandonedMs, timeZone) : undefined;
  const lastPurchaseMs = customer.lastPurchaseAt !== undefined ? Date.parse(customer.lastPurchaseAt) : NaN;
  return {
    cart_value: cart.value,
    currency,
    item_count: cart.itemCount,
    categories: [...cart.categories].sort().join('|'),
    category_count: cart.categories.length,
    returning: customer.ordersCount > 0,
    orders_count: customer.ordersCount,
    total_spent: customer.totalSpent,
    days_since_last_purchase: Number.isFinite(lastPurchaseMs)
      ? Math.max(0, Math.floor((abandonedMs - lastPurchaseMs) / DAY_MS))
      : null,
    previous_abandonments: customer.previousAbandonments,
    previous_recoveries: customer.previousRecoveries,
    discount_orders: customer.discountOrdersCount,
    device: cart.device,
    traffic_source: cart.trafficSource ?? null,
    local_hour: local?.hour ?? cart.hourOfDay ?? null,
    local_weekday: local ? new Date(Date.UTC(local.year, local.month - 1, local.day)).getUTCDay() : null,
    checkout_stage: cart.checkoutStage ?? null,
    ignored_recovery_messages: customer.ignoredRecoveryMessages ?? null,
  };
}

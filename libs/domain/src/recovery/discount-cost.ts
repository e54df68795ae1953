import Decimal from 'decimal.js';
import type { DecimalString } from './types';

/**
 * The discount given on an attributed order: the order's own `total_discounts`, else estimated
 * from the message's percent (revenue = full × (1 − p), so the discount was revenue × p / (1 − p)).
 */
export function discountCostOf(
  revenue: DecimalString,
  discountUsed: boolean,
  orderDiscounts: DecimalString | null | undefined,
  percent: number,
): DecimalString {
  if (!discountUsed) return '0';
  if (orderDiscounts !== null && orderDiscounts !== undefined) return new Decimal(orderDiscounts).toFixed();
  if (percent <= 0 || percent >= 100) return '0';
  return new Decimal(revenue)
    .mul(percent)
    .div(100 - percent)
    .toDecimalPlaces(2)
    .toFixed();
}

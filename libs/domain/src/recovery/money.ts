import Decimal from 'decimal.js';
import type { DecimalString } from './types';

const DECIMAL = /^\d{1,15}(\.\d{1,6})?$/;

/** A non-negative plain decimal ("12.50"); rejects "12,50", "-1", "NaN", "1e308". */
export function isDecimalString(value: string): boolean {
  return DECIMAL.test(value);
}

export function gte(a: DecimalString, b: DecimalString): boolean {
  return new Decimal(a).gte(new Decimal(b));
}

/** Minor-unit digits of an ISO 4217 currency (2 when unknown). */
export function currencyScale(currency: string): number {
  try {
    return new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ?? 2;
  } catch {
    return 2;
  }
}

export function lineTotal(unitPrice: DecimalString, quantity: number): Decimal {
  return new Decimal(unitPrice).times(quantity);
}

export function formatMoney(value: Decimal, currency: string): DecimalString {
  return value.toFixed(currencyScale(currency), Decimal.ROUND_HALF_EVEN);
}

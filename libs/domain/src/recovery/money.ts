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

const scales = new Map<string, number>();

/** Minor-unit digits of an ISO 4217 currency (2 when unknown); looked up once per currency (a NumberFormat is costly). */
export function currencyScale(currency: string): number {
  let scale = scales.get(currency);
  if (scale === undefined) {
    try {
      scale = new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ?? 2;
    } catch {
      scale = 2;
    }
    if (scales.size < 1000) scales.set(currency, scale);
  }
  return scale;
}

export function lineTotal(unitPrice: DecimalString, quantity: number): Decimal {
  return new Decimal(unitPrice).times(quantity);
}

export function formatMoney(value: Decimal, currency: string): DecimalString {
  return value.toFixed(currencyScale(currency), Decimal.ROUND_HALF_EVEN);
}

import Decimal from 'decimal.js';

/** A plain non-negative decimal ("12.50"); refuses "12,50", "-1", "NaN", "1e308" (R12). */
const DECIMAL = /^\d{1,15}(\.\d{1,6})?$/;

export class MoneyFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MoneyFormatError';
  }
}

export function isDecimalAmount(value: unknown): value is string {
  return typeof value === 'string' && DECIMAL.test(value);
}

function minorDigits(currency: string): number {
  return new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ?? 2;
}

/**
 * Formats a decimal string as money for a locale without ever going through a float: the amount
 * is checked, rounded to the currency's minor unit with decimal.js (half-even, as the domain
 * does), and the resulting exact decimal string is handed to `Intl.NumberFormat`, which formats
 * strings as exact decimals.
 */
export function formatMoney(amount: string, currency: string, locale = 'en'): string {
  if (!isDecimalAmount(amount)) throw new MoneyFormatError('amount is not a plain decimal string');
  if (!/^[A-Z]{3}$/.test(currency)) throw new MoneyFormatError('currency is not an ISO 4217 code');
  let digits: number;
  try {
    digits = minorDigits(currency);
  } catch {
    throw new MoneyFormatError('unknown currency');
  }
  const rounded = new Decimal(amount).toFixed(digits, Decimal.ROUND_HALF_EVEN);
  const format = new Intl.NumberFormat(safeLocale(locale), {
    style: 'currency',
    currency,
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  });
  // Intl.NumberFormat formats a numeric string as an exact decimal (ECMA-402 "Intl mathematical value").
  return format.format(rounded as unknown as number);
}

/** `amount × quantity` as a decimal string (no floats). */
export function multiplyAmount(amount: string, quantity: number): string {
  if (!isDecimalAmount(amount)) throw new MoneyFormatError('amount is not a plain decimal string');
  if (!Number.isSafeInteger(quantity) || quantity < 0) throw new MoneyFormatError('quantity must be a whole number');
  return new Decimal(amount).times(quantity).toFixed();
}

/** The given locale when Intl knows it, else English. */
export function safeLocale(locale: string | undefined): string {
  if (!locale) return 'en';
  try {
    return Intl.NumberFormat.supportedLocalesOf([locale]).length > 0 ? locale : 'en';
  } catch {
    return 'en';
  }
}

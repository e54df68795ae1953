import Decimal from 'decimal.js';
import { isLosslessNumber } from 'lossless-json';

export type MoneyCheck =
  { readonly ok: true; readonly value: string } | { readonly ok: false; readonly reason: string };

/**
 * Largest amount we accept: one trillion units of any currency. Large enough for currencies with
 * big nominal values (IDR, VND, IRR carts run into the hundreds of millions), far below 1e308.
 */
export const MAX_MONEY_AMOUNT = '1000000000000';
/** More decimal places than any ISO-4217 currency uses (max 4, e.g. CLF). */
export const MAX_MONEY_DECIMALS = 4;

const PLAIN_DECIMAL = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

/**
 * Validates an amount from a payload: a JSON number (`LosslessNumber`), numeric string or finite
 * JS number. Returns the exact decimal text (fraction digits as sent, e.g. "12.50") or a reason.
 */
export function validateMoney(input: unknown, opts: { allowZero?: boolean; max?: string } = {}): MoneyCheck {
  let text: string;
  if (isLosslessNumber(input)) text = input.value;
  else if (typeof input === 'string') text = input.trim();
  else if (typeof input === 'number') {
    if (!Number.isFinite(input)) return { ok: false, reason: `not a finite number (${String(input)})` };
    text = String(input);
  } else if (input === undefined || input === null) return { ok: false, reason: 'missing amount' };
  else return { ok: false, reason: `amount is a ${Array.isArray(input) ? 'array' : typeof input}, not a number` };

  if (text === '') return { ok: false, reason: 'empty amount' };
  if (!PLAIN_DECIMAL.test(text)) {
    if (/^[+-]?\d+,\d+$/.test(text)) return { ok: false, reason: `comma decimal separator is ambiguous ("${text}")` };
    if (/^[+-]?(nan|infinity|inf)$/i.test(text)) return { ok: false, reason: `not a finite number (${text})` };
    return { ok: false, reason: 'not a decimal number' };
  }
  const plain = opts.max === undefined ? plainAmount(text, opts.allowZero === false) : undefined;
  if (plain !== undefined) return plain;
  const amount = new Decimal(text);
  if (amount.isNegative() && !amount.isZero()) return { ok: false, reason: `negative amount (${text})` };
  if (amount.isZero() && opts.allowZero === false) return { ok: false, reason: 'zero amount' };
  const max = new Decimal(opts.max ?? MAX_MONEY_AMOUNT);
  if (amount.gt(max)) return { ok: false, reason: `amount exceeds the maximum of ${max.toFixed()}` };
  if (amount.decimalPlaces() > MAX_MONEY_DECIMALS) {
    return { ok: false, reason: `more than ${MAX_MONEY_DECIMALS} decimal places` };
  }
  const mantissa = text.split(/[eE]/)[0] ?? text;
  const sentDecimals = text.length === mantissa.length ? (mantissa.split('.')[1] ?? '').length : 0;
  return { ok: true, value: amount.abs().toFixed(Math.max(sentDecimals, amount.decimalPlaces())) };
}

const UNSIGNED_DECIMAL = /^\+?(\d*)(?:\.(\d*))?$/;
const MAX_INTEGER_DIGITS = MAX_MONEY_AMOUNT.length;

/**
 * The common case without decimal.js (webhook mapping validates every price of every line): an
 * unsigned amount without exponent below the default maximum, checked on its digits. The result
 * is the one the decimal.js path gives (a property test holds them equal); anything else — a
 * sign, an exponent, an amount at or near the maximum, a custom maximum — takes that path.
 */
function plainAmount(text: string, refuseZero: boolean): MoneyCheck | undefined {
  const m = UNSIGNED_DECIMAL.exec(text);
  if (!m) return undefined;
  const integer = m[1]!.replace(/^0+/, '');
  const fraction = m[2] ?? '';
  if (integer.length >= MAX_INTEGER_DIGITS) return undefined;
  const significant = fraction.replace(/0+$/, '');
  if (significant.length > MAX_MONEY_DECIMALS) {
    return { ok: false, reason: `more than ${MAX_MONEY_DECIMALS} decimal places` };
  }
  if (refuseZero && integer === '' && significant === '') return { ok: false, reason: 'zero amount' };
  return { ok: true, value: fraction === '' ? integer || '0' : `${integer || '0'}.${fraction}` };
}

export type CurrencyCheck =
  { readonly ok: true; readonly value: string } | { readonly ok: false; readonly reason: string };

/** An ISO-4217 alphabetic code (upper-cased). */
export function validateCurrency(input: unknown): CurrencyCheck {
  if (typeof input !== 'string') return { ok: false, reason: 'missing currency code' };
  const code = input.trim().toUpperCase();
  if (!/^[A-Z]{3}$/.test(code)) return { ok: false, reason: `not an ISO-4217 currency code ("${input}")` };
  return { ok: true, value: code };
}

/**
 * All currencies one payload mentions must agree (R12 "mixed currencies"). `undefined`s are
 * skipped; returns the single code, or a reason naming the codes found.
 */
export function singleCurrency(codes: readonly (string | undefined)[], fallback: string): CurrencyCheck {
  const found = new Set<string>();
  for (const c of codes) {
    if (c === undefined) continue;
    const checked = validateCurrency(c);
    if (!checked.ok) return checked;
    found.add(checked.value);
  }
  if (found.size > 1) return { ok: false, reason: `mixed currencies: ${[...found].sort().join(', ')}` };
  const [only] = [...found];
  return only !== undefined ? { ok: true, value: only } : validateCurrency(fallback);
}

import Decimal from 'decimal.js';

/**
 * Money is never a float. Amounts travel as decimal strings ("12.50") in a currency, or as
 * integer minor units (bigint). Arithmetic uses an isolated decimal.js constructor so other
 * code that configures the global Decimal cannot change our precision or rounding.
 */
const Dec = Decimal.clone({ precision: 40, rounding: Decimal.ROUND_HALF_UP, toExpNeg: -40, toExpPos: 40 });

export type MoneyAmount = string;

/** At most 15 integer digits and 8 fraction digits, optional leading minus, no exponent, no comma, no "+". */
const MONEY_PATTERN = /^(-)?(\d{1,15})(?:\.(\d{1,8}))?$/;
const CURRENCY_PATTERN = /^[A-Z]{3}$/;

export class InvalidMoneyError extends Error {
  constructor(
    readonly reason: string,
    readonly field?: string,
  ) {
    super(field ? `${field}: ${reason}` : reason);
    this.name = 'InvalidMoneyError';
  }
}

export interface ParseMoneyOptions {
  /** Default false: prices and totals are never negative. */
  readonly allowNegative?: boolean;
  /** Name of the field, carried in the error (for the quarantine reason). */
  readonly field?: string;
}

export type MoneyParseResult =
  { readonly ok: true; readonly value: MoneyAmount } | { readonly ok: false; readonly reason: string };

/**
 * Validates a decimal string as received from a platform and returns it normalised
 * ("012.50" → "12.5"; use {@link toMinorUnits}/{@link fromMinorUnits} for display precision).
 * Rejects numbers (floats have already lost precision), NaN, exponents ("1e308"), commas
 * ("12,50"), empty strings and, unless allowed, negative amounts.
 */
export function tryParseMoney(value: unknown, options: ParseMoneyOptions = {}): MoneyParseResult {
  if (typeof value !== 'string') {
    return { ok: false, reason: `amount must be a decimal string, got ${value === null ? 'null' : typeof value}` };
  }
  const m = MONEY_PATTERN.exec(value.trim());
  if (!m) return { ok: false, reason: 'amount is not a plain decimal (digits with an optional "." fraction)' };
  const d = new Dec(value.trim());
  if (d.isNegative() && !d.isZero() && !options.allowNegative) return { ok: false, reason: 'amount is negative' };
  return { ok: true, value: d.isZero() ? '0' : d.toFixed() };
}

/** Like {@link tryParseMoney} but throws {@link InvalidMoneyError}. */
export function parseMoney(value: unknown, options: ParseMoneyOptions = {}): MoneyAmount {
  const r = tryParseMoney(value, options);
  if (!r.ok) throw new InvalidMoneyError(r.reason, options.field);
  return r.value;
}

export function isCurrencyCode(value: unknown): value is string {
  return typeof value === 'string' && CURRENCY_PATTERN.test(value);
}

/** Results of arithmetic may carry more digits than an inbound amount; they are still plain decimals. */
const ARITHMETIC_PATTERN = /^-?\d+(?:\.\d+)?$/;

function dec(a: MoneyAmount): Decimal {
  if (typeof a !== 'string' || !ARITHMETIC_PATTERN.test(a)) {
    throw new InvalidMoneyError(`not a decimal string: ${typeof a === 'string' ? JSON.stringify(a) : typeof a}`);
  }
  return new Dec(a);
}

export function addMoney(...amounts: MoneyAmount[]): MoneyAmount {
  return amounts.reduce((sum, a) => sum.plus(dec(a)), new Dec(0)).toFixed();
}

export function subtractMoney(a: MoneyAmount, b: MoneyAmount): MoneyAmount {
  return dec(a).minus(dec(b)).toFixed();
}

/** Multiplies by a quantity or rate given as an integer or a decimal string (never a float). */
export function multiplyMoney(a: MoneyAmount, factor: number | string): MoneyAmount {
  if (typeof factor === 'number' && !Number.isSafeInteger(factor)) {
    throw new InvalidMoneyError('factor must be a safe integer or a decimal string');
  }
  const f = typeof factor === 'number' ? new Dec(factor) : dec(factor);
  return dec(a).times(f).toFixed();
}

/** -1, 0 or 1. */
export function compareMoney(a: MoneyAmount, b: MoneyAmount): -1 | 0 | 1 {
  return dec(a).comparedTo(dec(b)) as -1 | 0 | 1;
}

export function isZeroMoney(a: MoneyAmount): boolean {
  return dec(a).isZero();
}

/** ISO 4217 minor-unit exponents that differ from the usual 2. */
const CURRENCY_EXPONENTS: Readonly<Record<string, number>> = {
  BIF: 0,
  CLP: 0,
  DJF: 0,
  GNF: 0,
  ISK: 0,
  JPY: 0,
  KMF: 0,
  KRW: 0,
  PYG: 0,
  RWF: 0,
  UGX: 0,
  UYI: 0,
  VND: 0,
  VUV: 0,
  XAF: 0,
  XOF: 0,
  XPF: 0,
  BHD: 3,
  IQD: 3,
  JOD: 3,
  KWD: 3,
  LYD: 3,
  OMR: 3,
  TND: 3,
  CLF: 4,
  UYW: 4,
};

export function currencyExponent(currency: string): number {
  if (!isCurrencyCode(currency)) throw new InvalidMoneyError(`not an ISO 4217 currency code: ${currency}`);
  return CURRENCY_EXPONENTS[currency] ?? 2;
}

/** "12.50" USD → 1250n. Extra fraction digits are rounded half-up ("12.345" USD → 1235n). */
export function toMinorUnits(amount: MoneyAmount, currency: string): bigint {
  const exp = currencyExponent(currency);
  return BigInt(dec(amount).times(new Dec(10).pow(exp)).toDecimalPlaces(0, Decimal.ROUND_HALF_UP).toFixed(0));
}

/** 1250n USD → "12.50" (always with the currency's number of fraction digits). */
export function fromMinorUnits(minor: bigint | string, currency: string): MoneyAmount {
  const exp = currencyExponent(currency);
  const text = typeof minor === 'bigint' ? minor.toString() : minor;
  if (!/^-?\d+$/.test(text)) throw new InvalidMoneyError('minor units must be an integer');
  return new Dec(text).dividedBy(new Dec(10).pow(exp)).toFixed(exp);
}

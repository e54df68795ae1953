import { isLosslessNumber, LosslessNumber, parse } from 'lossless-json';

/**
 * A payload field that is missing or malformed. `disposition` tells the mapper what to do with the
 * delivery: `quarantine` (200, parked with the reason: R12) or `invalid` (400).
 */
export class PayloadFieldError extends Error {
  constructor(
    readonly field: string,
    readonly reason: string,
    readonly disposition: 'quarantine' | 'invalid' = 'quarantine',
  ) {
    super(`${field}: ${reason}`);
    this.name = 'PayloadFieldError';
  }
}

/**
 * Parses JSON without losing a digit: every number stays a `LosslessNumber` carrying its exact
 * text, so ids above 2^53 and money like "12.50" survive. Throws `SyntaxError` on bad JSON.
 */
export function parseJsonLossless(input: Buffer | string): unknown {
  const text = typeof input === 'string' ? input : input.toString('utf8');
  return parse(text, null, (value: string) => new LosslessNumber(value));
}

export { isLosslessNumber };

export type JsonObject = Record<string, unknown>;

export function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !isLosslessNumber(v);
}

/** Printable ASCII without spaces; Shopify cart tokens may carry `?key=...`. */
const ID_TEXT = /^[\x21-\x7e]{1,255}$/;

/** An id as a string: JSON integers keep their exact digits; strings are trimmed. */
export function idOf(v: unknown, field = 'id'): string {
  if (isLosslessNumber(v)) {
    if (!/^\d+$/.test(v.value)) throw new PayloadFieldError(field, 'numeric id is not a non-negative integer');
    return v.value;
  }
  if (typeof v === 'string') {
    const s = v.trim();
    if (!ID_TEXT.test(s)) throw new PayloadFieldError(field, s === '' ? 'empty id' : 'id has unexpected characters');
    return s;
  }
  throw new PayloadFieldError(field, v === undefined || v === null ? 'missing id' : 'id is not a string or integer');
}

/** Like `idOf`, but `undefined` for null/absent/0/empty (platforms use 0 and "" for "none"). */
export function optionalIdOf(v: unknown, field = 'id'): string | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  if (isLosslessNumber(v) && v.value === '0') return undefined;
  return idOf(v, field);
}

/** The exact decimal text of a JSON number or numeric string (no validation of range: see `validateMoney`). */
export function decimalOf(v: unknown, field = 'amount'): string {
  if (isLosslessNumber(v)) return v.value;
  if (typeof v === 'string' && v.trim() !== '') return v.trim();
  throw new PayloadFieldError(field, v === undefined || v === null ? 'missing amount' : 'amount is not a number');
}

/** A whole number (possibly negative: stock levels can be), or undefined when absent or not one. */
export function optionalCountOf(v: unknown): number | undefined {
  const s = strOf(v);
  if (s === undefined || !/^-?\d{1,12}$/.test(s)) return undefined;
  return Number(s);
}

/** A non-negative safe integer (quantities, counts). */
export function intOf(v: unknown, field: string): number {
  const text = isLosslessNumber(v) ? v.value : typeof v === 'string' ? v.trim() : undefined;
  if (text === undefined || !/^\d+$/.test(text)) throw new PayloadFieldError(field, 'not a non-negative integer');
  const n = Number(text);
  if (!Number.isSafeInteger(n)) throw new PayloadFieldError(field, 'integer too large');
  return n;
}

/** A trimmed non-empty string, or undefined. Numbers are given as their text. */
export function strOf(v: unknown): string | undefined {
  if (typeof v === 'string') {
    const s = v.trim();
    return s === '' ? undefined : s;
  }
  if (isLosslessNumber(v)) return v.value;
  return undefined;
}

export function boolOf(v: unknown): boolean | undefined {
  return typeof v === 'boolean' ? v : undefined;
}

export function objOf(v: unknown): JsonObject | undefined {
  return isObject(v) ? v : undefined;
}

export function arrOf(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

/** The payload as an object, or an `invalid` field error. */
export function rootObject(payload: unknown): JsonObject {
  if (!isObject(payload)) throw new PayloadFieldError('$', 'payload is not a JSON object', 'invalid');
  return payload;
}

/**
 * An ISO-8601 timestamp normalised to UTC (`toISOString`). Accepts ISO strings with or without
 * an offset (`assumeUtc` for WooCommerce's `*_gmt` fields) and Unix seconds (BigCommerce).
 */
export function timestampOf(v: unknown, field: string, opts: { assumeUtc?: boolean } = {}): string {
  let ms: number;
  if (isLosslessNumber(v) && /^\d{1,11}$/.test(v.value)) {
    ms = Number(v.value) * 1000;
  } else if (
    typeof v === 'string' &&
    /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$/.test(v.trim())
  ) {
    let s = v.trim().replace(' ', 'T');
    if (opts.assumeUtc && !/(Z|[+-]\d{2}:?\d{2})$/.test(s)) s += 'Z';
    ms = Date.parse(s);
  } else {
    throw new PayloadFieldError(
      field,
      v === undefined || v === null ? 'missing timestamp' : 'not an ISO-8601 timestamp',
    );
  }
  if (!Number.isFinite(ms)) throw new PayloadFieldError(field, 'unparseable timestamp');
  return new Date(ms).toISOString();
}

export function optionalTimestampOf(v: unknown, field: string, opts: { assumeUtc?: boolean } = {}): string | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  return timestampOf(v, field, opts);
}

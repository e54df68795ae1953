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
 *
 * Only the numbers need the lossless treatment, so the text is handed to the native `JSON.parse`
 * with each number token quoted behind a NUL marker (`12.50` → `"\u000012.50"`), and the marked
 * strings become `LosslessNumber`s afterwards: a lexical pass, the native parse and a walk cost
 * about a fifth of the pure-JavaScript lossless parser on webhook bodies. The result is exactly
 * the library's; the library itself parses whatever the fast path cannot vouch for: a text that
 * may carry the marker itself (a `\u0000` escape), duplicate keys (the library refuses differing
 * ones; the native parse would keep the last), nesting deeper than {@link FAST_PARSE_MAX_DEPTH},
 * and every text the fast path finds malformed (so errors are the library's too).
 */
export function parseJsonLossless(input: Buffer | string): unknown {
  const text = typeof input === 'string' ? input : input.toString('utf8');
  const fast = parseMarked(text);
  return fast === UNSURE ? parseWithLibrary(text) : fast;
}

function parseWithLibrary(text: string): unknown {
  return parse(text, null, (value: string) => new LosslessNumber(value));
}

/** Deeper texts go to the library (the walk below recurses; platform payloads nest < 10 levels). */
export const FAST_PARSE_MAX_DEPTH = 256;
const UNSURE: unique symbol = Symbol('unsure');
const MARK = '\\u0000';

function parseMarked(text: string): unknown {
  if (text.includes('\\u0000')) return UNSURE;
  // One lexical pass: number tokens quoted behind the marker, keys counted (a colon outside a
  // string is one member), depth measured.
  let marked = '';
  let from = 0;
  let members = 0;
  let depth = 0;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      // to the closing quote: the next quote not escaped (preceded by an even run of backslashes)
      for (;;) {
        const q = text.indexOf('"', i + 1);
        if (q < 0) return UNSURE;
        let b = q - 1;
        while (text.charCodeAt(b) === 0x5c) b--;
        i = q;
        if ((q - 1 - b) % 2 === 0) break;
      }
    } else if (c === 0x3a) members++;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > FAST_PARSE_MAX_DEPTH) return UNSURE;
    } else if (c === 0x7d || c === 0x5d) depth--;
    else if (c === 0x2d || (c >= 0x30 && c <= 0x39)) {
      let j = i + 1;
      for (; j < n; j++) {
        const d = text.charCodeAt(j);
        // digits . e E + -: the widest run a number could be; its grammar is checked in the walk
        if (!((d >= 0x30 && d <= 0x39) || d === 0x2e || d === 0x65 || d === 0x45 || d === 0x2b || d === 0x2d)) break;
      }
      marked += `${text.slice(from, i)}"${MARK}${text.slice(i, j)}"`;
      from = j;
      i = j - 1;
    }
  }
  let value: unknown;
  try {
    value = JSON.parse(from === 0 ? text : marked + text.slice(from));
  } catch {
    return UNSURE;
  }
  const seen = { members: 0 };
  let revived: unknown;
  try {
    revived = revive(value, seen);
  } catch {
    return UNSURE; // a malformed number
  }
  return seen.members === members ? revived : UNSURE;
}

/** Marked strings → `LosslessNumber` (in place), counting the members; throws on a malformed number. */
function revive(v: unknown, seen: { members: number }): unknown {
  if (typeof v === 'string') {
    if (v.charCodeAt(0) !== 0) return v;
    // The constructor checks the JSON number grammar (the scan took any run of number characters).
    return new LosslessNumber(v.slice(1));
  }
  if (typeof v !== 'object' || v === null) return v;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      v[i] = revive(v[i], seen);
    }
    return v;
  }
  const o = v as Record<string, unknown>;
  const keys = Object.keys(o);
  seen.members += keys.length;
  for (const k of keys) {
    const before = o[k];
    const r = revive(before, seen);
    if (r === before) continue;
    // JSON.parse makes `__proto__` an own property; assigning it would set the prototype instead.
    if (k === '__proto__')
      Object.defineProperty(o, k, { value: r, writable: true, enumerable: true, configurable: true });
    else o[k] = r;
  }
  return o;
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

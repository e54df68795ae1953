import type { InspectError } from '@reclaim/ports';

/**
 * Text a platform sends may hold NUL characters or unpaired UTF-16 surrogates (`"\u0000"`,
 * `"\ud800"` in JSON). PostgreSQL stores neither (text and jsonb refuse them), so they would turn
 * into a failed append (503) or a poison event. Policy, per kind of field (docs/input-limits.md):
 * - identifiers and names of things (ids, delivery ids, topics/scopes, domains, codes,
 *   currencies): refused with 400 naming the field — they must match exactly, so no repair;
 * - free text (product titles, names, addresses, notes): stored safely, each offending code unit
 *   replaced by U+FFFD (the replacement character).
 */
// eslint-disable-next-line no-control-regex -- finding NUL is the point
const UNSAFE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
// eslint-disable-next-line no-control-regex -- replacing NUL is the point
const UNSAFE_ALL = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

export function hasUnsafeText(s: string): boolean {
  return UNSAFE.test(s);
}

/** NUL and unpaired surrogates replaced by U+FFFD; everything else untouched. */
export function safeText(s: string): string {
  return UNSAFE.test(s) ? s.replace(UNSAFE_ALL, '\ufffd') : s;
}

/** 400 naming the first identifier field holding NUL or an unpaired surrogate. */
export function unsafeIdentifierError(fields: Readonly<Record<string, string | undefined>>): InspectError | undefined {
  for (const [field, value] of Object.entries(fields)) {
    if (value !== undefined && hasUnsafeText(value)) {
      return { ok: false, status: 400, error: 'contains a NUL character or an unpaired surrogate', field };
    }
  }
  return undefined;
}

/** Keys whose values are identifiers or codes (refused when unsafe) rather than free text (repaired). */
const IDENTIFIER_KEY = /(^id$|Id$|Ids$|^ids$|sku|token|Token|code|Code|currency|Currency|^platform$|^type$|^kind$)/;

/**
 * Makes mapped commands storable: free text with NUL or unpaired surrogates is repaired in
 * place; an identifier with them is reported (its path, e.g. `commands[0].cartId`).
 */
export function guardCommandText(value: unknown, path = 'commands'): string | undefined {
  // Nearly always clean: one walk without building paths, the path-naming walk only when needed.
  return hasUnsafeString(value) ? guardAt(value, path) : undefined;
}

function hasUnsafeString(value: unknown): boolean {
  if (typeof value === 'string') return UNSAFE.test(value);
  if (Array.isArray(value)) return value.some(hasUnsafeString);
  if (typeof value !== 'object' || value === null || Object.getPrototypeOf(value) !== Object.prototype) return false;
  for (const k in value) if (hasUnsafeString((value as Record<string, unknown>)[k])) return true;
  return false;
}

function guardAt(value: unknown, path: string): string | undefined {
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const v: unknown = value[i];
      if (typeof v === 'string') {
        if (hasUnsafeText(v)) {
          if (IDENTIFIER_KEY.test(lastKey(path))) return `${path}[${i}]`;
          value[i] = safeText(v);
        }
      } else {
        const bad = guardAt(v, `${path}[${i}]`);
        if (bad) return bad;
      }
    }
    return undefined;
  }
  if (typeof value !== 'object' || value === null || Object.getPrototypeOf(value) !== Object.prototype)
    return undefined;
  const obj = value as Record<string, unknown>;
  for (const [k, v] of Object.entries(obj)) {
    const at = `${path}.${k}`;
    if (typeof v === 'string') {
      if (hasUnsafeText(v)) {
        if (IDENTIFIER_KEY.test(k)) return at;
        obj[k] = safeText(v);
      }
    } else {
      const bad = guardAt(v, at);
      if (bad) return bad;
    }
  }
  return undefined;
}

function lastKey(path: string): string {
  const m = /\.([^.[\]]+)(?:\[\d+\])*$/.exec(path);
  return m?.[1] ?? '';
}

import type { InboundCommand } from '@reclaim/domain';
import type { InspectError, MappingResult, RawWebhook } from '@reclaim/ports';
import { PayloadFieldError, parseJsonLossless } from './lossless-json';
import { validateMoney } from './money';
import { isJsonMediaType, mediaType } from './http';
import { guardCommandText } from './text-safety';

/** The `commands` outcome of a mapping. */
export function commands(...list: InboundCommand[]): MappingResult {
  return { outcome: 'commands', commands: list };
}

/**
 * Runs a mapper so that it never throws: a `PayloadFieldError` becomes `quarantined` or
 * `invalid`; anything else (a bug or an absurd payload) is quarantined, never lost. Mapped
 * commands are made storable: NUL or unpaired surrogates in free text are replaced, in an
 * identifier they make the delivery `invalid` naming it (see text-safety.ts).
 */
export function safeMap(fn: () => MappingResult): MappingResult {
  try {
    const result = fn();
    if (result.outcome === 'commands') {
      const bad = guardCommandText(result.commands);
      if (bad) return { outcome: 'invalid', reason: 'contains a NUL character or an unpaired surrogate', field: bad };
    }
    return result;
  } catch (err) {
    if (err instanceof PayloadFieldError) {
      return err.disposition === 'invalid'
        ? { outcome: 'invalid', reason: err.reason, field: err.field }
        : { outcome: 'quarantined', reason: err.reason, field: err.field };
    }
    const name = err instanceof Error ? err.name : typeof err;
    return { outcome: 'quarantined', reason: `mapping failed (${name})`, field: '$' };
  }
}

/** A validated money amount, or a quarantine error naming the field and the reason (R12). */
export function moneyField(v: unknown, field: string, opts: { allowZero?: boolean } = {}): string {
  const checked = validateMoney(v, opts);
  if (!checked.ok) throw new PayloadFieldError(field, checked.reason);
  return checked.value;
}

export function optionalMoneyField(v: unknown, field: string): string | undefined {
  return v === undefined || v === null || v === '' ? undefined : moneyField(v, field);
}

/** 415 naming the header unless the delivery says it is JSON (a missing Content-Type included, R9). */
export function jsonContentTypeError(raw: RawWebhook): InspectError | undefined {
  const type = mediaType(raw);
  if (isJsonMediaType(type)) return undefined;
  return {
    ok: false,
    status: 415,
    error:
      type === undefined
        ? 'missing Content-Type; send application/json'
        : `expected application/json, got ${type.slice(0, 80)}`,
    field: 'content-type',
  };
}

/** Deepest nesting of arrays/objects a delivery may have (platform payloads nest < 10 levels). */
export const MAX_JSON_DEPTH = 64;

/**
 * The nesting depth of a JSON text, found by a lexical scan (no recursion, no parse), stopping as
 * soon as it exceeds `limit`: a body of 100,000 `[` costs a loop, not a stack overflow.
 */
export function jsonDepthExceeds(body: Buffer, limit = MAX_JSON_DEPTH): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < body.length; i++) {
    const c = body[i];
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped byte
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > limit) return true;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return false;
}

/**
 * Parses a JSON delivery body; wrong or missing media type → 415, nesting deeper than
 * {@link MAX_JSON_DEPTH} → 413 naming the limit, empty or malformed JSON → 400.
 */
export function parseJsonBody(raw: RawWebhook): { ok: true; payload: unknown } | InspectError {
  const typeError = jsonContentTypeError(raw);
  if (typeError) return typeError;
  if (jsonDepthExceeds(raw.body)) {
    return {
      ok: false,
      status: 413,
      error: `JSON nested deeper than the limit of ${MAX_JSON_DEPTH} levels (MAX_JSON_DEPTH)`,
      field: 'body',
    };
  }
  if (raw.body.length === 0) return { ok: false, status: 400, error: 'empty body', field: 'body' };
  try {
    return { ok: true, payload: parseJsonLossless(raw.body) };
  } catch (err) {
    const detail = err instanceof SyntaxError ? 'malformed JSON' : 'unparseable JSON';
    return { ok: false, status: 400, error: detail, field: 'body' };
  }
}

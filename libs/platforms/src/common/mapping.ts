import type { InboundCommand } from '@reclaim/domain';
import type { InspectError, MappingResult, RawWebhook } from '@reclaim/ports';
import { PayloadFieldError, parseJsonLossless } from './lossless-json';
import { validateMoney } from './money';
import { isJsonMediaType, mediaType } from './http';

/** The `commands` outcome of a mapping. */
export function commands(...list: InboundCommand[]): MappingResult {
  return { outcome: 'commands', commands: list };
}

/**
 * Runs a mapper so that it never throws: a `PayloadFieldError` becomes `quarantined` or
 * `invalid`; anything else (a bug or an absurd payload) is quarantined, never lost.
 */
export function safeMap(fn: () => MappingResult): MappingResult {
  try {
    return fn();
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

/** Parses a JSON delivery body; wrong media type or malformed JSON → a 400 answer. */
export function parseJsonBody(raw: RawWebhook): { ok: true; payload: unknown } | InspectError {
  const type = mediaType(raw);
  if (type !== undefined && !isJsonMediaType(type)) {
    return {
      ok: false,
      status: 400,
      error: `expected application/json, got ${type.slice(0, 80)}`,
      field: 'content-type',
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

import type { CartLineItem } from '../inbound/inbound-types';
import { InvalidCommandError } from './decider';
import { isCurrencyCode, tryParseMoney } from './money';
import { parseTimestamp } from './time';

/** Validation shared by the deciders; every failure names the field so it can be quarantined (R12). */
export function validMoney(value: unknown, field: string): string {
  const r = tryParseMoney(value);
  if (!r.ok) throw new InvalidCommandError(r.reason, field);
  return r.value;
}

export function validOptionalMoney(value: unknown, field: string): string | undefined {
  return value === undefined ? undefined : validMoney(value, field);
}

export function validCurrency(value: unknown, field = 'currency'): string {
  if (!isCurrencyCode(value)) throw new InvalidCommandError('not an ISO 4217 currency code', field);
  return value;
}

export function validId(value: unknown, field: string): string {
  if (typeof value !== 'string' || value.length === 0)
    throw new InvalidCommandError('must be a non-empty string', field);
  return value;
}

export function validTimestamp(value: unknown, field: string): string {
  const ms = typeof value === 'string' ? parseTimestamp(value) : undefined;
  if (ms === undefined) throw new InvalidCommandError('not an ISO-8601 timestamp', field);
  return new Date(ms).toISOString();
}

export function validLineItems(items: readonly CartLineItem[], field = 'lineItems'): CartLineItem[] {
  if (!Array.isArray(items)) throw new InvalidCommandError('must be a list', field);
  return items.map((item, i) => {
    const f = `${field}[${i}]`;
    validId(item.lineId, `${f}.lineId`);
    validId(item.productId, `${f}.productId`);
    if (!Number.isSafeInteger(item.quantity) || item.quantity <= 0) {
      throw new InvalidCommandError('must be a positive integer', `${f}.quantity`);
    }
    return { ...item, unitPrice: validMoney(item.unitPrice, `${f}.unitPrice`) };
  });
}

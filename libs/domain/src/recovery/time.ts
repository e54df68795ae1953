import type { IsoTimestamp } from './types';

export class RecoveryInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RecoveryInputError';
  }
}

/** Parses an ISO-8601 timestamp; throws on anything unparseable. */
export function toMs(iso: IsoTimestamp): number {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) throw new RecoveryInputError(`invalid timestamp: ${iso}`);
  return ms;
}

export function toIso(ms: number): IsoTimestamp {
  return new Date(ms).toISOString();
}

export function addMs(iso: IsoTimestamp, ms: number): IsoTimestamp {
  return toIso(toMs(iso) + ms);
}

export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;

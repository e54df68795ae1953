import { InvalidCommandError } from './decider';

/**
 * Platform timestamps order updates (`updated_at`), but they cannot be trusted blindly (R14):
 * - epoch 0 / a time before 2000 is a placeholder meaning "unknown";
 * - a time far in the future (a bad clock, a year-ahead test fixture) would, if stored as the
 *   cart's latest time, make every genuine later update look stale and wedge the cart forever.
 * So a platform time is normalised against the time we received the delivery (`receivedAt`,
 * our own clock): unknown or unparseable → receivedAt; more than MAX_FUTURE_SKEW_MS ahead of
 * receivedAt → clamped to receivedAt. The clamped value keeps the delivery roughly in arrival
 * order relative to sane neighbours, which is the best information left. The anomaly is kept
 * in the event so it is visible, and the original value too.
 */
export const MAX_FUTURE_SKEW_MS = 60 * 60 * 1000;
/** Anything before this is treated as a placeholder, not a real store time. */
export const EARLIEST_PLAUSIBLE_MS = Date.UTC(2000, 0, 1);

export type TimeAnomaly = 'unknown' | 'invalid' | 'future';

export interface EffectiveTime {
  /** ISO-8601 UTC, what ordering decisions use. */
  readonly at: string;
  readonly anomaly?: TimeAnomaly;
}

/** Our own `receivedAt` is not a timestamp: the command is refused (quarantined with the field). */
export class InvalidTimestampError extends InvalidCommandError {
  constructor(field: string) {
    super('not an ISO-8601 timestamp', field);
    this.name = 'InvalidTimestampError';
  }
}

/** Parses an ISO-8601 timestamp to epoch ms, or undefined. Requires a date and, with a time, a zone. */
export function parseTimestamp(value: string | undefined | null): number | undefined {
  if (typeof value !== 'string') return undefined;
  const text = value.trim();
  if (!/^\d{4}-\d{2}-\d{2}(?:$|T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})$)/.test(text)) return undefined;
  const ms = Date.parse(text);
  return Number.isFinite(ms) ? ms : undefined;
}

/** `receivedAt` is our own clock and must be valid; the command is rejected otherwise. */
export function requireTimestamp(value: string, field: string): number {
  const ms = parseTimestamp(value);
  if (ms === undefined) throw new InvalidTimestampError(field);
  return ms;
}

export function effectivePlatformTime(platformTime: string | undefined, receivedAt: string): EffectiveTime {
  const received = requireTimestamp(receivedAt, 'receivedAt');
  const receivedIso = new Date(received).toISOString();
  if (platformTime === undefined || platformTime === null || platformTime === '') {
    return { at: receivedIso, anomaly: 'unknown' };
  }
  const ms = parseTimestamp(platformTime);
  if (ms === undefined) return { at: receivedIso, anomaly: 'invalid' };
  if (ms < EARLIEST_PLAUSIBLE_MS) return { at: receivedIso, anomaly: 'unknown' };
  if (ms > received + MAX_FUTURE_SKEW_MS) return { at: receivedIso, anomaly: 'future' };
  return { at: new Date(ms).toISOString() };
}

/** Compares two normalised ISO timestamps (as produced by {@link effectivePlatformTime}). */
export function isAfter(a: string, b: string | undefined): boolean {
  if (b === undefined) return true;
  return Date.parse(a) > Date.parse(b);
}

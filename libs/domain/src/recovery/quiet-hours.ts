import { MINUTE } from './time';

/** A local time-of-day window in minutes after midnight (wrapping past midnight when from > to). */
export interface LocalWindow {
  readonly fromMinute: number;
  readonly toMinute: number;
}

interface LocalParts {
  readonly year: number;
  readonly month: number;
  readonly day: number;
  readonly hour: number;
  readonly minute: number;
  readonly second: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (f === undefined) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

export function isValidTimeZone(timeZone: string): boolean {
  try {
    formatter(timeZone);
    return true;
  } catch {
    return false;
  }
}

/**
 * Whole-minute instants already converted, per zone (send-time candidates lie on a shared grid of
 * quarter hours, quiet-hour searches step by minutes): a memo of a pure function, bounded.
 */
const minuteParts = new Map<string, Map<number, LocalParts>>();
const MINUTE_PARTS_PER_ZONE = 20_000;

/** Wall-clock parts of an instant in an IANA time zone. */
export function localParts(ms: number, timeZone: string): LocalParts {
  if (ms % 60_000 !== 0) return computeLocalParts(ms, timeZone);
  let zone = minuteParts.get(timeZone);
  let parts = zone?.get(ms);
  if (parts === undefined) {
    parts = computeLocalParts(ms, timeZone);
    if (zone === undefined) {
      zone = new Map();
      if (minuteParts.size < 1_000) minuteParts.set(timeZone, zone);
    }
    if (zone.size >= MINUTE_PARTS_PER_ZONE) zone.clear();
    zone.set(ms, parts);
  }
  return parts;
}

function computeLocalParts(ms: number, timeZone: string): LocalParts {
  const parts: Record<string, number> = {};
  for (const p of formatter(timeZone).formatToParts(new Date(ms))) {
    if (p.type !== 'literal') parts[p.type] = Number(p.value);
  }
  return {
    year: parts.year,
    month: parts.month,
    day: parts.day,
    hour: parts.hour % 24,
    minute: parts.minute,
    second: parts.second,
  };
}

/** UTC offset of the zone at an instant, in ms (local = utc + offset). */
function offsetMs(ms: number, timeZone: string): number {
  const p = localParts(ms, timeZone);
  const asUtc = Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second);
  return asUtc - Math.floor(ms / 1000) * 1000;
}

/** The instant a wall-clock time occurs in the zone (the later side of a DST gap). */
function wallToInstant(year: number, month: number, day: number, minuteOfDay: number, timeZone: string): number {
  const wall = Date.UTC(year, month - 1, day, Math.floor(minuteOfDay / 60), minuteOfDay % 60);
  const first = wall - offsetMs(wall, timeZone);
  return wall - offsetMs(first, timeZone);
}

export function localMinuteOfDay(ms: number, timeZone: string): number {
  const p = localParts(ms, timeZone);
  return p.hour * 60 + p.minute;
}

export function isInsideWindow(ms: number, timeZone: string, window: LocalWindow): boolean {
  const m = localMinuteOfDay(ms, timeZone);
  return window.fromMinute <= window.toMinute
    ? m >= window.fromMinute && m < window.toMinute
    : m >= window.fromMinute || m < window.toMinute;
}

/**
 * The earliest instant at or after `ms` inside the local window: `ms` itself when allowed,
 * otherwise the next local `fromMinute`. Correct across DST changes (offsets come from Intl).
 */
export function nextAllowedTime(ms: number, timeZone: string, window: LocalWindow): number {
  if (isInsideWindow(ms, timeZone, window)) return ms;
  const today = localParts(ms, timeZone);
  for (let dayOffset = 0; dayOffset <= 2; dayOffset++) {
    const d = new Date(Date.UTC(today.year, today.month - 1, today.day + dayOffset));
    let candidate = wallToInstant(d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate(), window.fromMinute, timeZone);
    // A window start inside a DST gap: walk forward until the wall clock is inside the window.
    for (let i = 0; i < 180 && !isInsideWindow(candidate, timeZone, window); i++) candidate += MINUTE;
    if (candidate > ms && isInsideWindow(candidate, timeZone, window)) return candidate;
  }
  throw new RangeError(`no allowed time found in ${timeZone}`);
}

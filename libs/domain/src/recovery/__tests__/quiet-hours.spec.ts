import { isInsideWindow, localMinuteOfDay, nextAllowedTime } from '../quiet-hours';
import { toIso, toMs } from '../time';

const SMS = { fromMinute: 8 * 60, toMinute: 21 * 60 };
const next = (iso: string, zone: string) => toIso(nextAllowedTime(toMs(iso), zone, SMS));

describe('quiet hours across time zones and DST', () => {
  describe('America/New_York, spring forward (8 March 2026, 02:00 → 03:00)', () => {
    it('01:00 EST is deferred to 08:00 EDT (12:00Z, not 13:00Z)', () => {
      expect(next('2026-03-08T06:00:00.000Z', 'America/New_York')).toBe('2026-03-08T12:00:00.000Z');
    });

    it('22:00 EST the evening before is deferred to 08:00 EDT', () => {
      expect(next('2026-03-08T03:00:00.000Z', 'America/New_York')).toBe('2026-03-08T12:00:00.000Z');
    });

    it('20:59 EDT on the change day is allowed, 21:00 is not', () => {
      expect(next('2026-03-09T00:59:00.000Z', 'America/New_York')).toBe('2026-03-09T00:59:00.000Z');
      expect(next('2026-03-09T01:00:00.000Z', 'America/New_York')).toBe('2026-03-09T12:00:00.000Z');
    });
  });

  describe('America/New_York, fall back (1 November 2026, 02:00 → 01:00)', () => {
    it('01:30 EDT (first pass) is deferred to 08:00 EST (13:00Z)', () => {
      expect(next('2026-11-01T05:30:00.000Z', 'America/New_York')).toBe('2026-11-01T13:00:00.000Z');
    });

    it('01:30 EST (second pass) is deferred to the same 08:00 EST', () => {
      expect(next('2026-11-01T06:30:00.000Z', 'America/New_York')).toBe('2026-11-01T13:00:00.000Z');
    });

    it('07:59 EST is still quiet, 08:00 EST is allowed', () => {
      expect(isInsideWindow(toMs('2026-11-01T12:59:00.000Z'), 'America/New_York', SMS)).toBe(false);
      expect(isInsideWindow(toMs('2026-11-01T13:00:00.000Z'), 'America/New_York', SMS)).toBe(true);
    });
  });

  describe('Europe/Berlin', () => {
    it('spring forward (29 March 2026): 01:30 CET is deferred to 08:00 CEST (06:00Z)', () => {
      expect(next('2026-03-29T00:30:00.000Z', 'Europe/Berlin')).toBe('2026-03-29T06:00:00.000Z');
    });

    it('fall back (25 October 2026): 21:30 CEST the day before is deferred to 08:00 CET (07:00Z)', () => {
      expect(next('2026-10-24T19:30:00.000Z', 'Europe/Berlin')).toBe('2026-10-25T07:00:00.000Z');
    });

    it('inside the window the time is kept', () => {
      expect(next('2026-07-01T10:00:00.000Z', 'Europe/Berlin')).toBe('2026-07-01T10:00:00.000Z');
    });
  });

  it('a window starting in a DST gap starts when the wall clock first reaches it', () => {
    const gap = { fromMinute: 2 * 60 + 30, toMinute: 5 * 60 };
    // 2026-03-08 in New York has no 02:30; the window opens at 03:00 EDT (07:00Z).
    expect(toIso(nextAllowedTime(toMs('2026-03-08T06:00:00.000Z'), 'America/New_York', gap))).toBe(
      '2026-03-08T07:00:00.000Z',
    );
  });

  it('windows wrapping midnight', () => {
    const night = { fromMinute: 22 * 60, toMinute: 6 * 60 };
    expect(isInsideWindow(toMs('2026-07-01T23:30:00.000Z'), 'UTC', night)).toBe(true);
    expect(isInsideWindow(toMs('2026-07-01T12:00:00.000Z'), 'UTC', night)).toBe(false);
    expect(toIso(nextAllowedTime(toMs('2026-07-01T12:00:00.000Z'), 'UTC', night))).toBe('2026-07-01T22:00:00.000Z');
  });

  it('reads the local minute of the day', () => {
    expect(localMinuteOfDay(toMs('2026-01-15T12:34:00.000Z'), 'Asia/Kolkata')).toBe(18 * 60 + 4);
  });
});

import { isE164, isPlausibleEmail, reachFor } from './contact';
import { InvalidCommandError } from './decider';
import { MAX_FUTURE_SKEW_MS, effectivePlatformTime, parseTimestamp } from './time';

const receivedAt = '2026-03-01T10:00:00.000Z';

describe('effectivePlatformTime', () => {
  it('keeps a sane platform time, normalised to UTC', () => {
    expect(effectivePlatformTime('2026-03-01T04:59:00-05:00', receivedAt)).toEqual({ at: '2026-03-01T09:59:00.000Z' });
  });

  it('allows a small future skew but clamps beyond it', () => {
    const justInside = new Date(Date.parse(receivedAt) + MAX_FUTURE_SKEW_MS).toISOString();
    expect(effectivePlatformTime(justInside, receivedAt)).toEqual({ at: justInside });
    expect(effectivePlatformTime('2027-03-01T10:00:00Z', receivedAt)).toEqual({ at: receivedAt, anomaly: 'future' });
  });

  it.each([
    ['1970-01-01T00:00:00Z', 'unknown'],
    ['0001-01-01T00:00:00Z', 'unknown'],
    [undefined, 'unknown'],
    ['', 'unknown'],
    ['not a date', 'invalid'],
    ['2026-13-45T00:00:00Z', 'invalid'],
    ['2026-03-01 10:00', 'invalid'],
  ])('replaces %j by receivedAt (%s)', (input, anomaly) => {
    expect(effectivePlatformTime(input, receivedAt)).toEqual({ at: receivedAt, anomaly });
  });

  it('requires a valid receivedAt', () => {
    expect(() => effectivePlatformTime('2026-03-01T10:00:00Z', 'now')).toThrow(InvalidCommandError);
  });

  it('parses dates and zoned timestamps only', () => {
    expect(parseTimestamp('2026-03-01')).toBe(Date.UTC(2026, 2, 1));
    expect(parseTimestamp('2026-03-01T10:00:00')).toBeUndefined();
    expect(parseTimestamp('2026-03-01T10:00:00.123+0530')).toBe(Date.parse('2026-03-01T10:00:00.123+05:30'));
  });
});

describe('contact reach', () => {
  it.each([
    ['+14155552671', true],
    ['+442071838750', true],
    ['14155552671', false],
    ['+1 415 555 2671', false],
    ['+0123456', false],
    ['+1234567890123456', false],
    ['', false],
  ])('isE164(%j) is %s', (phone, expected) => {
    expect(isE164(phone)).toBe(expected);
  });

  it('derives reach from clear-text contact without keeping it', () => {
    expect(reachFor({ email: 'josé@bücher.de', phone: '+14155552671' })).toEqual({ email: true, sms: true });
    expect(reachFor({ email: 'not-an-email', phone: '555-1234' })).toEqual({ email: false, sms: false });
    expect(reachFor(undefined)).toEqual({ email: false, sms: false });
    expect(isPlausibleEmail(' a@b.co ')).toBe(true);
  });
});

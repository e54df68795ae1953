import { InvalidDurationError, parseDuration, parseDurationList } from './duration';

describe('parseDuration', () => {
  it.each([
    ['250ms', 250],
    ['90s', 90_000],
    ['15m', 900_000],
    ['1h', 3_600_000],
    ['3d', 259_200_000],
    [' 0s ', 0],
  ])('%j → %d ms', (input, ms) => {
    expect(parseDuration(input)).toBe(ms);
  });

  it.each([
    ['', 'empty'],
    ['90', 'missing unit'],
    ['-5m', 'negative'],
    ['1.5h', 'fractions'],
    ['5 minutes', 'unknown format'],
    ['1w', 'unknown format'],
    ['1H', 'unknown format'],
    ['99999999999999999d', 'too large'],
  ])('refuses %j with a clear error (%s)', (input, reason) => {
    expect(() => parseDuration(input)).toThrow(InvalidDurationError);
    expect(() => parseDuration(input)).toThrow(reason);
  });

  it('parses lists in order and names the bad item', () => {
    expect(parseDurationList('6h,24h,72h')).toEqual([21_600_000, 86_400_000, 259_200_000]);
    expect(parseDurationList('30m, 1h')).toEqual([1_800_000, 3_600_000]);
    expect(() => parseDurationList('6h,,72h')).toThrow('item 2');
    expect(() => parseDurationList('')).toThrow('empty list');
  });
});

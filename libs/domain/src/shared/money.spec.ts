import fc from 'fast-check';
import {
  InvalidMoneyError,
  addMoney,
  compareMoney,
  fromMinorUnits,
  multiplyMoney,
  parseMoney,
  subtractMoney,
  toMinorUnits,
  tryParseMoney,
} from './money';

describe('money', () => {
  it.each([
    ['12.50', '12.5'],
    ['0', '0'],
    ['0.00', '0'],
    ['007.10', '7.1'],
    [' 3.99 ', '3.99'],
    ['123456789012345.12345678', '123456789012345.12345678'],
  ])('parses %j as %j', (input, expected) => {
    expect(parseMoney(input)).toBe(expected);
  });

  it.each([['-1'], ['NaN'], ['1e308'], ['12,50'], [''], ['Infinity'], ['+1'], ['1.'], ['.5'], ['0x10'], ['1 000']])(
    'refuses %j',
    (input) => {
      expect(() => parseMoney(input, { field: 'total' })).toThrow(InvalidMoneyError);
    },
  );

  it('refuses numbers (floats have already lost precision), null and objects', () => {
    for (const v of [12.5, 0.1, NaN, null, undefined, {}]) expect(tryParseMoney(v).ok).toBe(false);
  });

  it('accepts negatives only when asked', () => {
    expect(parseMoney('-1.50', { allowNegative: true })).toBe('-1.5');
    expect(() => parseMoney('-1.50')).toThrow('amount is negative');
  });

  it('adds, subtracts, multiplies and compares exactly', () => {
    expect(addMoney('0.1', '0.2')).toBe('0.3');
    expect(addMoney()).toBe('0');
    expect(subtractMoney('10', '0.01')).toBe('9.99');
    expect(multiplyMoney('19.99', 3)).toBe('59.97');
    expect(multiplyMoney('100', '0.15')).toBe('15');
    expect(() => multiplyMoney('1', 1.5)).toThrow(InvalidMoneyError);
    expect(compareMoney('10.5', '10.50')).toBe(0);
    expect(compareMoney('9.99', '10')).toBe(-1);
    expect(compareMoney('9007199254740993.01', '9007199254740993')).toBe(1);
  });

  it('converts to and from minor units with the currency exponent', () => {
    expect(toMinorUnits('12.50', 'USD')).toBe(1250n);
    expect(toMinorUnits('1500', 'JPY')).toBe(1500n);
    expect(toMinorUnits('1.234', 'KWD')).toBe(1234n);
    expect(toMinorUnits('12.345', 'EUR')).toBe(1235n);
    expect(toMinorUnits('123456789012345.99', 'USD')).toBe(12345678901234599n);
    expect(fromMinorUnits(1250n, 'USD')).toBe('12.50');
    expect(fromMinorUnits('5', 'JPY')).toBe('5');
    expect(fromMinorUnits(1234n, 'BHD')).toBe('1.234');
    expect(() => toMinorUnits('1', 'usd')).toThrow(InvalidMoneyError);
  });

  it('sums of cents never drift (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.bigInt({ min: 0n, max: 10n ** 12n }), { maxLength: 30 }), (cents) => {
        const amounts = cents.map((c) => fromMinorUnits(c, 'USD'));
        expect(toMinorUnits(addMoney(...amounts), 'USD')).toBe(cents.reduce((a, b) => a + b, 0n));
      }),
    );
  });
});

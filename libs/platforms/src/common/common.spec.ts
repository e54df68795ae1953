import fc from 'fast-check';
import { isLosslessNumber, LosslessNumber, parse } from 'lossless-json';
import {
  constantTimeEqual,
  idOf,
  normalizeShopDomain,
  parseJsonLossless,
  PayloadFieldError,
  singleCurrency,
  validateMoney,
  MAX_MONEY_AMOUNT,
  verifyBase64HmacSha256,
  hmacSha256,
  InvalidShopDomainError,
} from './index';

describe('parseJsonLossless / idOf / decimalOf', () => {
  it('keeps ids above 2^53 exactly and money text as sent', () => {
    const parsed = parseJsonLossless(Buffer.from('{"id": 820982911946154508, "price": 12.50}')) as Record<
      string,
      unknown
    >;
    expect(idOf(parsed['id'])).toBe('820982911946154508');
    expect(isLosslessNumber(parsed['price'])).toBe(true);
    expect(validateMoney(parsed['price'])).toEqual({ ok: true, value: '12.50' });
  });

  /** What a parse gave: the tree with numbers as `N:<text>` (and own `__proto__` keys kept), or the error. */
  const outcome = (f: () => unknown): unknown => {
    const plain = (v: unknown): unknown => {
      if (isLosslessNumber(v)) return `N:${v.value}`;
      if (Array.isArray(v)) return v.map(plain);
      if (typeof v === 'object' && v !== null) {
        if (Object.getPrototypeOf(v) !== Object.prototype) return 'WRONG PROTOTYPE';
        return Object.keys(v).map((k) => [k, plain((v as Record<string, unknown>)[k])]);
      }
      return v;
    };
    try {
      return { ok: plain(f()) };
    } catch (err) {
      return { error: `${(err as Error).name}: ${(err as Error).message}` };
    }
  };
  const library = (text: string) => parse(text, null, (value: string) => new LosslessNumber(value));
  const sameAsLibrary = (text: string) =>
    expect(outcome(() => parseJsonLossless(text))).toEqual(outcome(() => library(text)));

  it('gives exactly what the lossless library gives, on the edges the native fast path hands back to it', () => {
    for (const text of [
      '{"a": 1, "a": 2}', // differing duplicate: the library refuses it
      '{"a": 1, "a": 1}', // equal duplicate: the library keeps one
      '{"__proto__": {"x": 1}, "b": 2}',
      '{"s": "\\u0000123", "n": 5}', // a string that looks like the marker
      '{"s": "\\\\u0000"}',
      '[01]',
      '[1.]',
      '[-]',
      '[1e]',
      '[--1]',
      '[1"x"]',
      '[1 2]',
      '{"n": 1e400, "m": -0.0000000000000000000001, "big": 123456789012345678901234567890}',
      '"\\"quoted\\\\"',
      `${'['.repeat(300)}1${']'.repeat(300)}`,
      ' \t\n{ "a" : [ 1 , -2.5e+3 , true , null , "x" ] } \r\n',
      '{"a": "unterminated}',
      '',
      '12',
      'nul',
    ]) {
      sameAsLibrary(text);
    }
  });

  it('gives exactly what the lossless library gives on arbitrary JSON and on corrupted JSON', () => {
    const bigNumber = fc
      .tuple(fc.bigInt({ min: -(10n ** 30n), max: 10n ** 30n }), fc.nat({ max: 99 }), fc.boolean())
      .map(([i, f, dec]) => (dec ? `${i}.${String(f).padStart(2, '0')}` : String(i)));
    const withNumbers = fc
      .tuple(fc.json(), fc.array(bigNumber, { maxLength: 4 }))
      .map(([text, nums]) => (nums.length === 0 ? text : `{"v": ${text}, "n": [${nums.join(', ')}]}`));
    const corrupted = fc
      .tuple(withNumbers, fc.nat(), fc.constantFrom('', '"', '\\', ':', ',', '-', '0', 'e', '}', ']', '{"a":1,"a":2}'))
      .map(([text, at, insert]) => {
        const i = text.length === 0 ? 0 : at % text.length;
        return text.slice(0, i) + insert + text.slice(i + (insert === '' ? 1 : 0));
      });
    fc.assert(fc.property(fc.oneof(withNumbers, corrupted), sameAsLibrary), { numRuns: 3000 });
  });

  it('throws a SyntaxError on truncated JSON', () => {
    expect(() => parseJsonLossless('{"id": 1')).toThrow(SyntaxError);
  });

  it('idOf throws a typed field error for missing, fractional or blank ids', () => {
    expect(() => idOf(undefined, 'customer.id')).toThrow(PayloadFieldError);
    expect(() => idOf(parseJsonLossless('1.5'), 'x')).toThrow('x: numeric id is not a non-negative integer');
    expect(() => idOf('  ', 'y')).toThrow('y: empty id');
  });
});

describe('validateMoney', () => {
  it('gives the decimal.js result on its fast path (an explicit maximum takes the decimal.js path)', () => {
    const amount = fc.oneof(
      fc
        .tuple(
          fc.constantFrom('', '+', '-'),
          fc.stringMatching(/^\d{0,14}$/),
          fc.constantFrom('', '.'),
          fc.stringMatching(/^\d{0,7}$/),
          fc.constantFrom('', 'e2', 'E-1'),
        )
        .map((parts) => parts.join('')),
      fc.constantFrom('999999999999.9999', '1000000000000', '1000000000000.0001', '0', '0.00', '00012.500', '.5', '5.'),
    );
    fc.assert(
      fc.property(amount, fc.boolean(), (text, allowZero) => {
        expect(validateMoney(text, { allowZero })).toEqual(validateMoney(text, { allowZero, max: MAX_MONEY_AMOUNT }));
      }),
      { numRuns: 5000 },
    );
  });

  it.each([
    ['-1', 'negative amount (-1)'],
    ['NaN', 'not a finite number (NaN)'],
    ['Infinity', 'not a finite number (Infinity)'],
    ['1e308', 'amount exceeds the maximum of 1000000000000'],
    ['12,50', 'comma decimal separator is ambiguous ("12,50")'],
    ['', 'empty amount'],
    ['12.34567', 'more than 4 decimal places'],
    ['abc', 'not a decimal number'],
  ])('rejects %p with a reason', (input, reason) => {
    expect(validateMoney(input)).toEqual({ ok: false, reason });
  });

  it('rejects JS NaN/Infinity, null and objects', () => {
    expect(validateMoney(Number.NaN)).toEqual({ ok: false, reason: 'not a finite number (NaN)' });
    expect(validateMoney(Number.POSITIVE_INFINITY).ok).toBe(false);
    expect(validateMoney(null)).toEqual({ ok: false, reason: 'missing amount' });
    expect(validateMoney({})).toEqual({ ok: false, reason: 'amount is a object, not a number' });
  });

  it('accepts plain decimals, keeping their fraction digits, and zero unless told otherwise', () => {
    expect(validateMoney('12.50')).toEqual({ ok: true, value: '12.50' });
    expect(validateMoney(' 0 ')).toEqual({ ok: true, value: '0' });
    expect(validateMoney('0', { allowZero: false })).toEqual({ ok: false, reason: 'zero amount' });
    expect(validateMoney('999999999999.99')).toEqual({ ok: true, value: '999999999999.99' });
  });

  it('detects mixed currencies', () => {
    expect(singleCurrency(['USD', 'usd', undefined], 'EUR')).toEqual({ ok: true, value: 'USD' });
    expect(singleCurrency(['USD', 'EUR'], 'USD')).toEqual({ ok: false, reason: 'mixed currencies: EUR, USD' });
    expect(singleCurrency([], 'eur')).toEqual({ ok: true, value: 'EUR' });
    expect(singleCurrency(['US$'], 'USD').ok).toBe(false);
  });
});

describe('HMAC helpers', () => {
  const body = Buffer.from('{"a":1}');
  const sig = hmacSha256('new', body).toString('base64');

  it('accepts any active secret (rotation) and rejects others', () => {
    expect(verifyBase64HmacSha256(body, sig, ['old', 'new'])).toBe(true);
    expect(verifyBase64HmacSha256(body, sig, ['old'])).toBe(false);
    expect(verifyBase64HmacSha256(body, sig, [])).toBe(false);
    expect(verifyBase64HmacSha256(body, sig, [''])).toBe(false);
  });

  it('rejects hex, missing and malformed signatures', () => {
    expect(verifyBase64HmacSha256(body, hmacSha256('new', body).toString('hex'), ['new'])).toBe(false);
    expect(verifyBase64HmacSha256(body, undefined, ['new'])).toBe(false);
    expect(verifyBase64HmacSha256(body, 'not base64!', ['new'])).toBe(false);
  });

  it('constantTimeEqual is false on a length mismatch', () => {
    expect(constantTimeEqual(Buffer.from('ab'), Buffer.from('abc'))).toBe(false);
    expect(constantTimeEqual(Buffer.from('abc'), Buffer.from('abc'))).toBe(true);
  });
});

describe('normalizeShopDomain', () => {
  it('normalises hosts and store hashes', () => {
    expect(normalizeShopDomain('shopify', 'HTTPS://Snow-Devil.myshopify.com/')).toBe('snow-devil.myshopify.com');
    expect(normalizeShopDomain('woocommerce', 'https://shop.example.com/store/')).toBe('shop.example.com/store');
    expect(normalizeShopDomain('bigcommerce', 'stores/ABC123')).toBe('abc123');
    expect(normalizeShopDomain('bigcommerce', 'https://store-abc123.mybigcommerce.com')).toBe('abc123');
  });

  it('throws on nonsense', () => {
    expect(() => normalizeShopDomain('shopify', 'not a host')).toThrow(InvalidShopDomainError);
    expect(() => normalizeShopDomain('bigcommerce', 'stores/')).toThrow(InvalidShopDomainError);
  });
});

import { isLosslessNumber } from 'lossless-json';
import {
  constantTimeEqual,
  idOf,
  normalizeShopDomain,
  parseJsonLossless,
  PayloadFieldError,
  singleCurrency,
  validateMoney,
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

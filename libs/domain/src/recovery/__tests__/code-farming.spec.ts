import { describeCodeFarming, detectCodeFarming, type CodeFarmingHistory } from '../code-farming';
import { DEFAULT_INCENTIVE_SETTINGS } from '../incentives';

const SETTINGS = DEFAULT_INCENTIVE_SETTINGS.codeFarming; // 2 code purchases, 180 days, 50 % of orders
const NOW = '2026-06-30T00:00:00.000Z';
const purchase = (n: number, placedAt: string) => ({
  recoveryId: `recovery-shop-1-cart-${n}`,
  orderId: `order-${n}`,
  code: `RECLAIM-${n}`,
  placedAt,
});

describe('code-farming detection', () => {
  it('abandon → code → buy with the code, twice, and nothing else: a farmer, with the evidence', () => {
    const history: CodeFarmingHistory = {
      codePurchases: [purchase(1, '2026-03-01T10:00:00.000Z'), purchase(2, '2026-05-01T10:00:00.000Z')],
      orderTimes: ['2026-03-01T10:00:00.000Z', '2026-05-01T10:00:00.000Z'],
    };
    const evidence = detectCodeFarming(history, SETTINGS, NOW);
    expect(evidence).toEqual({
      codePurchases: history.codePurchases,
      orders: 2,
      codeOrderShare: 1,
      windowDays: 180,
      minCodePurchases: 2,
      minCodeOrderShare: 0.5,
    });
    expect(describeCodeFarming(evidence!)).toBe(
      '2 purchases with a recovery code in 180 days (2 of 2 orders, 100 %; thresholds 2 purchases and 50 %)',
    );
  });

  it('one code purchase is not a pattern', () => {
    const history = {
      codePurchases: [purchase(1, '2026-05-01T10:00:00.000Z')],
      orderTimes: ['2026-05-01T10:00:00.000Z'],
    };
    expect(detectCodeFarming(history, SETTINGS, NOW)).toBeUndefined();
  });

  it('a loyal customer who mostly pays full price is not a farmer', () => {
    const history = {
      codePurchases: [purchase(1, '2026-03-01T10:00:00.000Z'), purchase(2, '2026-05-01T10:00:00.000Z')],
      orderTimes: ['01', '02', '03', '04', '05']
        .map((d) => `2026-04-${d}T10:00:00.000Z`)
        .concat(['2026-03-01T10:00:00.000Z', '2026-05-01T10:00:00.000Z']),
    };
    expect(detectCodeFarming(history, SETTINGS, NOW)).toBeUndefined(); // 2 of 7 orders
  });

  it('code purchases outside the window do not count; an order with two codes counts once', () => {
    const old = purchase(1, '2025-10-01T10:00:00.000Z');
    const recent = purchase(2, '2026-05-01T10:00:00.000Z');
    const history = {
      codePurchases: [old, recent, { ...recent, code: 'RECLAIM-OTHER', recoveryId: 'recovery-shop-1-cart-3' }],
      orderTimes: [old.placedAt, recent.placedAt],
    };
    expect(detectCodeFarming(history, SETTINGS, NOW)).toBeUndefined();
    expect(detectCodeFarming(history, { ...SETTINGS, windowDays: 365 }, NOW)?.codePurchases).toHaveLength(2);
  });

  it('thresholds are settings; off detects nothing; bad ones are refused naming the field', () => {
    const history = {
      codePurchases: [purchase(1, '2026-05-01T10:00:00.000Z')],
      orderTimes: ['2026-05-01T10:00:00.000Z'],
    };
    expect(detectCodeFarming(history, { ...SETTINGS, minCodePurchases: 1 }, NOW)).toBeDefined();
    expect(detectCodeFarming(history, { ...SETTINGS, minCodePurchases: 1, enabled: false }, NOW)).toBeUndefined();
    expect(() => detectCodeFarming(history, { ...SETTINGS, minCodeOrderShare: 2 }, NOW)).toThrow(
      /incentives\.codeFarming\.minCodeOrderShare/,
    );
  });
});

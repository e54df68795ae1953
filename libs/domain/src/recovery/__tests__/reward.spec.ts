import { recoveryReward, rewardStatus } from '../reward';

describe('recoveryReward', () => {
  it('is the order value less the discount cost when recovered', () => {
    expect(recoveryReward({ recovered: true, orderValue: '120.00', discountCost: '12.00' })).toBe('108');
    expect(recoveryReward({ recovered: true, orderValue: '80.5' })).toBe('80.5');
  });
  it('is 0 when not recovered, whatever the order', () => {
    expect(recoveryReward({ recovered: false, orderValue: '120.00', discountCost: '12.00' })).toBe('0');
  });
  it('refuses a recovered outcome without a value, naming the field', () => {
    expect(() => recoveryReward({ recovered: true })).toThrow(/orderValue/);
    expect(() => recoveryReward({ recovered: true, orderValue: '10', discountCost: '-1' })).toThrow(/discountCost/);
  });
});

describe('rewardStatus', () => {
  const base = { decidedAt: '2026-01-01T00:00:00.000Z', attributionWindowMs: 5 * 86_400_000 };
  it('is pending inside the window without a purchase', () => {
    expect(rewardStatus({ ...base, now: '2026-01-03T00:00:00.000Z' })).toEqual({ kind: 'pending' });
  });
  it('is recovered for a purchase within the window, not for one after it', () => {
    expect(rewardStatus({ ...base, purchasedAt: '2026-01-05T23:00:00.000Z', now: '2026-01-05T23:00:00.000Z' })).toEqual(
      {
        kind: 'final',
        recovered: true,
      },
    );
    expect(rewardStatus({ ...base, purchasedAt: '2026-01-07T00:00:00.000Z', now: '2026-01-07T00:00:00.000Z' })).toEqual(
      {
        kind: 'final',
        recovered: false,
      },
    );
  });
  it('is final and not recovered once the window closed or the recovery ended without a purchase', () => {
    expect(rewardStatus({ ...base, now: '2026-01-07T00:00:00.000Z' })).toEqual({ kind: 'final', recovered: false });
    expect(
      rewardStatus({ ...base, endedWithoutPurchaseAt: '2026-01-02T00:00:00.000Z', now: '2026-01-02T00:00:00.000Z' }),
    ).toEqual({ kind: 'final', recovered: false });
  });
});

import { lift, meanDifference, proportionDifference, sampleVariance, type ArmSums } from './lift';

/** n carts of which `recovered` bought for `each` (the rest for nothing), with a discount cost per recovery. */
function arm(n: number, recovered: number, each: number, cost = 0): ArmSums {
  const net = each - cost;
  return {
    carts: n,
    recovered,
    revenue: String(recovered * each),
    revenueSq: String(recovered * each * each),
    discountCost: String(recovered * cost),
    net: String(recovered * net),
    netSq: String(recovered * net * net),
  };
}

describe('lift (treated vs holdout, 95 % intervals)', () => {
  it('difference of proportions: 40/100 vs 20/100', () => {
    // se = sqrt(.4·.6/100 + .2·.8/100) = sqrt(.004) = 0.0632456
    const d = proportionDifference(40, 100, 20, 100);
    expect(d.estimate).toBeCloseTo(0.2, 12);
    expect(d.low).toBeCloseTo(0.2 - 1.959964 * 0.0632456, 5);
    expect(d.high).toBeCloseTo(0.2 + 1.959964 * 0.0632456, 5);
  });

  it('sample variance and Welch difference of means', () => {
    expect(sampleVariance(4, 10, 30)).toBeCloseTo((30 - 25) / 3, 12); // 1,2,3,4
    expect(sampleVariance(1, 5, 25)).toBe(0);
    // treated: 40 × 100 and 60 × 0 → mean 40, s² = 2424.24; holdout: 20 × 100 → mean 20, s² = 1616.16
    const d = meanDifference({ n: 100, sum: 4000, sumSq: 400000 }, { n: 100, sum: 2000, sumSq: 200000 });
    const se = Math.sqrt(240000 / 99 / 100 + 160000 / 99 / 100);
    expect(d.estimate).toBeCloseTo(20, 12);
    expect(se).toBeCloseTo(6.3564, 4);
    expect(d.low).toBeCloseTo(20 - 1.959964 * se, 5);
    expect(d.high).toBeCloseTo(20 + 1.959964 * se, 5);
  });

  it('nets out the discount cost and scales to incremental revenue', () => {
    const r = lift(arm(100, 40, 100, 10), arm(100, 20, 100));
    expect(r.status).toBe('ok');
    if (r.status !== 'ok') return;
    expect(r.recoveryRateLift.estimate).toBeCloseTo(0.2, 12);
    expect(r.treatedRevenuePerCart).toBeCloseTo(40, 12);
    expect(r.revenuePerCartLift.estimate).toBeCloseTo(20, 12);
    // 40 × 90 / 100 − 20 = 16 per cart, × 100 treated carts
    expect(r.netRevenuePerCartLift.estimate).toBeCloseTo(16, 12);
    expect(r.incrementalNetRevenue.estimate).toBeCloseTo(1600, 9);
    expect(r.netRevenuePerCartLift.low).toBeLessThan(16);
  });

  it('says "not enough data yet" below the minimum sample of either arm', () => {
    expect(lift(arm(100, 40, 100), arm(29, 5, 100))).toEqual({
      status: 'not enough data yet',
      treatedCarts: 100,
      holdoutCarts: 29,
      minimum: 30,
    });
    expect(lift(arm(100, 40, 100), arm(29, 5, 100), 20).status).toBe('ok');
  });
});

import { policyControlLift } from './dashboard';

const sums = (carts: number, recovered: number, nets: readonly number[]) => {
  const net = nets.reduce((s, x) => s + x, 0);
  const netSq = nets.reduce((s, x) => s + x * x, 0);
  return {
    carts,
    recovered,
    revenue: String(net),
    revenueSq: String(netSq),
    discountCost: '0',
    net: String(net),
    netSq: String(netSq),
  };
};

describe('policyControlLift: the shop policy against the fixed rules on one log (RFC 0021)', () => {
  it('no recovery drew an arm: off', () => {
    expect(policyControlLift(sums(0, 0, []), sums(0, 0, []))).toEqual({ status: 'off' });
  });

  it('below the minimum in either arm: not enough data yet, with both counts', () => {
    expect(policyControlLift(sums(200, 20, []), sums(12, 1, []))).toEqual({
      status: 'not enough data yet',
      shopPolicyCarts: 200,
      fixedRulesCarts: 12,
      minimum: 30,
    });
  });

  it('recovery rate and net revenue per cart, shop policy − fixed rules, and the extra net revenue over its carts', () => {
    // 40 carts on the shop policy: 10 bought for 50 each; 40 on the fixed rules: 5 bought for 40 each.
    const shop = sums(40, 10, [...Array(10).fill(50), ...Array(30).fill(0)]);
    const rules = sums(40, 5, [...Array(5).fill(40), ...Array(35).fill(0)]);
    const r = policyControlLift(shop, rules);
    if (r.status !== 'ok') throw new Error(`expected ok, got ${r.status}`);
    expect([r.shopPolicyCarts, r.fixedRulesCarts]).toEqual([40, 40]);
    expect(r.shopPolicyRecoveryRate).toBeCloseTo(0.25, 12);
    expect(r.fixedRulesRecoveryRate).toBeCloseTo(0.125, 12);
    expect(r.recoveryRateLift.estimate).toBeCloseTo(0.125, 12);
    // 500 / 40 − 200 / 40 = 7.5 per cart; × 40 carts = 300.
    expect(r.netRevenuePerCartLift.estimate).toBeCloseTo(7.5, 9);
    expect(r.incrementalNetRevenue.estimate).toBeCloseTo(300, 6);
    expect(r.incrementalNetRevenue.low).toBeLessThan(300);
    expect(r.incrementalNetRevenue.high).toBeGreaterThan(300);
    expect(r.incrementalNetRevenue.low).toBeCloseTo(r.netRevenuePerCartLift.low * 40, 6);
  });
});

import {
  chooseIncentive,
  DEFAULT_INCENTIVE_SETTINGS,
  expectedIncrementalProfits,
  incentiveArmKey,
  incentiveDistribution,
  incentiveLevels,
  ladderIsArm,
  levelPosteriors,
  type IncentiveEvidence,
  type IncentiveSettings,
} from '../incentives';

const LEARNED: IncentiveSettings = { ...DEFAULT_INCENTIVE_SETTINGS, policy: 'learned', explorationPercent: 20 };
const LADDER = [0, 5, 10, 15];

/** Evidence with a lot of outcomes, so the posterior means sit close to the given rates. */
function evidence(rates: Record<number, number>, n = 100_000): IncentiveEvidence {
  return {
    segment: 'price-sensitive',
    levels: Object.entries(rates).map(([percent, rate]) => ({
      percent: Number(percent),
      assigned: n,
      recovered: Math.round(rate * n),
    })),
  };
}

describe('incentive levels', () => {
  it('are 0 % and every distinct percent of the ladder, ascending', () => {
    expect(incentiveLevels([15, 5, 0, 10, 15])).toEqual([0, 5, 10, 15]);
    expect(incentiveLevels([10])).toEqual([0, 10]);
  });
  it('refuse a percent outside 0–90, naming it', () => {
    expect(() => incentiveLevels([5, 95])).toThrow(/ladder\[1\]/);
  });
});

describe('the expected incremental profit rule', () => {
  it('is p(ℓ)·(m·V − d·V) − p(0)·m·V, exactly, per level', () => {
    const post = levelPosteriors([0, 10], evidence({ 0: 0.2, 10: 0.3 }, 1_000_000), 0);
    const profits = expectedIncrementalProfits(post, '100.00', 40);
    // 0.3 · (40 − 10) − 0.2 · 40 = 9 − 8 = 1
    expect(Number(profits?.get(10)?.toFixed(2))).toBeCloseTo(1, 1);
    expect(profits?.get(0)?.toFixed(2)).toBe('0.00');
  });

  it('offers the level of highest expected incremental profit when exploiting', () => {
    // V = 100, m = 40 %: 5 % → 0.25·35 − 8 = 0.75; 10 % → 0.32·30 − 8 = 1.6; 15 % → 0.34·25 − 8 = 0.5
    const choice = chooseIncentive({
      ladder: LADDER,
      stepPercent: 5,
      cartValue: '100.00',
      segment: 'price-sensitive',
      settings: LEARNED,
      evidence: evidence({ 0: 0.2, 5: 0.25, 10: 0.32, 15: 0.34 }),
      draw: 0.5,
    });
    // 0.8 on the exploit level + 0.2 / 5 (0, 5, 10, 15 % and the ladder).
    expect(choice).toMatchObject({ percent: 10, mode: 'exploit', propensity: 0.84 });
    expect(choice.expectedIncrementalProfit).toEqual({ '0': '0.00', '5': '0.75', '10': '1.60', '15': '0.50' });
    expect(choice.reason).toMatch(/10 % has the highest expected incremental profit/);
  });

  it('offers none where no level pays (the discount cost exceeds the extra margin)', () => {
    // Discounts lift recovery, but not by enough: 5 % → 0.21·35 − 8 = −0.65, …
    const choice = chooseIncentive({
      ladder: LADDER,
      stepPercent: 5,
      cartValue: '100.00',
      segment: 'loyal',
      settings: LEARNED,
      evidence: evidence({ 0: 0.2, 5: 0.21, 10: 0.22, 15: 0.23 }),
      draw: 0.9,
    });
    expect(choice).toMatchObject({ percent: 0, mode: 'exploit' });
    expect(choice.reason).toMatch(/no level pays for segment loyal \(best 5 %: -0\.65\)/);
    // 0 % is both the exploit choice and one of 5 explore arms: 0.8 + 0.2/5.
    expect(choice.propensity).toBeCloseTo(0.84, 10);
  });

  it('offers none without evidence: with every level alike, every discount only costs', () => {
    const choice = chooseIncentive({
      ladder: LADDER,
      stepPercent: 5,
      cartValue: '100.00',
      segment: 'new',
      settings: LEARNED,
      draw: 0.99,
    });
    expect(choice.percent).toBe(0);
    for (const l of [5, 10, 15]) expect(Number(choice.expectedIncrementalProfit[String(l)])).toBeLessThan(0);
  });

  it('a low margin makes a discount that pays at a high margin not pay', () => {
    const ev = evidence({ 0: 0.2, 5: 0.25, 10: 0.32, 15: 0.34 });
    const base = { ladder: LADDER, stepPercent: 5, cartValue: '100.00', segment: 's', evidence: ev, draw: 0.5 };
    expect(chooseIncentive({ ...base, settings: { ...LEARNED, marginPercent: 60 } }).percent).toBeGreaterThan(0);
    // m = 12 %: 5 % → 0.25·7 − 2.4 = −0.65; 10 % → 0.32·2 − 2.4 < 0; 15 % → negative margin.
    expect(chooseIncentive({ ...base, settings: { ...LEARNED, marginPercent: 12 } }).percent).toBe(0);
  });

  it('explores uniformly among the levels and the ladder, and the propensity is that of the arm drawn', () => {
    const ev = evidence({ 0: 0.2, 5: 0.25, 10: 0.32, 15: 0.34 });
    const base = { ladder: LADDER, stepPercent: 5, cartValue: '100.00', segment: 's', settings: LEARNED, evidence: ev };
    // draws in [0, 0.2) explore: fifth by fifth 0, 5, 10, 15 % and the ladder.
    expect(chooseIncentive({ ...base, draw: 0.01 })).toMatchObject({ percent: 0, mode: 'explore', propensity: 0.04 });
    expect(chooseIncentive({ ...base, draw: 0.05 })).toMatchObject({ percent: 5, mode: 'explore', propensity: 0.04 });
    expect(chooseIncentive({ ...base, draw: 0.09 })).toMatchObject({ percent: 10, mode: 'explore', propensity: 0.84 });
    expect(chooseIncentive({ ...base, draw: 0.13 })).toMatchObject({ percent: 15, mode: 'explore', propensity: 0.04 });
    const ladder = chooseIncentive({ ...base, draw: 0.19 });
    expect(ladder).toMatchObject({ percent: 5, mode: 'ladder', propensity: 0.04 });
    expect(ladder.reason).toMatch(/the fixed ladder .* drawn uniformly among 0, 5, 10, 15 % and the ladder/);
  });

  it('its distribution over the arms is exact, adds up to 1 and agrees with the draws', () => {
    const ev = evidence({ 0: 0.2, 5: 0.25, 10: 0.32, 15: 0.34 });
    const input = { ladder: LADDER, cartValue: '100.00', segment: 's', settings: LEARNED, evidence: ev };
    const view = incentiveDistribution(input);
    expect(view.best).toBe(10);
    const expected: [string, number][] = [
      ['0 %', 0.04],
      ['5 %', 0.04],
      ['10 %', 0.84],
      ['15 %', 0.04],
      ['ladder', 0.04],
    ];
    expect([...view.probabilities.keys()]).toEqual(expected.map(([k]) => k));
    for (const [k, p] of expected) expect(view.probabilities.get(k)).toBeCloseTo(p, 12);
    expect([...view.probabilities.values()].reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    // The frequencies of 20,000 evenly spread draws match the distribution.
    const counts = new Map<string, number>();
    const n = 20_000;
    for (let i = 0; i < n; i++) {
      const c = chooseIncentive({ ...input, stepPercent: 5, draw: (i + 0.5) / n });
      const key = c.mode === 'ladder' ? 'ladder' : incentiveArmKey({ kind: 'level', percent: c.percent });
      counts.set(key, (counts.get(key) ?? 0) + 1);
      expect(c.propensity).toBeCloseTo(view.probabilities.get(key)!, 6);
      expect(c.probabilities).toEqual(Object.fromEntries(view.probabilities));
    }
    for (const [key, p] of view.probabilities) expect((counts.get(key) ?? 0) / n).toBeCloseTo(p, 3);
  });

  it('has no ladder arm when the ladder offers a single percent (it is that level), and the fixed policy only the ladder', () => {
    expect(ladderIsArm([0, 10, 10])).toBe(false);
    expect(ladderIsArm([0, 5, 10])).toBe(true);
    const single = incentiveDistribution({ ladder: [0, 10], cartValue: '100.00', segment: 's', settings: LEARNED });
    expect([...single.probabilities.keys()]).toEqual(['0 %', '10 %']);
    expect(single.probabilities.get('0 %')).toBeCloseTo(0.9, 12);
    const fixed = incentiveDistribution({
      ladder: LADDER,
      cartValue: '100.00',
      segment: 's',
      settings: DEFAULT_INCENTIVE_SETTINGS,
    });
    expect([...fixed.probabilities.entries()]).toEqual([['ladder', 1]]);
  });

  it('the fixed policy keeps the step’s ladder percent with propensity 1', () => {
    expect(
      chooseIncentive({
        ladder: LADDER,
        stepPercent: 5,
        cartValue: '100.00',
        segment: 's',
        settings: DEFAULT_INCENTIVE_SETTINGS,
      }),
    ).toMatchObject({ percent: 5, propensity: 1, mode: 'fixed' });
  });

  it('refuses bad settings and draws, naming the field', () => {
    const base = { ladder: LADDER, stepPercent: 5, cartValue: '100.00', segment: 's' };
    expect(() => chooseIncentive({ ...base, settings: LEARNED })).toThrow(/draw/);
    expect(() => chooseIncentive({ ...base, settings: { ...LEARNED, marginPercent: 0 }, draw: 0.5 })).toThrow(
      /incentives\.marginPercent/,
    );
    expect(() =>
      chooseIncentive({
        ...base,
        settings: LEARNED,
        draw: 0.5,
        evidence: { segment: 's', levels: [{ percent: 5, assigned: 3, recovered: 4 }] },
      }),
    ).toThrow(/evidence\.levels\[0\]/);
  });

  it('the uplift interval narrows with evidence and covers the true uplift', () => {
    const small = levelPosteriors(
      [0, 10],
      {
        segment: 's',
        levels: [
          { percent: 0, assigned: 50, recovered: 10 },
          { percent: 10, assigned: 50, recovered: 17 },
        ],
      },
      10,
    );
    const large = levelPosteriors([0, 10], evidence({ 0: 0.2, 10: 0.34 }, 5_000), 10);
    const w = (p: (typeof small)[number]) => p.upliftHigh - p.upliftLow;
    expect(w(large[1])).toBeLessThan(w(small[1]) / 5);
    expect(large[1].upliftLow).toBeLessThan(0.14);
    expect(large[1].upliftHigh).toBeGreaterThan(0.14);
  });
});

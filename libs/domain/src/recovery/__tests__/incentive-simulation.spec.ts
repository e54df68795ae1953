/**
 * A simulated shop where discounts only help one segment: the learned policy, fed its own
 * randomised outcomes with a delay (rewards arrive later than decisions), ends up offering codes
 * to the price-sensitive segment and not to the others, and its estimates agree with the
 * simulator's true probabilities.
 */
import { chooseIncentive, DEFAULT_INCENTIVE_SETTINGS, levelPosteriors, type LevelTally } from '../incentives';

/** mulberry32: a small seeded PRNG, so the test is reproducible. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const LADDER = [0, 5, 10, 15];
/** True P(recover | level) per segment. Price-sensitive shoppers respond to discounts; loyal ones buy anyway. */
const TRUTH: Record<string, Record<number, number>> = {
  'price-sensitive': { 0: 0.12, 5: 0.2, 10: 0.3, 15: 0.33 },
  returning: { 0: 0.3, 5: 0.3, 10: 0.31, 15: 0.31 },
};
/**
 * The ladder arm (5, 10, 15 % at successive steps): its true recovery rate and the percent its
 * recoveries paid on average (some buy at the 5 % step, some later). Evidence of no single level.
 */
const TRUTH_LADDER: Record<string, { rate: number; paidPercent: number }> = {
  'price-sensitive': { rate: 0.28, paidPercent: 8 },
  returning: { rate: 0.3, paidPercent: 6 },
};
const LADDER_ARM = -1;
const SETTINGS = {
  ...DEFAULT_INCENTIVE_SETTINGS,
  policy: 'learned' as const,
  marginPercent: 40,
  explorationPercent: 20,
};
const VALUE = '100.00';
const DELAY = 200; // outcomes become final 200 decisions later

function simulate(seed: number, n: number) {
  const random = rng(seed);
  const tallies: Record<string, Map<number, LevelTally>> = {};
  const pending: { at: number; segment: string; percent: number; recovered: boolean }[] = [];
  const late: Record<string, number[]> = { 'price-sensitive': [], returning: [] };
  for (let i = 0; i < n; i++) {
    while (pending.length > 0 && pending[0].at <= i) {
      const o = pending.shift()!;
      const t = (tallies[o.segment] ??= new Map());
      const prev = t.get(o.percent) ?? { percent: o.percent, assigned: 0, recovered: 0 };
      t.set(o.percent, {
        percent: o.percent,
        assigned: prev.assigned + 1,
        recovered: prev.recovered + (o.recovered ? 1 : 0),
      });
    }
    const segment = random() < 0.5 ? 'price-sensitive' : 'returning';
    const choice = chooseIncentive({
      ladder: LADDER,
      stepPercent: 5,
      cartValue: VALUE,
      segment,
      settings: SETTINGS,
      evidence: { segment, levels: [...(tallies[segment]?.values() ?? [])] },
      draw: random(),
    });
    expect(choice.propensity).toBeGreaterThan(0);
    const ladder = choice.mode === 'ladder';
    const recovered = random() < (ladder ? TRUTH_LADDER[segment].rate : TRUTH[segment][choice.percent]);
    // Like the appliance's evidence query: a ladder recovery is evidence of no level.
    if (!ladder) pending.push({ at: i + DELAY, segment, percent: choice.percent, recovered });
    if (i >= n - 2_000) late[segment].push(ladder ? LADDER_ARM : choice.percent);
  }
  return { tallies, late };
}

describe('learned discounts on a simulated population (discounts only help the price-sensitive)', () => {
  const { tallies, late } = simulate(20260305, 12_000);
  const share = (xs: number[], f: (p: number) => boolean) => xs.filter(f).length / xs.length;

  it('plays the fixed ladder in its exploration share only: ε / 5 = 4 % of choices', () => {
    const all = [...late['price-sensitive'], ...late.returning];
    const ladderShare = share(all, (p) => p === LADDER_ARM);
    expect(ladderShare).toBeGreaterThan(0.025);
    expect(ladderShare).toBeLessThan(0.055);
  });

  it('ends up offering codes to the price-sensitive segment, earning most of what the best level would', () => {
    expect(share(late['price-sensitive'], (p) => p !== 0)).toBeGreaterThan(0.9);
    // True expected incremental profit at V = 100, m = 40 %: 5 % → 0.2·35 − 4.8 = 2.2; 10 % → 0.3·30 − 4.8 = 4.2;
    // 15 % → 0.33·25 − 4.8 = 3.45. 10 % and 15 % are close, so the policy may settle on either; what it
    // earns per recovery (by the true probabilities) must be near the oracle's 4.2 and well above 0.
    const p0 = TRUTH['price-sensitive'][0];
    const ladder = TRUTH_LADDER['price-sensitive'];
    const truthProfit = (p: number) =>
      p === LADDER_ARM
        ? ladder.rate * (40 - ladder.paidPercent) - p0 * 40
        : TRUTH['price-sensitive'][p] * (40 - p) - p0 * 40;
    const earned = late['price-sensitive'].reduce((sum, p) => sum + truthProfit(p), 0) / late['price-sensitive'].length;
    expect(earned).toBeGreaterThan(0.75 * truthProfit(10));
  });

  it('offers none to the segment where no level pays, beyond the exploration share', () => {
    // Only exploration gives codes there: 20 % × 4/5 (5, 10, 15 % and the ladder of 5 arms) = 16 % in expectation.
    const withCode = share(late.returning, (p) => p !== 0);
    expect(withCode).toBeGreaterThan(0.08);
    expect(withCode).toBeLessThan(0.22);
  });

  it('its posterior rates agree with the simulator’s true probabilities, and the 95 % uplift intervals cover the true uplift', () => {
    for (const segment of Object.keys(TRUTH)) {
      const post = levelPosteriors(LADDER, { segment, levels: [...tallies[segment].values()] }, SETTINGS.priorStrength);
      for (const p of post) {
        const truth = TRUTH[segment][p.percent];
        const se = Math.sqrt((truth * (1 - truth)) / p.assigned);
        expect(Math.abs(p.rate - truth)).toBeLessThan(3.5 * se + 0.01);
        if (p.percent > 0) {
          const trueUplift = truth - TRUTH[segment][0];
          expect(p.upliftLow).toBeLessThan(trueUplift + 0.01);
          expect(p.upliftHigh).toBeGreaterThan(trueUplift - 0.01);
        }
      }
    }
  });
});

import {
  crossFitted,
  fitRatioRewardModel,
  offPolicyEstimates,
  type OffPolicySample,
  type RewardRow,
} from './off-policy';
import { seededRandom, type Random } from './random';

/**
 * A synthetic log with a known truth: two customer groups, three actions, a cart value (the scale)
 * drawn log-normally; a recovery's reward is its cart value with probability q(action, group), else 0.
 * The logging policy randomises by group; the target prefers another action per group.
 */
const ACTIONS = ['silent', 'A', 'B'] as const;
type Action = (typeof ACTIONS)[number];
const Q: Record<number, Record<Action, number>> = {
  0: { silent: 0.05, A: 0.14, B: 0.09 },
  1: { silent: 0.1, A: 0.11, B: 0.22 },
};
const GROUP1 = 0.35;
const LOGGING: Record<number, Record<Action, number>> = {
  0: { silent: 0.2, A: 0.4, B: 0.4 },
  1: { silent: 0.1, A: 0.6, B: 0.3 },
};
const TARGET: Record<number, Record<Action, number>> = {
  0: { silent: 0.05, A: 0.9, B: 0.05 },
  1: { silent: 0, A: 0.1, B: 0.9 },
};
const MU = 4;
const SIGMA = 0.6;
const MEAN_SCALE = Math.exp(MU + (SIGMA * SIGMA) / 2);
const truth = (policy: Record<number, Record<Action, number>>) =>
  MEAN_SCALE *
  [0, 1].reduce(
    (v, g) => v + (g === 1 ? GROUP1 : 1 - GROUP1) * ACTIONS.reduce((s, a) => s + policy[g][a] * Q[g][a], 0),
    0,
  );

function normal(random: Random): number {
  const u = Math.max(random(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
}

function pick(random: Random, dist: Record<Action, number>): Action {
  let u = random();
  for (const a of ACTIONS) {
    if (u < dist[a]) return a;
    u -= dist[a];
  }
  return ACTIONS[ACTIONS.length - 1];
}

function syntheticLog(n: number, seed: number, target = TARGET): OffPolicySample[] {
  const random = seededRandom(seed);
  const logged = Array.from({ length: n }, () => {
    const g = random() < GROUP1 ? 1 : 0;
    const scale = Math.exp(MU + SIGMA * normal(random));
    const action = pick(random, LOGGING[g]);
    const reward = random() < Q[g][action] ? scale : 0;
    return { g, scale, action, reward };
  });
  // The reward model sees actions and cart values only (not the group): deliberately imperfect.
  const rows: RewardRow[] = logged.map((l) => ({ action: l.action, scale: l.scale, reward: l.reward }));
  const fitted = crossFitted(rows, (r) => fitRatioRewardModel(r));
  return logged.map((l, i) => {
    const model = fitted.modelFor(i);
    return {
      reward: l.reward,
      loggedPropensity: LOGGING[l.g][l.action],
      targetProbability: target[l.g][l.action],
      predictedLogged: model.predict(l.action, l.scale),
      predictedTarget: ACTIONS.reduce((s, a) => s + target[l.g][a] * model.predict(a, l.scale), 0),
    };
  });
}

describe('off-policy estimates on synthetic logs with a known truth', () => {
  const trueTarget = truth(TARGET);
  const trueLogging = truth(LOGGING);

  it('IPS, SNIPS and DR cover the target’s true value, the on-policy mean the logging policy’s (one log)', () => {
    const e = offPolicyEstimates(syntheticLog(20_000, 1));
    for (const est of [e.ips, e.snips, e.dr]) {
      expect(est.low).toBeLessThan(trueTarget);
      expect(est.high).toBeGreaterThan(trueTarget);
    }
    expect(e.onPolicy.low).toBeLessThan(trueLogging);
    expect(e.onPolicy.high).toBeGreaterThan(trueLogging);
    expect(e.gain.dr.low).toBeLessThan(trueTarget - trueLogging);
    expect(e.gain.dr.high).toBeGreaterThan(trueTarget - trueLogging);
    expect(e.effectiveSampleSize).toBeLessThan(20_000);
    expect(e.effectiveSampleSize).toBeGreaterThan(2_000);
  });

  it('is unbiased and its 95 % intervals cover the truth in ≥ 90 % of 300 seeds (IPS, SNIPS, DR, gain)', () => {
    const seeds = 300;
    const covered = { ips: 0, snips: 0, dr: 0, gainDr: 0, gainIps: 0 };
    const sums = { ips: 0, dr: 0 };
    let drSe = 0;
    let ipsSe = 0;
    for (let seed = 1; seed <= seeds; seed++) {
      const e = offPolicyEstimates(syntheticLog(1_500, 1000 + seed));
      const inside = (x: { low: number; high: number }, v: number) => (x.low <= v && v <= x.high ? 1 : 0);
      covered.ips += inside(e.ips, trueTarget);
      covered.snips += inside(e.snips, trueTarget);
      covered.dr += inside(e.dr, trueTarget);
      covered.gainDr += inside(e.gain.dr, trueTarget - trueLogging);
      covered.gainIps += inside(e.gain.ips, trueTarget - trueLogging);
      sums.ips += e.ips.value;
      sums.dr += e.dr.value;
      drSe += e.dr.standardError;
      ipsSe += e.ips.standardError;
    }
    for (const [name, c] of Object.entries(covered)) {
      expect([name, c / seeds >= 0.9]).toEqual([name, true]);
    }
    // Unbiased: the mean over seeds is within 3 standard errors of that mean from the truth.
    expect(Math.abs(sums.ips / seeds - trueTarget)).toBeLessThan((3 * ipsSe) / seeds / Math.sqrt(seeds));
    expect(Math.abs(sums.dr / seeds - trueTarget)).toBeLessThan((3 * drSe) / seeds / Math.sqrt(seeds));
    // The reward model earns its keep: DR's interval is narrower than IPS's.
    expect(drSe).toBeLessThan(ipsSe);
    console.log(
      `coverage over ${seeds} seeds: IPS ${covered.ips / seeds}, SNIPS ${covered.snips / seeds}, DR ${covered.dr / seeds}, ` +
        `DR gain ${covered.gainDr / seeds}; mean se IPS ${(ipsSe / seeds).toFixed(3)}, DR ${(drSe / seeds).toFixed(3)}`,
    );
  });

  it('evaluating the logging policy itself gives weights of 1: IPS equals the on-policy mean', () => {
    const e = offPolicyEstimates(syntheticLog(2_000, 5, LOGGING));
    expect(e.ips.value).toBeCloseTo(e.onPolicy.value, 9);
    expect(e.snips.value).toBeCloseTo(e.onPolicy.value, 9);
    expect(e.effectiveSampleSize).toBeCloseTo(2_000, 6);
    expect(e.gain.ips.value).toBeCloseTo(0, 9);
    expect(e.gain.ips.standardError).toBeCloseTo(0, 9);
  });

  it('counts the recoveries the target would also have acted on, and the largest weight', () => {
    const e = offPolicyEstimates([
      { reward: 10, loggedPropensity: 0.5, targetProbability: 1, predictedLogged: 0, predictedTarget: 0 },
      { reward: 0, loggedPropensity: 0.5, targetProbability: 0, predictedLogged: 0, predictedTarget: 0 },
      { reward: 4, loggedPropensity: 0.25, targetProbability: 1, predictedLogged: 0, predictedTarget: 0 },
    ]);
    expect(e.matched).toBe(2);
    expect(e.maxWeight).toBe(4);
    expect(e.ips.value).toBeCloseTo((20 + 0 + 16) / 3);
    expect(e.snips.value).toBeCloseTo(36 / 6);
    expect(e.effectiveSampleSize).toBeCloseTo(36 / 20);
  });

  it('refuses a zero logged propensity or a target probability outside [0, 1], naming the sample', () => {
    const ok = { reward: 1, loggedPropensity: 0.5, targetProbability: 0.5, predictedLogged: 0, predictedTarget: 0 };
    expect(() => offPolicyEstimates([ok, { ...ok, loggedPropensity: 0 }])).toThrow('samples[1].loggedPropensity');
    expect(() => offPolicyEstimates([{ ...ok, targetProbability: 1.5 }, ok])).toThrow('samples[0].targetProbability');
  });

  it('the ratio reward model shrinks a rare action towards the pooled ratio', () => {
    const rows: RewardRow[] = [
      ...Array.from({ length: 100 }, (_, i) => ({ action: 'a', scale: 100, reward: i % 10 === 0 ? 100 : 0 })),
      { action: 'b', scale: 100, reward: 100 },
    ];
    const m = fitRatioRewardModel(rows, { pseudoRows: 10 });
    expect(m.predict('a', 100)).toBeCloseTo(10.1, 0);
    expect(m.predict('b', 100)).toBeLessThan(20);
    expect(m.predict('never', 50)).toBeCloseTo((50 * 1100) / 10_100, 6);
  });
});

/**
 * bench:gbt (bench/gbt-vs-logistic.ts): the comparison runs end to end on a tiny population (so it
 * cannot rot), the trees learn what an additive model cannot (so a GBT win would be visible), and
 * the verdict applies RFC 0009's margin criterion by criterion.
 */
import { evaluate, predictProbability, seededRandom, train, type FeatureRecord } from '@reclaim/learning';
import { boostedProbability, trainBoostedTrees } from '../bench/gbt/boosted-trees';
import { compare, MARGIN, verdict, type Comparison } from '../bench/gbt/compare';

describe('the comparison on a tiny population', () => {
  it('trains both models on the oldest 80 % and reports every figure on the newest 20 %', () => {
    const r = compare(1000, 7, 'simulator', { maxDepth: 2, maxRounds: 20, patience: 5 });
    expect(r.fitRows).toBe(800);
    expect(r.windowRows).toBe(200);
    for (const m of [r.logistic, r.gbt]) {
      expect(m.auc).toBeGreaterThan(0.55);
      expect(m.auc).toBeLessThan(1);
      expect(m.brier).toBeGreaterThan(0);
      expect(m.brier).toBeLessThan(0.25);
      expect(m.ece).toBeGreaterThanOrEqual(0);
      expect(m.ece).toBeLessThan(0.2);
      expect(m.trainSeconds).toBeGreaterThan(0);
      expect(m.scoreMicrosPerRow).toBeGreaterThan(0);
      expect(m.modelBytes).toBeGreaterThan(500);
    }
    expect(r.gbt.rounds).toBeGreaterThanOrEqual(1);
    expect(r.gbt.rounds).toBeLessThanOrEqual(20);
    expect(r.truth.auc).toBeGreaterThan(0.55);
  });
});

/** y = (a > 0) XOR (b = 'x'), 10 % of labels flipped; c is noise; a is missing on 10 % of rows (then y = 1). */
function xorRows(n: number, seed: number): { rows: FeatureRecord[]; labels: number[] } {
  const random = seededRandom(seed);
  const rows: FeatureRecord[] = [];
  const labels: number[] = [];
  for (let i = 0; i < n; i++) {
    const missing = random() < 0.1;
    const a = random() * 2 - 1;
    const b = random() < 0.5 ? 'x' : 'y';
    const clean = missing ? 1 : a > 0 !== (b === 'x') ? 1 : 0;
    rows.push({ a: missing ? null : a, b, c: random() });
    labels.push(random() < 0.1 ? 1 - clean : clean);
  }
  return { rows, labels };
}

describe('the boosted trees', () => {
  const options = {
    columns: ['a', 'b', 'c'],
    kinds: { a: 'numeric', b: 'categorical', c: 'numeric' } as const,
    maxDepth: 2,
    learningRate: 0.3,
    maxRounds: 40,
    patience: 10,
  };

  it('learn an interaction the logistic model cannot represent, and where missing values belong', () => {
    const fit = xorRows(1500, 1);
    const held = xorRows(800, 2);
    const gbt = trainBoostedTrees(fit.rows, fit.labels, options);
    const logistic = train(fit.rows, fit.labels, { columns: options.columns, kinds: options.kinds });
    const gbtAuc = evaluate(
      held.rows.map((r) => boostedProbability(gbt, r)),
      held.labels,
    ).auc;
    const logisticAuc = evaluate(
      held.rows.map((r) => predictProbability(logistic, r)),
      held.labels,
    ).auc;
    // The best possible is about 0.9 (10 % of labels flipped); an additive model sees little but the missing values.
    expect(gbtAuc).toBeGreaterThan(0.8);
    expect(logisticAuc).toBeLessThan(0.65);
    expect(boostedProbability(gbt, { a: null, b: 'x', c: 0.5 })).toBeGreaterThan(0.7);
    expect(boostedProbability(gbt, { a: 0.5, b: 'x', c: 0.5 })).toBeLessThan(0.3);
    expect(boostedProbability(gbt, { a: 0.5, b: 'unseen', c: 0.5 })).toBeGreaterThan(0);
  });

  it('give the same model for the same rows and seed', () => {
    const fit = xorRows(400, 3);
    expect(JSON.stringify(trainBoostedTrees(fit.rows, fit.labels, options))).toBe(
      JSON.stringify(trainBoostedTrees(fit.rows, fit.labels, options)),
    );
  });

  it('refuse a column without a kind, naming it', () => {
    const fit = xorRows(100, 4);
    expect(() => trainBoostedTrees(fit.rows, fit.labels, { ...options, columns: ['a', 'd'] })).toThrow('column d');
  });
});

describe('the verdict', () => {
  const run = (seed: number, d: { auc?: number; ece?: number; brier?: number } = {}): Comparison => {
    const logistic = { auc: 0.7, brier: 0.17, ece: 0.01, trainSeconds: 1, scoreMicrosPerRow: 1, modelBytes: 1 };
    return {
      size: 20000,
      seed,
      truthKind: 'simulator',
      fitRows: 16000,
      windowRows: 4000,
      rate: 0.25,
      logistic,
      gbt: {
        ...logistic,
        auc: logistic.auc + (d.auc ?? 0),
        ece: logistic.ece + (d.ece ?? 0),
        brier: logistic.brier + (d.brier ?? 0),
        rounds: 100,
      },
      truth: { auc: 0.75, brier: 0.16, ece: 0.01 },
    };
  };
  const unmet = (runs: Comparison[]) =>
    verdict(runs)
      .checks.filter((c) => !c.met)
      .map((c) => c.name);

  it('is a win when every criterion holds', () => {
    const v = verdict([run(1, { auc: 0.012, brier: -0.001 }), run(2, { auc: 0.011, ece: MARGIN.ece - 0.001 })]);
    expect(v.win).toBe(true);
    expect(v.headroom).toBeCloseTo(0.05, 10);
  });

  it('names each criterion that fails', () => {
    expect(unmet([run(1, { auc: 0.009 }), run(2, { auc: 0.009 })])).toEqual([`mean ΔAUC ≥ +${MARGIN.auc}`]);
    expect(unmet([run(1, { auc: 0.03 }), run(2, { auc: -0.001 })])).toEqual(['ΔAUC > 0 on every seed']);
    expect(unmet([run(1, { auc: 0.02, ece: 0.006 })])).toEqual([`ECE no worse than +${MARGIN.ece}`]);
    expect(unmet([run(1, { auc: 0.02, brier: 0.0001 })])).toEqual(['Brier no worse']);
    expect(verdict([run(1, { auc: 0.02, brier: 0.0001 })]).win).toBe(false);
  });
});

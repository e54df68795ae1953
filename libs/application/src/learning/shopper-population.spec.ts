import { scoreRow, SCORE_COLUMN_KINDS, SCORE_COLUMNS } from '@reclaim/domain';
import { sigmoid, train } from '@reclaim/learning';
import { trainChallenger, VALIDATION_SHARE } from './model-trainer';
import type { TrainingRow } from './training-table';
import { shopperPopulation, truePurchaseProbability } from './testing/shopper-population';

const rowsOf = (size: number, seed: number): TrainingRow[] =>
  [...shopperPopulation(size, seed)].map((r) => ({
    recoveryId: r.recoveryId,
    shopId: 's',
    abandonedAt: r.abandonedAt,
    holdout: false,
    featureSchema: r.featureSchema,
    features: scoreRow(r.features),
    label: r.purchased,
  }));

describe('the shopper simulator population (known true purchase probabilities)', () => {
  const population = [...shopperPopulation(5000, 3)];

  it('is the recorded feature vector, in abandonment order, the same for the same seed', () => {
    expect(Object.keys(scoreRow(population[0].features)).sort()).toEqual([...SCORE_COLUMNS].sort());
    for (let i = 1; i < population.length; i++)
      expect(population[i].abandonedAt > population[i - 1].abandonedAt).toBe(true);
    expect([...shopperPopulation(50, 3)]).toEqual(population.slice(0, 50));
  });

  it('draws outcomes from the documented probability (about one cart in four bought)', () => {
    const rate = population.reduce((s, r) => s + r.purchased, 0) / population.length;
    const mean = population.reduce((s, r) => s + r.trueProbability, 0) / population.length;
    expect(Math.abs(rate - mean)).toBeLessThan(0.02);
    expect(mean).toBeGreaterThan(0.2);
    expect(mean).toBeLessThan(0.32);
    for (const r of population.slice(0, 100)) expect(r.trueProbability).toBe(truePurchaseProbability(r.features));
    // One documented term: a payment-stage cart is e^0.9 times the odds of the same cart at no stage.
    const f = { ...population[0].features, checkout_stage: null };
    const odds = (p: number) => p / (1 - p);
    expect(
      odds(truePurchaseProbability({ ...f, checkout_stage: 'payment' })) / odds(truePurchaseProbability(f)),
    ).toBeCloseTo(Math.exp(0.9), 9);
    expect(sigmoid(0)).toBe(0.5);
  });
});

describe('trainChallenger (the engine’s learning step)', () => {
  it('trains on the older rows, judges on the most recent window, and promotes a useful first model', () => {
    const rows = rowsOf(3000, 5);
    const r = trainChallenger(rows);
    expect(r.window).toHaveLength(Math.ceil(3000 * VALIDATION_SHARE));
    expect(r.fit[r.fit.length - 1].abandonedAt < r.window[0].abandonedAt).toBe(true);
    expect(r.validation.auc).toBeGreaterThan(0.6);
    expect(r.decision).toEqual({ promote: true, reason: 'no-champion' });
    // The engine does not fix λ: it is chosen on the fit rows' held-out folds, and the model says how.
    expect(r.model.training.l2Selection?.method).toBe('held-out-log-loss');
  });

  it('gives the model the trainer gave before it fitted on compact rows (pinned content hash, λ fixed at 1 as then)', () => {
    const rows = rowsOf(3000, 42);
    const model = train(
      rows.map((r) => r.features),
      rows.map((r) => r.label),
      { columns: SCORE_COLUMNS, kinds: SCORE_COLUMN_KINDS, seed: 1, l2: 1 },
    );
    expect(model.contentHash).toBe('sha256:84116dda2cabecbd1f47f39125d8d6efbf9a35dbd1d6d367db919756f7bc32cd');
  });
});

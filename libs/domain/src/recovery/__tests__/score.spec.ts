import { DeciderSpecification } from '@reclaim/testing';
import { predictProbability, syntheticPopulation, train } from '@reclaim/learning';
import { HOUR } from '../time';
import { createRecoveryDecider } from '../process-manager';
import { featuresAtAbandonment, type RecoveryFeatures } from '../features';
import { SCORE_COLUMN_KINDS, SCORE_COLUMNS, scoreFeatures, scoreRow, type ScoringContext } from '../score';
import { activity, at, RID, Run, start, T0 } from './fixtures';

const spec = DeciderSpecification.for(createRecoveryDecider());
const ABANDONED = at(T0, HOUR);

/** A model trained on rows shaped like recorded vectors (values from the synthetic population). */
function modelOnRecordedShape(): ScoringContext & { kind: 'model' } {
  const p = syntheticPopulation(600, 3);
  const rows = p.rows.map((r, i) => {
    const features: RecoveryFeatures = {
      cart_value: String(r.cart_value),
      currency: 'USD',
      item_count: Number(r.items),
      categories: i % 3 === 0 ? 'shoes' : '',
      category_count: i % 3 === 0 ? 1 : 0,
      returning: Boolean(r.returning),
      orders_count: r.returning ? 2 : 0,
      total_spent: r.returning ? '120.50' : '0',
      days_since_last_purchase: r.returning ? 30 : null,
      previous_abandonments: 0,
      previous_recoveries: 0,
      discount_orders: 0,
      device: String(r.device),
      traffic_source: (r.traffic_source as string | null) ?? null,
      local_hour: r.evening ? 19 : 10,
      local_weekday: i % 7,
      checkout_stage: 'cart',
      ignored_recovery_messages: 0,
    };
    return scoreRow(features);
  });
  const model = train(rows, p.labels, { columns: SCORE_COLUMNS, kinds: SCORE_COLUMN_KINDS });
  return { kind: 'model', version: 3, scope: 'shop', model };
}

describe('recovery score at abandonment', () => {
  const scoring = modelOnRecordedShape();

  it('maps a recorded vector to a model row: money as numbers, the weekday as a category, nothing recomputed', () => {
    const row = scoreRow({
      cart_value: '80.00',
      currency: 'USD',
      item_count: 2,
      categories: '',
      category_count: 0,
      returning: false,
      orders_count: 0,
      total_spent: '0',
      days_since_last_purchase: null,
      previous_abandonments: 1,
      previous_recoveries: 0,
      discount_orders: 0,
      device: 'mobile',
      traffic_source: null,
      local_hour: 17,
      local_weekday: 1,
      checkout_stage: 'shipping',
      ignored_recovery_messages: null,
    });
    expect(row).toMatchObject({ cart_value: 80, total_spent: 0, categories: null, local_weekday: '1', local_hour: 17 });
    expect(Object.keys(row).sort()).toEqual([...SCORE_COLUMNS].sort());
  });

  it('scores with the model: the calibrated probability of exactly that row, the version and the hash', () => {
    const run = new Run().startAbandoned();
    const recorded = run.events.find((e) => e.type === 'recovery.features-recorded');
    if (recorded?.type !== 'recovery.features-recorded') throw new Error('no features');
    const result = scoreFeatures(scoring, recorded.features);
    const expected = predictProbability(scoring.model, scoreRow(recorded.features));
    expect(result).toEqual({
      kind: 'scored',
      score: Math.round(expected * 1e6) / 1e6,
      modelVersion: 3,
      contentHash: scoring.model.contentHash,
      scope: 'shop',
    });
    expect(expected).toBeGreaterThan(0);
    expect(expected).toBeLessThan(1);
  });

  it('given an active cart, when the abandonment timer fires with a live model, then the score follows the features', () => {
    const run = new Run();
    run.send(activity(T0));
    const ctx = { ...start(0.5), scoring };
    spec
      .given(run.log)
      .when({ type: 'TimerFired', timerId: `${RID}/timer-1`, dueAt: ABANDONED, now: ABANDONED, start: ctx })
      .thenMatches([
        { type: 'recovery.started' },
        { type: 'recovery.segmented' },
        { type: 'recovery.features-recorded' },
        { type: 'recovery.scored', data: { modelVersion: 3, scope: 'shop', contentHash: scoring.model.contentHash } },
        { type: 'recovery.routed', data: { modelVersion: 3 } },
        { type: 'recovery.sequence-selected' },
        { type: 'recovery.timer-scheduled' },
      ]);
  });

  it('records that there is no model and how many outcomes are still needed', () => {
    const run = new Run();
    run.send(activity(T0));
    spec
      .given(run.log)
      .when({
        type: 'TimerFired',
        timerId: `${RID}/timer-1`,
        dueAt: ABANDONED,
        now: ABANDONED,
        start: { ...start(0.5), scoring: { kind: 'none', outcomesNeeded: 57 } },
      })
      .thenMatches([
        { type: 'recovery.started' },
        { type: 'recovery.segmented' },
        { type: 'recovery.features-recorded' },
        { type: 'recovery.score-unavailable', data: { reason: 'no-model', outcomesNeeded: 57 } },
        { type: 'recovery.routed', data: { band: 'unscored', reason: 'no-model', outcomesNeeded: 57 } },
        { type: 'recovery.sequence-selected' },
        { type: 'recovery.timer-scheduled' },
      ]);
  });

  it('records nothing about a score without a scoring context (as before)', () => {
    const run = new Run().startAbandoned();
    expect(run.events.some((e) => e.type === 'recovery.scored' || e.type === 'recovery.score-unavailable')).toBe(false);
  });

  it('ranks: a returning e-mail shopper with a large cart scores above a new social one with a small cart', () => {
    const base = featuresAtAbandonment(
      {
        segments: [],
        customer: {
          ordersCount: 0,
          totalSpent: '0',
          previousAbandonments: 0,
          previousRecoveries: 0,
          discountOrdersCount: 0,
          categoriesBought: [],
        },
        cart: { value: '20.00', categories: [], itemCount: 1, device: 'mobile', trafficSource: 'social' },
        thresholds: { highValueCart: '200' },
      } as never,
      ABANDONED,
      'USD',
      'UTC',
    );
    const low = scoreFeatures(scoring, base);
    const high = scoreFeatures(scoring, {
      ...base,
      cart_value: '250.00',
      returning: true,
      orders_count: 2,
      total_spent: '120.50',
      days_since_last_purchase: 30,
      device: 'desktop',
      traffic_source: 'email',
    });
    if (low.kind !== 'scored' || high.kind !== 'scored') throw new Error('not scored');
    expect(high.score).toBeGreaterThan(low.score);
  });
});

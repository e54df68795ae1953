import { syntheticPopulation, train } from '@reclaim/learning';
import { defaultRecoveryConfig, recoveryConfig, type RecoveryConfigOverrides } from '../config';
import type { RecoveryFeatures } from '../features';
import type { RecoveryEvent, StartContext } from '../recovery.messages';
import { describeRouting, routeByScore, validateRoutingThresholds, type RoutingSettings } from '../routing';
import {
  explainScore,
  SCORE_COLUMN_KINDS,
  SCORE_COLUMNS,
  scoreFeatures,
  scoreRow,
  type ScoringContext,
} from '../score';
import { defaultSequences, selectSequence, validateSequenceCatalogue } from '../sequences';
import { HOUR } from '../time';
import { activity, cart, Run, start, T0, types } from './fixtures';

const settings: RoutingSettings = {
  enabled: true,
  highProbability: 0.6,
  lowProbability: 0.2,
  highValue: '500',
  sequences: { personal: 'premium', short: 'short', nurture: 'nurture' },
};

describe('routing bands (pure)', () => {
  const scored = (score: number) => ({ kind: 'scored' as const, score, modelVersion: 4 });

  it.each([
    // score, value, band, reason, sequence, ticket
    [0.9, '800.00', 'personal', 'high-probability-high-value', 'premium', true],
    [0.6, '500', 'personal', 'high-probability-high-value', 'premium', true], // both boundaries are inclusive
    [0.6, '499.99', 'short', 'high-probability', 'short', false],
    [0.75, 'not-a-number', 'short', 'high-probability', 'short', false], // an unreadable value is never high value
    [0.5999, '800.00', 'middle', 'between-thresholds', undefined, false],
    [0.2, '800.00', 'middle', 'between-thresholds', undefined, false], // low is strict: 0.2 is not low
    [0.1999, '800.00', 'nurture', 'low-probability', 'nurture', false], // a low score gets no ticket, whatever the value
    [0, '10.00', 'nurture', 'low-probability', 'nurture', false],
    [1, '0', 'short', 'high-probability', 'short', false],
  ] as const)('score %s, cart %s → %s (%s)', (score, value, band, reason, sequenceId, wantsTicket) => {
    const d = routeByScore(settings, scored(score), value, '200');
    expect(d).toEqual({ band, reason, wantsTicket, ...(sequenceId !== undefined ? { sequenceId } : {}) });
  });

  it('without a model: unscored, today’s ticket rule by TICKET_THRESHOLD', () => {
    const none = { kind: 'unavailable' as const, outcomesNeeded: 120 };
    expect(routeByScore(settings, none, '250.00', '200')).toEqual({
      band: 'unscored',
      reason: 'no-model',
      wantsTicket: true,
    });
    expect(routeByScore(settings, none, '199.99', '200').wantsTicket).toBe(false);
  });

  it('turned off: band off, today’s rules, even for a score that would be personal', () => {
    const off = { ...settings, enabled: false };
    expect(routeByScore(off, scored(0.95), '900.00', '200')).toEqual({
      band: 'off',
      reason: 'routing-off',
      wantsTicket: true,
    });
    expect(routeByScore(off, scored(0.95), '90.00', '200').wantsTicket).toBe(false);
  });

  it('validates thresholds naming the field', () => {
    expect(validateRoutingThresholds({ highProbability: 0.6, lowProbability: 0.2, highValue: '300' })).toEqual([]);
    expect(validateRoutingThresholds({ highProbability: 1, lowProbability: 0 })).toEqual([
      { field: 'routing.highProbability', message: 'must be a probability between 0 and 1 (exclusive)' },
      { field: 'routing.lowProbability', message: 'must be a probability between 0 and 1 (exclusive)' },
    ]);
    expect(validateRoutingThresholds({ highProbability: 0.3, lowProbability: 0.3 })).toEqual([
      { field: 'routing.lowProbability', message: 'must be below highProbability' },
    ]);
    expect(validateRoutingThresholds({ highValue: '-5' })).toEqual([
      { field: 'routing.highValue', message: 'must be a non-negative decimal amount (shop currency)' },
    ]);
    expect(validateRoutingThresholds({ highValue: 300 as unknown as string })[0]?.field).toBe('routing.highValue');
  });

  it('says why in words', () => {
    expect(
      describeRouting({
        band: 'personal',
        score: 0.7423,
        modelVersion: 2,
        cartValue: '800.00',
        currency: 'USD',
        thresholds: settings,
        sequenceId: 'premium',
        ticket: true,
        topFeatures: [
          { feature: 'cart_value', contribution: 1.234 },
          { feature: 'device=mobile', contribution: -0.5 },
        ],
      }),
    ).toBe(
      'score 0.742 ≥ 0.6 and cart 800.00 USD ≥ 500: personal attention; model v2; sequence premium; ' +
        'support ticket requested; top features: cart_value +1.23, device=mobile −0.50',
    );
    expect(
      describeRouting({
        band: 'unscored',
        outcomesNeeded: 57,
        cartValue: '80.00',
        currency: 'USD',
        thresholds: settings,
        sequenceId: 'welcome',
        ticket: false,
      }),
    ).toBe("no model yet (57 more labelled outcomes needed): today's rules; sequence welcome");
  });
});

describe('the routed bands’ default sequences', () => {
  const catalogue = defaultSequences(defaultRecoveryConfig);
  const byId = (id: string) => catalogue.sequences.find((s) => s.id === id)!;

  it('ships short and nurture, chosen by routing only, and the catalogue stays valid', () => {
    expect(catalogue.sequences.map((s) => s.id)).toEqual(['premium', 'loyalty', 'welcome', 'short', 'nurture']);
    expect(validateSequenceCatalogue(catalogue)).toEqual([]);
    // Never the catalogue's match, for any cart.
    expect(selectSequence([], { value: '10.00' }, catalogue)?.id).toBe('welcome');
    expect(selectSequence(['returning'], { value: '10.00' }, catalogue)?.id).toBe('loyalty');
  });

  it('short: at abandonment and at the last follow-up, no early discount', () => {
    expect(byId('short').steps.map((s) => [s.delayMs / HOUR, s.discountPercent])).toEqual([
      [0, 0],
      [72, 15],
    ]);
  });

  it('nurture: fewer messages than the normal sequence, spaced over twice its span', () => {
    expect(byId('nurture').steps.map((s) => [s.delayMs / HOUR, s.discountPercent, s.template])).toEqual([
      [6, 0, 'nurture-0'],
      [72, 0, 'nurture-1'],
      [144, 15, 'nurture-2'],
    ]);
    expect(byId('nurture').steps.length).toBeLessThan(byId('welcome').steps.length);
  });

  it('stays valid with a single follow-up delay or none', () => {
    const one = defaultSequences(recoveryConfig({ followUpDelaysMs: [HOUR], discountPercents: [0, 10] }));
    expect(validateSequenceCatalogue(one)).toEqual([]);
    expect(one.sequences.find((s) => s.id === 'nurture')!.steps.map((s) => s.delayMs / HOUR)).toEqual([1, 2]);
    const none = defaultSequences(recoveryConfig({ followUpDelaysMs: [], discountPercents: [0] }));
    expect(validateSequenceCatalogue(none)).toEqual([]);
    expect(none.sequences.find((s) => s.id === 'short')!.steps).toHaveLength(1);
  });

  it('refuses a catalogue of routed-only sequences and a routedOnly that is not a boolean, naming the field', () => {
    const routedOnly = { version: 1, sequences: catalogue.sequences.filter((s) => s.routedOnly === true) };
    expect(validateSequenceCatalogue(routedOnly)).toContainEqual({
      field: 'sequences',
      message: 'must contain at least one sequence that is not routedOnly',
    });
    const bad = {
      version: 1,
      sequences: [...catalogue.sequences.slice(0, 3), { ...byId('short'), routedOnly: 'yes' as unknown as boolean }],
    };
    expect(validateSequenceCatalogue(bad)).toContainEqual({
      field: 'sequences[3].routedOnly',
      message: 'must be a boolean',
    });
  });
});

/** A model trained on rows shaped like recorded vectors, where value and returning raise the odds. */
function trainedScoring(): ScoringContext & { kind: 'model' } {
  const p = syntheticPopulation(800, 11);
  const rows = p.rows.map((r) =>
    scoreRow({
      cart_value: String(r.cart_value),
      currency: 'USD',
      item_count: Number(r.items),
      categories: '',
      category_count: 0,
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
      local_weekday: 1,
      checkout_stage: 'cart',
      ignored_recovery_messages: 0,
    }),
  );
  const model = train(rows, p.labels, { columns: SCORE_COLUMNS, kinds: SCORE_COLUMN_KINDS });
  return { kind: 'model', version: 5, scope: 'shop', model };
}

describe('the process manager routes by the recorded score', () => {
  const scoring = trainedScoring();

  /** The score the model gives this cart when it is abandoned (the same pure scoring the decider uses). */
  function scoreOf(value: string): { score: number; features: RecoveryFeatures } {
    const run = new Run();
    run.send(activity(T0, cart({ value, items: [{ lineId: 'l1', productId: 'p1', quantity: 1, unitPrice: value }] })));
    run.fire(undefined, start());
    const f = run.events.find((e) => e.type === 'recovery.features-recorded');
    if (f?.type !== 'recovery.features-recorded') throw new Error('no features');
    const s = scoreFeatures(scoring, f.features);
    if (s.kind !== 'scored') throw new Error('not scored');
    return { score: s.score, features: f.features };
  }

  function abandon(
    value: string,
    overrides: RecoveryConfigOverrides,
    ctx: Partial<StartContext> = {},
    random = 0.5,
  ): RecoveryEvent[] {
    const run = new Run(overrides);
    run.send(activity(T0, cart({ value, items: [{ lineId: 'l1', productId: 'p1', quantity: 1, unitPrice: value }] })));
    return run.fire(undefined, { ...start(random), scoring, ...ctx });
  }

  const routed = (events: RecoveryEvent[]) => {
    const r = events.find((e) => e.type === 'recovery.routed');
    if (r?.type !== 'recovery.routed') throw new Error('not routed');
    return r;
  };
  const selected = (events: RecoveryEvent[]) => {
    const s = events.find((e) => e.type === 'recovery.sequence-selected');
    return s?.type === 'recovery.sequence-selected' ? s.sequenceId : undefined;
  };

  it('high probability × high value: personal attention — a ticket, the score, the model and why, and the band’s sequence', () => {
    const { score, features } = scoreOf('900.00');
    const events = abandon('900.00', {
      routing: { highProbability: Math.max(0.01, score - 0.01), lowProbability: 0.005, highValue: '900' },
    });
    expect(types(events)).toEqual([
      'recovery.started',
      'recovery.segmented',
      'recovery.features-recorded',
      'recovery.scored',
      'recovery.routed',
      'recovery.sequence-selected',
      'recovery.ticket-requested',
      'recovery.timer-scheduled',
    ]);
    const r = routed(events);
    expect(r).toMatchObject({
      band: 'personal',
      reason: 'high-probability-high-value',
      score,
      modelVersion: 5,
      cartValue: '900.00',
      currency: 'USD',
      sequenceId: 'short',
      sequenceSource: 'band',
      ticket: true,
      thresholds: { highValue: '900' },
    });
    expect(r.topFeatures).toEqual(explainScore(scoring, features));
    expect(r.topFeatures!.length).toBe(5);
    expect(r.topFeatures!.map((f) => f.feature)).toContain('cart_value');
    expect(selected(events)).toBe('short');
  });

  it('high probability, ordinary value: the short sequence, no ticket', () => {
    const { score } = scoreOf('900.00');
    const events = abandon('900.00', {
      routing: { highProbability: Math.max(0.01, score - 0.01), lowProbability: 0.005, highValue: '5000' },
    });
    expect(routed(events)).toMatchObject({ band: 'short', sequenceId: 'short', ticket: false });
    expect(types(events)).not.toContain('recovery.ticket-requested');
  });

  it('low probability: the nurture sequence, and no ticket even for a cart above TICKET_THRESHOLD', () => {
    const { score } = scoreOf('250.00');
    const events = abandon('250.00', {
      ticketThreshold: '200',
      routing: { lowProbability: Math.min(0.98, score + 0.01), highProbability: 0.99 },
    });
    expect(routed(events)).toMatchObject({ band: 'nurture', reason: 'low-probability', sequenceId: 'nurture' });
    expect(selected(events)).toBe('nurture');
    expect(types(events)).not.toContain('recovery.ticket-requested');
  });

  it('in the middle: the catalogue’s match (premium for a high-value cart) and no ticket', () => {
    const { score } = scoreOf('250.00');
    const events = abandon('250.00', {
      routing: { lowProbability: Math.max(0.001, score - 0.001), highProbability: Math.min(0.999, score + 0.001) },
    });
    expect(routed(events)).toMatchObject({ band: 'middle', sequenceId: 'premium', sequenceSource: 'catalogue-match' });
    expect(types(events)).not.toContain('recovery.ticket-requested');
  });

  it('no model yet: unscored with the outcomes still needed, today’s rules (ticket by value)', () => {
    const events = abandon('250.00', {}, { scoring: { kind: 'none', outcomesNeeded: 42 } });
    expect(routed(events)).toEqual(
      expect.objectContaining({
        band: 'unscored',
        reason: 'no-model',
        outcomesNeeded: 42,
        sequenceId: 'premium',
        sequenceSource: 'catalogue-match',
        ticket: true,
      }),
    );
    expect(routed(events).score).toBeUndefined();
    expect(routed(events).topFeatures).toBeUndefined();
    expect(types(events)).toContain('recovery.ticket-requested');
  });

  it('turned off: band off with the score kept, today’s rules', () => {
    const events = abandon('250.00', { routing: { enabled: false } });
    expect(routed(events)).toMatchObject({ band: 'off', reason: 'routing-off', sequenceId: 'premium', ticket: true });
    expect(typeof routed(events).score).toBe('number');
  });

  it('holdout: scored and banded for measurement, the band’s sequence, but nothing sent and no ticket', () => {
    const { score } = scoreOf('900.00');
    const events = abandon(
      '900.00',
      {
        holdoutPercent: 10,
        routing: { highProbability: Math.max(0.01, score - 0.01), lowProbability: 0.005, highValue: '100' },
      },
      {},
      0.01,
    );
    expect(routed(events)).toMatchObject({ band: 'personal', ticket: false });
    expect(types(events)).toEqual([
      'recovery.started',
      'recovery.segmented',
      'recovery.features-recorded',
      'recovery.scored',
      'recovery.routed',
      'recovery.sequence-selected',
      'recovery.assigned-holdout',
      'recovery.timer-scheduled',
    ]);
  });

  it('a band sequence missing from the catalogue: the catalogue’s match, and the record says so', () => {
    const { score } = scoreOf('80.00');
    const custom = { version: 7, sequences: defaultSequences(defaultRecoveryConfig).sequences.slice(0, 3) };
    const events = abandon(
      '80.00',
      { routing: { lowProbability: Math.min(0.98, score + 0.01), highProbability: 0.99 } },
      { sequences: custom },
    );
    expect(routed(events)).toMatchObject({
      band: 'nurture',
      sequenceId: 'welcome',
      sequenceSource: 'catalogue-match',
      sequenceFallback: 'not-in-catalogue',
    });
    expect(selected(events)).toBe('welcome');
  });

  it('no scoring source at all: no routing record, and the ticket rule as before', () => {
    const run = new Run();
    run.send(
      activity(
        T0,
        cart({ value: '250.00', items: [{ lineId: 'l1', productId: 'p1', quantity: 1, unitPrice: '250.00' }] }),
      ),
    );
    const events = run.fire(undefined, start());
    expect(types(events)).not.toContain('recovery.routed');
    expect(types(events)).toContain('recovery.ticket-requested');
  });
});

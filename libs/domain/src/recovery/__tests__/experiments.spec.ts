import { experimentDecider, type EvaluateExperiment } from '../../experiment/experiment.decider';
import type { ExperimentEvent, VariantEvidence } from '../../experiment/experiment.messages';
import { foldEvents } from '../../shared/decider';
import { defaultRecoveryConfig } from '../config';
import type { RecoveryEvent, StartContext } from '../recovery.messages';
import { defaultSequences, validateSequenceCatalogue, type SequenceCatalogue } from '../sequences';
import { HOUR } from '../time';
import {
  assignVariant,
  DEFAULT_EXPERIMENT_SETTINGS,
  experimentIdFor,
  experimentSegment,
  parseExperimentId,
  propensitySeed,
  warmPropensities,
  type ExperimentSnapshot,
  type StepVariant,
} from '../variants';
import { posteriorsOf, probabilityBest, seededUniform } from '../thompson';
import { cart, Run, start } from './fixtures';

const ON = { experiments: { enabled: true } };
const SUBJECTS: StepVariant[] = [{ id: 'control' }, { id: 'urgent', subject: 'Your cart expires tonight' }];

function catalogueWithVariants(variants: StepVariant[] = SUBJECTS, step = 1): SequenceCatalogue {
  const base = defaultSequences(defaultRecoveryConfig);
  return {
    ...base,
    sequences: base.sequences.map((s) => ({
      ...s,
      steps: s.steps.map((st) => (st.index === step ? { ...st, variants } : st)),
    })),
  };
}

const ctx = (seed: number, experiments: Record<string, ExperimentSnapshot> = {}, random = 0.5): StartContext => ({
  ...start(random),
  sequences: catalogueWithVariants(),
  experiments: { seed, experiments },
});

const assigned = (events: readonly RecoveryEvent[]) =>
  events.filter(
    (e): e is Extract<RecoveryEvent, { type: 'recovery.variant-assigned' }> => e.type === 'recovery.variant-assigned',
  );

const evidence = (
  variantId: string,
  settled: number,
  recovered: number,
  value = 50,
  extra: Partial<VariantEvidence> = {},
): VariantEvidence => ({
  variantId,
  assignments: settled,
  settled,
  recovered,
  netRevenue: recovered * value,
  netRevenueSquares: recovered * value * value,
  discountCost: 0,
  messages: settled,
  unsubscribes: 0,
  complaints: 0,
  ...extra,
});

describe('step variants in the sequence catalogue', () => {
  it('accepts variants of every dimension', () => {
    const variants: StepVariant[] = [
      { id: 'a' },
      { id: 'b', subject: 'Still thinking?', template: 'welcome-alt', discountPercent: 10 },
      { id: 'c', delayMs: 8 * HOUR, channels: ['sms', 'email'], sendTime: 'off' },
    ];
    expect(validateSequenceCatalogue(catalogueWithVariants(variants))).toEqual([]);
  });

  it('names the field of each bad variant', () => {
    const errors = validateSequenceCatalogue(
      catalogueWithVariants([
        { id: 'a' },
        { id: 'a', discountPercent: 95 },
        { id: 'Bad Id', channels: ['fax' as never], sendTime: 'maybe' as never, subject: ' ' },
        { id: 'd', delayMs: 0 },
        { id: 'e', colour: 'red' } as never,
      ]),
    ).filter((e) => e.field.startsWith('sequences[0]'));
    const fields = errors.map((e) => e.field);
    expect(fields).toEqual(
      expect.arrayContaining([
        'sequences[0].steps[1].variants[1].id',
        'sequences[0].steps[1].variants[1].discountPercent',
        'sequences[0].steps[1].variants[2].id',
        'sequences[0].steps[1].variants[2].channels[0]',
        'sequences[0].steps[1].variants[2].sendTime',
        'sequences[0].steps[1].variants[2].subject',
        'sequences[0].steps[1].variants[3].delayMs',
        'sequences[0].steps[1].variants[4].colour',
      ]),
    );
    expect(errors.find((e) => e.field.endsWith('variants[3].delayMs'))?.message).toMatch(
      /greater than every delay of step 0/,
    );
  });

  it('needs two variants at least', () => {
    expect(validateSequenceCatalogue(catalogueWithVariants([{ id: 'only' }])).map((e) => e.field)).toContain(
      'sequences[0].steps[1].variants',
    );
  });

  it('keeps the next step after every variant of the previous one', () => {
    const errors = validateSequenceCatalogue(catalogueWithVariants([{ id: 'a' }, { id: 'late', delayMs: 30 * HOUR }]));
    expect(errors.map((e) => e.field)).toContain('sequences[0].steps[2].delayMs');
  });
});

describe('experiment ids and segments', () => {
  it('keys a recovery by its most specific segment', () => {
    expect(experimentSegment(['returning', 'vip', 'price-sensitive'])).toBe('vip');
    expect(experimentSegment(['new', 'price-sensitive'])).toBe('price-sensitive');
    expect(experimentSegment(['new', 'price-sensitive', 'mobile-checkout-friction'])).toBe('mobile-checkout-friction');
    expect(experimentSegment(['new'])).toBe('new');
  });
  it('round-trips the id', () => {
    const id = experimentIdFor('welcome', 3, 1, 'price-sensitive');
    expect(id).toBe('welcome@3.s1.price-sensitive');
    expect(parseExperimentId(id)).toEqual({
      sequenceId: 'welcome',
      sequenceVersion: 3,
      step: 1,
      segment: 'price-sensitive',
    });
    expect(parseExperimentId('nope')).toBeUndefined();
  });
});

describe('assignment at the start of a recovery', () => {
  const EXP = 'welcome@1.s1.new';

  it('records a Thompson assignment with its propensity, and the step runs as the variant sets it', () => {
    const run = new Run(ON).startAbandoned(cart(), ctx(7));
    const [a] = assigned(run.events);
    expect(a).toMatchObject({ step: 1, experimentId: EXP, mode: 'thompson', segment: 'new', seed: 7, draws: 1000 });
    expect(['control', 'urgent']).toContain(a.variantId);
    // No evidence: both variants are equally likely to be best.
    expect(a.propensity).toBeGreaterThan(0.4);
    expect(a.propensity).toBeLessThan(0.6);
    expect(a.probabilities?.[a.variantId]).toBe(a.propensity);
    const step = run.state.sequence?.steps[1];
    expect(step?.variants).toBeUndefined();
    if (a.variantId === 'urgent') expect(step?.subject).toBe('Your cart expires tonight');
    else expect(step?.subject).toBeUndefined();
    expect(run.state.variants).toEqual({ 1: a.variantId });
  });

  it('is deterministic for a seed (replayable) and varies across seeds', () => {
    const chosen = (seed: number) => assigned(new Run(ON).startAbandoned(cart(), ctx(seed)).events)[0];
    expect(chosen(5)).toEqual(chosen(5));
    const ids = new Set(Array.from({ length: 20 }, (_, i) => chosen(i).variantId));
    expect(ids).toEqual(new Set(['control', 'urgent']));
  });

  it('follows the evidence: the better variant is chosen with its (high) propensity', () => {
    const snapshot: ExperimentSnapshot = {
      status: 'running',
      stoppedVariantIds: [],
      arms: [
        { variantId: 'control', settled: 400, recovered: 20, netRevenue: 1000, netRevenueSquares: 50_000 },
        { variantId: 'urgent', settled: 400, recovered: 48, netRevenue: 2400, netRevenueSquares: 120_000 },
      ],
    };
    const picks = Array.from(
      { length: 30 },
      (_, i) => assigned(new Run(ON).startAbandoned(cart(), ctx(i, { [EXP]: snapshot })).events)[0],
    );
    expect(picks.filter((p) => p.variantId === 'urgent').length).toBeGreaterThanOrEqual(28);
    const urgent = picks.find((p) => p.variantId === 'urgent');
    expect(urgent?.propensity).toBeGreaterThan(0.98);
    expect(urgent?.settled).toBe(800);
  });

  it('gives the adopted variant to everyone once adopted (propensity 1), the only one left after a stop', () => {
    const adopted = assigned(
      new Run(ON).startAbandoned(
        cart(),
        ctx(1, { [EXP]: { status: 'closed', adoptedVariantId: 'urgent', stoppedVariantIds: [], arms: [] } }),
      ).events,
    )[0];
    expect(adopted).toMatchObject({ variantId: 'urgent', mode: 'adopted', propensity: 1 });
    const only = assigned(
      new Run(ON).startAbandoned(
        cart(),
        ctx(1, { [EXP]: { status: 'running', stoppedVariantIds: ['urgent'], arms: [] } }),
      ).events,
    )[0];
    expect(only).toMatchObject({ variantId: 'control', mode: 'only-variant', propensity: 1 });
  });

  it('leaves the holdout untouched and does nothing with the experiments off', () => {
    const holdout = new Run(ON).startAbandoned(cart(), ctx(1, {}, 0.01));
    expect(holdout.events.some((e) => e.type === 'recovery.assigned-holdout')).toBe(true);
    expect(assigned(holdout.events)).toEqual([]);
    expect(assigned(new Run().startAbandoned(cart(), ctx(1)).events)).toEqual([]);
  });

  it('refuses to start without a seed when experiments run, naming the field', () => {
    expect(() => new Run(ON).startAbandoned(cart(), { ...start(), sequences: catalogueWithVariants() })).toThrow(
      /experiments\.seed/,
    );
  });

  it('a delay variant moves the step timer', () => {
    const variants: StepVariant[] = [
      { id: 'soon', delayMs: 3 * HOUR },
      { id: 'later', delayMs: 12 * HOUR },
    ];
    const run = new Run(ON).startAbandoned(cart(), { ...ctx(3), sequences: catalogueWithVariants(variants) });
    run.sendStep('m0');
    const a = assigned(run.events)[0];
    const abandonedAt = Date.parse(run.state.abandonedAt ?? '');
    const due = Date.parse(run.state.timer?.dueAt ?? '');
    expect(due - abandonedAt).toBe(a.variantId === 'soon' ? 3 * HOUR : 12 * HOUR);
  });
});

describe('assignVariant', () => {
  it('has no assignment when every variant was stopped (the step runs as defined)', () => {
    expect(
      assignVariant({
        step: 1,
        variants: SUBJECTS,
        experimentId: 'x@1.s1.new',
        segment: 'new',
        snapshot: { status: 'closed', stoppedVariantIds: ['control', 'urgent'], arms: [] },
        seed: 1,
        draws: 100,
        at: '2026-01-01T00:00:00.000Z',
      }),
    ).toBeUndefined();
  });

  it('draws the propensity from the evidence, not the recovery: same evidence, same propensities', () => {
    const snapshot: ExperimentSnapshot = {
      status: 'running',
      stoppedVariantIds: [],
      arms: [
        { variantId: 'control', settled: 400, recovered: 40, netRevenue: 40 * 80, netRevenueSquares: 40 * 6400 },
        { variantId: 'urgent', settled: 380, recovered: 40, netRevenue: 40 * 80, netRevenueSquares: 40 * 6400 },
      ],
    };
    const at = '2026-01-01T00:00:00.000Z';
    const assign = (seed: number) =>
      assignVariant({
        step: 1,
        variants: SUBJECTS,
        experimentId: 'w@1.s1.new',
        segment: 'new',
        snapshot,
        seed,
        draws: 500,
        at,
      })!;
    const runs = Array.from({ length: 40 }, (_, i) => assign(i + 1));
    // The Thompson draw follows each recovery's seed…
    expect(new Set(runs.map((r) => r.variantId)).size).toBe(2);
    // …the probabilities are the evidence's, exactly what the recorded seed function reproduces.
    const expected = probabilityBest(
      posteriorsOf(snapshot.arms),
      seededUniform(propensitySeed('w@1.s1.new', 1, snapshot.arms, 500)),
      500,
    );
    for (const r of runs) {
      expect(r.probabilities).toEqual({ control: expected[0], urgent: expected[1] });
      expect(r.propensity).toBe(r.variantId === 'control' ? expected[0] : expected[1]);
    }
    // One more settled recovery is new evidence: new draws.
    const moved = assignVariant({
      step: 1,
      variants: SUBJECTS,
      experimentId: 'w@1.s1.new',
      segment: 'new',
      snapshot: { ...snapshot, arms: [{ ...snapshot.arms[0], settled: 401 }, snapshot.arms[1]] },
      seed: 1,
      draws: 500,
      at,
    })!;
    expect(moved.probabilities).not.toEqual(runs[0].probabilities);
  });

  it('warming computes the same propensities the assignment then uses (stopped variants left out)', () => {
    const snapshot: ExperimentSnapshot = {
      status: 'running',
      stoppedVariantIds: ['short'],
      arms: [{ variantId: 'urgent', settled: 50, recovered: 9, netRevenue: 900, netRevenueSquares: 90_000 }],
    };
    const three: StepVariant[] = [...SUBJECTS, { id: 'short', subject: 'Still thinking?' }];
    warmPropensities('w@2.s0.vip', 0, ['control', 'urgent', 'short'], snapshot, 300);
    const a = assignVariant({
      step: 0,
      variants: three,
      experimentId: 'w@2.s0.vip',
      segment: 'vip',
      snapshot,
      seed: 9,
      draws: 300,
      at: '2026-01-01T00:00:00.000Z',
    })!;
    const evidence = [
      { variantId: 'control', settled: 0, recovered: 0, netRevenue: 0, netRevenueSquares: 0 },
      snapshot.arms[0],
    ];
    const expected = probabilityBest(
      posteriorsOf(evidence),
      seededUniform(propensitySeed('w@2.s0.vip', 0, evidence, 300)),
      300,
    );
    expect(a.probabilities).toEqual({ control: expected[0], urgent: expected[1] });
  });
});

describe('the experiment decider: adoption and guardrails', () => {
  const settings = { ...DEFAULT_EXPERIMENT_SETTINGS, enabled: true, minSamplesPerVariant: 100 };
  const evaluate = (ev: VariantEvidence[], seed = 1, s = settings): EvaluateExperiment => ({
    type: 'EvaluateExperiment',
    shopId: 'shop',
    experimentId: 'welcome@1.s1.new',
    definition: { sequenceId: 'welcome', sequenceVersion: 1, step: 1, segment: 'new', variants: SUBJECTS },
    evidence: ev,
    settings: s,
    seed,
    at: '2026-01-01T00:00:00.000Z',
  });
  const run = (events: ExperimentEvent[], ev: VariantEvidence[], seed = 1) =>
    experimentDecider.decide(evaluate(ev, seed), foldEvents(experimentDecider, events));

  it('opens, evaluates, and records nothing new for the same evidence', () => {
    const first = run([], [evidence('control', 10, 1), evidence('urgent', 10, 2)]);
    expect(first.map((e) => e.type)).toEqual(['experiment.opened', 'experiment.evaluated']);
    const evaluated = first[1] as Extract<ExperimentEvent, { type: 'experiment.evaluated' }>;
    expect(evaluated.data.arms.map((a) => a.variantId)).toEqual(['control', 'urgent']);
    expect(evaluated.data.arms.reduce((s, a) => s + a.probabilityBest, 0)).toBeCloseTo(1, 10);
    expect(run(first, [evidence('control', 10, 1), evidence('urgent', 10, 2)])).toEqual([]);
  });

  it('adopts a clear winner after the minimum sample and closes', () => {
    const events = run([], [evidence('control', 300, 15), evidence('urgent', 300, 45)]);
    expect(events.map((e) => e.type)).toEqual([
      'experiment.opened',
      'experiment.evaluated',
      'experiment.variant-adopted',
      'experiment.closed',
    ]);
    expect(events[2].data).toMatchObject({ variantId: 'urgent', threshold: 0.95, samples: 600 });
    expect((events[2].data as { probabilityBest: number }).probabilityBest).toBeGreaterThan(0.95);
    expect(events[3].data).toMatchObject({ reason: 'adopted', variantId: 'urgent' });
    expect(run(events, [evidence('control', 400, 15), evidence('urgent', 400, 45)])).toEqual([]);
  });

  it('does not adopt before every variant has the minimum sample, however clear', () => {
    const types = run([], [evidence('control', 99, 0), evidence('urgent', 300, 60)]).map((e) => e.type);
    expect(types).not.toContain('experiment.variant-adopted');
  });

  it('does not adopt when the evidence is not conclusive', () => {
    const types = run([], [evidence('control', 300, 30), evidence('urgent', 300, 33)]).map((e) => e.type);
    expect(types).not.toContain('experiment.variant-adopted');
  });

  it('stops a variant whose unsubscribe rate is above the limit, and closes when one is left', () => {
    const events = run(
      [],
      [evidence('control', 300, 15), evidence('urgent', 300, 60, 50, { messages: 300, unsubscribes: 18 })],
    );
    expect(events.map((e) => e.type)).toEqual(['experiment.opened', 'experiment.variant-stopped', 'experiment.closed']);
    expect(events[1].data).toMatchObject({
      variantId: 'urgent',
      guardrail: 'unsubscribe-rate',
      threshold: 0.02,
      rate: 0.06,
    });
    expect(events[2].data).toMatchObject({ reason: 'one-variant-left', variantId: 'control' });
  });

  it('stops on complaints too, but not on a rate within the limit or too few messages', () => {
    const complaint = run(
      [],
      [evidence('control', 300, 15), evidence('urgent', 300, 15, 50, { messages: 1000, complaints: 12 })],
    );
    expect(complaint[1].data).toMatchObject({ variantId: 'urgent', guardrail: 'complaint-rate' });
    const fine = run(
      [],
      [
        evidence('control', 300, 15, 50, { messages: 500, unsubscribes: 4 }),
        evidence('urgent', 40, 2, 50, { messages: 40, unsubscribes: 3 }),
      ],
    );
    expect(fine.map((e) => e.type)).not.toContain('experiment.variant-stopped');
  });

  it("stops a variant whose complaint rate is credibly above the other variants' (within the absolute limit)", () => {
    // 10 complaints in 4,000 messages (0.25 %, under the 0.3 % limit) against 2 in 4,000 (0.05 %).
    const events = run(
      [],
      [
        evidence('control', 300, 15, 50, { messages: 4000, complaints: 2 }),
        evidence('urgent', 300, 15, 50, { messages: 4000, complaints: 10 }),
      ],
    );
    expect(events.map((e) => e.type)).toEqual(['experiment.opened', 'experiment.variant-stopped', 'experiment.closed']);
    expect(events[1].data).toMatchObject({
      variantId: 'urgent',
      guardrail: 'complaint-rate-vs-others',
      rate: 0.0025,
      threshold: 0.0005,
      messages: 4000,
      events: 10,
    });
    const p = (events[1].data as { probabilityAbove: number }).probabilityAbove;
    expect(p).toBeGreaterThanOrEqual(0.95);
    expect(p).toBeLessThan(1);
    expect(events[2].data).toMatchObject({ reason: 'one-variant-left', variantId: 'control' });
    // Replayable: the same seed gives the same probability.
    expect(
      run(
        [],
        [
          evidence('control', 300, 15, 50, { messages: 4000, complaints: 2 }),
          evidence('urgent', 300, 15, 50, { messages: 4000, complaints: 10 }),
        ],
      )[1].data,
    ).toEqual(events[1].data);
  });

  it("does not stop on complaints that are not credibly above the others', nor with too few messages", () => {
    const close = run(
      [],
      [
        evidence('control', 300, 15, 50, { messages: 4000, complaints: 2 }),
        evidence('urgent', 300, 15, 50, { messages: 4000, complaints: 4 }),
      ],
    );
    expect(close.map((e) => e.type)).toEqual(['experiment.opened', 'experiment.evaluated']);
    const few = run(
      [],
      [
        evidence('control', 300, 15, 50, { messages: 4000, complaints: 0 }),
        evidence('urgent', 40, 2, 50, { messages: 40, complaints: 1 }),
      ],
    );
    expect(few.map((e) => e.type)).not.toContain('experiment.variant-stopped');
  });

  it('with three variants stops only the one with credibly more complaints; the others run on', () => {
    const three: StepVariant[] = [...SUBJECTS, { id: 'short', subject: 'Still thinking?' }];
    const cmd = {
      ...evaluate([
        evidence('control', 300, 15, 50, { messages: 3000, complaints: 1 }),
        evidence('urgent', 300, 15, 50, { messages: 3000, complaints: 12 }),
        evidence('short', 300, 16, 50, { messages: 3000, complaints: 2 }),
      ]),
      definition: { sequenceId: 'welcome', sequenceVersion: 1, step: 1, segment: 'new' as const, variants: three },
    };
    const events = experimentDecider.decide(cmd, experimentDecider.initialState());
    expect(events.map((e) => e.type)).toEqual([
      'experiment.opened',
      'experiment.variant-stopped',
      'experiment.evaluated',
    ]);
    expect(events[1].data).toMatchObject({
      variantId: 'urgent',
      guardrail: 'complaint-rate-vs-others',
      threshold: 0.0005,
    });
    const evaluated = events[2] as Extract<ExperimentEvent, { type: 'experiment.evaluated' }>;
    expect(evaluated.data.arms.map((a) => a.variantId)).toEqual(['control', 'short']);
  });

  it('refuses bad settings, naming the field', () => {
    expect(() =>
      experimentDecider.decide(evaluate([], 1, { ...settings, adoptThreshold: 1.2 }), experimentDecider.initialState()),
    ).toThrow(/settings\.adoptThreshold/);
  });
});

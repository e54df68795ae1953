/**
 * The policy lab (bench/policy.ts): population files checked by field, one seed = one result, the
 * oracle earns more than sending nothing, and on a small run the invariants the appliance promises
 * hold for every shopper (nothing after a purchase or an unsubscribe, nothing to the holdout,
 * nothing without consent, no input refused by the deciders).
 */
import { readdirSync } from 'node:fs';
import { experimentSettingsOf } from '@reclaim/domain';
import { join } from 'node:path';
import { LabEngine, type EngineRun, type LabPolicy, type LabRecovery } from '../bench/policy-lab/engine';
import {
  FIXED_POLICY,
  LEARNING_POLICY,
  noMessagesPolicy,
  oraclePolicy,
  policyOf,
  runLab,
  windowOf,
} from '../bench/policy-lab/lab';
import { loadPopulation, PopulationError, validatePopulation, type Population } from '../bench/policy-lab/population';
import { trueModel } from '../bench/policy-lab/shoppers';

const DIR = join(__dirname, '..', 'bench', 'populations');

/**
 * The learning policy file with 100 Monte-Carlo draws per Thompson propensity instead of 1,000:
 * under Jest's module sandbox the draws are ~20× slower than under node, and the assignments are
 * the same function either way.
 */
function learningPolicy(): LabPolicy {
  const p = policyOf('learning', 'learning', LEARNING_POLICY, 'learning');
  return { ...p, config: { ...p.config, experiments: { ...experimentSettingsOf(p.config), draws: 100 } } };
}
const shipped = readdirSync(DIR).filter((f) => f.endsWith('.json') && !f.endsWith('.schema.json'));

function errorsOf(input: unknown): { field: string; message: string }[] {
  try {
    validatePopulation(input, 'test');
  } catch (e) {
    if (e instanceof PopulationError) return [...e.errors];
    throw e;
  }
  return [];
}

describe('population files', () => {
  it('ships at least three populations, each valid', () => {
    expect(shipped.length).toBeGreaterThanOrEqual(3);
    for (const f of shipped) expect(() => loadPopulation(join(DIR, f))).not.toThrow();
  });

  it('names the field of every problem', () => {
    const good = loadPopulation(join(DIR, shipped[0])) as unknown as Record<string, unknown>;
    const segments = good.segments as Record<string, unknown>[];
    const broken = {
      ...good,
      shopTimeZone: 'Mars/Olympus',
      extra: 1,
      segments: [
        {
          ...segments[0],
          share: 0.2,
          organic: { probability: 1.5, meanHours: 10 },
          response: { ...(segments[0].response as object), email: { open: 0.1, click: 0.2, purchaseAfterClick: 0.3 } },
          timeZones: [{ zone: 'Nowhere/City', share: 1 }],
        },
        ...segments.slice(1),
      ],
    };
    const schemaErrors = errorsOf(broken);
    expect(schemaErrors).toEqual(
      expect.arrayContaining([
        { field: 'extra', message: 'is not a population field' },
        { field: 'segments[0].organic.probability', message: 'must be <= 1' },
      ]),
    );
    const { extra: _extra, ...noExtra } = broken;
    const semantic = errorsOf({
      ...noExtra,
      segments: [{ ...broken.segments[0], organic: { probability: 0.5, meanHours: 10 } }, ...segments.slice(1)],
    });
    expect(semantic.map((e) => e.field)).toEqual(
      expect.arrayContaining([
        'shopTimeZone',
        'segments',
        'segments[0].timeZones[0].zone',
        'segments[0].response.email.click',
      ]),
    );
    const { cartValue: _cv, ...noValue } = segments[0];
    expect(errorsOf({ ...good, segments: [noValue, ...segments.slice(1)] })).toContainEqual({
      field: 'segments[0].cartValue',
      message: 'is required',
    });
  });
});

describe('the lab', () => {
  const population: Population = loadPopulation(join(DIR, 'evening-mobile.json'));
  const options = { shoppers: 800, days: 4, seed: 7 };
  const fixed = policyOf('fixed', 'fixed', FIXED_POLICY, 'fixed');
  const learning = learningPolicy();

  it('gives the same figures for the same seed, and other figures for another seed', () => {
    const strip = (r: ReturnType<typeof runLab>) => r.results.map(({ runMs: _r, cpuMs: _c, ...rest }) => rest);
    const a = runLab(population, options, [fixed]);
    const b = runLab(population, options, [fixed]);
    expect(strip(a)).toEqual(strip(b));
    const c = runLab(population, { ...options, seed: 8 }, [fixed]);
    expect(strip(c)).not.toEqual(strip(a));
  });

  it('the oracle earns more than sending nothing', () => {
    const run = runLab(population, options, [oraclePolicy()]);
    expect(run.results[0].incrementalNet).toBeGreaterThan(0);
    expect(run.results[0].messages.email + run.results[0].messages.sms).toBeGreaterThan(0);
  });

  it.each<[string, LabPolicy]>([
    ['fixed', fixed],
    ['learning', learning],
    ['oracle', oraclePolicy()],
  ])('keeps the appliance’s promises for every shopper (%s)', (_name, policy) => {
    const model = trueModel(population, windowOf(policy.config));
    const run = new LabEngine(model, policy, options).run();
    let sent = 0;
    let holdouts = 0;
    let unsubscribed = 0;
    run.recoveries.forEach((rec, i) => {
      if (rec === undefined) return;
      expect(rec.refused).toEqual([]);
      const sh = run.shoppers[i];
      const bought = run.truth[i].bought;
      if (rec.arm === 'holdout') {
        holdouts++;
        expect(rec.messages).toEqual([]);
      }
      for (const m of rec.messages) {
        sent++;
        if (bought !== undefined) expect(m.sentAt).toBeLessThan(bought.at);
        expect(sh.consent[m.channel as 'email' | 'sms']).toBe(true);
      }
      // Nothing on a channel after the shopper unsubscribed from it.
      for (const [ch, at] of run.truth[i].unsubscribed) {
        unsubscribed++;
        expect(rec.messages.filter((m) => m.channel === ch && m.sentAt >= at)).toEqual([]);
        expect(rec.state.revoked.includes(ch) || rec.state.status === 'ended').toBe(true);
      }
    });
    expect(sent).toBeGreaterThan(100);
    expect(holdouts).toBeGreaterThan(20);
    expect(unsubscribed).toBeGreaterThan(0);
  });

  it('sends nothing in the no-message counterfactual and measures the lift with the dashboard’s function', () => {
    const model = trueModel(population, windowOf(fixed.config));
    const none = new LabEngine(model, noMessagesPolicy(), options).run();
    expect(none.messagesByChannel).toEqual({ email: 0, sms: 0 });
    const [r] = runLab(population, options, [fixed]).results;
    expect(r.measured.treatedCarts).toBe(r.treated);
    expect(r.measured.holdoutCarts).toBe(r.holdout);
    expect(r.treated + r.holdout).toBe(r.recoveries);
  });
});

describe('learned discounts in the lab (RFC 0017)', () => {
  const population: Population = loadPopulation(join(DIR, 'high-organic-return.json'));
  // Longer than the attribution window (5 days), so unrecovered outcomes become final too.
  const options = { shoppers: 1500, days: 9, seed: 11 };
  const learning = learningPolicy();
  const fixed = policyOf('fixed', 'fixed', FIXED_POLICY, 'fixed');
  let learned: EngineRun | undefined;
  const learnedRun = () =>
    (learned ??= new LabEngine(trueModel(population, windowOf(learning.config)), learning, options).run());

  it('the learning policy is on the learned discount policy', () => {
    expect(learning.config.incentives.policy).toBe('learned');
    expect(fixed.config.incentives.policy).toBe('fixed');
  });

  it('chooses an incentive per recovery at its first discount step, explores and withholds with a reason', () => {
    const run = learnedRun();
    const chosen = run.recoveries.filter((r) => r?.incentiveRow !== undefined) as LabRecovery[];
    expect(chosen.length).toBeGreaterThan(200);
    for (const rec of chosen) {
      const row = rec.incentiveRow!;
      expect(row.propensity).toBeGreaterThan(0);
      expect(row.propensity).toBeLessThanOrEqual(1);
      // The policy control arm (RFC 0021) plays the fixed rules: their ladder, propensity 1 within the arm.
      if (rec.state.policyArm === 'fixed-rules') {
        const first = rec.state.sequence!.steps.find((s) => s.discountPercent > 0)!;
        expect([row.mode, row.propensity, row.percent]).toEqual(['fixed', 1, first.discountPercent]);
        expect(rec.messages.every((m) => m.withheld === undefined)).toBe(true);
        continue;
      }
      expect(['explore', 'exploit', 'ladder']).toContain(row.mode);
      // Every discount step of the recovery offers the chosen level (the ladder arm: the step's own
      // percent), or withholds it with a reason.
      for (const m of rec.messages) {
        const stepPercent = rec.state.sequence?.steps[m.step]?.discountPercent ?? 0;
        if (stepPercent === 0) continue;
        if (row.mode === 'ladder') expect([m.percent, m.withheld]).toEqual([stepPercent, undefined]);
        else if (row.percent > 0) expect([m.percent, m.withheld]).toEqual([row.percent, undefined]);
        else {
          expect(m.percent).toBe(0);
          expect(m.withheld).toBe(row.mode === 'explore' ? 'incentive-control' : 'no-level-pays');
        }
      }
    }
    const modes = new Set(chosen.map((r) => r.incentiveRow!.mode));
    expect(modes).toEqual(new Set(['explore', 'exploit', 'ladder', 'fixed']));
    const control = chosen.filter((r) => r.state.policyArm === 'fixed-rules').length / chosen.length;
    expect(control).toBeGreaterThan(0.04);
    expect(control).toBeLessThan(0.2);
    const levels = new Set(chosen.map((r) => r.incentiveRow!.percent));
    expect(levels).toEqual(new Set([0, 5, 10, 15]));
    const withheld = new Set(chosen.flatMap((r) => r.messages.map((m) => m.withheld).filter((w) => w !== undefined)));
    expect(withheld).toEqual(new Set(['incentive-control', 'no-level-pays']));
    // The exploited choices differ from the fixed ladder's (5 % at the first discount step).
    expect(chosen.some((r) => r.incentiveRow!.mode === 'exploit' && r.incentiveRow!.percent !== 5)).toBe(true);
  });

  it('decides on the final outcomes of its segment only, as incentiveEvidence() reads them', () => {
    const run = learnedRun();
    const window = learning.config.attributionWindowMs;
    const chosen = run.recoveries.filter((r) => r?.incentiveRow !== undefined) as LabRecovery[];
    let withEvidence = 0;
    let unrecoveredSeen = 0;
    for (const rec of chosen) {
      const row = rec.incentiveRow!;
      // The fixed rules' control arm (RFC 0021) plays the ladder and reads no evidence.
      if (row.mode === 'fixed') {
        expect(row.seen.filter((l) => l.assigned > 0)).toEqual([]);
        continue;
      }
      const expected = new Map<number, { assigned: number; recovered: number }>();
      for (const other of chosen) {
        const o = other.incentiveRow!;
        if (other === rec || o.segment !== row.segment || o.decidedAt >= row.decidedAt) continue;
        if (o.mode === 'ladder' || o.mode === 'fixed') continue; // evidence of no single level
        const ended = other.endedAt !== undefined && other.endedAt < row.decidedAt;
        if (!ended && !(o.decidedAt + window < row.decidedAt)) continue;
        const t = expected.get(o.percent) ?? { assigned: 0, recovered: 0 };
        t.assigned++;
        if (ended && other.state.endReason === 'purchased' && other.endedAt! <= o.decidedAt + window) t.recovered++;
        expected.set(o.percent, t);
      }
      const seen = new Map(row.seen.filter((l) => l.assigned > 0).map((l) => [l.percent, l]));
      for (const [percent, t] of expected) {
        expect({ percent, ...t }).toEqual({
          percent,
          assigned: seen.get(percent)?.assigned,
          recovered: seen.get(percent)?.recovered,
        });
        if (t.assigned > t.recovered) unrecoveredSeen++;
      }
      expect(seen.size).toBe(expected.size);
      if (expected.size > 0) withEvidence++;
    }
    expect(withEvidence).toBeGreaterThan(100);
    expect(unrecoveredSeen).toBeGreaterThan(0);
  });

  it('records the fixed ladder’s choice under the fixed rules (propensity 1, the step’s percent)', () => {
    const model = trueModel(population, windowOf(fixed.config));
    const run = new LabEngine(model, fixed, { ...options, days: 4 }).run();
    const chosen = run.recoveries.filter((r) => r?.incentiveRow !== undefined) as LabRecovery[];
    expect(chosen.length).toBeGreaterThan(100);
    for (const rec of chosen) {
      const row = rec.incentiveRow!;
      const first = rec.state.sequence!.steps.find((s) => s.discountPercent > 0)!;
      expect([row.mode, row.propensity, row.percent]).toEqual(['fixed', 1, first.discountPercent]);
      expect(rec.messages.every((m) => m.withheld === undefined)).toBe(true);
    }
  });
});

describe('step variants in the lab (RFC 0016)', () => {
  const population: Population = loadPopulation(join(DIR, 'evening-mobile.json'));
  const learning = learningPolicy();
  let run: EngineRun | undefined;
  const runOf = () =>
    (run ??= new LabEngine(trueModel(population, windowOf(learning.config)), learning, {
      shoppers: 1500,
      days: 9,
      seed: 13,
    }).run());

  it('the learning catalogue defines variants and the policy runs experiments', () => {
    expect(learning.config.experiments?.enabled).toBe(true);
    const withVariants = learning.catalogue.sequences.flatMap((q) =>
      q.steps.filter((s) => (s.variants ?? []).length > 1),
    );
    expect(withVariants.length).toBeGreaterThan(0);
  });

  it('assigns live recoveries a variant by Thompson sampling with its propensity, and the step follows it', () => {
    const r = runOf();
    const recs = r.recoveries.filter((x): x is LabRecovery => x !== undefined && x.arm !== undefined);
    const assigned = recs.filter((x) => (x.variantRows ?? []).length > 0);
    expect(assigned.length).toBeGreaterThan(300);
    // The holdout gets none.
    expect(recs.filter((x) => x.arm === 'holdout' && x.variantRows !== undefined)).toEqual([]);
    const variants = new Set<string>();
    for (const rec of assigned) {
      for (const row of rec.variantRows!) {
        variants.add(`${row.experimentId}:${row.variantId}`);
        expect(row.propensity).toBeGreaterThan(0);
        expect(row.propensity).toBeLessThanOrEqual(1);
        if (row.mode === 'thompson') expect(row.propensity).toBeLessThan(1);
        // The recovery's step is the variant's: its definition carries the variant's overrides.
        const defined = rec.state.sequence!.steps[row.step];
        const catalogued = learning.catalogue.sequences
          .find((q) => q.id === rec.state.sequence!.id)!
          .steps[row.step].variants!.find((v) => v.id === row.variantId)!;
        const { id: _id, ...overrides } = catalogued;
        expect(defined).toMatchObject(overrides);
        // An SMS goes out on a step only when the variant lists SMS.
        for (const m of rec.messages.filter((x) => x.step === row.step)) {
          expect(defined.channels).toContain(m.channel);
        }
      }
    }
    expect(new Set(assigned.flatMap((x) => x.variantRows!.map((v) => v.mode)))).toContain('thompson');
    // Both variants of at least one experiment were tried.
    const byExperiment = new Map<string, number>();
    for (const v of variants) byExperiment.set(v.split(':')[0], (byExperiment.get(v.split(':')[0]) ?? 0) + 1);
    expect(Math.max(...byExperiment.values())).toBeGreaterThanOrEqual(2);
  });

  it('evaluates its experiments on the lab’s own settled outcomes (opened, evidence per variant)', () => {
    const r = runOf();
    expect(r.experiments.length).toBeGreaterThan(0);
    const opened = r.experiments.filter((x) => x.history.some((h) => h.type === 'experiment.opened'));
    expect(opened.length).toBeGreaterThan(0);
    for (const x of r.experiments) {
      for (const v of x.evidence) {
        expect(v.settled).toBeLessThanOrEqual(v.assignments);
        expect(v.recovered).toBeLessThanOrEqual(v.settled);
        expect(v.unsubscribes).toBeLessThanOrEqual(v.messages);
      }
      // Evidence: the live-treated rows of the experiment, counted independently.
      const rows = r.recoveries.flatMap((rec) =>
        (rec?.variantRows ?? []).filter((v) => v.experimentId === x.experimentId),
      );
      const total = x.evidence.reduce((n, v) => n + v.assignments, 0);
      expect(total).toBe(rows.length);
      const recovered = rows.filter(
        (v) =>
          v.rec.state.endReason === 'purchased' && v.rec.endedAt! <= v.decidedAt + learning.config.attributionWindowMs,
      ).length;
      expect(x.evidence.reduce((n, v) => n + v.recovered, 0)).toBe(recovered);
    }
  });
});

import { defaultRecoveryConfig, recoveryConfig } from '../config';
import { chooseIncentive, DEFAULT_INCENTIVE_SETTINGS } from '../incentives';
import {
  actionKey,
  candidateDistribution,
  loggedAction,
  loggedDistribution,
  unsupportedMass,
  type CandidatePolicy,
  type LoggedStart,
  type WeightedAction,
} from '../policy-actions';
import { defaultSequences, selectSequence } from '../sequences';

const catalogue = defaultSequences(defaultRecoveryConfig);
const welcome = catalogue.sequences[2];
const live: LoggedStart = {
  segments: ['new'],
  cartValue: '50.00',
  arm: 'live-treated',
  armSettings: { holdoutPercent: 20, rolloutPercent: 100, shadowMode: false },
  sequence: welcome,
  sendTimeDraw: { enabled: true, armPercent: 25 },
  sendTimeArm: 'on',
};
const probabilities = (d: readonly { key: string; probability: number }[]) =>
  Object.fromEntries(
    d.map((a) => [
      a.key
        .replace(/^live .* (send-time:\w+) incentive:none$/, 'live $1')
        .replace(/^live .* (send-time:\w+ incentive:.+)$/, 'live $1'),
      Math.round(a.probability * 1e12) / 1e12,
    ]),
  );

describe('policy actions', () => {
  it('the logged action and the logging policy’s probabilities at it', () => {
    expect(loggedAction(live)).toMatchObject({ treatment: 'live', sendTime: 'on', sequence: { id: 'welcome' } });
    expect(probabilities(loggedDistribution(live) ?? [])).toEqual({
      silent: 0.2,
      'live send-time:on': 0.2,
      'live send-time:off': 0.6,
    });
    expect(loggedAction({ ...live, arm: 'outside-rollout' })).toEqual({ treatment: 'silent' });
    expect(loggedDistribution({ ...live, armSettings: null })).toBeUndefined();
  });

  it('the candidate’s probabilities come from its own arm shares, catalogue and send-time switch', () => {
    const off = { config: recoveryConfig({ holdoutPercent: 0 }), catalogue };
    expect(probabilities(candidateDistribution(off, live))).toEqual({ 'live send-time:off': 1 });
    const shadow = { config: recoveryConfig({ shadowMode: true, holdoutPercent: 10 }), catalogue };
    expect(probabilities(candidateDistribution(shadow, live))).toEqual({ silent: 1 });
    // A high-value cart selects premium: not the action the log took for this recovery.
    const premium = candidateDistribution(off, { ...live, cartValue: '500.00' });
    expect(premium.map((a) => a.key)).not.toContain(loggedDistribution(live)?.[2].key);
  });

  it('two sequences that behave alike are one action; a changed delay is another', () => {
    const renamed = { ...catalogue, sequences: catalogue.sequences.map((s) => ({ ...s, version: 7 })) };
    const same = candidateDistribution({ config: recoveryConfig({}), catalogue: renamed }, live);
    const logged = loggedDistribution(live) ?? [];
    expect(same.filter((a) => a.action.treatment === 'live').every((a) => logged.some((l) => l.key === a.key))).toBe(
      true,
    );
    const slower = {
      ...catalogue,
      sequences: catalogue.sequences.map((s) => ({
        ...s,
        steps: s.steps.map((st) => ({ ...st, delayMs: st.delayMs + 1 })),
      })),
    };
    const other = candidateDistribution({ config: recoveryConfig({}), catalogue: slower }, live);
    expect(other.filter((a) => a.action.treatment === 'live').some((a) => logged.some((l) => l.key === a.key))).toBe(
      false,
    );
  });

  describe('the incentive (RFC 0017)', () => {
    // The sequence the catalogue selects for a new customer's 100.00 cart (welcome: 0, 5, 10, 15 %).
    const standard = selectSequence(['new'], { value: '100.00' }, catalogue)!;
    const ladder = standard.steps.map((st) => st.discountPercent);
    const learnedSettings = { ...DEFAULT_INCENTIVE_SETTINGS, policy: 'learned' as const, explorationPercent: 20 };
    const evidence = {
      segment: 'new',
      levels: [
        { percent: 0, assigned: 400, recovered: 40 },
        { percent: 5, assigned: 400, recovered: 60 },
        { percent: 10, assigned: 400, recovered: 100 },
        { percent: 15, assigned: 400, recovered: 104 },
      ],
    };
    const choose = (draw: number) =>
      chooseIncentive({
        ladder,
        stepPercent: 5,
        cartValue: '100.00',
        segment: 'new',
        settings: learnedSettings,
        evidence,
        draw,
      });
    const start = (choice: ReturnType<typeof choose>): LoggedStart => ({
      segments: ['new'],
      cartValue: '100.00',
      arm: 'live-treated',
      armSettings: { holdoutPercent: 0, rolloutPercent: 100, shadowMode: false },
      sequence: standard,
      sendTimeDraw: { enabled: false },
      incentive: { step: 1, ...choice },
    });
    const policy = (incentives: CandidatePolicy['config']['incentives']): CandidatePolicy => ({
      config: { ...recoveryConfig({ holdoutPercent: 0, sendTime: { enabled: false } }), incentives },
      catalogue,
    });
    const incentiveOf = (d: readonly { key: string; probability: number }[]) =>
      Object.fromEntries(d.map((a) => [a.key.replace(/^.* incentive:/, ''), Math.round(a.probability * 1e9) / 1e9]));

    it('a learned log: the action carries the arm drawn, the logging distribution its recorded probabilities', () => {
      const ladderChoice = choose(0.19);
      expect(ladderChoice.mode).toBe('ladder');
      expect(actionKey(loggedAction(start(ladderChoice)))).toMatch(/incentive:ladder$/);
      expect(actionKey(loggedAction(start(choose(0.09))))).toMatch(/incentive:10 %$/);
      const exploit = choose(0.5);
      expect(exploit.mode).toBe('exploit');
      expect(incentiveOf(loggedDistribution(start(exploit)) ?? [])).toEqual({
        '0 %': 0.04,
        '5 %': 0.04,
        [`${exploit.percent} %`]: 0.84,
        [`${[10, 15].find((l) => l !== exploit.percent)} %`]: 0.04,
        ladder: 0.04,
      });
    });

    it('the fixed rules play the ladder with probability 1: supported by the learned log’s ladder arm only', () => {
      const fixed = candidateDistribution(policy(DEFAULT_INCENTIVE_SETTINGS), start(choose(0.5)));
      expect(incentiveOf(fixed)).toEqual({ ladder: 1 });
      const logged = loggedDistribution(start(choose(0.5))) ?? [];
      expect(logged.find((a) => a.key === fixed[0].key)?.probability).toBeCloseTo(0.04, 12);
      // The weight of a recovery that drew the ladder is 1 / 0.04; of one that drew a level, 0.
      const drewLadder = start(choose(0.19));
      expect(actionKey(loggedAction(drewLadder))).toBe(fixed[0].key);
    });

    it('a learned candidate recomputes its exploit level with its own settings on the recorded evidence', () => {
      const same = candidateDistribution(policy(learnedSettings), start(choose(0.5)));
      const logged = loggedDistribution(start(choose(0.5))) ?? [];
      for (const a of same) expect(logged.find((l) => l.key === a.key)?.probability).toBeCloseTo(a.probability, 9);
      // At a 5 % margin no discount pays: the exploit level becomes 0 %.
      const thin = candidateDistribution(policy({ ...learnedSettings, marginPercent: 5 }), start(choose(0.5)));
      expect(incentiveOf(thin)['0 %']).toBeCloseTo(0.84, 9);
      // No exploration: one level, certain.
      const greedy = candidateDistribution(policy({ ...learnedSettings, explorationPercent: 0 }), start(choose(0.5)));
      expect(greedy).toHaveLength(1);
    });

    it('a recovery that reached no incentive choice: the dimension is `none` under both policies', () => {
      const none: LoggedStart = { ...start(choose(0.5)), incentive: undefined };
      expect(actionKey(loggedAction(none))).toMatch(/incentive:none$/);
      expect(incentiveOf(candidateDistribution(policy(DEFAULT_INCENTIVE_SETTINGS), none))).toEqual({ none: 1 });
      expect(incentiveOf(loggedDistribution(none) ?? [])).toEqual({ none: 1 });
    });

    it('a fixed log offers the learned policy nothing but the ladder (its levels are unsupported)', () => {
      const fixedChoice = chooseIncentive({
        ladder,
        stepPercent: 5,
        cartValue: '100.00',
        segment: 'new',
        settings: DEFAULT_INCENTIVE_SETTINGS,
      });
      expect(incentiveOf(loggedDistribution(start(fixedChoice)) ?? [])).toEqual({ ladder: 1 });
      // Recorded before the distribution was: the fixed choice is still the ladder, certain.
      const old = { ...start(fixedChoice), incentive: { ...start(fixedChoice).incentive!, probabilities: undefined } };
      expect(incentiveOf(loggedDistribution(old) ?? [])).toEqual({ ladder: 1 });
    });
  });

  describe('the variants (RFC 0016)', () => {
    const base = catalogue.sequences[2];
    const withVariants = {
      ...base,
      steps: base.steps.map((st, i) =>
        i === 1 ? { ...st, variants: [{ id: 'control' }, { id: 'quick', delayMs: st.delayMs / 2 }] } : st,
      ),
    };
    const variantCatalogue = {
      ...catalogue,
      sequences: catalogue.sequences.map((q, i) => (i === 2 ? withVariants : q)),
    };
    const experimentId = `${base.id}@${base.version}.s1.new`;
    const drew = (variantId: 'control' | 'quick'): LoggedStart => ({
      ...live,
      sendTimeDraw: { enabled: false },
      sendTimeArm: undefined,
      armSettings: { holdoutPercent: 0, rolloutPercent: 100, shadowMode: false },
      sequence: withVariants,
      variants: [
        {
          step: 1,
          experimentId,
          variantId,
          propensity: variantId === 'control' ? 0.3 : 0.7,
          mode: 'thompson',
          probabilities: { control: 0.3, quick: 0.7 },
          overrides: variantId === 'control' ? {} : { delayMs: withVariants.steps[1].delayMs / 2 },
        },
      ],
    });

    it('the action is the sequence as run (the variant applied); the logging distribution the recorded probabilities', () => {
      const logged = loggedDistribution(drew('quick')) ?? [];
      expect(logged.map((a) => Math.round(a.probability * 1e9) / 1e9).sort()).toEqual([0.3, 0.7]);
      const taken = logged.find((a) => a.key === actionKey(loggedAction(drew('quick'))));
      expect(taken?.probability).toBeCloseTo(0.7, 12);
      expect(actionKey(loggedAction(drew('quick')))).not.toBe(actionKey(loggedAction(drew('control'))));
    });

    it('a candidate without experiments runs the steps as defined: supported where a variant behaves like them', () => {
      const fixed = candidateDistribution(
        { config: recoveryConfig({ holdoutPercent: 0, sendTime: { enabled: false } }), catalogue },
        drew('control'),
      );
      expect(fixed).toHaveLength(1);
      expect(fixed[0].key).toBe(actionKey(loggedAction(drew('control'))));
      expect(fixed[0].key).not.toBe(actionKey(loggedAction(drew('quick'))));
    });

    it('a holdout recovery recorded no variants: the steps as defined stand for its live actions under both policies', () => {
      const config = recoveryConfig({
        holdoutPercent: 10,
        sendTime: { enabled: false },
        experiments: { enabled: true },
      });
      const holdout: LoggedStart = {
        ...drew('control'),
        arm: 'holdout',
        armSettings: { holdoutPercent: 10, rolloutPercent: 100, shadowMode: false },
        variants: undefined,
      };
      const logged = loggedDistribution(holdout) ?? [];
      const candidate = candidateDistribution({ config, catalogue: variantCatalogue }, holdout);
      expect(candidate.map((a) => a.key).sort()).toEqual(logged.map((a) => a.key).sort());
    });

    it('a candidate running the same experiment takes the logged draw’s probabilities', () => {
      const config = recoveryConfig({
        holdoutPercent: 0,
        sendTime: { enabled: false },
        experiments: { enabled: true },
      });
      const same = candidateDistribution({ config, catalogue: variantCatalogue }, drew('quick'));
      const logged = loggedDistribution(drew('quick')) ?? [];
      expect(same.map((a) => [a.key, a.probability]).sort()).toEqual(logged.map((a) => [a.key, a.probability]).sort());
    });
  });

  it('routing by score is the candidate’s own, on the recorded score; no score recorded: the catalogue’s match', () => {
    const scored: LoggedStart = { ...live, score: { kind: 'scored', score: 0.05, modelVersion: 3 } };
    const on = { config: recoveryConfig({ holdoutPercent: 0, sendTime: { enabled: false } }), catalogue };
    const routedTo = (d: readonly WeightedAction[]) =>
      d.flatMap((a) => (a.action.treatment === 'live' ? [a.action.sequence.id] : []));
    expect(on.config.routing.enabled).toBe(true);
    expect(routedTo(candidateDistribution(on, scored))).toEqual([on.config.routing.sequences.nurture]);
    const off = { ...on, config: { ...on.config, routing: { ...on.config.routing, enabled: false } } };
    expect(routedTo(candidateDistribution(off, scored))).toEqual(['welcome']);
    expect(routedTo(candidateDistribution(on, live))).toEqual(['welcome']);
    const unscored: LoggedStart = { ...live, score: { kind: 'unavailable', outcomesNeeded: 40 } };
    expect(routedTo(candidateDistribution(on, unscored))).toEqual(['welcome']);
  });

  describe('the policy control arm (RFC 0021)', () => {
    const ladderChoice = { step: 1, percent: 15, mode: 'fixed' as const, propensity: 1, segment: 'new' };
    // A learning log: send-time on at 25 %, a 10 % rules arm.
    const rulesArm: LoggedStart = {
      ...live,
      sendTimeDraw: { enabled: false },
      sendTimeArm: undefined,
      incentive: ladderChoice,
      policyArm: { arm: 'fixed-rules', controlPercent: 10 },
    };
    const ownArm: LoggedStart = { ...live, policyArm: { arm: 'shop-policy', controlPercent: 10 } };
    const fixed: CandidatePolicy = {
      config: recoveryConfig({
        holdoutPercent: 20,
        routing: { enabled: false },
        sendTime: { enabled: false },
        channelChoice: { enabled: false },
        engagementScore: { enabled: false },
      }),
      catalogue,
    };
    const learning: CandidatePolicy = {
      config: recoveryConfig({
        holdoutPercent: 20,
        sendTime: { enabled: true, armPercent: 25 },
        policyControl: { percent: 10 },
      }),
      catalogue,
    };
    const at = (d: readonly WeightedAction[], key: string) => d.find((a) => a.key === key)?.probability ?? 0;

    it('the arm is part of the action, with its probability in the logging distribution', () => {
      const action = loggedAction(rulesArm);
      expect(actionKey(action)).toMatch(/incentive:ladder policy:fixed-rules$/);
      // live 80 % × rules arm 10 % × send-time off (the rules) × the ladder (certain).
      expect(at(loggedDistribution(rulesArm) ?? [], actionKey(action))).toBeCloseTo(0.08, 12);
      expect(at(loggedDistribution(rulesArm) ?? [], 'silent')).toBeCloseTo(0.2, 12);
      // On the other arm: live 80 % × 90 % × send-time on 25 %.
      expect(at(loggedDistribution(ownArm) ?? [], actionKey(loggedAction(ownArm)))).toBeCloseTo(0.18, 12);
    });

    it('the fixed rules play the rules arm with certainty: a weight of 10 there, 0 on the other arm', () => {
      const onRules = candidateDistribution(fixed, rulesArm);
      expect(at(onRules, actionKey(loggedAction(rulesArm)))).toBeCloseTo(0.8, 12);
      expect(at(onRules, 'silent')).toBeCloseTo(0.2, 12);
      expect(onRules.every((a) => a.action.treatment === 'silent' || a.action.policyArm === 'fixed-rules')).toBe(true);
      expect(at(candidateDistribution(fixed, ownArm), actionKey(loggedAction(ownArm)))).toBe(0);
    });

    it('a learning candidate with the same control share reweights its own log by 1', () => {
      for (const r of [rulesArm, ownArm]) {
        const key = actionKey(loggedAction(r));
        expect(at(candidateDistribution(learning, r), key)).toBeCloseTo(at(loggedDistribution(r) ?? [], key), 12);
      }
      const sum = candidateDistribution(learning, ownArm).reduce((s, a) => s + a.probability, 0);
      expect(sum).toBeCloseTo(1, 12);
    });

    it('unsupported mass counts on the recoveries that drew its arm, scaled by the arm’s probability', () => {
      const onOwn = candidateDistribution(fixed, ownArm).filter((a) => a.action.treatment === 'live');
      expect(onOwn.map((a) => unsupportedMass(a, ownArm))).toEqual(onOwn.map(() => 0));
      const onRules = candidateDistribution(fixed, rulesArm).filter((a) => a.action.treatment === 'live');
      expect(unsupportedMass(onRules[0], rulesArm)).toBeCloseTo(onRules[0].probability / 0.1, 12);
      // A log without arms: the mass itself.
      const plain = candidateDistribution(fixed, live).filter((a) => a.action.treatment === 'live');
      expect(unsupportedMass(plain[0], live)).toBe(plain[0].probability);
    });
  });
});

/**
 * A recovery's action as a policy decides it, as far as the outcome can depend on it, and the
 * probability of each action under a policy — the logged one (from what the recovery recorded) or
 * a candidate's (running the engine's own decision code on the recorded inputs). An off-policy
 * estimate (policy backtest, RFC 0019) weighs each logged outcome by the ratio of the two.
 *
 * The action of one recovery:
 * - `silent`: nothing is sent — the holdout, shadow and outside-rollout arms alike (the outcome of a
 *   recovery that sent nothing does not depend on which of them it was in);
 * - `live` with the behaviour of the sequence as the recovery runs it — the selected sequence with
 *   its step variants applied (`recovery.variant-assigned`, RFC 0016; delays, channels, discounts,
 *   templates, subjects, per-step send-time: two versions that behave alike are one action) — the
 *   send-time arm (`off` when send-time optimisation is off), and the incentive (RFC 0017): `ladder`
 *   (each discount step its own percent) or one level `ℓ %` on every discount step, where the
 *   recovery reached its incentive choice (`recovery.incentive-chosen`); `none` where it did not (it
 *   ended before its first discount step, sent nothing, was refused codes as a code farmer or in the
 *   cooldown, or its sequence offers none: its outcome cannot depend on the incentive, so both
 *   policies give that dimension probability 1 — the sequential argument of off-policy evaluation)
 *   — and, on a log that drew a policy arm (RFC 0021), that arm: `fixed-rules` or `shop-policy`.
 *
 * Deterministic parts (the sequence) have probability 1 for the one chosen; randomised parts their
 * drawn probabilities: the arm draw, the policy arm draw and the send-time draw (`armProbabilities`,
 * `sendTimeArmProbabilities`), the variants (the recorded probabilities of being best, Thompson
 * sampling's propensities), the incentive (the recorded distribution of the choice; a candidate's
 * from `incentiveDistribution` on the evidence the logged choice used).
 */
import { armProbabilities, type ArmSettings, type RecoveryArm } from './arms';
import { experimentSettingsOf, type RecoveryConfig } from './config';
import {
  incentiveArmKey,
  incentiveDistribution,
  ladderIsArm,
  playsLadder,
  type IncentiveMode,
  type LevelPosterior,
} from './incentives';
import { fixedRulesConfig, fixedRulesShare, policyArmProbabilities, type PolicyArm } from './policy-arm';
import { routeByScore, type RecordedScore } from './routing';
import type { Segment } from './segments';
import { sendTimeArmProbabilities, type SendTimeArm } from './send-time';
import { applyVariant, selectSequence, type SequenceCatalogue, type SequenceStep, type StepVariant } from './sequences';
import type { DecimalString } from './types';
import { experimentIdFor, experimentSegment, type AssignmentMode } from './variants';

export interface ActionSequence {
  readonly id: string;
  readonly version: number;
  readonly steps: readonly SequenceStep[];
}

export type PolicyAction =
  | { readonly treatment: 'silent' }
  | {
      readonly treatment: 'live';
      readonly sequence: { readonly id: string; readonly version: number; readonly signature: string };
      readonly sendTime: SendTimeArm;
      /** `none` (no incentive choice reached), `ladder`, or one level `ℓ %` ({@link incentiveArmKey}). */
      readonly incentive: string;
      /** The policy arm it ran under (RFC 0021), on a log that drew one. */
      readonly policyArm?: PolicyArm;
    };

/** The send-time draw a recovery started under: off, or on with the share of the `on` arm. */
export type SendTimeDraw = { readonly enabled: false } | { readonly enabled: true; readonly armPercent: number };

/** A step's variant as the recovery recorded it (`recovery.variant-assigned`). */
export interface LoggedVariant {
  readonly step: number;
  readonly experimentId: string;
  readonly variantId: string;
  readonly propensity: number;
  readonly mode: AssignmentMode;
  /** Every eligible variant's probability (Thompson); absent for adopted / only-variant (the one, 1). */
  readonly probabilities?: Readonly<Record<string, number>>;
  readonly overrides: Omit<StepVariant, 'id'>;
}

/** The recovery's incentive choice as it recorded it (`recovery.incentive-chosen`). */
export interface LoggedIncentive {
  readonly step: number;
  readonly percent: number;
  readonly mode: IncentiveMode;
  readonly propensity: number;
  readonly segment: string;
  /** The logging policy's distribution over the arms (absent on choices recorded before it was). */
  readonly probabilities?: Readonly<Record<string, number>>;
  /** The evidence the learned choice used (assigned / recovered per level). */
  readonly posteriors?: readonly LevelPosterior[];
}

/** What a recovery recorded that a policy's decision reads, and what was decided. */
export interface LoggedStart {
  readonly segments: readonly Segment[];
  readonly cartValue: DecimalString;
  /** The arm drawn. */
  readonly arm: RecoveryArm;
  /** The shares the arm was drawn with (`recovery.started` v3); `null`: not logged. */
  readonly armSettings: ArmSettings | null;
  /** The sequence selected (holdout recoveries record it too); `null`: none matched. */
  readonly sequence: ActionSequence | null;
  /** The send-time draw in force: the recovery's own (`recovery.send-time-assigned`), or the shop's then. */
  readonly sendTimeDraw: SendTimeDraw;
  /** The send-time arm drawn (`undefined` for a recovery that drew none). */
  readonly sendTimeArm?: SendTimeArm;
  /** The variants assigned at the start, one per step with variants (none: the steps as defined). */
  readonly variants?: readonly LoggedVariant[];
  /** The incentive choice, when the recovery reached one. */
  readonly incentive?: LoggedIncentive;
  /** The recovery score recorded at the start (`recovery.routed`), when the shop scored it. */
  readonly score?: RecordedScore;
  /** The policy arm drawn (`recovery.policy-arm-assigned`, RFC 0021) and the share it was drawn with. */
  readonly policyArm?: { readonly arm: PolicyArm; readonly controlPercent: number };
}

/** A candidate policy: the shop's engine settings (defaults with its settings applied) and a sequence catalogue. */
export interface CandidatePolicy {
  readonly config: Pick<
    RecoveryConfig,
    | 'holdoutPercent'
    | 'rolloutPercent'
    | 'shadowMode'
    | 'sendTime'
    | 'incentives'
    | 'experiments'
    | 'routing'
    | 'ticketThreshold'
    | 'channelChoice'
    | 'engagementScore'
    | 'policyControl'
  >;
  readonly catalogue: SequenceCatalogue;
}

export interface WeightedAction {
  readonly key: string;
  readonly action: PolicyAction;
  readonly probability: number;
}

/** What in a sequence changes what the customer receives: not its id, version, catalogue or variant list. */
export function sequenceSignature(steps: readonly SequenceStep[]): string {
  return JSON.stringify(
    steps.map((s) => [
      s.delayMs,
      [...s.channels],
      s.discountPercent,
      s.template,
      s.helpTemplate ?? null,
      s.subject ?? null,
      s.sendTime ?? null,
    ]),
  );
}

/** The start's part of an action (arm, sequence behaviour, send-time arm): what the reward model is keyed by. */
export function startKey(action: PolicyAction): string {
  return action.treatment === 'silent' ? 'silent' : `live ${action.sequence.signature} send-time:${action.sendTime}`;
}

export function actionKey(action: PolicyAction): string {
  if (action.treatment === 'silent') return 'silent';
  const arm = action.policyArm !== undefined ? ` policy:${action.policyArm}` : '';
  return `${startKey(action)} incentive:${action.incentive}${arm}`;
}

/** A short name for reports: `silent`, `live premium@3 send-time:on incentive:ladder`. */
export function actionLabel(action: PolicyAction): string {
  return action.treatment === 'silent'
    ? 'silent'
    : `live ${action.sequence.id}@${action.sequence.version} send-time:${action.sendTime} incentive:${action.incentive}` +
        (action.policyArm !== undefined ? ` policy:${action.policyArm}` : '');
}

/**
 * The live actions of a distribution run under a policy arm (RFC 0021): tagged with it and scaled
 * by the arm's probability; the silent action (drawn before the arm) is not.
 */
function underArm(actions: readonly WeightedAction[], arm: PolicyArm, share: number): WeightedAction[] {
  return actions.flatMap((a) => {
    if (a.action.treatment === 'silent') return [a];
    if (share <= 0) return [];
    const action: PolicyAction = { ...a.action, policyArm: arm };
    return [{ key: actionKey(action), action, probability: a.probability * share }];
  });
}

/** Two distributions mixed with weights `w` and `1 − w`, the same action's probabilities added. */
function mix(a: readonly WeightedAction[], b: readonly WeightedAction[], w: number): WeightedAction[] {
  const out = new Map<string, WeightedAction>();
  const add = (x: WeightedAction, p: number) => {
    if (p <= 0) return;
    const prev = out.get(x.key);
    out.set(x.key, { ...x, probability: (prev?.probability ?? 0) + p });
  };
  for (const x of a) add(x, x.action.treatment === 'silent' ? x.probability * w : x.probability);
  for (const x of b) add(x, x.action.treatment === 'silent' ? x.probability * (1 - w) : x.probability);
  return [...out.values()];
}

/** The steps with the variants applied. */
function withVariants(steps: readonly SequenceStep[], variants: ReadonlyMap<number, Omit<StepVariant, 'id'>>) {
  return steps.map((st) => {
    const o = variants.get(st.index);
    return o === undefined ? st : applyVariant(st, o);
  });
}

/** The sequence as the recovery ran it: the recorded variants applied. */
function loggedSteps(r: LoggedStart): readonly SequenceStep[] {
  if (r.sequence === null) return [];
  return withVariants(r.sequence.steps, new Map((r.variants ?? []).map((v) => [v.step, v.overrides])));
}

/** The incentive arm of a choice: `ladder`, or the level (a ladder of one percent is that level). */
function incentiveKeyOf(mode: IncentiveMode, percent: number, ladder: readonly number[]): string {
  if (!playsLadder(mode)) return incentiveArmKey({ kind: 'level', percent });
  if (ladderIsArm(ladder)) return 'ladder';
  return incentiveArmKey({ kind: 'level', percent: Math.max(0, ...ladder) });
}

/** The same canonical key for an arm key of `incentiveDistribution` on this ladder. */
function canonicalIncentiveKey(key: string, ladder: readonly number[]): string {
  return key === 'ladder' ? incentiveKeyOf('fixed', 0, ladder) : key;
}

type Behaviour = { readonly steps: readonly SequenceStep[]; readonly probability: number };

/** Behaviours (variant combinations) with their probabilities; per step independent draws. */
function combine(
  steps: readonly SequenceStep[],
  perStep: ReadonlyMap<number, readonly { overrides: Omit<StepVariant, 'id'>; probability: number }[]>,
): Behaviour[] {
  let combos: { variants: Map<number, Omit<StepVariant, 'id'>>; probability: number }[] = [
    { variants: new Map(), probability: 1 },
  ];
  for (const [step, options] of perStep) {
    const next: typeof combos = [];
    for (const c of combos) {
      for (const o of options) {
        if (o.probability <= 0) continue;
        next.push({
          variants: new Map([...c.variants, [step, o.overrides]]),
          probability: c.probability * o.probability,
        });
      }
    }
    combos = next;
  }
  return combos.map((c) => ({ steps: withVariants(steps, c.variants), probability: c.probability }));
}

function distribution(
  arms: { readonly [A in RecoveryArm]: number },
  sequence: { readonly id: string; readonly version: number } | null | undefined,
  behaviours: readonly Behaviour[],
  sendTime: SendTimeDraw,
  /** The incentive distribution on the logged behaviour (its signature), when the log reached a choice. */
  incentive: { readonly signature: string; readonly probabilities: ReadonlyMap<string, number> } | undefined,
): WeightedAction[] {
  const live = arms['live-treated'];
  const out = new Map<string, WeightedAction>();
  const add = (action: PolicyAction, probability: number) => {
    if (probability <= 0) return;
    const key = actionKey(action);
    const prev = out.get(key);
    out.set(key, { key, action, probability: (prev?.probability ?? 0) + probability });
  };
  const silent = sequence ? arms.holdout + arms.shadow + arms['outside-rollout'] : 1;
  add({ treatment: 'silent' }, silent);
  if (!sequence || live <= 0) return [...out.values()];
  const st = sendTime.enabled ? sendTimeArmProbabilities(sendTime.armPercent) : { on: 0, off: 1 };
  for (const b of behaviours) {
    const seq = { id: sequence.id, version: sequence.version, signature: sequenceSignature(b.steps) };
    const incentives =
      incentive !== undefined && incentive.signature === seq.signature
        ? incentive.probabilities
        : new Map([['none', 1]]);
    for (const arm of ['on', 'off'] as const) {
      for (const [inc, p] of incentives) {
        add({ treatment: 'live', sequence: seq, sendTime: arm, incentive: inc }, live * b.probability * st[arm] * p);
      }
    }
  }
  return [...out.values()];
}

/** The action the recovery took. */
export function loggedAction(r: LoggedStart): PolicyAction {
  if (r.arm !== 'live-treated' || r.sequence === null) return { treatment: 'silent' };
  const steps = loggedSteps(r);
  const inc = r.incentive;
  return {
    treatment: 'live',
    sequence: { id: r.sequence.id, version: r.sequence.version, signature: sequenceSignature(steps) },
    sendTime: r.sendTimeArm ?? 'off',
    incentive:
      inc === undefined
        ? 'none'
        : incentiveKeyOf(
            inc.mode,
            inc.percent,
            steps.map((s) => s.discountPercent),
          ),
    ...(r.policyArm !== undefined ? { policyArm: r.policyArm.arm } : {}),
  };
}

/** The logging policy's distribution over the incentive arms at the recorded choice. */
function loggedIncentive(r: LoggedStart, ladder: readonly number[]): Map<string, number> {
  const inc = r.incentive!;
  if (inc.probabilities !== undefined) {
    const out = new Map<string, number>();
    for (const [k, p] of Object.entries(inc.probabilities)) {
      const key = canonicalIncentiveKey(k, ladder);
      out.set(key, (out.get(key) ?? 0) + p);
    }
    return out;
  }
  // Recorded before the distribution was: only the arm taken is known (fixed: the ladder, certain).
  return new Map([[incentiveKeyOf(inc.mode, inc.percent, ladder), inc.mode === 'fixed' ? 1 : inc.propensity]]);
}

/**
 * The logging policy's probability of every action at this recovery; `undefined` when its arm shares
 * were not logged. On a log that drew a policy arm (RFC 0021) the live actions are those of the arm
 * drawn, times its probability: the other arm's would need decisions this recovery never made (its
 * variants, its incentive evidence), so a candidate's mass there is judged on the recoveries that
 * drew that arm (see `policyBacktest`'s unsupported share).
 */
export function loggedDistribution(r: LoggedStart): WeightedAction[] | undefined {
  const within = loggedWithinArm(r);
  if (within === undefined || r.policyArm === undefined) return within;
  const { arm, controlPercent } = r.policyArm;
  return underArm(within, arm, policyArmProbabilities(controlPercent)[arm]);
}

/**
 * How much of a candidate's action counts towards its unsupported share at this recovery when the
 * log gives it probability 0: all of it on a log without policy arms; on one with them (RFC 0021),
 * a live action of the arm this recovery drew counts divided by that arm's probability and one of
 * the other arm not at all — so that, over the log, each arm's unsupported mass is estimated on the
 * recoveries that drew it (an inverse-propensity estimate of the candidate's whole unsupported mass).
 */
export function unsupportedMass(a: WeightedAction, r: LoggedStart): number {
  if (r.policyArm === undefined || a.action.treatment === 'silent' || a.action.policyArm === undefined) {
    return a.probability;
  }
  if (a.action.policyArm !== r.policyArm.arm) return 0;
  const p = policyArmProbabilities(r.policyArm.controlPercent)[r.policyArm.arm];
  return p > 0 ? a.probability / p : a.probability;
}

/** The logging policy's distribution given the policy arm the recovery drew (all of it on a log without one). */
function loggedWithinArm(r: LoggedStart): WeightedAction[] | undefined {
  if (r.armSettings === null) return undefined;
  const arms = armProbabilities(r.armSettings);
  if (r.sequence === null) return distribution(arms, null, [], r.sendTimeDraw, undefined);
  // Per step with a recorded variant: the variants it could have drawn, with their probabilities.
  const perStep = new Map(
    (r.variants ?? []).map((v) => {
      const options = r.sequence!.steps[v.step]?.variants ?? [];
      const probs = v.probabilities ?? { [v.variantId]: 1 };
      return [
        v.step,
        Object.entries(probs).map(([id, probability]) => {
          const variant = options.find((o) => o.id === id);
          const overrides = id === v.variantId ? v.overrides : variant !== undefined ? overridesOf(variant) : undefined;
          return { overrides: overrides ?? v.overrides, probability: overrides === undefined ? 0 : probability };
        }),
      ] as const;
    }),
  );
  const behaviours = combine(r.sequence.steps, perStep);
  const steps = loggedSteps(r);
  const incentive =
    r.incentive === undefined || r.arm !== 'live-treated'
      ? undefined
      : {
          signature: sequenceSignature(steps),
          probabilities: loggedIncentive(
            r,
            steps.map((s) => s.discountPercent),
          ),
        };
  return distribution(arms, r.sequence, behaviours, r.sendTimeDraw, incentive);
}

function overridesOf(v: StepVariant): Omit<StepVariant, 'id'> {
  const { id: _id, ...rest } = v;
  return rest;
}

/**
 * The candidate's variants per step of its sequence: none when its experiments are off or the step
 * has none; the logged draw's probabilities when the log ran the same experiment with the same
 * variants (the candidate would have seen the same evidence); else uniform (an experiment the log
 * never ran starts without evidence, where Thompson sampling draws every variant alike).
 */
function candidateVariants(
  policy: CandidatePolicy,
  sequence: { readonly id: string; readonly version: number; readonly steps: readonly SequenceStep[] },
  r: LoggedStart,
): Map<number, { overrides: Omit<StepVariant, 'id'>; probability: number }[]> {
  const out = new Map<number, { overrides: Omit<StepVariant, 'id'>; probability: number }[]>();
  if (!experimentSettingsOf(policy.config as RecoveryConfig).enabled) return out;
  const segment = experimentSegment(r.segments);
  for (const step of sequence.steps) {
    const variants = step.variants ?? [];
    if (variants.length === 0) continue;
    const experimentId = experimentIdFor(sequence.id, sequence.version, step.index, segment);
    const logged = (r.variants ?? []).find((v) => v.experimentId === experimentId);
    const loggedOptions = r.sequence?.steps[step.index]?.variants ?? [];
    const same = logged !== undefined && JSON.stringify(loggedOptions) === JSON.stringify(variants);
    const probs = same ? (logged.probabilities ?? { [logged.variantId]: 1 }) : undefined;
    out.set(
      step.index,
      variants.map((v) => ({
        overrides: overridesOf(v),
        probability: probs !== undefined ? (probs[v.id] ?? 0) : 1 / variants.length,
      })),
    );
  }
  return out;
}

/**
 * The candidate's probability of every action at this recovery: its arm shares, the sequence its
 * routing by score picks on the recorded score, else its catalogue selects for the recorded
 * segments and cart value (first match wins), its variants, its
 * send-time draw, and — where the log reached an incentive choice — its incentive policy at that
 * choice: `fixed` plays the ladder; `learned` its exploration arms and its exploit level computed
 * with the candidate's settings on the evidence the logged choice recorded (none recorded: the
 * prior only).
 */
export function candidateDistribution(policy: CandidatePolicy, r: LoggedStart): WeightedAction[] {
  if (r.policyArm === undefined) return candidateWithinArm(policy, r);
  // A log that drew a policy arm (RFC 0021): the candidate plays the fixed rules with its share of the
  // rules arm (all of it when its settings are the rules, else its own control share) and its own
  // settings with the rest — the arm as one more randomised part of the action.
  const c = fixedRulesShare(policy.config);
  const rules = underArm(
    candidateWithinArm({ ...policy, config: fixedRulesConfig(policy.config) }, r),
    'fixed-rules',
    c,
  );
  const own = underArm(candidateWithinArm(policy, r), 'shop-policy', 1 - c);
  return mix(rules, own, c);
}

/**
 * The candidate's distribution under one set of settings (its own, or the fixed rules it plays on a
 * rules arm).
 */
function candidateWithinArm(policy: CandidatePolicy, r: LoggedStart): WeightedAction[] {
  // Routing by score (./routing.ts) is deterministic given the recorded score: the candidate's own
  // thresholds and band sequences on it; no score recorded (or none in force): the catalogue's match.
  const route =
    r.score === undefined
      ? undefined
      : routeByScore(policy.config.routing, r.score, r.cartValue, policy.config.ticketThreshold);
  const banded =
    route?.sequenceId === undefined ? undefined : policy.catalogue.sequences.find((q) => q.id === route.sequenceId);
  const sequence = banded ?? selectSequence(r.segments, { value: r.cartValue }, policy.catalogue);
  const sendTime: SendTimeDraw = policy.config.sendTime.enabled
    ? { enabled: true, armPercent: policy.config.sendTime.armPercent }
    : { enabled: false };
  const arms = armProbabilities(policy.config);
  if (!sequence) return distribution(arms, null, [], sendTime, undefined);
  // A recovery that sent nothing recorded no variants (the holdout draws none): its outcome does
  // not depend on them, and which the logging policy would have drawn is unknown, so the steps as
  // defined stand for the live actions under both policies (only its silent weight counts).
  const behaviours = combine(
    sequence.steps,
    r.arm === 'live-treated' ? candidateVariants(policy, sequence, r) : new Map(),
  );
  let incentive: { signature: string; probabilities: Map<string, number> } | undefined;
  if (r.incentive !== undefined && r.arm === 'live-treated') {
    const steps = loggedSteps(r);
    const ladder = steps.map((s) => s.discountPercent);
    const posteriors = r.incentive.posteriors;
    const view = incentiveDistribution({
      ladder,
      cartValue: r.cartValue,
      segment: r.incentive.segment,
      settings: policy.config.incentives,
      ...(posteriors !== undefined
        ? {
            evidence: {
              segment: r.incentive.segment,
              levels: posteriors.map((p) => ({ percent: p.percent, assigned: p.assigned, recovered: p.recovered })),
            },
          }
        : {}),
    });
    const probabilities = new Map<string, number>();
    for (const [k, p] of view.probabilities) {
      const key = canonicalIncentiveKey(k, ladder);
      probabilities.set(key, (probabilities.get(key) ?? 0) + p);
    }
    incentive = { signature: sequenceSignature(steps), probabilities };
  }
  return distribution(arms, sequence, behaviours, sendTime, incentive);
}

/**
 * A recovery's action as a policy decides it at the start, as far as the outcome can depend on it,
 * and the probability of each action under a policy — the logged one (from what the recovery
 * recorded) or a candidate's (running the engine's own decision code on the recorded inputs). An
 * off-policy estimate (policy backtest) weighs each logged outcome by the ratio of the two.
 *
 * The action of one recovery:
 * - `silent`: nothing is sent — the holdout, shadow and outside-rollout arms alike (the outcome of a
 *   recovery that sent nothing does not depend on which of them it was in);
 * - `live` with the selected sequence's behaviour (step delays, channels, discounts, templates: two
 *   versions that behave alike are one action) and the send-time arm (`off` when send-time
 *   optimisation is off: nominal times, as the control arm keeps).
 *
 * Deterministic parts (the sequence) have probability 1 for the one chosen; randomised parts (the
 * arm draw, the send-time draw) their drawn probabilities (`armProbabilities`,
 * `sendTimeArmProbabilities`), the functions the process manager draws with.
 */
import { armProbabilities, type ArmSettings, type RecoveryArm } from './arms';
import type { RecoveryConfig } from './config';
import type { Segment } from './segments';
import { sendTimeArmProbabilities, type SendTimeArm } from './send-time';
import { selectSequence, type SequenceCatalogue, type SequenceStep } from './sequences';
import type { DecimalString } from './types';

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
    };

/** The send-time draw a recovery started under: off, or on with the share of the `on` arm. */
export type SendTimeDraw = { readonly enabled: false } | { readonly enabled: true; readonly armPercent: number };

/** What a recovery recorded at its start that a policy's decision reads, and what was decided. */
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
}

/** A candidate policy: the shop's engine settings (defaults with its settings applied) and a sequence catalogue. */
export interface CandidatePolicy {
  readonly config: Pick<RecoveryConfig, 'holdoutPercent' | 'rolloutPercent' | 'shadowMode' | 'sendTime'>;
  readonly catalogue: SequenceCatalogue;
}

export interface WeightedAction {
  readonly key: string;
  readonly action: PolicyAction;
  readonly probability: number;
}

/** What in a sequence changes what the customer receives: not its id, version or catalogue. */
export function sequenceSignature(steps: readonly SequenceStep[]): string {
  return JSON.stringify(
    steps.map((s) => [s.delayMs, [...s.channels], s.discountPercent, s.template, s.helpTemplate ?? null]),
  );
}

export function actionKey(action: PolicyAction): string {
  return action.treatment === 'silent' ? 'silent' : `live ${action.sequence.signature} send-time:${action.sendTime}`;
}

/** A short name for reports: `silent`, `live premium@3 send-time:on`. */
export function actionLabel(action: PolicyAction): string {
  return action.treatment === 'silent'
    ? 'silent'
    : `live ${action.sequence.id}@${action.sequence.version} send-time:${action.sendTime}`;
}

function distribution(
  arms: { readonly [A in RecoveryArm]: number },
  sequence: ActionSequence | null | undefined,
  sendTime: SendTimeDraw,
): WeightedAction[] {
  const live = arms['live-treated'];
  const out: WeightedAction[] = [];
  const silent = sequence ? arms.holdout + arms.shadow + arms['outside-rollout'] : 1;
  if (silent > 0) out.push({ key: 'silent', action: { treatment: 'silent' }, probability: silent });
  if (!sequence || live <= 0) return out;
  const seq = { id: sequence.id, version: sequence.version, signature: sequenceSignature(sequence.steps) };
  const st = sendTime.enabled ? sendTimeArmProbabilities(sendTime.armPercent) : { on: 0, off: 1 };
  for (const arm of ['on', 'off'] as const) {
    if (st[arm] <= 0) continue;
    const action: PolicyAction = { treatment: 'live', sequence: seq, sendTime: arm };
    out.push({ key: actionKey(action), action, probability: live * st[arm] });
  }
  return out;
}

/** The action the recovery took. */
export function loggedAction(r: LoggedStart): PolicyAction {
  if (r.arm !== 'live-treated' || r.sequence === null) return { treatment: 'silent' };
  return {
    treatment: 'live',
    sequence: { id: r.sequence.id, version: r.sequence.version, signature: sequenceSignature(r.sequence.steps) },
    sendTime: r.sendTimeArm ?? 'off',
  };
}

/** The logging policy's probability of every action at this recovery; `undefined` when its arm shares were not logged. */
export function loggedDistribution(r: LoggedStart): WeightedAction[] | undefined {
  if (r.armSettings === null) return undefined;
  return distribution(armProbabilities(r.armSettings), r.sequence, r.sendTimeDraw);
}

/**
 * The candidate's probability of every action at this recovery: its arm shares, the sequence its
 * catalogue selects for the recorded segments and cart value (first match wins), its send-time draw.
 */
export function candidateDistribution(policy: CandidatePolicy, r: LoggedStart): WeightedAction[] {
  const sequence = selectSequence(r.segments, { value: r.cartValue }, policy.catalogue);
  const sendTime: SendTimeDraw = policy.config.sendTime.enabled
    ? { enabled: true, armPercent: policy.config.sendTime.armPercent }
    : { enabled: false };
  return distribution(armProbabilities(policy.config), sequence, sendTime);
}

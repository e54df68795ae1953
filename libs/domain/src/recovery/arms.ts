/**
 * The experiment arm of a recovery, fixed when it starts and recorded on `recovery.started` (v2):
 *
 * - `holdout`: drawn into the holdout share; nothing is sent, ever (the control group).
 * - `live-treated`: sends live messages.
 * - `shadow`: the shop runs in shadow mode; every decision is made and recorded, nothing is sent.
 * - `outside-rollout`: the shop is live but this recovery fell outside the rollout share; it runs
 *   in shadow like the previous arm.
 *
 * Lift is `live-treated` vs `holdout` only: shadow and outside-rollout recoveries received nothing,
 * so counting them as treated would dilute the measured effect exactly during a staged rollout.
 */
import type { SendMode } from './pre-send';

export const RECOVERY_ARMS = ['holdout', 'live-treated', 'shadow', 'outside-rollout'] as const;
export type RecoveryArm = (typeof RECOVERY_ARMS)[number];

/**
 * The arm from the two draws made at the start: the holdout draw wins (a holdout recovery sends
 * nothing whatever the mode), then the send mode. Also the upcasting rule for `recovery.started` v1,
 * which recorded both draws but not the arm.
 */
export function recoveryArm(holdout: boolean, mode: SendMode): RecoveryArm {
  if (holdout) return 'holdout';
  if (mode.kind === 'live') return 'live-treated';
  return mode.reason === 'shadow-mode' ? 'shadow' : 'outside-rollout';
}

/** The settings the arm is drawn under (the shop's, as in force when the recovery starts). */
export interface ArmSettings {
  /** 0-100: share drawn into the holdout. */
  readonly holdoutPercent: number;
  /** 0-100: share of the non-holdout recoveries that send live (the rest run in shadow). */
  readonly rolloutPercent: number;
  readonly shadowMode: boolean;
}

export interface ArmDraw {
  readonly holdout: boolean;
  readonly mode: SendMode;
  readonly arm: RecoveryArm;
  /** The probability of the arm drawn under the settings (what an off-policy estimate divides by). */
  readonly propensity: number;
}

const share = (percent: number): number => Math.min(1, Math.max(0, percent / 100));

/** The probability of each arm under the settings: what {@link drawArm} draws from. */
export function armProbabilities(settings: ArmSettings): { readonly [A in RecoveryArm]: number } {
  const h = share(settings.holdoutPercent);
  const r = share(settings.rolloutPercent);
  return settings.shadowMode
    ? { holdout: h, 'live-treated': 0, shadow: 1 - h, 'outside-rollout': 0 }
    : { holdout: h, 'live-treated': (1 - h) * r, shadow: 0, 'outside-rollout': (1 - h) * (1 - r) };
}

/**
 * The arm from one uniform draw in [0, 1): holdout when `random < h`; otherwise the draw rescaled to
 * the rest decides the rollout (`(random − h) / (1 − h) < r` sends live). Shadow mode wins over the
 * rollout. The one place the engine draws the arm (./recovery-start.ts) and a backtest reads it.
 */
export function drawArm(settings: ArmSettings, random: number): ArmDraw {
  const h = settings.holdoutPercent / 100;
  const holdout = random < h;
  const rolloutDraw = h < 1 ? (random - h) / (1 - h) : 1;
  const mode: SendMode = settings.shadowMode
    ? { kind: 'shadow', reason: 'shadow-mode' }
    : rolloutDraw < settings.rolloutPercent / 100
      ? { kind: 'live' }
      : { kind: 'shadow', reason: 'outside-rollout' };
  const arm = recoveryArm(holdout, mode);
  return { holdout, mode, arm, propensity: armProbabilities(settings)[arm] };
}

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

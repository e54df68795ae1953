/**
 * The reward of one recovery, shared by the experiments (Thompson sampling over variants) and the
 * learned discount policy: the net revenue the recovery brought within the attribution window —
 * the order's value less the discount it cost — and 0 when it was not recovered in that window.
 *
 * Rewards are delayed: an outcome counts as evidence only once it is final, i.e. the recovery was
 * recovered (a purchase at most `attributionWindowMs` after the decision), or the window closed,
 * or the recovery ended without a purchase. Until then it is pending and counts nowhere.
 */
import Decimal from 'decimal.js';
import { isDecimalString } from './money';
import { RecoveryInputError, toMs } from './time';
import type { DecimalString, IsoTimestamp } from './types';

export interface RewardInput {
  /** The cart was bought within the attribution window of the decision. */
  readonly recovered: boolean;
  /** What the order was worth before the discount (shop currency); required when recovered. */
  readonly orderValue?: DecimalString;
  /** What the discount took off the order (0 without one). */
  readonly discountCost?: DecimalString;
}

/** Net revenue = order value − discount cost (never below 0), or 0 when not recovered. */
export function recoveryReward(input: RewardInput): DecimalString {
  if (!input.recovered) return '0';
  const value = input.orderValue;
  if (value === undefined || !isDecimalString(value)) {
    throw new RecoveryInputError('orderValue must be a non-negative decimal when the recovery was recovered');
  }
  const cost = input.discountCost ?? '0';
  if (!isDecimalString(cost)) throw new RecoveryInputError('discountCost must be a non-negative decimal');
  return Decimal.max(new Decimal(value).minus(cost), 0).toFixed();
}

export interface RewardTiming {
  /** When the choice (variant, incentive level) was made. */
  readonly decidedAt: IsoTimestamp;
  /** When the cart was bought, if it was. */
  readonly purchasedAt?: IsoTimestamp;
  /** When the recovery ended for another reason than a purchase (completed, opted out, deleted). */
  readonly endedWithoutPurchaseAt?: IsoTimestamp;
  readonly attributionWindowMs: number;
  readonly now: IsoTimestamp;
}

export type RewardStatus = { readonly kind: 'pending' } | { readonly kind: 'final'; readonly recovered: boolean };

/**
 * Whether an outcome is final yet, and whether it counts as recovered: a purchase within the
 * window is a recovery; a purchase after it, a recovery that ended without one, or a window that
 * closed without one are not; anything else is still pending.
 */
export function rewardStatus(t: RewardTiming): RewardStatus {
  const decided = toMs(t.decidedAt);
  const windowEnd = decided + t.attributionWindowMs;
  if (t.purchasedAt !== undefined) {
    const at = toMs(t.purchasedAt);
    if (at <= windowEnd) return { kind: 'final', recovered: true };
    return { kind: 'final', recovered: false };
  }
  if (t.endedWithoutPurchaseAt !== undefined) return { kind: 'final', recovered: false };
  if (toMs(t.now) > windowEnd) return { kind: 'final', recovered: false };
  return { kind: 'pending' };
}

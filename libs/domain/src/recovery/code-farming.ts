/**
 * Code farmers (RFC 0017): shoppers who abandon carts to be sent a code, then buy with it, again
 * and again. A **code purchase** is an order of the customer whose discount codes include a code a
 * recovery message sent to that customer (the recovery started from an abandoned cart, so each is
 * one abandon → code → buy). A customer is a code farmer when, among what happened within
 * `windowDays` before now:
 *
 *   code purchases ≥ minCodePurchases  and  code purchases / orders ≥ minCodeOrderShare
 *
 * (orders = all their orders in the window, with or without a code). The second condition spares a
 * loyal customer who buys often at full price and used two codes along the way. A farmer still gets
 * every message of a sequence, without a code (`recovery.discount-withheld{reason: 'code-farmer'}`).
 * Pure: the history comes in as data.
 */
import type { CodeFarmingSettings } from './incentives';
import { RecoveryInputError, toMs } from './time';
import { DAY } from './time';
import type { IsoTimestamp } from './types';

export interface CodePurchase {
  readonly recoveryId: string;
  readonly orderId: string;
  readonly code: string;
  readonly placedAt: IsoTimestamp;
}

export interface CodeFarmingHistory {
  /** Orders of the customer that used a code a recovery message had sent them. */
  readonly codePurchases: readonly CodePurchase[];
  /** Order times of the customer (all orders, with a code or not). */
  readonly orderTimes: readonly IsoTimestamp[];
}

/** What `customer.code-farming-detected` records: the pattern and the evidence it rests on. */
export interface CodeFarmingEvidence {
  readonly codePurchases: readonly CodePurchase[];
  readonly orders: number;
  /** code purchases / orders in the window, rounded to 4 places. */
  readonly codeOrderShare: number;
  readonly windowDays: number;
  readonly minCodePurchases: number;
  readonly minCodeOrderShare: number;
}

export function checkCodeFarmingSettings(s: CodeFarmingSettings, field = 'incentives.codeFarming'): void {
  if (!Number.isInteger(s.minCodePurchases) || s.minCodePurchases < 1) {
    throw new RecoveryInputError(`${field}.minCodePurchases must be an integer of at least 1`);
  }
  if (!(s.windowDays > 0)) throw new RecoveryInputError(`${field}.windowDays must be above 0`);
  if (!(s.minCodeOrderShare >= 0 && s.minCodeOrderShare <= 1)) {
    throw new RecoveryInputError(`${field}.minCodeOrderShare must be from 0 to 1`);
  }
}

/** The evidence when the customer's history matches the pattern, else `undefined`. */
export function detectCodeFarming(
  history: CodeFarmingHistory,
  settings: CodeFarmingSettings,
  now: IsoTimestamp,
): CodeFarmingEvidence | undefined {
  if (!settings.enabled) return undefined;
  checkCodeFarmingSettings(settings);
  const end = toMs(now);
  const start = end - settings.windowDays * DAY;
  const inWindow = (at: IsoTimestamp) => {
    const ms = toMs(at);
    return ms >= start && ms <= end;
  };
  // One purchase per order (an order may carry two of the customer's codes).
  const byOrder = new Map<string, CodePurchase>();
  for (const p of history.codePurchases) if (inWindow(p.placedAt) && !byOrder.has(p.orderId)) byOrder.set(p.orderId, p);
  const purchases = [...byOrder.values()].sort((a, b) => toMs(a.placedAt) - toMs(b.placedAt));
  const orders = Math.max(history.orderTimes.filter(inWindow).length, purchases.length);
  if (purchases.length < settings.minCodePurchases || orders === 0) return undefined;
  const share = purchases.length / orders;
  if (share < settings.minCodeOrderShare) return undefined;
  return {
    codePurchases: purchases,
    orders,
    codeOrderShare: Math.round(share * 10_000) / 10_000,
    windowDays: settings.windowDays,
    minCodePurchases: settings.minCodePurchases,
    minCodeOrderShare: settings.minCodeOrderShare,
  };
}

/** The evidence in one line, for the customer history. */
export function describeCodeFarming(e: CodeFarmingEvidence): string {
  return (
    `${e.codePurchases.length} purchases with a recovery code in ${e.windowDays} days ` +
    `(${e.codePurchases.length} of ${e.orders} orders, ${Math.round(e.codeOrderShare * 100)} %; ` +
    `thresholds ${e.minCodePurchases} purchases and ${Math.round(e.minCodeOrderShare * 100)} %)`
  );
}

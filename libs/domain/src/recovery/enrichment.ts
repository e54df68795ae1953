/**
 * What the merchant's marketing platform (Klaviyo) knows about the shopper, as recorded when a
 * recovery starts (`recovery.enriched`), or why it could not be had (`recovery.enrichment-unavailable`).
 * The recovery decides on these recorded facts only: a replay or a rebuild folds the event, it never
 * asks the platform again. No personal data: ids, names of the merchant's own segments and lists,
 * consent states, dates and amounts (decimal strings, never floats).
 */
import type { SegmentThresholds } from './config';
import { gte, isDecimalString } from './money';
import type { Segment } from './segments';
import type { DecimalString, IsoTimestamp } from './types';

export type EnrichmentSource = 'klaviyo';

/** Klaviyo's predictive analytics, where the account has them (each field may be missing). */
export interface PredictiveFacts {
  /** Total value of the orders already placed (the profile's currency). */
  readonly historicClv?: DecimalString;
  readonly predictedClv?: DecimalString;
  readonly historicOrders?: number;
  readonly averageOrderValue?: DecimalString;
  /** 0..1 */
  readonly churnProbability?: number;
  readonly expectedDateOfNextOrder?: IsoTimestamp;
}

export interface NamedGroup {
  readonly id: string;
  readonly name: string;
}

export interface ProfileEnrichment {
  readonly source: EnrichmentSource;
  /** False when the platform has no profile for the address (the other fields are then empty). */
  readonly profileFound: boolean;
  readonly predictive?: PredictiveFacts;
  readonly segments: readonly NamedGroup[];
  readonly lists: readonly NamedGroup[];
  /** Marketing consent as the platform states it (SUBSCRIBED, UNSUBSCRIBED, NEVER_SUBSCRIBED…). */
  readonly consent: { readonly email?: string; readonly sms?: string };
  /** The profile's most recent event of any kind (recent engagement). */
  readonly lastEventAt?: IsoTimestamp;
}

/** Why enrichment could not be had: the recovery goes on without it. */
export type EnrichmentUnavailableReason =
  'timeout' | 'throttled' | 'refused' | 'error' | 'no-email-address' | 'not-configured';

/** A segment or list name that marks a VIP in the merchant's own platform (e.g. "VIP", "VIP customers"). */
const VIP_NAME = /\bvip\b/i;

/**
 * The segments the recorded facts add to Reclaim's own (rules, not a model): `vip` when the
 * shopper is in a Klaviyo segment or list named VIP, or when Klaviyo's historic CLV reaches the
 * shop's VIP spend threshold. Returns only segments not already present.
 */
export function segmentsFromEnrichment(
  enrichment: ProfileEnrichment,
  current: readonly Segment[],
  thresholds: SegmentThresholds,
): Segment[] {
  const added: Segment[] = [];
  if (!enrichment.profileFound) return added;
  const vipGroup = [...enrichment.segments, ...enrichment.lists].some((g) => VIP_NAME.test(g.name));
  const clv = enrichment.predictive?.historicClv;
  const highClv = clv !== undefined && isDecimalString(clv) && gte(clv, thresholds.vipMinTotalSpent);
  if ((vipGroup || highClv) && !current.includes('vip')) added.push('vip');
  return added;
}

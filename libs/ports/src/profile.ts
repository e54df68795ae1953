import type { EnrichmentSource, ProfileEnrichment } from '@reclaim/domain';

/** Reclaim's segment and recovery context, pushed to the customer's marketing profile. */
export interface RecoveryProfileContext {
  readonly segments: readonly string[];
  readonly recoveryId: string;
  readonly recoveryStatus: string;
  /** The last step sent or due, when there is one. */
  readonly step?: number;
  /** Decimal string. */
  readonly cartValue?: string;
  readonly currency?: string;
  readonly at: Date;
}

/**
 * Pushes the recovery context to the customer's profile at the merchant's marketing provider
 * (Klaviyo), so its own segments and flows can use it. Create-or-update by email: repeating a
 * push converges. Throws the typed provider errors of `./errors`.
 */
export interface RecoveryProfileSync {
  push(email: string, context: RecoveryProfileContext): Promise<void>;
}

/**
 * Reads what the merchant's marketing platform knows about a shopper (Klaviyo: predictive analytics,
 * segment and list membership, consent, last activity), for the recovery to record as a fact. One
 * short attempt: the caller records "unavailable" on any error instead of waiting. Throws the typed
 * provider errors of `./errors` (a timeout is a `RetryableProviderError` whose code says so).
 */
export interface ProfileEnricher {
  readonly source: EnrichmentSource;
  enrich(email: string): Promise<ProfileEnrichment>;
}

import type { Platform } from '@reclaim/domain';

/**
 * What the use cases and adapters report for `/metrics`. Implemented by the appliance's metrics
 * registry (libs/read-models/src/metrics); labels are bounded (platform, topic, outcome kinds),
 * never ids or addresses.
 */
export interface WebhookMetrics {
  delivery(platform: Platform, topic: string, outcome: string): void;
}

/**
 * What the effect runner reports: a request put back (`deferred` by an outside system, or `retried`
 * because its handler threw) and one `dropped` after its last attempt.
 */
export interface EffectMetrics {
  effectRequest(kind: string, outcome: 'deferred' | 'retried' | 'dropped'): void;
}

/** What provider adapters (email, SMS, tickets, store APIs) report. */
export interface ProviderMetrics {
  send(channel: string, outcome: string): void;
  providerError(provider: string, kind: string): void;
  rateLimitWait(provider: string, waitedMs: number): void;
}

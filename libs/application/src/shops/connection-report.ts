import type { Platform } from '@reclaim/domain';
import type { StoreConnectionError } from '@reclaim/ports';
import type { RegisterShopInput } from './shop-registry';
import type { SubscriptionStatus } from './subscription-plan';

/** The shape of a shop's connection as the admin API shows it, and the one-line problem of it. */

export type CredentialStatus =
  | { readonly status: 'ok' }
  | { readonly status: 'failed'; readonly failure: StoreConnectionError['failure']; readonly message: string }
  | { readonly status: 'unchecked'; readonly reason: string };

/** What `GET /api/shops/:id/connection` shows. Never a secret. */
export interface ConnectionReport {
  readonly platform: Platform;
  /** False: the merchant creates the subscriptions by hand; `subscriptions` says which are missing. */
  readonly registerWebhooks: boolean;
  readonly checkedAt: string;
  readonly credentials: CredentialStatus;
  readonly scopes?: { readonly required: readonly string[]; readonly granted: readonly string[] };
  readonly subscriptions: readonly SubscriptionStatus[];
  /** Topics the call created or repaired on the platform. */
  readonly changed?: { readonly created: readonly string[]; readonly updated: readonly string[] };
}

export interface ConnectShopInput extends RegisterShopInput {
  /** Default true: create (or repair) the subscriptions on the platform. */
  readonly registerWebhooks?: boolean;
}

/** How often the appliance checks every shop's connection (credentials and subscriptions). */
export const CONNECTION_CHECK_INTERVAL_MS = 60 * 60 * 1000;

/**
 * What is wrong with a connection, in one line, or null: refused credentials, and subscriptions
 * missing or drifted (deliveries would not arrive). `manual` and `unchecked` ones are not counted.
 */
export function problemOf(report: ConnectionReport): string | null {
  if (report.credentials.status === 'failed') return report.credentials.message;
  const bad = report.subscriptions.filter((s) => s.state === 'missing' || s.state === 'drifted');
  if (bad.length === 0) return null;
  return `webhook subscriptions not right: ${bad
    .map((s) => `${s.topic} ${s.state}${s.drift ? ` (${s.drift.join(', ')})` : ''}`)
    .join('; ')}`;
}

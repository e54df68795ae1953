/**
 * Engagement a provider measured on the messages it delivered (Klaviyo's opens, clicks, bounces and
 * spam complaints of the e-mails its flow sent for Reclaim's events), read back by polling with a
 * durable cursor.
 */

/** One engagement, matched to Reclaim's message by its idempotency key (`<recoveryId>:step-<n>:<channel>`). */
export interface ProviderEngagement {
  /** The provider's id of the engagement event (for logs; duplicates are harmless). */
  readonly id: string;
  /** `complained`: the recipient marked the e-mail as spam (the provider's feedback loop). */
  readonly kind: 'opened' | 'clicked' | 'bounced' | 'complained';
  /** When it happened (ISO-8601). */
  readonly at: string;
  readonly messageKey: string;
  /** Clicks: the URL clicked, when the provider says. */
  readonly targetUrl?: string;
}

/** A JSON value the source gives back with each page and gets again at the next poll (stored durably). */
export type EngagementCursor = Readonly<Record<string, unknown>>;

export interface EngagementSource {
  /** `klaviyo`. */
  readonly source: string;
  /**
   * The engagement after `cursor` (all of it the provider still has from `since` on a first poll),
   * and the cursor to store once it is recorded. Throws the typed provider errors of `./errors`.
   */
  poll(
    cursor: EngagementCursor | undefined,
    since: Date,
  ): Promise<{ items: ProviderEngagement[]; cursor: EngagementCursor }>;
}

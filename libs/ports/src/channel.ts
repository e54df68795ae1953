import type { Channel } from '@reclaim/domain';

/** One e-mail, SMS or push notification to send. Adapters: libs/providers (SMTP, Klaviyo, Twilio); push: ./push.ts. */
export interface ChannelMessage {
  /** `<recoveryId>:step-<n>:<channel>`: the provider must dedupe on it (Klaviyo unique_id, SMTP Message-ID…). */
  readonly idempotencyKey: string;
  readonly channel: Channel;
  /** Clear-text address or E.164 phone, opened from the vault just before the call. Never logged. */
  readonly to: string;
  readonly subject?: string;
  readonly html?: string;
  readonly text?: string;
  /** E-mail headers, e.g. List-Unsubscribe (R25). */
  readonly headers?: Readonly<Record<string, string>>;
  /** SMS body. */
  readonly body?: string;
  /**
   * Template mode (Klaviyo): the message as structured properties for the merchant's own template,
   * sent instead of `subject`/`html`/`text` by a provider that renders itself; others ignore it.
   */
  readonly templateProperties?: Readonly<Record<string, unknown>>;
  /** Who and what the message is about (ids only, no personal data): for outbox-style channels and logs. */
  readonly context?: {
    readonly shopId: string;
    readonly recoveryId: string;
    readonly step: number;
    readonly customerKey?: string;
  };
}

export type ChannelLookupResult =
  | { readonly status: 'sent'; readonly messageId: string }
  | { readonly status: 'not-sent' }
  | { readonly status: 'unknown' };

/** E-mail or SMS provider. Throws the typed provider errors of `./errors`. */
export interface ChannelPort {
  send(message: ChannelMessage): Promise<{ readonly messageId: string }>;
  /** Reconciliation after an unknown outcome (R2): did a message with this key go out? */
  lookup(idempotencyKey: string): Promise<ChannelLookupResult>;
}

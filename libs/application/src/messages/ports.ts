import type { Channel } from '@reclaim/domain';
import type { TemplateSource } from './template-engine';

/**
 * Ports the message links need from the rest of the appliance. The HTTP controllers in
 * apps/reclaim/src/http/messages call them after a token has been verified; nothing is recorded
 * for a tampered or expired token.
 */

export interface UnsubscribeRequest {
  readonly shopId: string;
  readonly customerKey: string;
  readonly channel: Channel;
  readonly recoveryId: string;
  readonly step: number;
  readonly at: Date;
  /** `one-click`: RFC 8058 POST from the mailbox provider; `link`: the confirmation page's form. */
  readonly source: 'one-click' | 'link';
}

/**
 * Suppresses the customer before the next send (R25): implemented with the customer decider
 * (consent changed to unsubscribed) plus a `recovery.*` record. Must be idempotent: mailbox
 * providers may POST the same link more than once.
 */
export interface UnsubscribeRecorder {
  recordUnsubscribe(request: UnsubscribeRequest): Promise<void>;
}

export interface EngagementSubject {
  readonly shopId: string;
  readonly customerKey: string;
  readonly channel: Channel;
  readonly recoveryId: string;
  readonly step: number;
  readonly at: Date;
}

/** Records MessageOpened / MessageClicked (used for fatigue and last-click attribution). */
export interface EngagementRecorder {
  recordOpened(subject: EngagementSubject): Promise<void>;
  recordClicked(subject: EngagementSubject & { readonly target: string }): Promise<void>;
  /** The shopper followed the "notify me" link of a sold-out line (`/t/n/<token>`). */
  recordBackInStockRequest?(subject: EngagementSubject & { readonly lineId: string }): Promise<void>;
}

/**
 * The hosts a shop's click links may redirect to: its storefront domain(s) and configured aliases
 * (for example a custom domain in front of `*.myshopify.com`). `undefined` for an unknown shop.
 */
/** The link names a shop that no longer exists (removed or redacted): nothing more will be sent to anyone from it. */
export class ShopGoneError extends Error {
  constructor(readonly shopId: string) {
    super('the shop of this link no longer exists');
    this.name = 'ShopGoneError';
  }
}

export interface ShopDomains {
  allowedHosts(shopId: string): Promise<readonly string[] | undefined>;
}

/** Per-shop template overrides (validated with `validateTemplate` when saved). */
export interface TemplateOverrides {
  findTemplate(shopId: string, templateId: string, channel: Channel): Promise<TemplateSource | undefined>;
}

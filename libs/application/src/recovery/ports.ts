/**
 * Ports of the recovery engine: everything outside Reclaim that a recovery touches. Real adapters
 * live in libs/providers (SMTP, Klaviyo, Twilio, Gorgias, Zendesk) and libs/platforms (store
 * APIs); test doubles in libs/testing/src/fakes. Every call that creates something carries an
 * idempotency key, so a retry after a crash never creates a second message, ticket or code.
 */
import type { Channel, RecoveryItem, StockLine } from '@reclaim/domain';

// ---------------------------------------------------------------- provider errors

/** The provider refused for now (429, 5xx, connection refused before sending): try again later. */
export class RetryableProviderError extends Error {
  constructor(
    message: string,
    /** From `Retry-After`, when the provider sent one. */
    readonly retryAfterMs?: number,
    /** HTTP status or provider code, recorded in events (never personal data). */
    readonly code?: string,
  ) {
    super(message);
    this.name = 'RetryableProviderError';
  }
}

/** The provider refused for good (400, invalid recipient, account suspended): do not retry. */
export class PermanentProviderError extends Error {
  constructor(
    message: string,
    readonly code?: string,
  ) {
    super(message);
    this.name = 'PermanentProviderError';
  }
}

/**
 * The recipient has opted out at the provider (Twilio 21610: replied STOP). Permanent for this
 * message; the engine records a channel opt-out for the customer and skips, never retries.
 */
export class RecipientOptedOutError extends PermanentProviderError {
  constructor(message: string, code: string) {
    super(message, code);
    this.name = 'RecipientOptedOutError';
  }
}

/** The request went out but no answer came back (timeout, reset after sending): it may have been delivered. */
export class ProviderOutcomeUnknownError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProviderOutcomeUnknownError';
  }
}

/** What may be recorded about a provider error: its class and code, never its message (may echo an address). */
export function describeProviderError(err: unknown): string {
  if (err instanceof RetryableProviderError || err instanceof PermanentProviderError) {
    return err.code !== undefined ? `${err.name}:${err.code}` : err.name;
  }
  if (err instanceof Error) return err.name;
  return 'UnknownError';
}

// ---------------------------------------------------------------- shops

/** The shop facts the engine needs; `ShopRegistry.get` satisfies {@link ShopLookup}. */
export interface RecoveryShop {
  readonly id: string;
  readonly platform: string;
  readonly shopDomain: string;
  readonly currency: string;
  /** IANA time zone. */
  readonly timezone: string;
  readonly apiUrl: string;
  readonly apiToken: string;
}

export interface ShopLookup {
  get(shopId: string): Promise<RecoveryShop | null>;
}

// ---------------------------------------------------------------- channels

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

/** E-mail or SMS provider. Throws the typed provider errors above. */
export interface ChannelPort {
  send(message: ChannelMessage): Promise<{ readonly messageId: string }>;
  /** Reconciliation after an unknown outcome (R2): did a message with this key go out? */
  lookup(idempotencyKey: string): Promise<ChannelLookupResult>;
}

// ---------------------------------------------------------------- tickets

export interface TicketRequest {
  /** `<recoveryId>:ticket` (Zendesk Idempotency-Key; Gorgias: looked up before creating). */
  readonly idempotencyKey: string;
  readonly shopId: string;
  readonly cartId: string;
  readonly subject: string;
  readonly body: string;
  /** Opened from the vault just before the call, when known. */
  readonly customerEmail?: string;
}

export interface TicketPort {
  open(request: TicketRequest): Promise<{ readonly ticketId: string }>;
}

// ---------------------------------------------------------------- marketing profile (Klaviyo)

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
 * Pushes the recovery context to the customer's profile at the merchant's marketing provider, so
 * its own segments and flows can use it. Create-or-update by email: repeating a push converges.
 * Throws the provider errors of {@link RetryableProviderError} / {@link PermanentProviderError}.
 */
export interface RecoveryProfileSync {
  push(email: string, context: RecoveryProfileContext): Promise<void>;
}

// ---------------------------------------------------------------- commerce (store API)

export interface DiscountCodeRequest {
  /** `<effect key>:discount`: a retry returns the same code. */
  readonly idempotencyKey: string;
  readonly shop: RecoveryShop;
  readonly percent: number;
  readonly expiresAt: string;
  readonly customerKey?: string;
  readonly cartId: string;
  /**
   * The shopper's e-mail, opened from the vault just before the call (like a channel recipient),
   * to restrict the code to them (WooCommerce `email_restrictions`). Never logged.
   */
  readonly customerEmail?: string;
  /** The store's own customer id, when known: the code is restricted to that customer (Shopify). */
  readonly platformCustomerId?: string;
}

/**
 * The store cannot create discount codes (no store adapter yet, or the API token lacks the scope):
 * the message goes out without a discount and the outcome records `discountWithheld:
 * 'discount-unavailable'` — never an invented code the store would reject.
 */
export class DiscountUnavailableError extends Error {
  constructor(message = 'discount codes cannot be created for this shop') {
    super(message);
    this.name = 'DiscountUnavailableError';
  }
}

export interface CommercePort {
  /** Current availability and unit price of the cart's lines; lines missing from the answer are kept as they are. */
  stock(shop: RecoveryShop, items: readonly RecoveryItem[]): Promise<StockLine[]>;
  createDiscountCode(request: DiscountCodeRequest): Promise<{ readonly code: string }>;
}

// ---------------------------------------------------------------- rendering and links

/**
 * Rendering and links are the messages module's ports (`MessageRenderer`, `RenderMessageInput`,
 * `MessageLinkFactory` in libs/application/src/messages): one port, used by the effect runner.
 */
export type { MessageRenderer, RenderedMessage, RenderItem, RenderMessageInput } from '../messages/renderer';
export type { MessageLinkFactory } from '../messages/links';

/** Something to report problems to without personal data. */
export interface EngineLog {
  warn(obj: object, msg: string): void;
  info?(obj: object, msg: string): void;
}

import type { InboundCommand, Platform } from '@reclaim/domain';

/**
 * The webhook port: what the ingestion use cases (receive, then apply) need from a commerce
 * platform. Adapters: libs/platforms (Shopify, BigCommerce, WooCommerce). Receiving is
 * synchronous and pure (identify → verify → inspect → map, before the 2xx: the signature is
 * checked on the raw bytes before the body is parsed); applying a stored delivery
 * (`resolve`) runs later in the delivery processor and may call the store's API.
 */

/** A delivery as the HTTP layer received it: header names lower-cased, the body untouched. */
export interface RawWebhook {
  readonly headers: Readonly<Record<string, string | undefined>>;
  readonly body: Buffer;
  /** The Content-Type header, if the HTTP layer took it apart; otherwise read from `headers`. */
  readonly contentType?: string;
  readonly receivedAt: Date;
}

/** What a delivery claims before its signature is checked. */
export interface InspectOk {
  readonly ok: true;
  readonly platform: Platform;
  /** Normalised: Shopify/WooCommerce host name in lower case, BigCommerce store hash. */
  readonly shopDomain: string;
  readonly topic: string;
  /** Stable key to dedupe deliveries by (platform, shop, deliveryId). */
  readonly deliveryId: string;
  readonly apiVersion?: string;
  /** WooCommerce's unsigned `webhook_id=N` ping: answer 200, store nothing. */
  readonly isPing?: boolean;
  /** The body, parsed losslessly (numbers are `LosslessNumber`s). */
  readonly payload: unknown;
  readonly receivedAt: Date;
}

export interface InspectError {
  readonly ok: false;
  readonly status: 400 | 401 | 413 | 415;
  readonly error: string;
  readonly field?: string;
}

export type InspectResult = InspectOk | InspectError;

/**
 * What a delivery claims from its headers alone (where a platform names the shop only in the
 * body, from a lexical scan of the raw bytes, not a parse): enough to pick the secret and check
 * the signature before the body is parsed.
 */
export type IdentifyResult =
  /** `topic` when a header names it (for metrics on refusals). */
  | { readonly ok: true; readonly shopDomain: string; readonly topic?: string; readonly ping?: false }
  /** WooCommerce's unsigned form-encoded ping: `inspect` it and answer 200, verifying nothing. */
  | { readonly ok: true; readonly ping: true }
  | InspectError;

export type FetchResourceType = 'cart' | 'order' | 'customer';

export type MappingResult =
  | { readonly outcome: 'commands'; readonly commands: InboundCommand[] }
  /** A thin payload: the resource must be loaded from the store API (done by `resolve`). */
  | { readonly outcome: 'fetch'; readonly resource: { readonly type: FetchResourceType; readonly id: string } }
  | { readonly outcome: 'ignored'; readonly reason: string }
  | { readonly outcome: 'unknown-topic'; readonly topic: string }
  | { readonly outcome: 'quarantined'; readonly reason: string; readonly field: string }
  | { readonly outcome: 'invalid'; readonly reason: string; readonly field: string };

/** A stored delivery after `resolve`: never a `fetch` any more. */
export type ResolvedDelivery = Exclude<MappingResult, { readonly outcome: 'fetch' }>;

export interface MappingContext {
  /** The shop's default currency; used where a payload carries none. */
  readonly shopCurrency: string;
}

/** A delivery as it was recorded (`webhook.received`), its body opened from the vault. */
export interface StoredDelivery {
  readonly topic: string;
  readonly deliveryId: string;
  readonly apiVersion?: string;
  readonly contentType?: string;
  /** The body exactly as received, as UTF-8 text. */
  readonly body: string;
  readonly receivedAt: Date;
}

/** What `resolve` needs of the shop: its address and currency, and the store API credentials for thin payloads. */
export interface WebhookShop {
  readonly shopDomain: string;
  readonly currency: string;
  readonly apiUrl: string;
  readonly apiToken: string;
}

/**
 * Deliveries from a sender that cannot sign, posted to a per-shop secret URL: the URL is the
 * authentication and names the shop (WooCommerce: the CartFlows plugin).
 */
export interface SecretUrlWebhooks {
  /** Like `inspect`, for the shop the URL belongs to. Never throws. */
  inspect(raw: RawWebhook, shopDomain: string): InspectResult;
  /** Like `map`. Never throws. */
  map(inspected: InspectOk, ctx: MappingContext): MappingResult;
}

export interface PlatformWebhookAdapter {
  readonly platform: Platform;
  /**
   * Before anything is parsed: the content type (415 when missing or wrong) and which shop the
   * delivery claims (400 naming a missing header; 401 when no shop can be found to verify it
   * against). Never throws.
   */
  identify(raw: RawWebhook): IdentifyResult;
  /** After verification: parses the body — which topic, which delivery id, the payload. Never throws. */
  inspect(raw: RawWebhook): InspectResult;
  /** Constant-time check against each active secret (rotation). Never throws. */
  verify(raw: RawWebhook, secrets: readonly string[], now: Date): boolean;
  /** Verified delivery → commands / fetch request / ignored / parked. Never throws. */
  map(inspected: InspectOk, ctx: MappingContext): MappingResult;
  /**
   * A stored delivery → the commands to apply: re-reads the body, maps it, and completes a thin
   * payload from the store API (BigCommerce). Rejects only when the outside call failed for now
   * (the delivery processor retries the batch later); a resource gone from the store resolves to
   * a deletion or `ignored`.
   */
  resolve(delivery: StoredDelivery, shop: WebhookShop): Promise<ResolvedDelivery>;
  /** Present when the platform has senders that post to a per-shop secret URL instead of signing. */
  readonly secretUrl?: SecretUrlWebhooks;
}

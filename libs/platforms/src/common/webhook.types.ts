import type { InboundCommand, Platform } from '@reclaim/domain';

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
  readonly status: 400 | 401 | 415;
  readonly error: string;
  readonly field?: string;
}

export type InspectResult = InspectOk | InspectError;

export type FetchResourceType = 'cart' | 'order' | 'customer';

export type MappingResult =
  | { readonly outcome: 'commands'; readonly commands: InboundCommand[] }
  | { readonly outcome: 'fetch'; readonly resource: { readonly type: FetchResourceType; readonly id: string } }
  | { readonly outcome: 'ignored'; readonly reason: string }
  | { readonly outcome: 'unknown-topic'; readonly topic: string }
  | { readonly outcome: 'quarantined'; readonly reason: string; readonly field: string }
  | { readonly outcome: 'invalid'; readonly reason: string; readonly field: string };

export interface MappingContext {
  /** The shop's default currency; used where a payload carries none. */
  readonly shopCurrency: string;
}

export interface PlatformWebhookAdapter {
  readonly platform: Platform;
  /** Before verification: which shop it claims, which topic, which delivery id. Never throws. */
  inspect(raw: RawWebhook): InspectResult;
  /** Constant-time check against each active secret (rotation). Never throws. */
  verify(raw: RawWebhook, secrets: readonly string[], now: Date): boolean;
  /** Verified delivery → commands / fetch request / ignored / parked. Never throws. */
  map(inspected: InspectOk, ctx: MappingContext): MappingResult;
}

export function commands(...list: InboundCommand[]): MappingResult {
  return { outcome: 'commands', commands: list };
}

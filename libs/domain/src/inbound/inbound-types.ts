/**
 * What the platform adapters (libs/platforms/<store>) turn a verified webhook into. Pure data:
 * ids are strings (Shopify ids exceed 2^53), money is a decimal string ("12.50") in the
 * currency given, times are ISO-8601 strings. Personal data (`ContactDetails`) is in clear text
 * here, in memory only: the application seals it with the customer's key before any event is
 * written (see libs/privacy).
 */
export type Platform = 'shopify' | 'bigcommerce' | 'woocommerce';

export type DecimalString = string;
export type IsoTimestamp = string;

export interface ContactDetails {
  readonly email?: string;
  readonly phone?: string;
  readonly firstName?: string;
  readonly lastName?: string;
  /** Free-form postal address lines, if the platform sent one. */
  readonly address?: string;
  readonly ip?: string;
}

export interface CustomerReference {
  /** The platform's own customer id, when the shopper has an account. */
  readonly platformCustomerId?: string;
}

export interface CartLineItem {
  readonly lineId: string;
  readonly productId: string;
  readonly variantId?: string;
  readonly sku?: string;
  readonly title: string;
  readonly variantTitle?: string;
  readonly imageUrl?: string;
  readonly productUrl?: string;
  readonly quantity: number;
  /** Price of one unit, before cart-level discounts. */
  readonly unitPrice: DecimalString;
  readonly categories?: readonly string[];
}

export type ConsentState = 'subscribed' | 'unsubscribed' | 'not_subscribed' | 'pending' | 'redacted' | 'invalid';

export interface ConsentSnapshot {
  readonly state: ConsentState;
  /** e.g. single_opt_in, confirmed_opt_in, unknown */
  readonly optInLevel?: string;
  readonly updatedAt?: IsoTimestamp;
  /** Where the consent was collected, e.g. "shopify:checkout". */
  readonly source?: string;
}

/** What every inbound command carries: the platform and its own time of the change. */
export interface InboundCommandBase {
  readonly platform: Platform;
  /** The platform's own time of the change (e.g. `updated_at`); orders stale updates. */
  readonly platformUpdatedAt: IsoTimestamp;
}

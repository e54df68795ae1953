import type { Platform } from '@reclaim/domain';

/**
 * What the appliance needs from a store to connect a shop by itself: check the API credentials
 * (reachable, authorised, the scopes the appliance uses) and manage the webhook subscriptions
 * pointing at it. One implementation per platform (libs/platforms/<store>/connection), behind
 * this port; the use case (`ShopConnections`) never sees a platform's wire format.
 */
export interface StoreAccess {
  readonly platform: Platform;
  readonly shopDomain: string;
  readonly apiUrl: string;
  readonly apiToken: string;
  /** The secret deliveries are signed with (BigCommerce hooks carry it as a custom header). */
  readonly webhookSecret: string;
}

/** A subscription the appliance needs on the platform: a topic delivered to an address. */
export interface WantedSubscription {
  /** The platform's own topic name (`CHECKOUTS_CREATE`, `store/cart/created`, `order.created`). */
  readonly topic: string;
  readonly address: string;
  /**
   * Set when the platform's API cannot create it (Shopify's compliance topics, the WooCommerce
   * CartFlows plugin): what the merchant must do by hand.
   */
  readonly manual?: string;
}

/** A subscription as the platform reports it, normalised. */
export interface PlatformSubscription {
  /** The platform's id (a Shopify gid, a BigCommerce or WooCommerce number as a string). */
  readonly id: string;
  readonly topic: string;
  readonly address: string;
  /** Payload format: `json` wanted (Shopify may have `xml`). */
  readonly format: string;
  /** False when the platform paused or disabled it (BigCommerce `is_active`, WooCommerce `status`). */
  readonly active: boolean;
  /**
   * Whether it carries the shop's current webhook secret: `not-applicable` where deliveries are
   * signed with something else (Shopify's app secret), `unreadable` where the platform keeps a
   * secret per subscription but never shows it (WooCommerce).
   */
  readonly secret: 'current' | 'other' | 'unreadable' | 'not-applicable';
}

export interface CredentialCheck {
  /** The scopes (or permissions) the appliance needs, in the platform's own names. */
  readonly required: readonly string[];
  /** Those the credentials were seen to have (Shopify lists them; others are probed one by one). */
  readonly granted: readonly string[];
}

export type StoreConnectionFailure = 'unreachable' | 'unauthorised' | 'missing-scope' | 'refused' | 'bad-response';

/**
 * The store said no, or could not be asked. `message` names what failed in words a merchant can
 * act on (`missing scope write_discounts`) and never carries a credential.
 */
export class StoreConnectionError extends Error {
  constructor(
    readonly failure: StoreConnectionFailure,
    message: string,
    /** For `missing-scope`: the scopes lacking. */
    readonly missingScopes: readonly string[] = [],
  ) {
    super(message);
    this.name = 'StoreConnectionError';
  }
}

export interface StoreConnectionPort {
  /** What this shop needs subscribed, given the appliance's public base URL. */
  wanted(access: StoreAccess, publicUrl: string): WantedSubscription[];
  /** Throws {@link StoreConnectionError} when the store is unreachable, refuses the credentials or lacks a scope. */
  verify(access: StoreAccess): Promise<CredentialCheck>;
  list(access: StoreAccess): Promise<PlatformSubscription[]>;
  create(access: StoreAccess, wanted: WantedSubscription): Promise<PlatformSubscription>;
  /** Points an existing subscription at the wanted address, format, state and secret. */
  update(access: StoreAccess, id: string, wanted: WantedSubscription): Promise<PlatformSubscription>;
  /** Idempotent: a subscription already gone is not an error. */
  remove(access: StoreAccess, id: string): Promise<void>;
}

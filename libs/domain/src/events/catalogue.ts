import type { CartLineItem, ConsentState, DecimalString, IsoTimestamp, Platform } from '../inbound/inbound-commands';
import type { ContactReach } from '../shared/contact';
import type { SealedValue } from '../shared/sealed-value';
import type { TimeAnomaly } from '../shared/time';

/**
 * THE event catalogue. Every event Reclaim stores has a `type` from here (never a class name)
 * and a `schemaVersion`; older versions are upcast on read (./upcasters.ts), never rewritten.
 * Changing a data shape means: bump the version here, add an upcaster from the previous one,
 * and note a BREAKING CHANGE in the commit.
 *
 * Common fields: `shopId` (UUID), `causationId` (the id of the event that caused this one,
 * normally the `webhook.received` event of the delivery), `receivedAt` (our clock, ISO-8601).
 * No field holds clear-text personal data: contacts and raw payloads are {@link SealedValue}s.
 */
export const EventTypes = {
  CartActivityRecorded: 'cart.activity-recorded',
  CartAbandonedByPlatform: 'cart.abandoned-by-platform',
  CartCheckoutCompleted: 'cart.checkout-completed',
  CartPurchased: 'cart.purchased',
  CartDeleted: 'cart.deleted',
  CustomerUpserted: 'customer.upserted',
  CustomerConsentChanged: 'customer.consent-changed',
  CustomerRedacted: 'customer.redacted',
  CustomerDataRequested: 'customer.data-requested',
  OrderPlaced: 'order.placed',
  ShopRedacted: 'shop.redacted',
  WebhookReceived: 'webhook.received',
  WebhookParked: 'webhook.parked',
  WebhookQuarantined: 'webhook.quarantined',
} as const;

export type EventType = (typeof EventTypes)[keyof typeof EventTypes];

/** Current schema version of each event type (what deciders write and upcasters produce). */
export const CURRENT_SCHEMA_VERSIONS: { readonly [T in EventType]: number } = {
  'cart.activity-recorded': 1,
  'cart.abandoned-by-platform': 1,
  'cart.checkout-completed': 1,
  'cart.purchased': 1,
  'cart.deleted': 1,
  'customer.upserted': 1,
  'customer.consent-changed': 1,
  'customer.redacted': 1,
  'customer.data-requested': 1,
  'order.placed': 1,
  'shop.redacted': 1,
  'webhook.received': 1,
  'webhook.parked': 1,
  'webhook.quarantined': 1,
};

/** An event as deciders produce it; the application adds the id and metadata when appending. */
export interface DomainEvent<Type extends string = string, Data = unknown> {
  readonly type: Type;
  readonly schemaVersion: number;
  readonly data: Data;
}

interface Caused {
  readonly shopId: string;
  readonly causationId: string;
  readonly receivedAt: IsoTimestamp;
}

/** Ordering time of a platform change after normalisation (see shared/time.ts). */
interface PlatformTimed {
  readonly platform: Platform;
  /** Effective (normalised) platform time used for ordering. */
  readonly platformUpdatedAt: IsoTimestamp;
  /** Set when the platform's own time was unknown, invalid or too far ahead and was replaced. */
  readonly platformTimeAnomaly?: TimeAnomaly;
}

export interface RecordedConsent {
  readonly state: ConsentState;
  readonly optInLevel?: string;
  /** Where the consent was collected, e.g. "shopify:checkout". */
  readonly source: string;
  /** When the consent was given or withdrawn (normalised); orders consent changes. */
  readonly consentUpdatedAt: IsoTimestamp;
}

export interface CartActivityRecordedData extends Caused, PlatformTimed {
  readonly cartId: string;
  readonly cartToken?: string;
  readonly source: 'cart' | 'checkout';
  readonly platformCustomerId?: string;
  readonly customerKey?: string;
  readonly contact?: SealedValue;
  readonly reach: ContactReach;
  readonly lineItems: readonly CartLineItem[];
  readonly currency: string;
  readonly subtotal: DecimalString;
  readonly total: DecimalString;
  readonly checkoutUrl?: string;
  readonly landingSite?: string;
  readonly referrer?: string;
  readonly device?: string;
  readonly locale?: string;
  readonly emailConsent?: RecordedConsent;
  readonly smsConsent?: RecordedConsent;
}
/** A cart or checkout was created or changed on the platform (newer than anything recorded before). */
export type CartActivityRecorded = DomainEvent<'cart.activity-recorded', CartActivityRecordedData>;

export interface CartAbandonedByPlatformData extends Caused, PlatformTimed {
  readonly cartId: string;
}
/** The platform itself declared the cart abandoned (BigCommerce store/cart/abandoned). */
export type CartAbandonedByPlatform = DomainEvent<'cart.abandoned-by-platform', CartAbandonedByPlatformData>;

export interface CartCheckoutCompletedData extends Caused, PlatformTimed {
  readonly cartId: string;
  readonly orderId?: string;
  readonly completedAt: IsoTimestamp;
}
/** The checkout was completed (Shopify `completed_at`, BigCommerce cart converted): the shopper bought. */
export type CartCheckoutCompleted = DomainEvent<'cart.checkout-completed', CartCheckoutCompletedData>;

export interface CartPurchasedData extends Caused {
  readonly cartId: string;
  readonly orderId: string;
  readonly placedAt: IsoTimestamp;
}
/** An order linked to this cart was placed; the cart stays purchased whatever arrives later (R14). */
export type CartPurchased = DomainEvent<'cart.purchased', CartPurchasedData>;

export interface CartDeletedData extends Caused, PlatformTimed {
  readonly cartId: string;
}
/** The platform deleted the cart; later activity is ignored, a later purchase is still recorded. */
export type CartDeleted = DomainEvent<'cart.deleted', CartDeletedData>;

export interface CustomerUpsertedData extends Caused, PlatformTimed {
  readonly customerKey: string;
  readonly platformCustomerId?: string;
  readonly contact?: SealedValue;
  readonly reach: ContactReach;
  readonly ordersCount?: number;
  readonly totalSpent?: DecimalString;
  readonly currency?: string;
  readonly tags: readonly string[];
  /** The platform's account creation time, when sent (normalised). */
  readonly createdAt?: IsoTimestamp;
}
/** The customer's profile was created or changed on the platform (or re-created after a redaction). */
export type CustomerUpserted = DomainEvent<'customer.upserted', CustomerUpsertedData>;

export interface CustomerConsentChangedData extends Caused, RecordedConsent {
  readonly customerKey: string;
  readonly platform: Platform;
  readonly channel: 'email' | 'sms';
  readonly previousState?: ConsentState;
}
/** Marketing consent for one channel changed; the latest by `consentUpdatedAt` wins (R27). */
export type CustomerConsentChanged = DomainEvent<'customer.consent-changed', CustomerConsentChangedData>;

export interface CustomerRedactedData extends Caused {
  readonly customerKey: string;
  readonly platform: Platform;
  readonly orderIds: readonly string[];
  /** Effective time of the redaction request; profile updates older than this cannot re-create data. */
  readonly redactedAt: IsoTimestamp;
}
/** Erase the customer (R29): the application shreds the subject keys and scrubs read models. */
export type CustomerRedacted = DomainEvent<'customer.redacted', CustomerRedactedData>;

export interface CustomerDataRequestedData extends Caused {
  readonly customerKey: string;
  readonly platform: Platform;
  readonly dataRequestId?: string;
  readonly orderIds: readonly string[];
  readonly requestedAt: IsoTimestamp;
}
/** The customer asked for their data (R29): the application produces an export. */
export type CustomerDataRequested = DomainEvent<'customer.data-requested', CustomerDataRequestedData>;

export interface OrderPlacedData extends Caused, PlatformTimed {
  readonly orderId: string;
  readonly cartIds: readonly string[];
  readonly platformCustomerId?: string;
  readonly customerKey?: string;
  readonly contact?: SealedValue;
  readonly reach: ContactReach;
  readonly currency: string;
  readonly total: DecimalString;
  readonly subtotal?: DecimalString;
  readonly totalDiscounts?: DecimalString;
  readonly discountCodes: readonly string[];
  readonly financialStatus?: string;
  readonly placedAt: IsoTimestamp;
  readonly landingSite?: string;
  readonly referrer?: string;
  readonly lineItems: readonly CartLineItem[];
}
/** An order was placed (once per order id); the application marks each linked cart purchased. */
export type OrderPlaced = DomainEvent<'order.placed', OrderPlacedData>;

export interface ShopRedactedData extends Caused {
  readonly platform: Platform;
  readonly requestedAt: IsoTimestamp;
}
/** The shop uninstalled and asked for erasure (R29): all its keys are shredded and its data purged. */
export type ShopRedacted = DomainEvent<'shop.redacted', ShopRedactedData>;

interface DeliveryRef {
  readonly platform: Platform;
  readonly shopId: string;
  readonly topic: string;
  readonly deliveryId: string;
  readonly apiVersion?: string;
  readonly receivedAt: IsoTimestamp;
}

export interface WebhookReceivedData extends DeliveryRef {
  /**
   * The verified raw body, sealed. Subject: the customer key when the adapter can derive one
   * (so a customer redaction shreds it), otherwise `shop` (shredded with the shop).
   */
  readonly payload: SealedValue;
  readonly contentType?: string;
}
/** A verified delivery was stored (exactly once per platform, shop and delivery id). */
export type WebhookReceived = DomainEvent<'webhook.received', WebhookReceivedData>;

export interface WebhookParkedData extends DeliveryRef {
  readonly reason: 'unknown-topic' | 'unsupported-api-version';
}
/** A delivery with an unknown topic or API version was answered 200 and kept for inspection (R15). */
export type WebhookParked = DomainEvent<'webhook.parked', WebhookParkedData>;

export interface WebhookQuarantinedData extends DeliveryRef {
  /** Why the payload was refused, e.g. "amount is negative". No personal data. */
  readonly reason: string;
  /** The offending field path, e.g. "lineItems[2].unitPrice". */
  readonly field: string;
}
/** A delivery's payload failed validation (prices, currency, timestamps) and was not applied (R12). */
export type WebhookQuarantined = DomainEvent<'webhook.quarantined', WebhookQuarantinedData>;

export type CartEvent =
  CartActivityRecorded | CartAbandonedByPlatform | CartCheckoutCompleted | CartPurchased | CartDeleted;
export type CustomerEvent = CustomerUpserted | CustomerConsentChanged | CustomerRedacted | CustomerDataRequested;
export type OrderEvent = OrderPlaced;
export type ShopEvent = ShopRedacted;
export type WebhookEvent = WebhookReceived | WebhookParked | WebhookQuarantined;

export type ReclaimEvent = CartEvent | CustomerEvent | OrderEvent | ShopEvent | WebhookEvent;

const ALL_TYPES: ReadonlySet<string> = new Set(Object.values(EventTypes));

export function isCatalogueEventType(type: string): type is EventType {
  return ALL_TYPES.has(type);
}

/** Builds an event of the current schema version. */
export function event<E extends ReclaimEvent>(type: E['type'], data: E['data']): E {
  return { type, schemaVersion: CURRENT_SCHEMA_VERSIONS[type], data } as E;
}

/**
 * The cart stream's vocabulary (`cart-<shop>-<cart>`): what the platform adapters ask (inbound
 * commands, clear-text contact), what the cart decider is given (domain commands, contact sealed)
 * and what it records (events; type strings and versions in ../events/catalogue.ts).
 */
import type { CommandContext, DomainCommandOf } from '../commands/command-context';
import type { Caused, DomainEvent, PlatformTimed, RecordedConsent } from '../events/envelope';
import type {
  CartLineItem,
  ConsentSnapshot,
  ContactDetails,
  CustomerReference,
  DecimalString,
  InboundCommandBase,
  IsoTimestamp,
} from '../inbound/inbound-types';
import type { CheckoutStage } from '../recovery/types';
import type { ContactReach } from '../shared/contact';
import type { SealedValue } from '../shared/sealed-value';

// ---------------------------------------------------------------- inbound commands (from a webhook)

/** A cart or checkout was created or changed (Shopify checkouts/carts, BigCommerce cart, WooCommerce cart hooks). */
export interface RecordCartActivity extends InboundCommandBase {
  readonly type: 'RecordCartActivity';
  /** Stable cart key on the platform: Shopify checkout/cart token, BigCommerce cart id, WooCommerce session/cart id. */
  readonly cartId: string;
  /** Shopify links a checkout to its cart through `cart_token`. */
  readonly cartToken?: string;
  readonly source: 'cart' | 'checkout';
  readonly customer: CustomerReference;
  readonly contact: ContactDetails;
  readonly lineItems: readonly CartLineItem[];
  readonly currency: string;
  readonly subtotal: DecimalString;
  readonly total: DecimalString;
  readonly checkoutUrl?: string;
  readonly landingSite?: string;
  readonly referrer?: string;
  /** 'mobile' | 'desktop' | 'tablet' | raw user agent class. */
  readonly device?: string;
  /**
   * Where the shopper came from, as the platform states it (e.g. WooCommerce's order attribution
   * `utm_source`, else the referrer's host, else its source type); when absent the engine derives it
   * from `landingSite` / `referrer`. 'unknown' when the platform does not say.
   */
  readonly trafficSource?: string;
  /** How far the shopper got, from the fields the platform sent (address, shipping line, payment). */
  readonly checkoutStage?: CheckoutStage;
  readonly locale?: string;
  /** The shopper's IANA time zone, derived from the checkout's address (never the address itself). */
  readonly timeZone?: string;
  /** The delivery the shopper chose, in the platform's own words, where it states them (BigCommerce `transit_time`). */
  readonly shipping?: ShippingChoice;
  readonly emailConsent?: ConsentSnapshot;
  readonly smsConsent?: ConsentSnapshot;
}

/** A chosen shipping option: its name and the delivery estimate the platform gives (never invented). */
export interface ShippingChoice {
  readonly method?: string;
  readonly estimate?: string;
}

/** The platform itself reports the cart abandoned (BigCommerce store/cart/abandoned). */
export interface ReportCartAbandoned extends InboundCommandBase {
  readonly type: 'ReportCartAbandoned';
  readonly cartId: string;
}

/** Shopify checkout with `completed_at`, BigCommerce store/cart/converted. */
export interface CompleteCheckout extends InboundCommandBase {
  readonly type: 'CompleteCheckout';
  readonly cartId: string;
  readonly orderId?: string;
  readonly completedAt: IsoTimestamp;
}

export interface DeleteCart extends InboundCommandBase {
  readonly type: 'DeleteCart';
  readonly cartId: string;
}

// ---------------------------------------------------------------- domain commands

export type RecordCartActivityCommand = DomainCommandOf<RecordCartActivity>;
export type ReportCartAbandonedCommand = DomainCommandOf<ReportCartAbandoned>;
export type CompleteCheckoutCommand = DomainCommandOf<CompleteCheckout>;
export type DeleteCartCommand = DomainCommandOf<DeleteCart>;

/**
 * Not from a webhook: issued by the application for each cart linked by an `order.placed`
 * event (causationId = that event's id).
 */
export interface MarkCartPurchasedCommand extends CommandContext {
  readonly type: 'MarkCartPurchased';
  readonly cartId: string;
  readonly orderId: string;
  readonly placedAt: IsoTimestamp;
}

export type CartCommand =
  | RecordCartActivityCommand
  | ReportCartAbandonedCommand
  | CompleteCheckoutCommand
  | MarkCartPurchasedCommand
  | DeleteCartCommand;

// ---------------------------------------------------------------- events

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
  /** The platform's own traffic source (optional, added without a version bump). */
  readonly trafficSource?: string;
  /** The checkout stage the platform's fields show (optional, added without a version bump). */
  readonly checkoutStage?: CheckoutStage;
  readonly locale?: string;
  /** IANA zone from the checkout's address (optional, added without a version bump). */
  readonly timeZone?: string;
  /** The chosen shipping option and its estimate, where the platform states them (optional, no version bump). */
  readonly shipping?: ShippingChoice;
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

export type CartEvent =
  CartActivityRecorded | CartAbandonedByPlatform | CartCheckoutCompleted | CartPurchased | CartDeleted;

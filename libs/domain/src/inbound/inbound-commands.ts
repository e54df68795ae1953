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

interface Base {
  readonly platform: Platform;
  /** The platform's own time of the change (e.g. `updated_at`); orders stale updates. */
  readonly platformUpdatedAt: IsoTimestamp;
}

/** A cart or checkout was created or changed (Shopify checkouts/carts, BigCommerce cart, WooCommerce cart hooks). */
export interface RecordCartActivity extends Base {
  readonly kind: 'RecordCartActivity';
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
  readonly locale?: string;
  readonly emailConsent?: ConsentSnapshot;
  readonly smsConsent?: ConsentSnapshot;
}

/** The platform itself reports the cart abandoned (BigCommerce store/cart/abandoned). */
export interface ReportCartAbandoned extends Base {
  readonly kind: 'ReportCartAbandoned';
  readonly cartId: string;
}

/** Shopify checkout with `completed_at`, BigCommerce store/cart/converted. */
export interface CompleteCheckout extends Base {
  readonly kind: 'CompleteCheckout';
  readonly cartId: string;
  readonly orderId?: string;
  readonly completedAt: IsoTimestamp;
}

export interface DeleteCart extends Base {
  readonly kind: 'DeleteCart';
  readonly cartId: string;
}

export interface PlaceOrder extends Base {
  readonly kind: 'PlaceOrder';
  readonly orderId: string;
  /** The cart/checkout this order came from, when the platform says (Shopify checkout_token / cart_token). */
  readonly cartIds: readonly string[];
  readonly customer: CustomerReference;
  readonly contact: ContactDetails;
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

export interface UpsertCustomer extends Base {
  readonly kind: 'UpsertCustomer';
  readonly customer: CustomerReference;
  readonly contact: ContactDetails;
  readonly ordersCount?: number;
  readonly totalSpent?: DecimalString;
  readonly currency?: string;
  readonly tags?: readonly string[];
  readonly emailConsent?: ConsentSnapshot;
  readonly smsConsent?: ConsentSnapshot;
  readonly createdAt?: IsoTimestamp;
}

export interface ChangeMarketingConsent extends Base {
  readonly kind: 'ChangeMarketingConsent';
  readonly customer: CustomerReference;
  readonly contact: ContactDetails;
  readonly channel: 'email' | 'sms';
  readonly consent: ConsentSnapshot;
}

/** GDPR/compliance: erase a customer's personal data (Shopify customers/redact). */
export interface RedactCustomer extends Base {
  readonly kind: 'RedactCustomer';
  readonly customer: CustomerReference;
  readonly contact: ContactDetails;
  readonly orderIds: readonly string[];
}

/** GDPR/compliance: export what we hold about a customer (Shopify customers/data_request). */
export interface RequestCustomerData extends Base {
  readonly kind: 'RequestCustomerData';
  readonly customer: CustomerReference;
  readonly contact: ContactDetails;
  readonly dataRequestId?: string;
  readonly orderIds: readonly string[];
}

/** GDPR/compliance: the shop uninstalled 48 h ago; purge its data (Shopify shop/redact). */
export interface RedactShop extends Base {
  readonly kind: 'RedactShop';
}

export type InboundCommand =
  | RecordCartActivity
  | ReportCartAbandoned
  | CompleteCheckout
  | DeleteCart
  | PlaceOrder
  | UpsertCustomer
  | ChangeMarketingConsent
  | RedactCustomer
  | RequestCustomerData
  | RedactShop;

export type InboundCommandKind = InboundCommand['kind'];

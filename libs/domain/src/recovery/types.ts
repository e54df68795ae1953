/**
 * Primitive types of the recovery engine. Ids are strings, money is a decimal string in the
 * currency given, times are ISO-8601 strings in events and inputs, durations are milliseconds.
 * No personal data: contact details are reduced to booleans (`Reach`) and an opaque customer key.
 */
export type IsoTimestamp = string;
export type DecimalString = string;
/** `push`: a port (libs/ports/src/push.ts) an adapter can implement; none is configured by default. */
export type Channel = 'email' | 'sms' | 'push';
export const CHANNELS: readonly Channel[] = ['email', 'sms', 'push'];

/** Which channels the cart's (sealed) contact details make possible. */
export interface Reach {
  /** An email address is on file. */
  readonly email: boolean;
  /** A phone number in valid E.164 form is on file (see `isValidE164`). */
  readonly sms: boolean;
  /** A push device token is registered for the customer (absent: none). */
  readonly push?: boolean;
}

export interface RecoveryItem {
  readonly lineId: string;
  readonly productId: string;
  readonly variantId?: string;
  readonly title?: string;
  readonly quantity: number;
  /** Price of one unit. */
  readonly unitPrice: DecimalString;
  readonly categories?: readonly string[];
}

export type Device = 'desktop' | 'mobile' | 'tablet' | 'unknown';
/** How far the shopper got: 'shipping' and 'payment' mean shipping costs were shown. */
export type CheckoutStage = 'cart' | 'contact' | 'shipping' | 'payment';

/** What the application maps a cart/checkout event into. */
export interface CartSnapshot {
  readonly value: DecimalString;
  readonly currency: string;
  readonly items: readonly RecoveryItem[];
  readonly reach: Reach;
  /** Opaque, stable key of the customer (never an email or phone). */
  readonly customerKey?: string;
  readonly device?: Device;
  readonly trafficSource?: string;
  readonly checkoutStage?: CheckoutStage;
  /** IANA time zone of the customer, when known. */
  readonly timeZone?: string;
  /** Why an input is `unknown`, in words (what the platform's payload did not carry). */
  readonly unknownInputs?: UnknownInputs;
}

/** Why the device or traffic source of a cart is `unknown`: what the platform did not send. */
export interface UnknownInputs {
  readonly device?: string;
  readonly trafficSource?: string;
}

/** E.164: '+', a non-zero country digit, at most 15 digits in all. */
export function isValidE164(phone: string): boolean {
  return /^\+[1-9]\d{6,14}$/.test(phone);
}

/** Idempotency key of a side effect: one per (recovery, step, channel). */
export function effectIdempotencyKey(recoveryId: string, step: number, channel: Channel): string {
  return `${recoveryId}:step-${step}:${channel}`;
}

export function recoveryIdFor(shopId: string, cartId: string): string {
  return `recovery-${shopId}-${cartId}`;
}

/**
 * The delivery stream's vocabulary (`delivery-<platform>-<shop>-<delivery>`): what the webhook
 * intake records for each verified delivery. No decider: the intake appends these to a new stream
 * only, which makes each delivery id count once.
 */
import type { DomainEvent } from '../events/envelope';
import type { SealedValue } from '../shared/sealed-value';
import type { IsoTimestamp, Platform } from './inbound-types';

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

export type WebhookEvent = WebhookReceived | WebhookParked | WebhookQuarantined;

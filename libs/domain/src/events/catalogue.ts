/**
 * THE event catalogue. Every event Reclaim stores has a `type` from here (never a class name)
 * and a `schemaVersion`; older versions are upcast on read (./upcasters.ts), never rewritten.
 * Changing a data shape means: bump the version here, add an upcaster from the previous one,
 * and note a BREAKING CHANGE in the commit. The data shapes live with their aggregate, in
 * `<aggregate>/<aggregate>.messages.ts` (and `inbound/delivery.messages.ts` for deliveries).
 *
 * Common fields: `shopId` (UUID), `causationId` (the id of the event that caused this one,
 * normally the `webhook.received` event of the delivery), `receivedAt` (our clock, ISO-8601).
 * No field holds clear-text personal data: contacts and raw payloads are {@link SealedValue}s.
 */
import type { CartEvent } from '../cart/cart.messages';
import type { CustomerEvent } from '../customer/customer.messages';
import type { WebhookEvent } from '../inbound/delivery.messages';
import type { OrderEvent } from '../order/order.messages';
import type { StoredRecoveryEvent } from '../recovery/recovery.messages';
import type { ProductEvent } from '../product/product.messages';
import type { ShopEvent } from '../shop/shop.messages';
import type { ModelEvent } from '../model/model.messages';
import type { ExperimentEvent } from '../experiment/experiment.messages';

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
  CustomerCodeFarmingDetected: 'customer.code-farming-detected',
  OrderPlaced: 'order.placed',
  ShopRedacted: 'shop.redacted',
  ProductStockReported: 'product.stock-reported',
  ModelTrained: 'model.trained',
  ModelPromoted: 'model.promoted',
  ModelRejected: 'model.rejected',
  ModelTrainingSkipped: 'model.training-skipped',
  ModelTrainingFailed: 'model.training-failed',
  ExperimentOpened: 'experiment.opened',
  ExperimentEvaluated: 'experiment.evaluated',
  ExperimentVariantStopped: 'experiment.variant-stopped',
  ExperimentVariantAdopted: 'experiment.variant-adopted',
  ExperimentClosed: 'experiment.closed',
  WebhookReceived: 'webhook.received',
  WebhookParked: 'webhook.parked',
  WebhookQuarantined: 'webhook.quarantined',
  // The recovery process manager's stream (`recovery-<shop>-<cart>`), data in recovery/recovery.messages.ts.
  RecoveryActivityRecorded: 'recovery.activity-recorded',
  RecoveryTimerScheduled: 'recovery.timer-scheduled',
  RecoveryStarted: 'recovery.started',
  RecoverySegmented: 'recovery.segmented',
  RecoveryFeaturesRecorded: 'recovery.features-recorded',
  RecoveryScored: 'recovery.scored',
  RecoveryScoreUnavailable: 'recovery.score-unavailable',
  RecoveryRouted: 'recovery.routed',
  RecoverySequenceSelected: 'recovery.sequence-selected',
  RecoveryAssignedHoldout: 'recovery.assigned-holdout',
  RecoveryTicketRequested: 'recovery.ticket-requested',
  RecoveryTicketOpened: 'recovery.ticket-opened',
  RecoverySupportChecked: 'recovery.support-checked',
  RecoveryCustomerTicketOpened: 'recovery.customer-ticket-opened',
  RecoveryCustomerTicketClosed: 'recovery.customer-ticket-closed',
  RecoveryTicketClosed: 'recovery.ticket-closed',
  RecoveryTicketSkipped: 'recovery.ticket-skipped',
  RecoveryMessageOpened: 'recovery.message-opened',
  RecoveryMessageClicked: 'recovery.message-clicked',
  RecoveryMessageReplied: 'recovery.message-replied',
  RecoveryDeliveryReported: 'recovery.delivery-reported',
  RecoveryEffectDeferred: 'recovery.effect-deferred',
  RecoveryEffectParked: 'recovery.effect-parked',
  RecoveryOrderAttributed: 'recovery.order-attributed',
  RecoveryStepDue: 'recovery.step-due',
  RecoveryStepSkipped: 'recovery.step-skipped',
  RecoveryStepDeferred: 'recovery.step-deferred',
  RecoveryMessageSent: 'recovery.message-sent',
  RecoveryMessageFailed: 'recovery.message-failed',
  RecoveryOutcomeUnknown: 'recovery.outcome-unknown',
  RecoveryReconciliationRequested: 'recovery.reconciliation-requested',
  RecoveryReconciled: 'recovery.reconciled',
  RecoveryDeadLettered: 'recovery.dead-lettered',
  RecoveryDeadLetterRetried: 'recovery.dead-letter-retried',
  RecoveryPaused: 'recovery.paused',
  RecoveryAbandonedAgain: 'recovery.abandoned-again',
  RecoveryResumed: 'recovery.resumed',
  RecoveryChannelRevoked: 'recovery.channel-revoked',
  RecoveryLateOutcome: 'recovery.late-outcome',
  RecoveryEnriched: 'recovery.enriched',
  RecoveryEnrichmentUnavailable: 'recovery.enrichment-unavailable',
  RecoveryAlternativesChecked: 'recovery.alternatives-checked',
  RecoverySendTimeAssigned: 'recovery.send-time-assigned',
  RecoveryPolicyArmAssigned: 'recovery.policy-arm-assigned',
  RecoverySendTimeChosen: 'recovery.send-time-chosen',
  RecoveryVariantAssigned: 'recovery.variant-assigned',
  RecoveryIncentiveChosen: 'recovery.incentive-chosen',
  RecoveryDiscountWithheld: 'recovery.discount-withheld',
  RecoveryBackInStockWatched: 'recovery.back-in-stock-watched',
  RecoveryBackInStockRequested: 'recovery.back-in-stock-requested',
  RecoveryBackInStockDue: 'recovery.back-in-stock-due',
  RecoveryBackInStockSent: 'recovery.back-in-stock-sent',
  RecoveryBackInStockSkipped: 'recovery.back-in-stock-skipped',
  RecoveryBackInStockDeferred: 'recovery.back-in-stock-deferred',
  RecoveryCategoriesRecorded: 'recovery.categories-recorded',
  RecoveryCategoriesUnavailable: 'recovery.categories-unavailable',
  RecoveryEnded: 'recovery.ended',
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
  'customer.code-farming-detected': 1,
  'order.placed': 1,
  'shop.redacted': 1,
  'product.stock-reported': 1,
  'model.trained': 1,
  'model.promoted': 1,
  'model.rejected': 1,
  'model.training-skipped': 1,
  'model.training-failed': 1,
  'experiment.opened': 1,
  'experiment.evaluated': 1,
  'experiment.variant-stopped': 1,
  'experiment.variant-adopted': 1,
  'experiment.closed': 1,
  'webhook.received': 1,
  'webhook.parked': 1,
  'webhook.quarantined': 1,
  'recovery.activity-recorded': 1,
  'recovery.timer-scheduled': 1,
  'recovery.started': 3,
  'recovery.segmented': 1,
  'recovery.features-recorded': 1,
  'recovery.scored': 1,
  'recovery.score-unavailable': 1,
  'recovery.routed': 1,
  'recovery.sequence-selected': 1,
  'recovery.assigned-holdout': 1,
  'recovery.ticket-requested': 1,
  'recovery.ticket-opened': 1,
  'recovery.support-checked': 1,
  'recovery.customer-ticket-opened': 1,
  'recovery.customer-ticket-closed': 1,
  'recovery.ticket-closed': 1,
  'recovery.ticket-skipped': 1,
  'recovery.message-opened': 1,
  'recovery.message-clicked': 1,
  'recovery.message-replied': 1,
  'recovery.delivery-reported': 1,
  'recovery.effect-deferred': 1,
  'recovery.effect-parked': 1,
  'recovery.order-attributed': 1,
  'recovery.step-due': 1,
  'recovery.step-skipped': 1,
  'recovery.step-deferred': 1,
  'recovery.message-sent': 1,
  'recovery.message-failed': 1,
  'recovery.outcome-unknown': 1,
  'recovery.reconciliation-requested': 1,
  'recovery.reconciled': 1,
  'recovery.dead-lettered': 1,
  'recovery.dead-letter-retried': 1,
  'recovery.paused': 1,
  'recovery.abandoned-again': 1,
  'recovery.resumed': 1,
  'recovery.channel-revoked': 1,
  'recovery.late-outcome': 1,
  'recovery.enriched': 1,
  'recovery.enrichment-unavailable': 1,
  'recovery.alternatives-checked': 1,
  'recovery.send-time-assigned': 1,
  'recovery.policy-arm-assigned': 1,
  'recovery.send-time-chosen': 1,
  'recovery.variant-assigned': 1,
  'recovery.incentive-chosen': 1,
  'recovery.discount-withheld': 1,
  'recovery.back-in-stock-watched': 1,
  'recovery.back-in-stock-requested': 1,
  'recovery.back-in-stock-due': 1,
  'recovery.back-in-stock-sent': 1,
  'recovery.back-in-stock-skipped': 1,
  'recovery.back-in-stock-deferred': 1,
  'recovery.categories-recorded': 1,
  'recovery.categories-unavailable': 1,
  'recovery.ended': 1,
};

export type ReclaimEvent =
  | CartEvent
  | CustomerEvent
  | OrderEvent
  | ShopEvent
  | ProductEvent
  | WebhookEvent
  | StoredRecoveryEvent
  | ModelEvent
  | ExperimentEvent;

const ALL_TYPES: ReadonlySet<string> = new Set(Object.values(EventTypes));

export function isCatalogueEventType(type: string): type is EventType {
  return ALL_TYPES.has(type);
}

/** Builds an event of the current schema version. */
export function event<E extends ReclaimEvent>(type: E['type'], data: E['data']): E {
  return { type, schemaVersion: CURRENT_SCHEMA_VERSIONS[type], data } as E;
}

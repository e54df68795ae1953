/**
 * The recovery stream's vocabulary (`recovery-<shop>-<cart>`): the process manager's commands
 * (`RecoveryInput`, discriminated by `type` like every command) and its events (type strings and
 * schema versions in ../events/catalogue.ts, upcast on read like every stream).
 *
 * Longer than ~350 lines on purpose: it is the whole vocabulary of one stream (14 commands,
 * 29 events), read together; splitting it would scatter what a reader compares.
 */
import type { DomainEvent } from '../events/envelope';
import type {
  ConsentUsed,
  DeferReason,
  SendTemplate,
  DiscountWithheldReason,
  SendMode,
  SkipReason,
  StopReason,
  TimeZoneSource,
} from './pre-send';
import type { SoldOutLine } from './alternatives';
import type { SendTimeArm, SendTimeChoice } from './send-time';
import type { IncentiveChoice } from './incentives';
import type { RecoveryArm } from './arms';
import type { PolicyArm } from './policy-arm';
import type { ChannelChoice } from './channel-choice';
import type { ResponsivenessAssessment } from './engagement-score';
import type { FatigueAssessment } from './fatigue';
import type { RecoveryFeatures } from './features';
import type { ModelScope, ScoringContext } from './score';
import type { RoutingBand, RoutingReason, RoutingThresholds } from './routing';
import type { EnrichmentSource, EnrichmentUnavailableReason, ProfileEnrichment } from './enrichment';
import type { CustomerFeatures, Segment, Segmentation } from './segments';
import type { SequenceCatalogue, SequenceStep } from './sequences';
import type { ExperimentsContext, VariantAssignment } from './variants';
import type {
  CustomerTicketFact,
  SupportLookupFailure,
  SupportLookupResult,
  SupportSource,
  TicketConcern,
} from './support-tickets';
import type { CartSnapshot, Channel, DecimalString, IsoTimestamp } from './types';

// ---------------------------------------------------------------- inputs

/** Facts needed when a recovery starts; the application reads them from the customer read model. */
export interface StartContext {
  readonly customer: CustomerFeatures;
  readonly sequences: SequenceCatalogue;
  /** Uniform random number in [0, 1): decides holdout and rollout. */
  readonly random: number;
  /** The shop's IANA time zone (used when the customer's is unknown). */
  readonly shopTimeZone: string;
  /**
   * The store's categories of the cart's products, as recorded before (`recovery.categories-recorded`
   * of this or another recovery of the shop, within the cache's TTL), by product id. Products
   * absent here keep only the categories their line carries.
   */
  readonly productCategories?: Readonly<Record<string, readonly string[]>>;
  /**
   * A second uniform number in [0, 1), independent of `random`: the send-time arm (RFC 0012).
   * Required when the shop's send-time optimisation is on.
   */
  readonly sendTimeRandom?: number;
  /**
   * A third uniform number in [0, 1), independent of the others: the policy arm (RFC 0021).
   * Required when the shop runs a policy control arm (`policyControl.percent` > 0 and settings that
   * are not the fixed rules).
   */
  readonly policyRandom?: number;
  /**
   * The shop's live recovery-score model (or that there is none and how many outcomes are still
   * needed): the recorded features are scored with it (`recovery.scored` / `score-unavailable`).
   * Absent: nothing is recorded about the score.
   */
  readonly scoring?: ScoringContext;
  /**
   * The shop's experiments as they stand (RFC 0016) and this recovery's seed: required when the
   * shop's experiments are on and the selected sequence has a step with variants.
   */
  readonly experiments?: ExperimentsContext;
}

export interface ChannelSkip {
  readonly channel: Channel;
  readonly reason: SkipReason;
}

/** A send decision reduced to what is worth recording (no personal data). */
export interface SendSummary {
  readonly channel: Channel;
  /** `help`: `supportTickets` names the customer's open tickets (`<source>:<id>`) that chose the help copy. */
  readonly template: SendTemplate;
  readonly cartValue: DecimalString;
  readonly currency: string;
  readonly itemCount: number;
  readonly leftOut: readonly string[];
  /** Sold-out lines offered with an alternative in their place (optional, schema 1: older events have none). */
  readonly replaced?: readonly { readonly lineId: string; readonly productId: string; readonly variantId?: string }[];
  readonly priceChanged: boolean;
  readonly discount?: { readonly percent: number; readonly expiresAt: IsoTimestamp };
  readonly discountWithheld?: DiscountWithheldReason;
  /** Why, in words (the evidence of a code farmer, the best level's expected profit…; optional, no version bump). */
  readonly discountWithheldDetail?: string;
  readonly consentUsed: ConsentUsed;
  /** How the channel was chosen: segment, learned rates, costs (optional, no version bump; RFC 0013). */
  readonly channelChoice?: ChannelChoice;
  /** The customer's engagement score at the send (optional, no version bump; RFC 0013). */
  readonly responsiveness?: ResponsivenessAssessment;
}

export type StepOutcomeResult =
  | {
      readonly kind: 'sent';
      readonly messageId: string;
      readonly discountCode?: string;
      /** What was sent, including the consent relied on (R27). */
      readonly sent?: SendSummary;
      readonly channelsSkipped?: readonly ChannelSkip[];
    }
  | { readonly kind: 'failed'; readonly retryable: boolean; readonly retryAfterMs?: number; readonly error?: string }
  | { readonly kind: 'unknown' }
  | {
      readonly kind: 'skipped';
      readonly reason: SkipReason;
      readonly channelsSkipped?: readonly ChannelSkip[];
      /** Shadow mode / outside rollout: what would have been sent. */
      readonly wouldSend?: SendSummary;
      /** `engagement-fatigue`: the counts the skip rests on. */
      readonly fatigue?: FatigueAssessment;
      /** `low-responsiveness`: the engagement score the skip rests on. */
      readonly responsiveness?: ResponsivenessAssessment;
      /** The channel the step would have used, and why. */
      readonly channelChoice?: ChannelChoice;
    }
  | {
      readonly kind: 'deferred';
      readonly until: IsoTimestamp;
      readonly reason: DeferReason;
      /** Human words on an outside error (`store API unreachable (getaddrinfo ENOTFOUND …)`); no personal data. */
      readonly detail?: string;
      /** `quiet-hours`: the zone of the send window and where it came from. */
      readonly timeZone?: string;
      readonly timeZoneSource?: TimeZoneSource;
    }
  | { readonly kind: 'stopped'; readonly reason: StopReason };

export type ReconciliationOutcome =
  | { readonly kind: 'sent'; readonly messageId: string; readonly discountCode?: string }
  | { readonly kind: 'not-sent' }
  | { readonly kind: 'unknown' };

export type ConsentChannel = Channel | 'all';

export type RecoveryInput =
  | {
      readonly type: 'CartActivity';
      readonly shopId: string;
      readonly cartId: string;
      readonly at: IsoTimestamp;
      readonly cart: CartSnapshot;
    }
  | {
      readonly type: 'CartAbandonedByPlatform';
      readonly shopId: string;
      readonly cartId: string;
      readonly at: IsoTimestamp;
      /** The cart as fetched from the platform, when no activity was seen before. */
      readonly cart?: CartSnapshot;
      readonly start: StartContext;
    }
  | { readonly type: 'CartPurchased'; readonly orderId: string; readonly at: IsoTimestamp }
  | { readonly type: 'CartDeleted'; readonly at: IsoTimestamp }
  | { readonly type: 'ConsentRevoked'; readonly channel: ConsentChannel; readonly at: IsoTimestamp }
  | {
      readonly type: 'TimerFired';
      readonly timerId: string;
      readonly dueAt: IsoTimestamp;
      readonly now: IsoTimestamp;
      /** Required when the timer is the abandonment check. */
      readonly start?: StartContext;
    }
  | {
      readonly type: 'StepOutcome';
      readonly step: number;
      /** Required for sent, failed and unknown. */
      readonly channel?: Channel;
      readonly at: IsoTimestamp;
      readonly outcome: StepOutcomeResult;
    }
  | {
      readonly type: 'ReconciliationResult';
      readonly step: number;
      readonly channel: Channel;
      readonly at: IsoTimestamp;
      readonly result: ReconciliationOutcome;
    }
  | { readonly type: 'TicketOpened'; readonly ticketId: string; readonly at: IsoTimestamp }
  /** No ticket provider, or the provider refused for good: recorded, never retried. */
  | { readonly type: 'TicketSkipped'; readonly reason: TicketSkipReason; readonly at: IsoTimestamp }
  /**
   * A help-desk ticket or marketing-profile push is held up by its outside system (a retryable
   * error): recorded from the first failure of its request, so the history says why it waits.
   */
  /**
   * An effect request (a step's send, a reconciliation, a ticket, a profile push, an enrichment)
   * failed too often and is parked as a dead letter with its error, until an operator retries it.
   */
  | {
      readonly type: 'EffectParked';
      readonly effect: ParkedEffect;
      readonly step?: number;
      readonly attempts: number;
      readonly error: string;
      readonly at: IsoTimestamp;
    }
  | {
      readonly type: 'EffectDeferred';
      readonly effect: DeferredEffect;
      readonly detail: string;
      readonly at: IsoTimestamp;
    }
  /** The shopper opened a message (pixel) or clicked one of its links; recorded once per kind, step and channel. */
  | {
      readonly type: 'MessageEngagement';
      /** `replied`: the shopper answered the message (an SMS reply that is not a keyword). */
      readonly kind: 'opened' | 'clicked' | 'replied';
      readonly step: number;
      readonly channel: Channel;
      readonly at: IsoTimestamp;
      /** Clicks: the host clicked through to (no path or query: they may carry personal data). */
      readonly targetHost?: string;
    }
  /** The provider's final word on a message it accepted (Twilio status callback): recorded once per status. */
  | {
      readonly type: 'DeliveryReported';
      readonly step: number;
      readonly channel: Channel;
      readonly status: DeliveryStatus;
      /** The provider's error code (Twilio `ErrorCode`), never a message text. */
      readonly errorCode?: string;
      readonly at: IsoTimestamp;
    }
  /** An order placed after a click of this recovery's message, within ATTRIBUTION_WINDOW (once per order). */
  | {
      readonly type: 'OrderAttributed';
      readonly orderId: string;
      readonly step: number;
      readonly channel: Channel;
      readonly messageId: string;
      readonly clickedAt: IsoTimestamp;
      readonly placedAt: IsoTimestamp;
      readonly revenue: DecimalString;
      readonly currency: string;
      readonly discountCode?: string;
      /** The order's discount codes included the one this message carried. */
      readonly discountUsed: boolean;
      readonly landingSite?: string;
      readonly at: IsoTimestamp;
    }
  | { readonly type: 'TicketClosed'; readonly ticketId: string; readonly at: IsoTimestamp }
  /**
   * What the help desk said about the customer's own open tickets (./support-tickets.ts), looked up
   * at send time or when the help desk called back: recorded as it is, and the copy follows it.
   */
  | {
      readonly type: 'RecordSupportLookup';
      readonly at: IsoTimestamp;
      readonly source: SupportSource;
      readonly trigger: SupportLookupTrigger;
      /** The step being sent, for a send-time lookup. */
      readonly step?: number;
      readonly result: SupportLookupResult;
    }
  /**
   * An operator asks to run a dead-lettered step again (dashboard retry). With a fresh retry budget:
   * `unreconcilable` steps are reconciled again first (the message may have gone out), the others are
   * sent again with the same idempotency key. Ignored unless the step is dead-lettered, the recovery
   * is running and no other step is in flight (`deadLetterRetryRefusal` says why).
   */
  | { readonly type: 'RetryDeadLetter'; readonly step: number; readonly at: IsoTimestamp }
  /**
   * What the marketing platform knows about the shopper, fetched once as the recovery starts (an
   * effect): recorded as it is, and the recovery decides on the recorded facts only.
   */
  | { readonly type: 'RecordEnrichment'; readonly at: IsoTimestamp; readonly enrichment: ProfileEnrichment }
  /**
   * What the store answered for a step's sold-out lines (their alternatives, or why none), recorded
   * before the step's decision so the history shows it and a repeat of the request reads it back.
   */
  /**
   * The store reported a product's stock (`product.stock-reported`, from its product or inventory
   * webhook): a line of this recovery announced as sold out may be back.
   */
  | {
      readonly type: 'RestockReported';
      readonly at: IsoTimestamp;
      readonly productId: string;
      readonly available?: boolean;
      readonly variants: readonly { readonly variantId: string; readonly available: boolean }[];
    }
  /**
   * The shopper followed the "notify me" link of a line named as sold out (in the message of
   * `step`): recorded once; a watch that had ended is opened again.
   */
  | { readonly type: 'BackInStockRequested'; readonly at: IsoTimestamp; readonly step: number; readonly lineId: string }
  /** What became of a back-in-stock message (an effect): sent, skipped (why), or deferred (until when). */
  | {
      readonly type: 'BackInStockOutcome';
      readonly at: IsoTimestamp;
      readonly lineId: string;
      readonly outcome:
        | { readonly kind: 'sent'; readonly step: number; readonly channel: Channel; readonly messageId: string }
        | { readonly kind: 'skipped'; readonly reason: string; readonly detail?: string }
        | { readonly kind: 'deferred'; readonly until: IsoTimestamp; readonly reason: string };
    }
  /**
   * The recovery's incentive level, chosen at its first due step whose definition carries a
   * discount (RFC 0017): the fixed ladder, or the learned policy's explore / exploit choice.
   */
  | {
      readonly type: 'ChooseIncentive';
      readonly at: IsoTimestamp;
      readonly step: number;
      readonly choice: IncentiveChoice;
    }
  /** The send time of a due follow-up, chosen from the customer's engagement profile (RFC 0012). */
  | {
      readonly type: 'RecordSendTime';
      readonly at: IsoTimestamp;
      readonly step: number;
      readonly choice: SendTimeChoice;
    }
  | {
      readonly type: 'RecordAlternatives';
      readonly at: IsoTimestamp;
      readonly step: number;
      readonly lines: readonly SoldOutLine[];
    }
  /** The platform could not be asked in time (timeout, throttled, refused…): recorded, the recovery goes on. */
  | {
      readonly type: 'RecordEnrichmentUnavailable';
      readonly at: IsoTimestamp;
      readonly source: EnrichmentSource;
      readonly reason: EnrichmentUnavailableReason;
      /** The provider's error code, when it gave one (never a message: it can echo an address). */
      readonly code?: string;
    }
  /** The store's categories of the cart's products, looked up once (an effect) and recorded as they are. */
  | {
      readonly type: 'RecordProductCategories';
      readonly at: IsoTimestamp;
      readonly products: readonly ProductCategories[];
    }
  /** The store could not be asked (timeout, throttled, refused…): recorded, the recovery goes on without. */
  | {
      readonly type: 'RecordCategoriesUnavailable';
      readonly at: IsoTimestamp;
      readonly productIds: readonly string[];
      readonly reason: CategoriesUnavailableReason;
      readonly code?: string;
    };

/** One product's categories in the store (Shopify product type and collections, BigCommerce / WooCommerce categories). */
export interface ProductCategories {
  readonly productId: string;
  /** Category names; empty when the store has the product in none. */
  readonly categories: readonly string[];
  /** False when the store does not know the product (deleted since). */
  readonly found: boolean;
}

export type CategoriesUnavailableReason = 'timeout' | 'throttled' | 'refused' | 'error' | 'not-configured';

// ---------------------------------------------------------------- events

export type TimerPurpose = 'abandonment' | 'step' | 'retry' | 'reconcile' | 'holdout-end' | 'completion';
export type EndReason = 'purchased' | 'deleted' | 'opted-out' | 'completed' | 'holdout-completed';
export type PauseReason = 'cart-activity' | 'ticket-open';
export type DeadLetterReason = 'retry-budget-exhausted' | 'not-retryable' | 'unreconcilable';
export type TicketSkipReason = 'no-ticket-provider' | 'ticket-refused';

/** The flat view's common fields: envelope `type`/`schemaVersion`, and in the data `recoveryId` and `at`. */
interface Base<T extends string, V extends number = 1> {
  readonly type: T;
  readonly schemaVersion: V;
  readonly recoveryId: string;
  readonly at: IsoTimestamp;
}

export interface ActivityRecorded extends Base<'recovery.activity-recorded'> {
  readonly shopId: string;
  readonly cartId: string;
  readonly cart: CartSnapshot;
}
export interface TimerScheduled extends Base<'recovery.timer-scheduled'> {
  readonly timerId: string;
  readonly dueAt: IsoTimestamp;
  readonly purpose: TimerPurpose;
  readonly step?: number;
}
/**
 * v2 added `arm` (v1 events are upcast with `recoveryArm(holdout, mode)`, see ./arms.ts); v3 the
 * arm's propensity and the shares it was drawn with (v1/v2 events are upcast with `null`: not logged).
 */
export interface Started extends Base<'recovery.started', 3> {
  readonly abandonedAt: IsoTimestamp;
  readonly source: 'inactivity' | 'platform';
  readonly cartValue: DecimalString;
  readonly currency: string;
  readonly random: number;
  readonly holdout: boolean;
  readonly mode: SendMode;
  /** The experiment arm (holdout, live-treated, shadow, outside-rollout): what lift compares. */
  readonly arm: RecoveryArm;
  /** The probability of `arm` under the shares below (`armProbabilities`); `null`: not logged (before v3). */
  readonly propensity: number | null;
  /** HOLDOUT_PERCENT / the shop's holdout share in force (0-100); `null` before v3. */
  readonly holdoutPercent: number | null;
  /** The rollout share in force (0-100); `null` before v3. */
  readonly rolloutPercent: number | null;
  readonly shopTimeZone: string;
}
export interface Segmented extends Base<'recovery.segmented'> {
  readonly segmentation: Segmentation;
}
/** What was known at abandonment, as the recovery starts (./features.ts); never recomputed. */
export interface FeaturesRecorded extends Base<'recovery.features-recorded'> {
  /** `RECOVERY_FEATURES_SCHEMA` when recorded: which features, computed how. */
  readonly featureSchema: number;
  readonly features: RecoveryFeatures;
}
/** The recorded features scored with the shop's live model (./score.ts): the purchase probability at abandonment. */
export interface Scored extends Base<'recovery.scored'> {
  /** Calibrated probability of an order within the label window, in [0, 1]. */
  readonly score: number;
  readonly modelVersion: number;
  readonly contentHash: string;
  readonly scope: ModelScope;
}
/** No model to score with: too few labelled outcomes anywhere (how many are still needed). */
export interface ScoreUnavailable extends Base<'recovery.score-unavailable'> {
  readonly reason: 'no-model';
  readonly outcomesNeeded: number;
}
/**
 * Routing by score (./routing.ts): the band the recorded score and the cart's value put the
 * recovery in, and what it chose — recorded right after the score (or its absence), before the
 * sequence. Holdout recoveries are banded too (for measurement) but send nothing.
 */
export interface Routed extends Base<'recovery.routed'> {
  readonly band: RoutingBand;
  readonly reason: RoutingReason;
  /** The recorded score and its model (absent for `unscored`). */
  readonly score?: number;
  readonly modelVersion?: number;
  /** `unscored`: labelled outcomes still needed before a model. */
  readonly outcomesNeeded?: number;
  readonly cartValue: DecimalString;
  readonly currency: string;
  /** The shop's thresholds the band was decided with. */
  readonly thresholds: RoutingThresholds;
  /** The sequence the recovery gets (the band's own, or the catalogue's match). */
  readonly sequenceId?: string;
  /** `band`: the band's own sequence; `catalogue-match`: the catalogue's normal match decided. */
  readonly sequenceSource: 'band' | 'catalogue-match';
  /** The band's sequence id was not in the shop's catalogue, so the catalogue's match was used. */
  readonly sequenceFallback?: 'not-in-catalogue';
  /** Whether a support ticket is requested for the recovery (live, not holdout, the band asks for one). */
  readonly ticket: boolean;
  /** Why the model scored the cart so: the largest per-feature contributions to the log-odds (model card names). */
  readonly topFeatures?: readonly { readonly feature: string; readonly contribution: number }[];
}
export interface SequenceSelected extends Base<'recovery.sequence-selected'> {
  readonly sequenceId: string;
  readonly sequenceVersion: number;
  readonly catalogueVersion: number;
  /** Snapshot of the steps: the recovery stays on this version. */
  readonly steps: readonly SequenceStep[];
}
export interface AssignedHoldout extends Base<'recovery.assigned-holdout'> {
  readonly random: number;
  readonly holdoutPercent: number;
}
export interface TicketRequested extends Base<'recovery.ticket-requested'> {
  readonly idempotencyKey: string;
  readonly cartValue: DecimalString;
  readonly currency: string;
}
export interface TicketOpenedEvent extends Base<'recovery.ticket-opened'> {
  readonly ticketId: string;
}
export interface TicketClosedEvent extends Base<'recovery.ticket-closed'> {
  readonly ticketId: string;
}
/** The engine's effect requests of a recovery (as queued). */
export type ParkedEffect = 'step' | 'reconcile' | 'ticket' | 'profile' | 'enrich' | 'back-in-stock' | 'categorize';
/**
 * An effect request parked as a dead letter after its retry budget (schema 1; history only, the
 * state ignores it: the request waits in the dead-letter list for an operator's retry).
 */
export interface EffectParkedEvent extends Base<'recovery.effect-parked'> {
  readonly effect: ParkedEffect;
  readonly step?: number;
  readonly attempts: number;
  readonly error: string;
}
/** Outside effects of a recovery other than its steps that can be held up by a provider. */
export type DeferredEffect = 'ticket' | 'profile';
/** A ticket or profile push waits for its outside system (schema 1; the detail says what it answered). */
export interface EffectDeferredEvent extends Base<'recovery.effect-deferred'> {
  readonly effect: DeferredEffect;
  readonly detail: string;
}
export interface TicketSkippedEvent extends Base<'recovery.ticket-skipped'> {
  readonly reason: TicketSkipReason;
}
export interface MessageOpened extends Base<'recovery.message-opened'> {
  readonly step: number;
  readonly channel: Channel;
}
/** The shopper answered the message (an SMS reply other than a STOP/START/HELP keyword): engagement. */
export interface MessageReplied extends Base<'recovery.message-replied'> {
  readonly step: number;
  readonly channel: Channel;
}
export interface MessageClicked extends Base<'recovery.message-clicked'> {
  readonly step: number;
  readonly channel: Channel;
  readonly targetHost?: string;
}
/** What a provider reports about a message after accepting it. */
export type DeliveryStatus = 'delivered' | 'undelivered' | 'failed';
export interface DeliveryReported extends Base<'recovery.delivery-reported'> {
  readonly step: number;
  readonly channel: Channel;
  readonly status: DeliveryStatus;
  readonly errorCode?: string;
}
export interface OrderAttributedEvent extends Base<'recovery.order-attributed'> {
  readonly orderId: string;
  readonly step: number;
  readonly channel: Channel;
  readonly messageId: string;
  readonly clickedAt: IsoTimestamp;
  readonly placedAt: IsoTimestamp;
  readonly revenue: DecimalString;
  readonly currency: string;
  readonly discountCode?: string;
  readonly discountUsed: boolean;
  readonly landingSite?: string;
}
export interface StepDue extends Base<'recovery.step-due'> {
  readonly step: number;
  /** 1 for the first attempt; resends after a failure or a "not sent" reconciliation count up. */
  readonly attempt: number;
  readonly dueAt: IsoTimestamp;
  readonly sequenceId: string;
  readonly sequenceVersion: number;
  readonly definition: SequenceStep;
  readonly mode: SendMode;
}
export interface StepSkipped extends Base<'recovery.step-skipped'> {
  readonly step: number;
  readonly channel?: Channel;
  readonly reason: SkipReason | StopReason;
  readonly channelsSkipped?: readonly ChannelSkip[];
  readonly wouldSend?: SendSummary;
  /** `engagement-fatigue` (optional, added without a version bump): the counts the skip rests on. */
  readonly fatigue?: FatigueAssessment;
  /** `low-responsiveness` (optional, no version bump; RFC 0013): the engagement score the skip rests on. */
  readonly responsiveness?: ResponsivenessAssessment;
  /** The channel the step would have used and why (optional, no version bump; RFC 0013). */
  readonly channelChoice?: ChannelChoice;
}
export interface StepDeferred extends Base<'recovery.step-deferred'> {
  readonly step: number;
  readonly channel?: Channel;
  readonly until: IsoTimestamp;
  readonly reason: DeferReason;
  /** Optional (schema 1 events without it read as before): what the outside system answered. */
  readonly detail?: string;
  /** `quiet-hours` (optional, no version bump): the zone of the send window and where it came from. */
  readonly timeZone?: string;
  readonly timeZoneSource?: TimeZoneSource;
}
export interface MessageSent extends Base<'recovery.message-sent'> {
  readonly step: number;
  readonly channel: Channel;
  readonly messageId: string;
  readonly discountCode?: string;
  readonly idempotencyKey: string;
  readonly reconciled: boolean;
  readonly sent?: SendSummary;
  readonly channelsSkipped?: readonly ChannelSkip[];
}
export interface MessageFailed extends Base<'recovery.message-failed'> {
  readonly step: number;
  readonly channel: Channel;
  readonly attempt: number;
  readonly retryable: boolean;
  readonly error?: string;
  readonly retryAt?: IsoTimestamp;
}
export interface OutcomeUnknown extends Base<'recovery.outcome-unknown'> {
  readonly step: number;
  readonly channel: Channel;
  readonly idempotencyKey: string;
}
export interface ReconciliationRequested extends Base<'recovery.reconciliation-requested'> {
  readonly step: number;
  readonly channel: Channel;
  readonly idempotencyKey: string;
  readonly attempt: number;
}
export interface Reconciled extends Base<'recovery.reconciled'> {
  readonly step: number;
  readonly channel: Channel;
  readonly result: ReconciliationOutcome['kind'];
  /** When the result is still unknown: the next reconciliation is not before this. */
  readonly retryAt?: IsoTimestamp;
}
export interface DeadLettered extends Base<'recovery.dead-lettered'> {
  readonly step: number;
  readonly channel: Channel;
  readonly attempts: number;
  readonly reason: DeadLetterReason;
}
/** A dead-lettered step was put back on the queue by an operator (`RetryDeadLetter`). */
export interface DeadLetterRetried extends Base<'recovery.dead-letter-retried'> {
  readonly step: number;
  readonly channel: Channel;
  /** Why it had been dead-lettered, and the attempts it had used. */
  readonly previousReason: DeadLetterReason;
  readonly previousAttempts: number;
  /** `reconcile` for an unreconcilable step (ask the provider again), else `resend`. */
  readonly resume: 'resend' | 'reconcile';
}
/** `send`: looked up as a step was being sent; `webhook`: the help desk called back about a ticket. */
export type SupportLookupTrigger = 'send' | 'webhook';
/**
 * The customer's own tickets were looked up (`found`: how many are open, which of them concern
 * this cart) or could not be (`unavailable`, with the reason and the provider's code).
 */
export interface SupportChecked extends Base<'recovery.support-checked'> {
  readonly source: SupportSource;
  readonly trigger: SupportLookupTrigger;
  readonly step?: number;
  readonly outcome: 'found' | 'unavailable';
  readonly openTickets?: number;
  readonly concerning?: readonly CustomerTicketFact[];
  readonly reason?: SupportLookupFailure;
  readonly code?: string;
}
/** A ticket the customer opened about this cart is open: help copy (or a pause) from now on. */
export interface CustomerTicketOpened extends Base<'recovery.customer-ticket-opened'> {
  readonly source: SupportSource;
  readonly ticketId: string;
  readonly concern: TicketConcern;
  readonly productIds?: readonly string[];
}
/** That ticket is no longer open (solved, closed, deleted, or no longer listed as open). */
export interface CustomerTicketClosed extends Base<'recovery.customer-ticket-closed'> {
  readonly source: SupportSource;
  readonly ticketId: string;
  readonly trigger: SupportLookupTrigger;
}
export interface Paused extends Base<'recovery.paused'> {
  readonly reason: PauseReason;
}
export interface AbandonedAgain extends Base<'recovery.abandoned-again'> {
  readonly abandonedAt: IsoTimestamp;
  readonly source: 'inactivity' | 'platform';
}
export interface Resumed extends Base<'recovery.resumed'> {
  readonly cause: 're-abandoned' | 'ticket-closed';
}
export interface ChannelRevoked extends Base<'recovery.channel-revoked'> {
  readonly channel: Channel;
}
/** An outcome reported after the recovery ended (e.g. a send that raced a purchase): kept for audit. */
export interface LateOutcome extends Base<'recovery.late-outcome'> {
  readonly step: number;
  readonly channel?: Channel;
  readonly outcome: StepOutcomeResult['kind'];
  readonly messageId?: string;
}
/** The marketing platform's facts about the shopper (./enrichment.ts), and the segments they add. */
export interface Enriched extends Base<'recovery.enriched'> {
  readonly enrichment: ProfileEnrichment;
  /** Segments added to the recovery's by these facts (`segmentsFromEnrichment`); empty when none. */
  readonly segmentsAdded: readonly Segment[];
}
export interface EnrichmentUnavailable extends Base<'recovery.enrichment-unavailable'> {
  readonly source: EnrichmentSource;
  readonly reason: EnrichmentUnavailableReason;
  readonly code?: string;
}
/**
 * A step's sold-out lines as the store answered (./alternatives.ts): the suggestions looked at and
 * their verdicts, the alternative offered, or why none (`lookup`: none, failed with `detail`).
 * History and replays only; the state ignores it.
 */
/**
 * The send-time arm of a recovery (RFC 0012), drawn at its start when the shop's send-time
 * optimisation is on: `on` moves follow-ups to the customer's best hour, `off` keeps nominal times.
 * `propensity` is the probability of the arm drawn; holdout recoveries get none.
 */
/**
 * The variant a step of this recovery runs (RFC 0016): Thompson sampling per segment × step over the
 * experiment's eligible variants, the adopted one, or the only one the guardrails left. `propensity`
 * is the probability that this variant was chosen at that moment (Monte-Carlo, from the recorded
 * seed); holdout recoveries get none.
 */
export interface VariantAssigned extends Base<'recovery.variant-assigned'>, VariantAssignment {}
export interface SendTimeAssigned extends Base<'recovery.send-time-assigned'> {
  readonly arm: SendTimeArm;
  readonly propensity: number;
  readonly draw: number;
  readonly armPercent: number;
}
/**
 * The policy arm of a live recovery (RFC 0021): `fixed-rules` runs the fixed rules as a whole,
 * `shop-policy` the shop's own settings. `propensity` is the probability of the arm drawn at
 * `controlPercent`; the holdout draws none.
 */
export interface PolicyArmAssigned extends Base<'recovery.policy-arm-assigned'> {
  readonly arm: PolicyArm;
  readonly propensity: number;
  readonly draw: number;
  readonly controlPercent: number;
}
/** The send time of a follow-up: nominal and chosen, the window, and why (RFC 0012). */
export interface SendTimeChosen extends Base<'recovery.send-time-chosen'>, SendTimeChoice {
  readonly step: number;
}
/**
 * The recovery's incentive level (RFC 0017), once, at its first due step that carries a discount:
 * `percent` is offered on every such step (0 = none). `propensity` is the probability this level
 * had under the policy at that moment (1 for the fixed ladder), so a backtest can reweight.
 */
export interface IncentiveChosen extends Base<'recovery.incentive-chosen'>, IncentiveChoice {
  readonly step: number;
}
/**
 * A step that would have carried a discount went without one: `code-farmer`, `no-level-pays`
 * (the learned policy's best level does not pay), `incentive-control` (the randomised 0 % arm),
 * `recent-discount-recovery` (the anti-gaming cooldown) or `discount-unavailable` (the store could
 * not create a code). Recorded with the message that went out without it.
 */
export interface DiscountWithheld extends Base<'recovery.discount-withheld'> {
  readonly step: number;
  readonly reason: DiscountWithheldReason;
  /** The percent the step would have offered. */
  readonly percent: number;
  readonly detail?: string;
}
export interface AlternativesChecked extends Base<'recovery.alternatives-checked'> {
  readonly step: number;
  readonly lines: readonly SoldOutLine[];
}
/**
 * A line announced as sold out in a sent message (no alternative fitted): the recovery watches its
 * product and sends one back-in-stock message when the store reports it back.
 */
export interface BackInStockWatched extends Base<'recovery.back-in-stock-watched'> {
  readonly step: number;
  readonly lineId: string;
  readonly productId: string;
  readonly variantId?: string;
}
/** The shopper asked, through the message's "notify me" link, to hear when the line is back. */
export interface BackInStockRequested extends Base<'recovery.back-in-stock-requested'> {
  readonly step: number;
  readonly lineId: string;
}
/** The store reported the watched product back: a back-in-stock message is asked for (an effect). */
export interface BackInStockDue extends Base<'recovery.back-in-stock-due'> {
  readonly lineId: string;
  readonly productId: string;
  readonly variantId?: string;
}
export interface BackInStockSent extends Base<'recovery.back-in-stock-sent'> {
  readonly lineId: string;
  /** The message's number beside the sequence's steps (`1000 + watch`): its links, journal and caps use it. */
  readonly step: number;
  readonly channel: Channel;
  readonly messageId: string;
}
/**
 * No back-in-stock message: `still-sold-out` (the store says it is not back: the watch goes on) or a
 * pre-send check's reason (consent, purchased, …: the watch ends).
 */
export interface BackInStockSkipped extends Base<'recovery.back-in-stock-skipped'> {
  readonly lineId: string;
  readonly reason: string;
  readonly detail?: string;
}
/** The back-in-stock message waits (quiet hours, frequency cap, store unavailable) until then. */
export interface BackInStockDeferred extends Base<'recovery.back-in-stock-deferred'> {
  readonly lineId: string;
  readonly until: IsoTimestamp;
  readonly reason: string;
}
/** The store's categories of the cart's products (read by later starts through the engine's category cache). */
export interface CategoriesRecorded extends Base<'recovery.categories-recorded'> {
  readonly products: readonly ProductCategories[];
}
/** The store could not tell the categories: the segmentation goes on without them. */
export interface CategoriesUnavailable extends Base<'recovery.categories-unavailable'> {
  readonly productIds: readonly string[];
  readonly reason: CategoriesUnavailableReason;
  readonly code?: string;
}
export interface Ended extends Base<'recovery.ended'> {
  readonly reason: EndReason;
  readonly orderId?: string;
}

export type RecoveryEvent =
  | ActivityRecorded
  | TimerScheduled
  | Started
  | Segmented
  | FeaturesRecorded
  | Scored
  | ScoreUnavailable
  | Routed
  | SequenceSelected
  | AssignedHoldout
  | TicketRequested
  | TicketOpenedEvent
  | TicketClosedEvent
  | TicketSkippedEvent
  | SupportChecked
  | CustomerTicketOpened
  | CustomerTicketClosed
  | MessageOpened
  | MessageClicked
  | MessageReplied
  | DeliveryReported
  | EffectDeferredEvent
  | EffectParkedEvent
  | OrderAttributedEvent
  | StepDue
  | StepSkipped
  | StepDeferred
  | MessageSent
  | MessageFailed
  | OutcomeUnknown
  | ReconciliationRequested
  | Reconciled
  | DeadLettered
  | DeadLetterRetried
  | Paused
  | AbandonedAgain
  | Resumed
  | ChannelRevoked
  | LateOutcome
  | Enriched
  | EnrichmentUnavailable
  | AlternativesChecked
  | SendTimeAssigned
  | PolicyArmAssigned
  | VariantAssigned
  | SendTimeChosen
  | IncentiveChosen
  | DiscountWithheld
  | BackInStockWatched
  | BackInStockRequested
  | BackInStockDue
  | BackInStockSent
  | BackInStockSkipped
  | BackInStockDeferred
  | CategoriesRecorded
  | CategoriesUnavailable
  | Ended;

export type RecoveryEventType = RecoveryEvent['type'];

/** The data of one recovery event type: everything but the envelope's `type` and `schemaVersion`. */
export type RecoveryEventData<T extends RecoveryEventType> = Omit<
  Extract<RecoveryEvent, { readonly type: T }>,
  'type' | 'schemaVersion'
>;

/**
 * A recovery event as the process manager decides it and the store holds it: the shared envelope
 * (`type`, `schemaVersion`, `data`) like every other stream's events. `RecoveryEvent` is the flat
 * view of the same event (envelope fields and data side by side) that projections read.
 */
export type StoredRecoveryEvent = {
  readonly [T in RecoveryEventType]: DomainEvent<T, RecoveryEventData<T>>;
}[RecoveryEventType];

/** Distributes Omit over the union so each member keeps its own fields. */
export type RecoveryEventBody = RecoveryEvent extends infer E
  ? E extends RecoveryEvent
    ? Omit<E, 'schemaVersion' | 'recoveryId'>
    : never
  : never;

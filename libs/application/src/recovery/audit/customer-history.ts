/**
 * A customer's complete recovery message history, straight from the event log (the audit trail):
 * every step sent, skipped, deferred, failed, unknown or dead-lettered with its reason, and the
 * decision inputs — segments with their features and thresholds, sequence and version, stock and
 * price outcome, discount, and the consent relied on. No personal data: events hold none.
 */
import type {
  Channel,
  ConsentUsed,
  FatigueAssessment,
  RecoveryEvent,
  SendMode,
  SendSummary,
  ProfileEnrichment,
  Segmentation,
  SequenceStep,
  SoldOutLine,
} from '@reclaim/domain';
import {
  comparePositions,
  positionToString,
  type EventStore,
  type GlobalPosition,
  type RecordedEvent,
} from '@reclaim/event-store';
import {
  describeChannelChoice,
  describeFatigue,
  describeRouting,
  describeResponsiveness,
  describeSendTime,
  parseRecoveryId,
  type ChannelChoice,
  type ResponsivenessAssessment,
  type SendTimeChoice,
} from '@reclaim/domain';
import { fromStoredRecoveryEvent, playsLadder, type PolicyArm, type RecoveryArm } from '@reclaim/domain';

export type HistoryEntryKind =
  | 'started'
  | 'holdout'
  | 'ticket-requested'
  | 'ticket-opened'
  | 'step-due'
  | 'sent'
  | 'skipped'
  | 'deferred'
  | 'failed'
  | 'unknown'
  | 'reconciliation-requested'
  | 'reconciled'
  | 'dead-lettered'
  | 'dead-letter-retried'
  | 'late-outcome'
  | 'paused'
  | 'resumed'
  | 'channel-revoked'
  | 'ticket-skipped'
  | 'support-checked'
  | 'customer-ticket-opened'
  | 'customer-ticket-closed'
  | 'effect-deferred'
  | 'effect-parked'
  | 'opened'
  | 'clicked'
  | 'replied'
  | 'delivery-reported'
  | 'order-attributed'
  | 'enriched'
  | 'enrichment-unavailable'
  | 'alternatives-checked'
  | 'send-time-assigned'
  | 'policy-arm-assigned'
  | 'variant-assigned'
  | 'send-time-chosen'
  | 'incentive-chosen'
  | 'discount-withheld'
  | 'back-in-stock-watched'
  | 'back-in-stock-requested'
  | 'back-in-stock-due'
  | 'back-in-stock-sent'
  | 'back-in-stock-skipped'
  | 'back-in-stock-deferred'
  | 'segmented'
  | 'scored'
  | 'score-unavailable'
  | 'routed'
  | 'categories-recorded'
  | 'categories-unavailable'
  | 'ended';

export interface HistoryEntry {
  /** The outside time the event states (the platform's, the provider's or the engine clock's). */
  readonly at: string;
  /** When the appliance recorded it in the log. */
  readonly recordedAt: string;
  readonly recoveryId: string;
  readonly cartId: string;
  /** Global log position: the order of the history, and how to look the event up. */
  readonly position: string;
  readonly kind: HistoryEntryKind;
  readonly step?: number;
  readonly attempt?: number;
  readonly channel?: Channel;
  readonly reason?: string;
  readonly until?: string;
  readonly messageId?: string;
  readonly discountCode?: string;
  readonly reconciled?: boolean;
  /** What was sent (or would have been, in shadow mode): template, items, value, discount, stock outcome. */
  readonly sent?: SendSummary;
  readonly consentUsed?: ConsentUsed;
  readonly channelsSkipped?: readonly { readonly channel: Channel; readonly reason: string }[];
  readonly retryAt?: string;
  /** `failed`: the provider's error; `deferred` by an outside error: what the outside system answered, in words. */
  readonly error?: string;
  /** `started`: the experiment arm the recovery was drawn into (holdout, live-treated, shadow, outside-rollout). */
  readonly arm?: RecoveryArm;
  /** `engagement-fatigue` skips: the counts the skip rests on, and the same in one line. */
  readonly fatigue?: FatigueAssessment;
  /** The customer's engagement score at a send or skip (RFC 0013), and in one line (`responsivenessDetail`). */
  readonly responsiveness?: ResponsivenessAssessment;
  readonly responsivenessDetail?: string;
  /** How the channel was chosen (segment, learned rates, costs), and in one line (`channelChoiceDetail`). */
  readonly channelChoice?: ChannelChoice;
  readonly channelChoiceDetail?: string;
  /** `quiet-hours` deferrals: the zone of the send window, from the customer's address or the shop's. */
  readonly timeZone?: string;
  readonly timeZoneSource?: 'address' | 'shop-default';
  /** The reason's numbers or zone in one line (fatigue skips, quiet-hours deferrals). */
  readonly detail?: string;
  /** `enriched`: what the marketing platform (Klaviyo) knew about the shopper, and the segments it added. */
  readonly enrichment?: ProfileEnrichment;
  readonly segmentsAdded?: readonly string[];
  /** `send-time-chosen`: the follow-up's nominal and chosen times, its window and the evidence (RFC 0012). */
  readonly sendTime?: SendTimeChoice;
  /** `send-time-assigned`: the send-time arm drawn (on / off) and its probability. */
  readonly sendTimeArm?: { readonly arm: 'on' | 'off'; readonly propensity: number };
  /**
   * `policy-arm-assigned`: the policy arm drawn (RFC 0021) — the fixed rules as a whole or the
   * shop's own settings — its probability and the share of the rules arm at the draw.
   */
  readonly policyArm?: { readonly arm: PolicyArm; readonly propensity: number; readonly controlPercent: number };
  /** `variant-assigned`: the step's variant, why it was chosen and with what probability (RFC 0016). */
  readonly variant?: {
    readonly experimentId: string;
    readonly variantId: string;
    readonly mode: string;
    readonly propensity: number;
    readonly segment: string;
    readonly overrides: Readonly<Record<string, unknown>>;
  };
  /** `alternatives-checked`: the step's sold-out lines, what the store suggested, and what was offered. */
  readonly soldOut?: readonly SoldOutLine[];
  /** The recorded event itself. */
  readonly event: RecoveryEvent;
}

export interface RecoveryDecisionInputs {
  readonly recoveryId: string;
  readonly cartId: string;
  readonly startedAt?: string;
  readonly abandonedAt?: string;
  readonly mode?: SendMode;
  readonly holdout?: boolean;
  readonly arm?: RecoveryArm;
  /** The policy arm drawn at the start (RFC 0021): the settings every later decision ran under. */
  readonly policyArm?: PolicyArm;
  readonly segmentation?: Segmentation;
  /** The marketing platform's recorded facts (`recovery.enriched`), or why there are none. */
  readonly enrichment?: ProfileEnrichment;
  readonly enrichmentUnavailable?: { readonly source: string; readonly reason: string; readonly at: string };
  readonly sequence?: {
    readonly id: string;
    readonly version: number;
    readonly catalogueVersion: number;
    readonly steps: readonly SequenceStep[];
  };
  /** The recovery score recorded at abandonment (`recovery.scored`), or why there is none. */
  readonly score?:
    | { readonly score: number; readonly modelVersion: number; readonly scope: string; readonly contentHash: string }
    | { readonly unavailable: 'no-model'; readonly outcomesNeeded: number };
  /** Routing by score (`recovery.routed`): the band, why, and what it chose. */
  readonly routing?: {
    readonly band: string;
    readonly reason: string;
    readonly sequenceId?: string;
    readonly ticket: boolean;
    readonly detail: string;
  };
  readonly endReason?: string;
}

export interface CustomerHistory {
  readonly shopId: string;
  readonly customerKey: string;
  readonly recoveries: readonly RecoveryDecisionInputs[];
  /** In the log's causal order (global position); each entry shows its outside time (`at`) and `recordedAt`. */
  readonly entries: readonly HistoryEntry[];
}

export interface CustomerHistoryOptions {
  /** Known recovery ids (e.g. from `engine.customer_recoveries`): skips the scan of the log. */
  readonly recoveryIds?: readonly string[];
  /** Page size of the log scan. Default 1000. */
  readonly pageSize?: number;
}

/** Recovery ids whose recorded activity names this customer (scan of `recovery.activity-recorded` of the shop). */
async function findRecoveries(
  store: EventStore,
  shopId: string,
  customerKey: string,
  pageSize: number,
): Promise<string[]> {
  const found = new Set<string>();
  let after: GlobalPosition | undefined;
  for (;;) {
    const page = await store.readAll({
      ...(after !== undefined ? { after } : {}),
      maxCount: pageSize,
      filter: { streamPrefixes: [`recovery-${shopId}-`], typePrefixes: ['recovery.activity-recorded'] },
    });
    for (const r of page) {
      const e = fromStoredRecoveryEvent(r);
      if (e.type === 'recovery.activity-recorded' && e.cart.customerKey === customerKey) found.add(r.streamId);
    }
    if (page.length < pageSize) break;
    after = page[page.length - 1].position;
  }
  return [...found];
}

/** The cart inputs of a segmentation in one line: what the segments were decided on. */
export function segmentationInputs(s: Segmentation): string {
  const { cart, customer } = s;
  return [
    `categories ${cart.categories.length > 0 ? cart.categories.join(', ') : 'unknown'}`,
    `checkout stage ${cart.checkoutStage ?? 'unknown'}`,
    `device ${cart.device}${cart.device === 'unknown' && cart.unknownInputs?.device ? ` (${cart.unknownInputs.device})` : ''}`,
    `traffic source ${cart.trafficSource ?? 'unknown'}${
      (cart.trafficSource ?? 'unknown') === 'unknown' && cart.unknownInputs?.trafficSource
        ? ` (${cart.unknownInputs.trafficSource})`
        : ''
    }`,
    `${customer.ordersCount} orders before`,
    ...(customer.categoriesBought.length > 0 ? [`bought ${customer.categoriesBought.join(', ')}`] : []),
  ].join('; ');
}

function entryOf(r: RecordedEvent, e: RecoveryEvent, cartId: string): HistoryEntry | undefined {
  const base = {
    at: e.at,
    recordedAt: r.recordedAt.toISOString(),
    recoveryId: e.recoveryId,
    cartId,
    position: positionToString(r.position),
    event: e,
  };
  switch (e.type) {
    case 'recovery.started':
      return { ...base, kind: 'started', reason: e.source, arm: e.arm };
    case 'recovery.segmented':
      // reason: the segments; detail: the cart inputs they rest on (categories, stage, device, source).
      return {
        ...base,
        kind: 'segmented',
        reason: e.segmentation.segments.join(', '),
        detail: segmentationInputs(e.segmentation),
      };
    case 'recovery.scored':
      // reason: the probability of an order within the label window; detail: the model it came from.
      return {
        ...base,
        kind: 'scored',
        reason: e.score.toFixed(3),
        detail: `model v${e.modelVersion} (${e.scope}, ${e.contentHash.slice(0, 19)})`,
      };
    case 'recovery.score-unavailable':
      return {
        ...base,
        kind: 'score-unavailable',
        reason: e.reason,
        detail: `${e.outcomesNeeded} more labelled outcome${e.outcomesNeeded === 1 ? '' : 's'} needed before a model`,
      };
    case 'recovery.routed':
      // reason: the band; detail: the score against the thresholds, the model, what it chose and why (top features).
      return { ...base, kind: 'routed', reason: e.band, detail: describeRouting(e) };
    case 'recovery.categories-recorded':
      return {
        ...base,
        kind: 'categories-recorded',
        detail: e.products
          .map((p) => `${p.productId}: ${p.found ? p.categories.join(', ') || 'none' : 'not in the store'}`)
          .join('; '),
      };
    case 'recovery.categories-unavailable':
      return {
        ...base,
        kind: 'categories-unavailable',
        reason: e.reason,
        detail: `products ${e.productIds.join(', ')}`,
        ...(e.code ? { error: e.code } : {}),
      };
    case 'recovery.assigned-holdout':
      return { ...base, kind: 'holdout' };
    case 'recovery.ticket-requested':
      return { ...base, kind: 'ticket-requested' };
    case 'recovery.ticket-opened':
      return { ...base, kind: 'ticket-opened' };
    case 'recovery.ticket-skipped':
      return { ...base, kind: 'ticket-skipped', reason: e.reason };
    case 'recovery.support-checked':
      // reason: the help desk asked; detail: what it said (open tickets, which concern the cart) or why it did not.
      return {
        ...base,
        kind: 'support-checked',
        reason: e.source,
        ...(e.step !== undefined ? { step: e.step } : {}),
        detail:
          e.outcome === 'unavailable'
            ? `lookup failed (${e.reason ?? 'unavailable'}${e.code ? `: ${e.code}` : ''}) at ${e.trigger}`
            : `${e.openTickets ?? 0} open ticket(s) of the customer, ${(e.concerning ?? []).length} about this cart (${e.trigger})`,
        ...(e.outcome === 'unavailable' ? { error: e.reason ?? 'unavailable' } : {}),
      };
    case 'recovery.customer-ticket-opened':
      // reason: why the ticket concerns the cart (product, cart, order, any): the help copy (or the pause) rests on it.
      return {
        ...base,
        kind: 'customer-ticket-opened',
        reason: e.concern,
        detail: `${e.source} ticket ${e.ticketId}${e.productIds?.length ? ` names ${e.productIds.join(', ')}` : ''}`,
      };
    case 'recovery.customer-ticket-closed':
      return { ...base, kind: 'customer-ticket-closed', reason: e.trigger, detail: `${e.source} ticket ${e.ticketId}` };
    case 'recovery.effect-parked':
      // reason: which effect was parked (step, reconcile, ticket, profile, enrich); error: its last error.
      return {
        ...base,
        kind: 'effect-parked',
        reason: e.effect,
        ...(e.step !== undefined ? { step: e.step } : {}),
        attempt: e.attempts,
        error: e.error,
      };
    case 'recovery.effect-deferred':
      // reason: which effect (ticket, profile) waits; detail: what its outside system answered.
      return { ...base, kind: 'effect-deferred', reason: e.effect, detail: e.detail };
    case 'recovery.message-opened':
      return { ...base, kind: 'opened', step: e.step, channel: e.channel };
    case 'recovery.message-clicked':
      return { ...base, kind: 'clicked', step: e.step, channel: e.channel };
    case 'recovery.message-replied':
      return { ...base, kind: 'replied', step: e.step, channel: e.channel };
    case 'recovery.delivery-reported':
      return {
        ...base,
        kind: 'delivery-reported',
        step: e.step,
        channel: e.channel,
        reason: e.status,
        ...(e.errorCode !== undefined ? { error: e.errorCode } : {}),
      };
    case 'recovery.order-attributed':
      return {
        ...base,
        kind: 'order-attributed',
        step: e.step,
        channel: e.channel,
        messageId: e.messageId,
        ...(e.discountCode !== undefined ? { discountCode: e.discountCode } : {}),
      };
    case 'recovery.step-due':
      return { ...base, kind: 'step-due', step: e.step, attempt: e.attempt };
    case 'recovery.message-sent':
      return {
        ...base,
        kind: 'sent',
        step: e.step,
        channel: e.channel,
        messageId: e.messageId,
        reconciled: e.reconciled,
        ...(e.discountCode !== undefined ? { discountCode: e.discountCode } : {}),
        ...(e.sent !== undefined ? { sent: e.sent, consentUsed: e.sent.consentUsed } : {}),
        ...(e.channelsSkipped !== undefined ? { channelsSkipped: e.channelsSkipped } : {}),
        ...learnedOf(e.sent?.responsiveness, e.sent?.channelChoice),
      };
    case 'recovery.step-skipped':
      return {
        ...base,
        kind: 'skipped',
        step: e.step,
        reason: e.reason,
        ...(e.channel !== undefined ? { channel: e.channel } : {}),
        ...(e.wouldSend !== undefined ? { sent: e.wouldSend, consentUsed: e.wouldSend.consentUsed } : {}),
        ...(e.channelsSkipped !== undefined ? { channelsSkipped: e.channelsSkipped } : {}),
        ...(e.fatigue !== undefined ? { fatigue: e.fatigue, detail: describeFatigue(e.fatigue) } : {}),
        ...learnedOf(e.responsiveness ?? e.wouldSend?.responsiveness, e.channelChoice ?? e.wouldSend?.channelChoice),
        ...(e.reason === 'low-responsiveness' && e.responsiveness !== undefined
          ? { detail: describeResponsiveness(e.responsiveness) }
          : {}),
      };
    case 'recovery.step-deferred':
      return {
        ...base,
        kind: 'deferred',
        step: e.step,
        reason: e.reason,
        until: e.until,
        ...(e.detail !== undefined ? { error: e.detail } : {}),
        ...(e.channel !== undefined ? { channel: e.channel } : {}),
        ...(e.timeZone !== undefined
          ? {
              timeZone: e.timeZone,
              ...(e.timeZoneSource !== undefined ? { timeZoneSource: e.timeZoneSource } : {}),
              detail: `local time in ${e.timeZone} (${
                e.timeZoneSource === 'address'
                  ? "from the customer's address"
                  : "the shop's zone: the customer's is unknown"
              })`,
            }
          : {}),
      };
    case 'recovery.message-failed':
      return {
        ...base,
        kind: 'failed',
        step: e.step,
        channel: e.channel,
        attempt: e.attempt,
        reason: e.retryable ? 'retryable' : 'permanent',
        ...(e.retryAt !== undefined ? { retryAt: e.retryAt } : {}),
        ...(e.error !== undefined ? { error: e.error } : {}),
      };
    case 'recovery.outcome-unknown':
      return { ...base, kind: 'unknown', step: e.step, channel: e.channel };
    case 'recovery.reconciliation-requested':
      return { ...base, kind: 'reconciliation-requested', step: e.step, channel: e.channel, attempt: e.attempt };
    case 'recovery.reconciled':
      return {
        ...base,
        kind: 'reconciled',
        step: e.step,
        channel: e.channel,
        reason: e.result,
        ...(e.retryAt !== undefined ? { retryAt: e.retryAt } : {}),
      };
    case 'recovery.dead-lettered':
      return {
        ...base,
        kind: 'dead-lettered',
        step: e.step,
        channel: e.channel,
        reason: e.reason,
        attempt: e.attempts,
      };
    case 'recovery.dead-letter-retried':
      return {
        ...base,
        kind: 'dead-letter-retried',
        step: e.step,
        channel: e.channel,
        reason: `${e.resume} after ${e.previousReason}`,
        attempt: e.previousAttempts,
      };
    case 'recovery.late-outcome':
      return {
        ...base,
        kind: 'late-outcome',
        step: e.step,
        reason: e.outcome,
        ...(e.channel !== undefined ? { channel: e.channel } : {}),
        ...(e.messageId !== undefined ? { messageId: e.messageId } : {}),
      };
    case 'recovery.paused':
      return { ...base, kind: 'paused', reason: e.reason };
    case 'recovery.resumed':
      return { ...base, kind: 'resumed', reason: e.cause };
    case 'recovery.channel-revoked':
      return { ...base, kind: 'channel-revoked', channel: e.channel };
    case 'recovery.enriched':
      return {
        ...base,
        kind: 'enriched',
        reason: e.enrichment.source,
        enrichment: e.enrichment,
        segmentsAdded: e.segmentsAdded,
      };
    case 'recovery.enrichment-unavailable':
      return { ...base, kind: 'enrichment-unavailable', reason: e.reason, ...(e.code ? { error: e.code } : {}) };
    case 'recovery.send-time-assigned':
      return {
        ...base,
        kind: 'send-time-assigned',
        reason: e.arm,
        sendTimeArm: { arm: e.arm, propensity: e.propensity },
        detail:
          e.arm === 'on'
            ? `send-time optimisation on for this recovery (drawn with probability ${e.propensity})`
            : `send-time optimisation off for this recovery: nominal times, the control arm (drawn with probability ${e.propensity})`,
      };
    case 'recovery.policy-arm-assigned':
      return {
        ...base,
        kind: 'policy-arm-assigned',
        reason: e.arm,
        policyArm: { arm: e.arm, propensity: e.propensity, controlPercent: e.controlPercent },
        detail: describePolicyArm(e.arm, e.propensity),
      };
    case 'recovery.variant-assigned': {
      const pct = (p: number) => `${(p * 100).toFixed(1)} %`;
      const why =
        e.mode === 'adopted'
          ? 'the experiment adopted it as the best variant: everyone gets it now'
          : e.mode === 'only-variant'
            ? 'the only variant left (the guardrails stopped the others)'
            : `Thompson sampling from ${e.settled ?? 0} settled recoveries of segment ${e.segment}: it was best in ${pct(e.propensity)} of the posterior draws` +
              (e.probabilities !== undefined
                ? ` (${Object.entries(e.probabilities)
                    .map(([id, p]) => `${id} ${pct(p)}`)
                    .join(', ')})`
                : '');
      const fields = Object.entries(e.overrides)
        .map(([k, v]) => `${k} ${JSON.stringify(v)}`)
        .join(', ');
      return {
        ...base,
        kind: 'variant-assigned',
        step: e.step,
        reason: e.mode,
        variant: {
          experimentId: e.experimentId,
          variantId: e.variantId,
          mode: e.mode,
          propensity: e.propensity,
          segment: e.segment,
          overrides: e.overrides,
        },
        detail: `step ${e.step}: variant ${e.variantId}${fields ? ` (${fields})` : ' (the step as defined)'} — ${why}`,
      };
    }
    case 'recovery.send-time-chosen': {
      const { type: _t, schemaVersion: _v, recoveryId: _r, at: _a, step, ...choice } = e;
      return {
        ...base,
        kind: 'send-time-chosen',
        step,
        reason: e.reason,
        until: e.chosenAt,
        timeZone: e.timeZone,
        timeZoneSource: e.timeZoneSource,
        sendTime: choice,
        detail: `step ${step}: ${describeSendTime(choice)}`,
      };
    }
    case 'recovery.alternatives-checked': {
      // reason: alternative-offered when every sold-out line got one, lookup-failed when a lookup
      // failed (error: the store's words), else sold-out (announced as such).
      const failed = e.lines.find((l) => l.lookup === 'failed');
      return {
        ...base,
        kind: 'alternatives-checked',
        step: e.step,
        reason: e.lines.every((l) => l.alternative !== undefined)
          ? 'alternative-offered'
          : failed !== undefined
            ? 'lookup-failed'
            : 'sold-out',
        detail: describeSoldOut(e.lines),
        ...(failed?.detail !== undefined ? { error: failed.detail } : {}),
        soldOut: e.lines,
      };
    }
    case 'recovery.back-in-stock-watched':
      // detail: which line and product are watched (announced as sold out in this step's message).
      return { ...base, kind: 'back-in-stock-watched', step: e.step, detail: watchedLine(e) };
    case 'recovery.back-in-stock-requested':
      return {
        ...base,
        kind: 'back-in-stock-requested',
        step: e.step,
        reason: 'notify-me',
        detail: `line ${e.lineId}`,
      };
    case 'recovery.back-in-stock-due':
      return { ...base, kind: 'back-in-stock-due', reason: 'store-reported-restock', detail: watchedLine(e) };
    case 'recovery.back-in-stock-sent':
      return {
        ...base,
        kind: 'back-in-stock-sent',
        step: e.step,
        channel: e.channel,
        messageId: e.messageId,
        detail: `line ${e.lineId}`,
      };
    case 'recovery.back-in-stock-skipped':
      return {
        ...base,
        kind: 'back-in-stock-skipped',
        reason: e.reason,
        detail: `line ${e.lineId}`,
        ...(e.detail !== undefined ? { error: e.detail } : {}),
      };
    case 'recovery.back-in-stock-deferred':
      return { ...base, kind: 'back-in-stock-deferred', reason: e.reason, until: e.until, detail: `line ${e.lineId}` };
    case 'recovery.incentive-chosen':
      return {
        ...base,
        kind: 'incentive-chosen',
        step: e.step,
        reason: e.mode,
        detail: `${playsLadder(e.mode) ? 'the ladder: each discount step its own percent' : `incentive ${e.percent} % for every discount step`} (${e.mode}, probability ${e.propensity}; segment ${e.segment}): ${e.reason}`,
      };
    case 'recovery.discount-withheld':
      return {
        ...base,
        kind: 'discount-withheld',
        step: e.step,
        reason: e.reason,
        detail: `no ${e.percent} % code (${e.reason})${e.detail !== undefined ? `: ${e.detail}` : ''}`,
      };
    case 'recovery.ended':
      return { ...base, kind: 'ended', reason: e.reason };
    default:
      return undefined;
  }
}

/** The policy arm drawn, in one sentence (RFC 0021). */
export function describePolicyArm(arm: PolicyArm, propensity: number): string {
  const probability = `probability ${Number((propensity * 100).toFixed(1))} %`;
  return arm === 'fixed-rules'
    ? `Policy arm drawn: fixed rules (${probability}) — this recovery runs the fixed rules as a whole for comparison`
    : `Policy arm drawn: shop policy (${probability}) — this recovery runs the shop's own settings`;
}

function watchedLine(e: { lineId: string; productId: string; variantId?: string }): string {
  return `line ${e.lineId}: product ${e.productId}${e.variantId !== undefined ? ` variant ${e.variantId}` : ''}`;
}

/** Each sold-out line in one clause: what replaced it, or why nothing did. */
export function describeSoldOut(lines: readonly SoldOutLine[]): string {
  return lines
    .map((l) => {
      const name = `${l.title ?? `product ${l.productId}`} (line ${l.lineId})`;
      if (l.alternative !== undefined) {
        return `${name} sold out: offered ${l.alternative.title} at ${l.alternative.unitPrice} (${l.alternative.source})`;
      }
      if (l.lookup === 'failed')
        return `${name} sold out: suggestions could not be read (${l.detail ?? 'store error'})`;
      if (l.considered.length === 0) return `${name} sold out: the store suggests nothing`;
      const counts = new Map<string, number>();
      for (const c of l.considered) counts.set(c.verdict, (counts.get(c.verdict) ?? 0) + 1);
      const why = [...counts].map(([verdict, n]) => `${n} ${verdict}`).join(', ');
      return `${name} sold out: none of ${l.considered.length} suggestions fits (${why})`;
    })
    .join('; ');
}

/** The customer's recovery history across all their carts, in log order (global position). */
export async function customerHistory(
  store: EventStore,
  shopId: string,
  customerKey: string,
  options: CustomerHistoryOptions = {},
): Promise<CustomerHistory> {
  const ids = options.recoveryIds ?? (await findRecoveries(store, shopId, customerKey, options.pageSize ?? 1000));
  const recoveries: RecoveryDecisionInputs[] = [];
  const entries: { entry: HistoryEntry; position: GlobalPosition }[] = [];
  for (const recoveryId of [...ids].sort()) {
    const parsed = parseRecoveryId(recoveryId);
    if (parsed === undefined || parsed.shopId !== shopId) continue;
    const recorded = await store.readStream(recoveryId);
    let inputs: RecoveryDecisionInputs = { recoveryId, cartId: parsed.cartId };
    for (const r of recorded) {
      const e = fromStoredRecoveryEvent(r);
      if (e.type === 'recovery.started') {
        inputs = {
          ...inputs,
          startedAt: e.at,
          abandonedAt: e.abandonedAt,
          mode: e.mode,
          holdout: e.holdout,
          arm: e.arm,
        };
      } else if (e.type === 'recovery.policy-arm-assigned') {
        inputs = { ...inputs, policyArm: e.arm };
      } else if (e.type === 'recovery.segmented') {
        inputs = { ...inputs, segmentation: e.segmentation };
      } else if (e.type === 'recovery.sequence-selected') {
        inputs = {
          ...inputs,
          sequence: {
            id: e.sequenceId,
            version: e.sequenceVersion,
            catalogueVersion: e.catalogueVersion,
            steps: e.steps,
          },
        };
      } else if (e.type === 'recovery.enriched') {
        inputs = { ...inputs, enrichment: e.enrichment };
      } else if (e.type === 'recovery.enrichment-unavailable') {
        inputs = { ...inputs, enrichmentUnavailable: { source: e.source, reason: e.reason, at: e.at } };
      } else if (e.type === 'recovery.scored') {
        inputs = {
          ...inputs,
          score: { score: e.score, modelVersion: e.modelVersion, scope: e.scope, contentHash: e.contentHash },
        };
      } else if (e.type === 'recovery.score-unavailable') {
        inputs = { ...inputs, score: { unavailable: e.reason, outcomesNeeded: e.outcomesNeeded } };
      } else if (e.type === 'recovery.routed') {
        inputs = {
          ...inputs,
          routing: {
            band: e.band,
            reason: e.reason,
            ...(e.sequenceId !== undefined ? { sequenceId: e.sequenceId } : {}),
            ticket: e.ticket,
            detail: describeRouting(e),
          },
        };
      } else if (e.type === 'recovery.ended') {
        inputs = { ...inputs, endReason: e.reason };
      }
      const entry = entryOf(r, e, parsed.cartId);
      if (entry) entries.push({ entry, position: r.position });
    }
    if (recorded.length > 0) recoveries.push(inputs);
  }
  // The log's causal order (global position), never the outside clocks: "ended (purchased)" is
  // listed after the send it followed even when the platform's timestamp is earlier (issue 11).
  entries.sort((a, b) => comparePositions(a.position, b.position));
  return { shopId, customerKey, recoveries, entries: entries.map((x) => x.entry) };
}

/** The engagement score and the channel choice of a send or skip, with their one-line reasons. */
function learnedOf(
  responsiveness: ResponsivenessAssessment | undefined,
  channelChoice: ChannelChoice | undefined,
): Pick<HistoryEntry, 'responsiveness' | 'responsivenessDetail' | 'channelChoice' | 'channelChoiceDetail'> {
  return {
    ...(responsiveness !== undefined
      ? { responsiveness, responsivenessDetail: describeResponsiveness(responsiveness) }
      : {}),
    ...(channelChoice !== undefined
      ? { channelChoice, channelChoiceDetail: describeChannelChoice(channelChoice) }
      : {}),
  };
}

import Decimal from 'decimal.js';
import { defaultRecoveryConfig, type RecoveryConfig } from './config';
import { CHANNEL_PREFERENCE, chooseChannel, type ChannelChoice, type ChannelEvidence } from './channel-choice';
import { assessResponsiveness, skipsForLowResponsiveness, type ResponsivenessAssessment } from './engagement-score';
import { assessFatigue, type EngagementHistory, type FatigueAssessment } from './fatigue';
import { describeCodeFarming, type CodeFarmingEvidence } from './code-farming';
import { playsLadder, type RecoveryIncentive } from './incentives';
import { formatMoney, isDecimalString, lineTotal } from './money';
import { isValidTimeZone, nextAllowedTime } from './quiet-hours';
import type { SequenceStep } from './sequences';
import { toIso, toMs } from './time';
import {
  effectIdempotencyKey,
  type Channel,
  type DecimalString,
  type IsoTimestamp,
  type Reach,
  type RecoveryItem,
} from './types';

/** The copy a step used; for `help`, the customer's open tickets (`<source>:<id>`) that chose it. */
export interface SendTemplate {
  readonly kind: 'sales' | 'help';
  readonly id: string;
  readonly supportTickets?: readonly string[];
  /** `rich`: the customer is engaged (RFC 0013): the step's `<id>-rich` template is used when the shop has one. */
  readonly variant?: 'rich';
}

export type StopReason = 'purchased' | 'purchased-elsewhere';

export type SkipReason =
  | 'no-email-address'
  | 'invalid-phone'
  | 'no-consent'
  | 'unsubscribed'
  | 'bounced'
  | 'complained'
  | 'channel-opted-out'
  | 'another-recovery-active'
  | 'engagement-fatigue'
  /** The engagement score says the customer does not respond: an intermediate step is left out (RFC 0013). */
  | 'low-responsiveness'
  /** Push: no device registered for the customer. */
  | 'no-push-token'
  | 'all-out-of-stock'
  | 'invalid-price-data'
  | 'shadow-mode'
  | 'outside-rollout'
  /** No provider is configured for the channel (e.g. SMS before an SMS provider is set up). */
  | 'channel-unavailable';

/**
 * Why a step's discount was not offered: anti-gaming cooldown, the store cannot create codes, the
 * customer farms codes, the learned policy found that no level pays, or the recovery is in the
 * randomised 0 % arm (RFC 0017).
 */
export type DiscountWithheldReason =
  'recent-discount-recovery' | 'discount-unavailable' | 'code-farmer' | 'no-level-pays' | 'incentive-control';

/**
 * Why a step waits. The first four come from the pre-send checks; `store-unavailable` from the
 * application, when the store API could not be asked about the cart's lines (unreachable, 5xx,
 * rate limited): the step waits with a back-off that grows per consecutive deferral, and the
 * event's `detail` says what the store answered.
 */
/** Where the zone of the local send window came from: the customer's address, or the shop's zone. */
export type TimeZoneSource = 'address' | 'shop-default';

export type DeferReason =
  | 'not-yet-due'
  /** Send-time optimisation (RFC 0012): the follow-up waits for the hour chosen from the customer's profile. */
  | 'send-time'
  | 'awaiting-order-webhook'
  | 'frequency-cap'
  | 'quiet-hours'
  | 'store-unavailable'
  /** PAUSE_WHILE_TICKET_OPEN: the customer's own ticket about the cart is open; resumed when it closes. */
  | 'support-ticket-open';

/** Deferrals caused by an outside system failing (not by the shop's own rules): shown as blocked. */
export const OUTSIDE_ERROR_DEFER_REASONS: readonly DeferReason[] = ['store-unavailable'];

export type ConsentStatus = 'subscribed' | 'not-subscribed' | 'unsubscribed' | 'bounced' | 'complained';

export interface ChannelConsent {
  readonly status: ConsentStatus;
  /** Where the consent was collected or changed, e.g. "shopify:checkout". */
  readonly source?: string;
  readonly at?: IsoTimestamp;
}

export interface ConsentUsed {
  readonly channel: Channel;
  readonly basis: 'subscribed' | 'not-opted-out';
  readonly source: string;
  readonly at?: IsoTimestamp;
}

/** Live: send. Shadow: decide everything, send nothing (shadow mode, or outside the rollout share). */
export type SendMode =
  { readonly kind: 'live' } | { readonly kind: 'shadow'; readonly reason: 'shadow-mode' | 'outside-rollout' };

export interface StockLine {
  readonly lineId: string;
  readonly available: boolean;
  /** Current unit price from the store, when known. */
  readonly currentUnitPrice?: DecimalString;
  /** Replacement offered when the line is out of stock. */
  readonly alternative?: RecoveryItem;
}

export interface SendCheckContext {
  readonly recoveryId: string;
  readonly step: SequenceStep;
  readonly mode: SendMode;
  readonly now: IsoTimestamp;
  readonly dueAt: IsoTimestamp;
  readonly abandonedAt: IsoTimestamp;
  readonly startedAt: IsoTimestamp;
  /** Purchase known from our events (recovery ended purchased, cart completed). */
  readonly purchased: boolean;
  /** The customer's latest order on any cart, when known. */
  readonly customerLastOrderAt?: IsoTimestamp;
  /** Last time the shopper reached payment on this cart (an order webhook may be on its way). */
  readonly paymentStartedAt?: IsoTimestamp;
  readonly reach: Reach;
  /** Channels revoked during this recovery. */
  readonly revokedChannels: readonly Channel[];
  readonly consent: { readonly email?: ChannelConsent; readonly sms?: ChannelConsent; readonly push?: ChannelConsent };
  /** Last recovery message to this customer from another recovery. */
  readonly lastOtherRecoveryMessageAt?: IsoTimestamp;
  /** Another active recovery of the same customer. */
  readonly otherActiveRecovery?: { readonly recoveryId: string; readonly startedAt: IsoTimestamp };
  /** Recovery messages of other recoveries the customer ignored in a row (when `engagement` is absent). */
  readonly ignoredRecoveryMessages: number;
  /** The customer's recent recovery messages and last order: the fatigue rule counts from these. */
  readonly engagement?: EngagementHistory;
  /** Last time this customer was recovered (bought) after receiving a discount. */
  readonly lastDiscountRecoveryAt?: IsoTimestamp;
  /** A ticket the customer opened about this cart is open (never the appliance's own ticket). */
  readonly ticketOpen: boolean;
  /** Those tickets (`<source>:<id>`), named in the help copy's record. */
  readonly supportTickets?: readonly string[];
  /** The customer's IANA zone, from the checkout's or the customer's address; the shop's zone when absent. */
  readonly customerTimeZone?: string;
  readonly shopTimeZone: string;
  readonly currency: string;
  readonly items: readonly RecoveryItem[];
  /** Stock and price snapshot from the store API, by line id. Lines missing here are kept as they are. */
  readonly stock: readonly StockLine[];
  /** Channels without a configured provider: skipped with `channel-unavailable`, the next one is tried. */
  readonly unavailableChannels?: readonly Channel[];
  /** The send time chosen for this step (`recovery.send-time-chosen`): nothing is sent before it. */
  readonly sendTimeAt?: IsoTimestamp;
  /** Index of the sequence's last step (an unresponsive customer still gets the first and the last). */
  readonly lastStepIndex?: number;
  /**
   * What the engine learned from recorded outcomes (RFC 0013): the shop's tally and the customer's
   * segment's tally per channel. Absent: the fixed rules decide (preference order, fatigue counter).
   */
  readonly learned?: ChannelEvidence;
  /**
   * A uniform draw in [0, 1) for the channel choice's Thompson sampling (RFC 0013 §2), recorded on
   * the choice. Absent: with learned evidence, the highest expected value decides (no exploration).
   */
  readonly channelDraw?: number;
  /** The recovery's incentive level (`recovery.incentive-chosen`, RFC 0017); absent: the step's own percent. */
  readonly incentive?: RecoveryIncentive;
  /** The customer matches the code-farming pattern (RFC 0017): no code, whatever the policy. */
  readonly codeFarming?: CodeFarmingEvidence;
}

export interface DiscountOffer {
  readonly percent: number;
  readonly expiresAt: IsoTimestamp;
  /** The adapter creates the code with this key, so a retry never creates a second code. */
  readonly idempotencyKey: string;
}

export interface OfferedItem extends RecoveryItem {
  readonly priceChanged: boolean;
  readonly replacesLineId?: string;
}

export interface SendDecision {
  readonly decision: 'send';
  readonly channel: Channel;
  readonly idempotencyKey: string;
  readonly items: readonly OfferedItem[];
  readonly cartValue: DecimalString;
  readonly currency: string;
  readonly discount?: DiscountOffer;
  readonly discountWithheld?: DiscountWithheldReason;
  /** Why, in words (recorded with `recovery.discount-withheld`). */
  readonly discountWithheldDetail?: string;
  readonly template: SendTemplate;
  readonly consentUsed: ConsentUsed;
  readonly leftOut: readonly string[];
  /** Channels the step asked for but could not use, with the reason (R13). */
  readonly channelsSkipped: readonly { readonly channel: Channel; readonly reason: SkipReason }[];
  /** How the channel was chosen (rates, costs, segment), when the engine learned anything to choose with. */
  readonly channelChoice?: ChannelChoice;
  /** The customer's engagement score at the send, when scored. */
  readonly responsiveness?: ResponsivenessAssessment;
}

export type CheckResult =
  | SendDecision
  | {
      readonly decision: 'skip';
      readonly reason: SkipReason;
      readonly channelsSkipped?: readonly { readonly channel: Channel; readonly reason: SkipReason }[];
      /** In shadow mode: what would have been sent. */
      readonly wouldSend?: SendDecision;
      /** `engagement-fatigue`: the numbers the skip rests on. */
      readonly fatigue?: FatigueAssessment;
      /** `low-responsiveness` (and a fatigue skip of a scored customer): the estimate it rests on. */
      readonly responsiveness?: ResponsivenessAssessment;
      /** The channel that would have been used, and why. */
      readonly channelChoice?: ChannelChoice;
    }
  | {
      readonly decision: 'defer';
      readonly until: IsoTimestamp;
      readonly reason: DeferReason;
      readonly channel?: Channel;
      /** `quiet-hours`: the zone the send window was read in, and where it came from. */
      readonly timeZone?: string;
      readonly timeZoneSource?: TimeZoneSource;
    }
  | { readonly decision: 'stop'; readonly reason: StopReason };

type ChannelCheck = { ok: true; consent: ConsentUsed } | { ok: false; reason: SkipReason };

function checkChannel(channel: Channel, ctx: SendCheckContext, config: RecoveryConfig): ChannelCheck {
  if (ctx.revokedChannels.includes(channel)) return { ok: false, reason: 'channel-opted-out' };
  if (!ctx.reach[channel]) {
    return {
      ok: false,
      reason: channel === 'email' ? 'no-email-address' : channel === 'sms' ? 'invalid-phone' : 'no-push-token',
    };
  }
  if (ctx.unavailableChannels?.includes(channel)) return { ok: false, reason: 'channel-unavailable' };
  const consent = ctx.consent[channel];
  const status = consent?.status ?? 'not-subscribed';
  if (status === 'unsubscribed' || status === 'bounced' || status === 'complained')
    return { ok: false, reason: status };
  if (status === 'subscribed') {
    return {
      ok: true,
      consent: { channel, basis: 'subscribed', source: consent?.source ?? 'unknown', at: consent?.at },
    };
  }
  if (channel === 'email' && config.emailConsentPolicy === 'unless-opted-out') {
    return {
      ok: true,
      consent: {
        channel,
        basis: 'not-opted-out',
        source: consent?.source ?? 'policy:unless-opted-out',
        at: consent?.at,
      },
    };
  }
  return { ok: false, reason: 'no-consent' };
}

/** The cart's value from its recorded lines (what a response is worth to the channel choice). */
function itemsValue(items: readonly RecoveryItem[]): DecimalString {
  let total = new Decimal(0);
  for (const i of items) {
    if (priceOf(i.unitPrice) && Number.isInteger(i.quantity) && i.quantity > 0) {
      total = total.plus(lineTotal(i.unitPrice, i.quantity));
    }
  }
  return total.toFixed();
}

function priceOf(value: string | undefined): value is string {
  return value !== undefined && isDecimalString(value);
}

/** The fatigue assessment of this step: from the engagement history, else from the ignored count alone. */
function fatigueOf(ctx: SendCheckContext, config: RecoveryConfig): FatigueAssessment {
  const settings = config.fatigue;
  if (ctx.engagement !== undefined) {
    return assessFatigue(ctx.engagement, ctx.recoveryId, ctx.step.index, ctx.now, settings);
  }
  const ignored = ctx.ignoredRecoveryMessages;
  return {
    fatigued: settings.enabled && ignored >= settings.threshold && ctx.step.index >= settings.maxSteps,
    ignored,
    threshold: settings.threshold,
    windowDays: Math.round((settings.windowMs / 86_400_000) * 100) / 100,
    maxSteps: settings.maxSteps,
    countOwnSteps: settings.countOwnSteps,
    ownIgnored: 0,
    machineOpens: 0,
  };
}

/**
 * Why no code may go to this customer whatever the policy: they farm codes, or they were recovered
 * with a discount within the anti-gaming cooldown. No incentive is chosen for them either.
 */
export function discountBlocked(
  ctx: Pick<SendCheckContext, 'codeFarming' | 'lastDiscountRecoveryAt' | 'now'>,
  config: RecoveryConfig,
): { readonly reason: 'code-farmer' | 'recent-discount-recovery'; readonly detail: string } | undefined {
  if (ctx.codeFarming !== undefined) return { reason: 'code-farmer', detail: describeCodeFarming(ctx.codeFarming) };
  const last = ctx.lastDiscountRecoveryAt;
  if (last !== undefined && toMs(ctx.now) - toMs(last) < config.discountCooldownMs) {
    const days = Math.round((config.discountCooldownMs / 86_400_000) * 100) / 100;
    return {
      reason: 'recent-discount-recovery',
      detail: `recovered with a discount on ${last.slice(0, 10)}; no discount within ${days} days of that`,
    };
  }
  return undefined;
}

/**
 * The checks run right before a step is sent, in a fixed order: purchase, (clock), consent and
 * channel, caps and fatigue, quiet hours, stock and price, then shadow mode.
 */
export function checkBeforeSend(ctx: SendCheckContext, config: RecoveryConfig = defaultRecoveryConfig): CheckResult {
  const now = toMs(ctx.now);
  // 1. Purchase: ours, or any order of this customer since (just before) abandonment.
  if (ctx.purchased) return { decision: 'stop', reason: 'purchased' };
  if (
    ctx.customerLastOrderAt !== undefined &&
    toMs(ctx.customerLastOrderAt) >= toMs(ctx.abandonedAt) - config.purchaseGraceMs
  ) {
    return { decision: 'stop', reason: 'purchased-elsewhere' };
  }
  // R8: never before the due time, whatever this worker's clock says.
  if (now < toMs(ctx.dueAt)) return { decision: 'defer', until: ctx.dueAt, reason: 'not-yet-due' };
  // Send-time optimisation: the follow-up waits for the hour chosen for it (recorded before this check).
  if (ctx.sendTimeAt !== undefined && now < toMs(ctx.sendTimeAt)) {
    return { decision: 'defer', until: ctx.sendTimeAt, reason: 'send-time' };
  }
  if (ctx.paymentStartedAt !== undefined && now < toMs(ctx.paymentStartedAt) + config.purchaseGraceMs) {
    return {
      decision: 'defer',
      until: toIso(toMs(ctx.paymentStartedAt) + config.purchaseGraceMs),
      reason: 'awaiting-order-webhook',
    };
  }
  // The customer asked support about this cart and the shop pauses meanwhile: the recovery resumes when it closes.
  if (ctx.ticketOpen && config.pauseWhileTicketOpen) {
    return { decision: 'defer', until: ctx.now, reason: 'support-ticket-open' };
  }
  // 2 + 6. Consent and channel. Without learned rates: SMS when the step asks for it and it is
  // allowed, else email, else push. With them: Thompson sampling among the permitted channels
  // (consent first: a channel without it is never a candidate), or without a draw the highest
  // expected value.
  const preference: Channel[] = CHANNEL_PREFERENCE.filter((c) => ctx.step.channels.includes(c));
  const channelsSkipped: { channel: Channel; reason: SkipReason }[] = [];
  let chosen: { channel: Channel; consent: ConsentUsed } | undefined;
  let channelChoice: ChannelChoice | undefined;
  if (ctx.learned === undefined) {
    for (const channel of preference) {
      const check = checkChannel(channel, ctx, config);
      if (check.ok) {
        chosen = { channel, consent: check.consent };
        break;
      }
      channelsSkipped.push({ channel, reason: check.reason });
    }
  } else {
    const permitted: { channel: Channel; consent: ConsentUsed }[] = [];
    for (const channel of preference) {
      const check = checkChannel(channel, ctx, config);
      if (check.ok) permitted.push({ channel, consent: check.consent });
      else channelsSkipped.push({ channel, reason: check.reason });
    }
    if (permitted.length > 0) {
      channelChoice = chooseChannel(
        permitted.map((p) => p.channel),
        ctx.learned,
        itemsValue(ctx.items),
        config.channelChoice,
        ctx.channelDraw,
      );
      const pick = channelChoice.chosen;
      chosen = permitted.find((p) => p.channel === pick);
    }
  }
  const explained = channelChoice !== undefined ? { channelChoice } : {};
  if (chosen === undefined) {
    const primary = channelsSkipped.find((s) => s.channel === ctx.step.channels[0]) ?? channelsSkipped[0];
    return { decision: 'skip', reason: primary?.reason ?? 'no-consent', channelsSkipped };
  }
  // 3. One active recovery per customer, cross-recovery cap, fatigue.
  const other = ctx.otherActiveRecovery;
  if (other !== undefined && other.recoveryId !== ctx.recoveryId) {
    const otherFirst =
      toMs(other.startedAt) < toMs(ctx.startedAt) ||
      (toMs(other.startedAt) === toMs(ctx.startedAt) && other.recoveryId < ctx.recoveryId);
    if (otherFirst) return { decision: 'skip', reason: 'another-recovery-active' };
  }
  if (ctx.lastOtherRecoveryMessageAt !== undefined) {
    const capEnd = toMs(ctx.lastOtherRecoveryMessageAt) + config.frequencyCapMs;
    if (now < capEnd) return { decision: 'defer', until: toIso(capEnd), reason: 'frequency-cap' };
  }
  // The engagement score decides when it has the evidence; the fatigue counter is the fallback.
  const responsiveness =
    ctx.learned !== undefined && ctx.engagement !== undefined && config.engagementScore.enabled
      ? assessResponsiveness(
          ctx.engagement,
          ctx.recoveryId,
          ctx.now,
          ctx.learned.shop,
          config.engagementScore,
          config.fatigue,
        )
      : undefined;
  const scored = responsiveness !== undefined ? { responsiveness } : {};
  if (responsiveness !== undefined && responsiveness.level !== 'unknown') {
    if (responsiveness.level === 'unresponsive' && skipsForLowResponsiveness(ctx.step.index, ctx.lastStepIndex)) {
      return { decision: 'skip', reason: 'low-responsiveness', responsiveness, ...explained };
    }
  } else {
    const fatigue = fatigueOf(ctx, config);
    if (fatigue.fatigued) return { decision: 'skip', reason: 'engagement-fatigue', fatigue, ...scored, ...explained };
  }
  // 4. Quiet hours in the customer's time zone, else the shop's (push keeps the SMS window).
  const window = config.sendWindows[chosen.channel === 'push' ? 'sms' : chosen.channel];
  if (window !== null) {
    const own = ctx.customerTimeZone !== undefined && isValidTimeZone(ctx.customerTimeZone);
    const zone = own ? (ctx.customerTimeZone as string) : ctx.shopTimeZone;
    const allowed = nextAllowedTime(now, zone, window);
    if (allowed > now) {
      return {
        decision: 'defer',
        until: toIso(allowed),
        reason: 'quiet-hours',
        channel: chosen.channel,
        timeZone: zone,
        timeZoneSource: own ? 'address' : 'shop-default',
      };
    }
  }
  // 5. Stock and price.
  const stock = new Map(ctx.stock.map((s) => [s.lineId, s]));
  const items: OfferedItem[] = [];
  const leftOut: string[] = [];
  for (const item of ctx.items) {
    const line = stock.get(item.lineId);
    if (line === undefined) {
      items.push({ ...item, priceChanged: false });
    } else if (line.available) {
      const current = line.currentUnitPrice ?? item.unitPrice;
      if (!priceOf(current)) return { decision: 'skip', reason: 'invalid-price-data' };
      const changed = priceOf(item.unitPrice) ? !new Decimal(current).eq(new Decimal(item.unitPrice)) : true;
      items.push({ ...item, unitPrice: current, priceChanged: changed });
    } else if (line.alternative !== undefined) {
      items.push({ ...line.alternative, priceChanged: false, replacesLineId: item.lineId });
    } else {
      leftOut.push(item.lineId);
    }
  }
  if (items.length === 0) return { decision: 'skip', reason: 'all-out-of-stock' };
  if (items.some((i) => !priceOf(i.unitPrice) || !Number.isInteger(i.quantity) || i.quantity <= 0)) {
    return { decision: 'skip', reason: 'invalid-price-data' };
  }
  const total = items.reduce((sum, i) => sum.plus(lineTotal(i.unitPrice, i.quantity)), new Decimal(0));
  // Discount (RFC 0017): none for a code farmer or within the anti-gaming cooldown; else the
  // recovery's incentive level (the learned policy's choice, 0 = withheld), or the step's percent.
  const key = effectIdempotencyKey(ctx.recoveryId, ctx.step.index, chosen.channel);
  let discount: DiscountOffer | undefined;
  let discountWithheld: DiscountWithheldReason | undefined;
  let discountWithheldDetail: string | undefined;
  if (ctx.step.discountPercent > 0) {
    const blocked = discountBlocked(ctx, config);
    const incentive = ctx.incentive;
    const percent =
      incentive === undefined || playsLadder(incentive.mode) ? ctx.step.discountPercent : incentive.percent;
    if (blocked !== undefined) {
      discountWithheld = blocked.reason;
      discountWithheldDetail = blocked.detail;
    } else if (percent === 0 && incentive !== undefined) {
      discountWithheld = incentive.mode === 'explore' ? 'incentive-control' : 'no-level-pays';
      discountWithheldDetail = incentive.reason;
    } else {
      discount = { percent, expiresAt: toIso(now + config.discountValidityMs), idempotencyKey: `${key}:discount` };
    }
  }
  const template: SendTemplate = ctx.ticketOpen
    ? {
        kind: 'help',
        id: ctx.step.helpTemplate ?? `help-${ctx.step.index}`,
        ...(ctx.supportTickets !== undefined && ctx.supportTickets.length > 0
          ? { supportTickets: ctx.supportTickets }
          : {}),
      }
    : {
        kind: 'sales',
        id: ctx.step.template,
        ...(responsiveness?.level === 'engaged' ? { variant: 'rich' as const } : {}),
      };
  const decision: SendDecision = {
    decision: 'send',
    channel: chosen.channel,
    idempotencyKey: key,
    items,
    cartValue: formatMoney(total, ctx.currency),
    currency: ctx.currency,
    ...(discount !== undefined ? { discount } : {}),
    ...(discountWithheld !== undefined ? { discountWithheld } : {}),
    ...(discountWithheldDetail !== undefined ? { discountWithheldDetail } : {}),
    template,
    consentUsed: chosen.consent,
    leftOut,
    channelsSkipped,
    ...explained,
    ...scored,
  };
  // Shadow: every decision made and recorded, nothing sent.
  if (ctx.mode.kind === 'shadow') return { decision: 'skip', reason: ctx.mode.reason, wouldSend: decision };
  return decision;
}

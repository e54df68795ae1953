/**
 * Engagement score: how likely this customer is to engage after a recovery message, as a Beta
 * posterior over "engaged after a message", shrunk towards the shop's own rate (RFC 0013).
 *
 * Pure: the engine hands over the customer's recent recovery messages (the `engine.sent_messages`
 * projection of `recovery.message-sent` and the engagement events), their last order and the shop's
 * tally; this decides what counts, and says which numbers it used, so every decision it drives can
 * be explained later. What counts as engagement is the fatigue rule's (./fatigue.ts): a click, a
 * reply, an open that looks human (later than `machineOpenWithinMs` after the send), or an order
 * placed after the message.
 */
import { isHumanOpen, type EngagementHistory, type EngagementMessage, type FatigueSettings } from './fatigue';
import { toMs } from './time';
import type { IsoTimestamp } from './types';

/** Successes and trials: engaged messages out of sent ones. */
export interface Tally {
  readonly engaged: number;
  readonly sent: number;
}

export interface BetaParams {
  readonly alpha: number;
  readonly beta: number;
}

export interface BetaPosterior extends BetaParams {
  /** Posterior mean alpha / (alpha + beta). */
  readonly mean: number;
}

/**
 * A rate with a uniform Beta(1, 1) prior, (engaged + 1) / (sent + 2): the shop's rate used as the
 * customers' prior, never 0 or 1 whatever the shop's history.
 */
export function smoothedRate(t: Tally): number {
  const sent = Math.max(0, t.sent);
  const engaged = Math.min(Math.max(0, t.engaged), sent);
  return (engaged + 1) / (sent + 2);
}

/** Beta(rate × strength, (1 − rate) × strength): `strength` pseudo-messages at the given rate. */
export function priorFromRate(rate: number, strength: number): BetaParams {
  if (!(rate > 0 && rate < 1)) throw new RangeError(`prior rate must be in (0, 1), got ${rate}`);
  if (!(strength > 0)) throw new RangeError(`prior strength must be positive, got ${strength}`);
  return { alpha: rate * strength, beta: (1 - rate) * strength };
}

/** The conjugate update: Beta(alpha + engaged, beta + sent − engaged). */
export function betaPosterior(prior: BetaParams, t: Tally): BetaPosterior {
  const sent = Math.max(0, t.sent);
  const engaged = Math.min(Math.max(0, t.engaged), sent);
  const alpha = prior.alpha + engaged;
  const beta = prior.beta + sent - engaged;
  return { alpha, beta, mean: alpha / (alpha + beta) };
}

export interface EngagementScoreSettings {
  /** Off: the fatigue counter (`fatigue.*`) decides alone, as before. */
  readonly enabled: boolean;
  /** Weight of the shop's rate in the customer's prior, in messages. */
  readonly priorStrength: number;
  /** Counted messages the customer needs before the estimate decides; below, the fatigue counter does. */
  readonly minMessages: number;
  /** Posterior mean below which the customer is unresponsive: their intermediate steps are skipped. */
  readonly unresponsiveBelow: number;
  /** Posterior mean from which the customer is engaged: the step's richer content variant is used. */
  readonly engagedFrom: number;
}

export type ResponsivenessLevel = 'unknown' | 'unresponsive' | 'neutral' | 'engaged';

/** The numbers a responsiveness decision rests on (recorded on the send and skip events). */
export interface ResponsivenessAssessment {
  readonly level: ResponsivenessLevel;
  /** Posterior mean: the estimated chance the customer engages after a message. */
  readonly estimate: number;
  readonly alpha: number;
  readonly beta: number;
  /** The customer's counted messages and how many of them were engaged with. */
  readonly sent: number;
  readonly engaged: number;
  /** The shop's rate (smoothed) the prior is centred on, and the tally behind it. */
  readonly shopRate: number;
  readonly shopSent: number;
  readonly priorStrength: number;
  readonly minMessages: number;
  readonly unresponsiveBelow: number;
  readonly engagedFrom: number;
  readonly windowDays: number;
  /** Opens within the machine-open time of the send, not taken as engagement. */
  readonly machineOpens: number;
}

const DAY_MS = 24 * 60 * 60 * 1000;

function engagedWith(m: EngagementMessage, lastOrderAt: number | undefined, nowMs: number, machineMs: number): boolean {
  const at = (t: IsoTimestamp | undefined) => t !== undefined && toMs(t) <= nowMs;
  if (at(m.clickedAt) || at(m.repliedAt)) return true;
  if (at(m.openedAt) && isHumanOpen(m, machineMs)) return true;
  return lastOrderAt !== undefined && lastOrderAt > toMs(m.sentAt) && lastOrderAt <= nowMs;
}

/**
 * The customer's messages counted by the score: those sent within the fatigue window before `now`,
 * the current recovery's own only when `fatigue.countOwnSteps` (an unopened earlier step is weak
 * evidence: image blocking hides real opens).
 */
export function customerTally(
  history: EngagementHistory,
  recoveryId: string,
  now: IsoTimestamp,
  fatigue: Pick<FatigueSettings, 'windowMs' | 'countOwnSteps' | 'machineOpenWithinMs'>,
): Tally & { readonly machineOpens: number } {
  const nowMs = toMs(now);
  const windowStart = nowMs - fatigue.windowMs;
  const lastOrder = history.lastOrderAt !== undefined ? toMs(history.lastOrderAt) : undefined;
  let sent = 0;
  let engaged = 0;
  let machineOpens = 0;
  for (const m of history.messages) {
    const sentAt = toMs(m.sentAt);
    if (sentAt < windowStart || sentAt > nowMs) continue;
    if (m.recoveryId === recoveryId && !fatigue.countOwnSteps) continue;
    sent++;
    if (engagedWith(m, lastOrder, nowMs, fatigue.machineOpenWithinMs)) engaged++;
    else if (m.openedAt !== undefined && !isHumanOpen(m, fatigue.machineOpenWithinMs)) machineOpens++;
  }
  return { sent, engaged, machineOpens };
}

/** The customer's responsiveness at `now`: their tally, shrunk towards the shop's rate. */
export function assessResponsiveness(
  history: EngagementHistory,
  recoveryId: string,
  now: IsoTimestamp,
  shop: Tally,
  settings: EngagementScoreSettings,
  fatigue: Pick<FatigueSettings, 'windowMs' | 'countOwnSteps' | 'machineOpenWithinMs'>,
): ResponsivenessAssessment {
  const own = customerTally(history, recoveryId, now, fatigue);
  const shopRate = smoothedRate(shop);
  const posterior = betaPosterior(priorFromRate(shopRate, settings.priorStrength), own);
  const level: ResponsivenessLevel =
    own.sent < settings.minMessages
      ? 'unknown'
      : posterior.mean < settings.unresponsiveBelow
        ? 'unresponsive'
        : posterior.mean >= settings.engagedFrom
          ? 'engaged'
          : 'neutral';
  return {
    level,
    estimate: round4(posterior.mean),
    alpha: round4(posterior.alpha),
    beta: round4(posterior.beta),
    sent: own.sent,
    engaged: own.engaged,
    shopRate: round4(shopRate),
    shopSent: Math.max(0, shop.sent),
    priorStrength: settings.priorStrength,
    minMessages: settings.minMessages,
    unresponsiveBelow: settings.unresponsiveBelow,
    engagedFrom: settings.engagedFrom,
    windowDays: Math.round((fatigue.windowMs / DAY_MS) * 100) / 100,
    machineOpens: own.machineOpens,
  };
}

/**
 * Whether an unresponsive customer's step is skipped: the first step and the last one (the largest
 * discount) are always sent, the ones in between are not — fewer messages, and the last one spaced
 * from the first.
 */
export function skipsForLowResponsiveness(stepIndex: number, lastStepIndex: number | undefined): boolean {
  if (stepIndex <= 0) return false;
  return lastStepIndex === undefined || stepIndex < lastStepIndex;
}

/** The assessment in one line, for the customer history and the dashboard. */
export function describeResponsiveness(a: ResponsivenessAssessment): string {
  const pct = (x: number) => `${Math.round(x * 1000) / 10}%`;
  const head =
    a.level === 'unknown'
      ? `too little evidence (${a.sent} of ${a.minMessages} messages)`
      : `${a.level} (estimate ${pct(a.estimate)}; unresponsive below ${pct(a.unresponsiveBelow)}, engaged from ${pct(a.engagedFrom)})`;
  const parts = [
    head,
    `engaged after ${a.engaged} of ${a.sent} message${a.sent === 1 ? '' : 's'} in ${a.windowDays} days`,
    `prior: the shop's rate ${pct(a.shopRate)} over ${a.shopSent} messages, weight ${a.priorStrength}`,
  ];
  if (a.machineOpens > 0) parts.push(`${a.machineOpens} machine open${a.machineOpens === 1 ? '' : 's'} disregarded`);
  return parts.join('; ');
}

function round4(x: number): number {
  return Math.round(x * 10_000) / 10_000;
}

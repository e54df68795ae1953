/**
 * Engagement fatigue: a customer who ignored several recovery messages in a row gets fewer of them.
 * Pure: the engine hands over the customer's recent recovery messages and their last order; this
 * decides what counts as engagement and what counts as ignored, and says which numbers it used.
 *
 * Engagement is a click, a reply, an order placed after a message, or an open that looks human.
 * An open recorded within `machineOpenWithinMs` of the send (60 s by default) is taken for a
 * machine's: Apple Mail Privacy Protection and similar image proxies fetch every pixel when the
 * message is delivered. Image blocking hides real opens the other way, so an unopened message
 * alone is weak evidence, and by default the current recovery's own messages never count against
 * its later steps (they would silently drop the last, largest-discount step).
 */
import { toMs } from './time';
import type { Channel, IsoTimestamp } from './types';

export interface FatigueSettings {
  /** Off: nobody is ever skipped for fatigue. */
  readonly enabled: boolean;
  /** Ignored messages in a row from which the customer is fatigued. */
  readonly threshold: number;
  /** Only messages sent within this time before now count. */
  readonly windowMs: number;
  /** A fatigued customer still receives the steps with index below this one. */
  readonly maxSteps: number;
  /** Also count the current recovery's own ignored steps (off by default). */
  readonly countOwnSteps: boolean;
  /** Opens this soon after the send are a machine's, not engagement. */
  readonly machineOpenWithinMs: number;
}

/** One recovery message to the customer, with the first open / click / reply recorded for it. */
export interface EngagementMessage {
  readonly recoveryId: string;
  readonly step: number;
  readonly channel: Channel;
  readonly sentAt: IsoTimestamp;
  readonly openedAt?: IsoTimestamp;
  readonly clickedAt?: IsoTimestamp;
  readonly repliedAt?: IsoTimestamp;
}

/** What the engine knows about the customer's engagement. */
export interface EngagementHistory {
  /** The customer's recent recovery messages (any recovery), in any order. */
  readonly messages: readonly EngagementMessage[];
  /** The customer's latest order, on any cart. */
  readonly lastOrderAt?: IsoTimestamp;
}

export type EngagementKind = 'click' | 'reply' | 'order' | 'human-open';

/** The numbers a fatigue decision rests on (recorded with an `engagement-fatigue` skip). */
export interface FatigueAssessment {
  readonly fatigued: boolean;
  /** Ignored messages counted (sent after the last engagement, within the window). */
  readonly ignored: number;
  readonly threshold: number;
  readonly windowDays: number;
  readonly maxSteps: number;
  readonly countOwnSteps: boolean;
  /** The current recovery's own ignored steps, counted or not (see `countOwnSteps`). */
  readonly ownIgnored: number;
  /** Opens within the machine-open time of the send, not taken as engagement. */
  readonly machineOpens: number;
  readonly lastEngagement?: { readonly kind: EngagementKind; readonly at: IsoTimestamp };
}

const DAY_MS = 24 * 60 * 60 * 1000;

/** True for an open recorded later than `machineOpenWithinMs` after the send. */
export function isHumanOpen(m: Pick<EngagementMessage, 'sentAt' | 'openedAt'>, machineOpenWithinMs: number): boolean {
  return m.openedAt !== undefined && toMs(m.openedAt) > toMs(m.sentAt) + machineOpenWithinMs;
}

function engagedAt(m: EngagementMessage, machineOpenWithinMs: number): { kind: EngagementKind; at: number }[] {
  const out: { kind: EngagementKind; at: number }[] = [];
  if (m.clickedAt !== undefined) out.push({ kind: 'click', at: toMs(m.clickedAt) });
  if (m.repliedAt !== undefined) out.push({ kind: 'reply', at: toMs(m.repliedAt) });
  if (m.openedAt !== undefined && isHumanOpen(m, machineOpenWithinMs)) {
    out.push({ kind: 'human-open', at: toMs(m.openedAt) });
  }
  return out;
}

/**
 * Counts the messages the customer ignored since their last engagement and says whether the step
 * `stepIndex` of recovery `recoveryId` is to be skipped for fatigue at `now`.
 */
export function assessFatigue(
  history: EngagementHistory,
  recoveryId: string,
  stepIndex: number,
  now: IsoTimestamp,
  settings: FatigueSettings,
): FatigueAssessment {
  const nowMs = toMs(now);
  const windowStart = nowMs - settings.windowMs;
  let last: { kind: EngagementKind; at: number } | undefined;
  const consider = (e: { kind: EngagementKind; at: number }) => {
    if (e.at <= nowMs && (last === undefined || e.at > last.at)) last = e;
  };
  if (history.lastOrderAt !== undefined) consider({ kind: 'order', at: toMs(history.lastOrderAt) });
  let machineOpens = 0;
  for (const m of history.messages) {
    for (const e of engagedAt(m, settings.machineOpenWithinMs)) consider(e);
    if (m.openedAt !== undefined && !isHumanOpen(m, settings.machineOpenWithinMs) && toMs(m.sentAt) >= windowStart) {
      machineOpens++;
    }
  }
  let ignored = 0;
  let ownIgnored = 0;
  for (const m of history.messages) {
    const sent = toMs(m.sentAt);
    if (sent < windowStart || sent > nowMs) continue;
    if (last !== undefined && sent <= last.at) continue;
    if (engagedAt(m, settings.machineOpenWithinMs).some((e) => e.at <= nowMs)) continue;
    if (m.recoveryId === recoveryId) {
      ownIgnored++;
      if (!settings.countOwnSteps) continue;
    }
    ignored++;
  }
  const fatigued = settings.enabled && ignored >= settings.threshold && stepIndex >= settings.maxSteps;
  return {
    fatigued,
    ignored,
    threshold: settings.threshold,
    windowDays: Math.round((settings.windowMs / DAY_MS) * 100) / 100,
    maxSteps: settings.maxSteps,
    countOwnSteps: settings.countOwnSteps,
    ownIgnored,
    machineOpens,
    ...(last !== undefined ? { lastEngagement: { kind: last.kind, at: new Date(last.at).toISOString() } } : {}),
  };
}

/**
 * Messages of the customer's other recoveries ignored since their last engagement, over the whole
 * history (no window): the `ignored_recovery_messages` segmentation input.
 */
export function ignoredOtherRecoveryMessages(
  history: EngagementHistory,
  recoveryId: string,
  machineOpenWithinMs: number,
): number {
  const times = history.messages.flatMap((m) =>
    [m.sentAt, m.openedAt, m.clickedAt, m.repliedAt].filter((t): t is IsoTimestamp => t !== undefined).map(toMs),
  );
  if (history.lastOrderAt !== undefined) times.push(toMs(history.lastOrderAt));
  if (times.length === 0) return 0;
  const latest = new Date(Math.max(...times)).toISOString();
  return assessFatigue(history, recoveryId, 0, latest, {
    enabled: false,
    threshold: Number.MAX_SAFE_INTEGER,
    windowMs: Number.POSITIVE_INFINITY,
    maxSteps: 0,
    countOwnSteps: false,
    machineOpenWithinMs,
  }).ignored;
}

/** The assessment in one line, for the customer history and the dashboard. */
export function describeFatigue(a: FatigueAssessment): string {
  const parts = [
    `${a.ignored} ignored message${a.ignored === 1 ? '' : 's'} in ${a.windowDays} days (threshold ${a.threshold}, from step ${a.maxSteps})`,
    a.countOwnSteps
      ? `this recovery's own steps counted (${a.ownIgnored})`
      : `this recovery's own steps not counted (${a.ownIgnored})`,
  ];
  if (a.machineOpens > 0) parts.push(`${a.machineOpens} machine open${a.machineOpens === 1 ? '' : 's'} disregarded`);
  parts.push(
    a.lastEngagement
      ? `last engagement: ${a.lastEngagement.kind} at ${a.lastEngagement.at}`
      : 'no engagement on record',
  );
  return parts.join('; ');
}

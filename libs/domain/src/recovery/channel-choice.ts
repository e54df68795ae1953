/**
 * Channel choice per customer and step (RFC 0013): among the channels the step lists and consent
 * permits, the one with the highest expected value — the response rate learned for the customer's
 * segment on that channel (Beta-Binomial, shrunk to the shop's rate) times what a response is worth
 * (the cart value), minus the shop's cost of a message on that channel. With too little evidence
 * the documented preference order decides (SMS, then e-mail, then push), as before.
 */
import { betaPosterior, priorFromRate, smoothedRate, type Tally } from './engagement-score';
import type { Channel, DecimalString } from './types';

/** The channel order used when the evidence does not decide, and to break ties. */
export const CHANNEL_PREFERENCE: readonly Channel[] = ['sms', 'email', 'push'];

/**
 * The segment response rates are learned for: the customer's most specific segment, in this order.
 * Every recovery has `new` or `returning`, so every recovery has one. Plain strings: ./segments
 * reads ./config, which reads this file's settings type.
 */
export const RESPONSE_SEGMENT_ORDER: readonly string[] = [
  'vip',
  'mobile-checkout-friction',
  'high-value-cart',
  'price-sensitive',
  'returning-exploring-new-category',
  'returning',
  'new',
];

export function responseSegmentOf(segments: readonly string[]): string {
  return RESPONSE_SEGMENT_ORDER.find((s) => segments.includes(s)) ?? 'unsegmented';
}

export interface ChannelChoiceSettings {
  /** Off: the preference order always decides. */
  readonly enabled: boolean;
  /** Cost of one message per channel, in the shop currency. */
  readonly costs: Readonly<Record<Channel, number>>;
  /** Weight of the shop's overall rate in each channel's prior, in messages. */
  readonly priorStrength: number;
  /** Messages of the segment on a channel before its rate counts as evidence. */
  readonly minMessages: number;
}

/** What the engine knows to choose: the segment's tally per channel and the shop's overall tally. */
export interface ChannelEvidence {
  readonly segment: string;
  readonly shop: Tally;
  readonly byChannel: Partial<Readonly<Record<Channel, Tally>>>;
}

export interface ChannelEstimate {
  readonly channel: Channel;
  readonly sent: number;
  readonly engaged: number;
  /** Posterior mean of the response rate. */
  readonly rate: number;
  readonly cost: number;
  /** rate × value − cost, in the shop currency. */
  readonly expectedValue: number;
}

/** The choice and its reason, recorded on the send and skip events and shown in the customer history. */
export interface ChannelChoice {
  readonly chosen: Channel;
  /** `learned`: highest expected value; `default-order`: too little evidence (or choice off), preference order. */
  readonly basis: 'learned' | 'default-order';
  readonly segment: string;
  /** What a response is worth (the cart value), the same for every channel. */
  readonly value: DecimalString;
  readonly shopRate: number;
  readonly priorStrength: number;
  readonly minMessages: number;
  /** The channels consent and reach permitted, with their estimates. */
  readonly candidates: readonly ChannelEstimate[];
}

const round4 = (x: number) => Math.round(x * 10_000) / 10_000;

/**
 * Chooses among `permitted` (non-empty, the channels that passed consent and reach, in the step's
 * order). Pure and deterministic: ties go to the preference order.
 */
export function chooseChannel(
  permitted: readonly Channel[],
  evidence: ChannelEvidence,
  value: DecimalString,
  settings: ChannelChoiceSettings,
): ChannelChoice {
  if (permitted.length === 0) throw new RangeError('no permitted channel to choose from');
  const ordered = [...permitted].sort((a, b) => CHANNEL_PREFERENCE.indexOf(a) - CHANNEL_PREFERENCE.indexOf(b));
  const shopRate = smoothedRate(evidence.shop);
  const prior = priorFromRate(shopRate, settings.priorStrength);
  const worth = Number(value);
  const candidates = ordered.map((channel): ChannelEstimate => {
    const tally = evidence.byChannel[channel] ?? { engaged: 0, sent: 0 };
    const rate = betaPosterior(prior, tally).mean;
    const cost = settings.costs[channel];
    return {
      channel,
      sent: tally.sent,
      engaged: Math.min(tally.engaged, tally.sent),
      rate: round4(rate),
      cost,
      expectedValue: round4(rate * (Number.isFinite(worth) ? worth : 0) - cost),
    };
  });
  const learned = settings.enabled && candidates.some((c) => c.sent >= settings.minMessages);
  let chosen = candidates[0];
  if (learned) {
    for (const c of candidates) if (c.expectedValue > chosen.expectedValue) chosen = c;
  }
  return {
    chosen: chosen.channel,
    basis: learned ? 'learned' : 'default-order',
    segment: evidence.segment,
    value,
    shopRate: round4(shopRate),
    priorStrength: settings.priorStrength,
    minMessages: settings.minMessages,
    candidates,
  };
}

/** The choice in one line, for the customer history. */
export function describeChannelChoice(c: ChannelChoice): string {
  const pct = (x: number) => `${Math.round(x * 1000) / 10}%`;
  const each = c.candidates
    .map((e) => `${e.channel} ${pct(e.rate)} (${e.engaged}/${e.sent}) − cost ${e.cost} → ${e.expectedValue}`)
    .join(', ');
  const why =
    c.basis === 'learned'
      ? `highest expected value for segment ${c.segment} at value ${c.value}`
      : `preference order (fewer than ${c.minMessages} messages of segment ${c.segment} on any permitted channel)`;
  return `${c.chosen}: ${why}; ${each}`;
}

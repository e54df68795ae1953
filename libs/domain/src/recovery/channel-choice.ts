/**
 * Channel choice per customer and step (RFC 0013): among the channels the step lists and consent
 * permits, by Thompson sampling over the value of a message — a response rate drawn from each
 * channel's posterior for the customer's segment (Beta-Binomial, shrunk to the shop's rate) times
 * what a response is worth (the cart value), minus the shop's cost of a message on that channel;
 * the largest wins. A channel that looked worse early keeps being tried in proportion to the
 * chance that it is in fact the best, so its rate is still learned. The probability of the choice
 * (its propensity) is computed exactly and recorded with the draw that made it. Without a draw the
 * posterior means decide (the highest expected value, no exploration). With too little evidence
 * the documented preference order decides (SMS, then e-mail, then push), as before.
 */
import { betaCdf, logBeta } from './beta-distribution';
import { betaPosterior, priorFromRate, smoothedRate, type Tally } from './engagement-score';
import { sampleBeta, seededUniform } from './thompson';
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
  /** Thompson sampling (`basis: 'sampled'`): the rate drawn from this channel's posterior. */
  readonly sampledRate?: number;
  /** Thompson sampling: the probability that the sampling picks this channel at this evidence. */
  readonly probability?: number;
}

/** The choice and its reason, recorded on the send and skip events and shown in the customer history. */
export interface ChannelChoice {
  readonly chosen: Channel;
  /**
   * `sampled`: Thompson sampling, the largest sampled rate × value − cost; `learned`: the highest
   * expected value (posterior means, no draw: events before exploration, and callers without a
   * draw); `default-order`: too little evidence (or choice off), preference order.
   */
  readonly basis: 'sampled' | 'learned' | 'default-order';
  readonly segment: string;
  /** What a response is worth (the cart value), the same for every channel. */
  readonly value: DecimalString;
  readonly shopRate: number;
  readonly priorStrength: number;
  readonly minMessages: number;
  /** The channels consent and reach permitted, with their estimates. */
  readonly candidates: readonly ChannelEstimate[];
  /**
   * The probability that the rule that decided picks `chosen` at this evidence: P(chosen) under
   * Thompson sampling, 1 for the preference order and the posterior-mean rule (absent on events
   * recorded before it existed: read as 1).
   */
  readonly propensity?: number;
  /** Thompson sampling: the uniform draw in [0, 1) that seeded the sampled rates (replaying it gives the same choice). */
  readonly draw?: number;
}

const round4 = (x: number) => Math.round(x * 10_000) / 10_000;
const round6 = (x: number) => Math.round(x * 1_000_000) / 1_000_000;

/** Cells of the value grid the choice probabilities are integrated on. */
const PROBABILITY_CELLS = 512;

/**
 * Each candidate's probability of having the largest rate × worth − cost when every rate is drawn
 * from its Beta posterior (independently): P(c) = ∫ f_c(s) · Π_{j≠c} F_j(s) ds over the value s,
 * integrated on {@link PROBABILITY_CELLS} cells spanning every posterior's mean ± 12 sd, each cell's
 * mass of c exact (Beta CDF differences), the others' CDFs at the cell's edges averaged; normalised
 * to add up to 1. With nothing to win (worth ≤ 0) the cheapest channel is certain (preference order
 * on equal costs), as the sampling would give.
 */
export function channelProbabilities(
  posteriors: readonly { readonly alpha: number; readonly beta: number; readonly cost: number }[],
  worth: number,
): number[] {
  // The same evidence and value recur (one segment's carts between two outcomes): computed once.
  const key = `${worth}|${posteriors.map((p) => `${p.alpha},${p.beta},${p.cost}`).join('|')}`;
  const known = probabilityMemo.get(key);
  if (known !== undefined) return [...known];
  const computed = integrateProbabilities(posteriors, worth);
  if (probabilityMemo.size >= PROBABILITY_MEMO_SIZE) probabilityMemo.clear();
  probabilityMemo.set(key, computed);
  return [...computed];
}

/** Pure memo of {@link channelProbabilities} (a function of its arguments only), bounded. */
const probabilityMemo = new Map<string, readonly number[]>();
const PROBABILITY_MEMO_SIZE = 1000;

function integrateProbabilities(
  posteriors: readonly { readonly alpha: number; readonly beta: number; readonly cost: number }[],
  worth: number,
): number[] {
  const n = posteriors.length;
  if (n === 0) return [];
  if (n === 1) return [1];
  if (!(worth > 0 && Number.isFinite(worth))) {
    let best = 0;
    posteriors.forEach((p, i) => {
      if (-p.cost > -posteriors[best].cost) best = i;
    });
    return posteriors.map((_, i) => (i === best ? 1 : 0));
  }
  // Each posterior's value range that holds its mass (mean ± 12 sd; outside it the CDF is 0 or 1).
  const ranges = posteriors.map((p) => {
    const total = p.alpha + p.beta;
    const mean = p.alpha / total;
    const sd = Math.sqrt((p.alpha * p.beta) / (total * total * (total + 1)));
    return { lo: worth * Math.max(0, mean - 12 * sd) - p.cost, hi: worth * Math.min(1, mean + 12 * sd) - p.cost };
  });
  const lo = Math.min(...ranges.map((r) => r.lo));
  const hi = Math.max(...ranges.map((r) => r.hi));
  const width = (hi - lo) / PROBABILITY_CELLS;
  const cdf = posteriors.map((p, j) => {
    const f = new Float64Array(PROBABILITY_CELLS + 1);
    const lnB = logBeta(p.alpha, p.beta);
    for (let k = 0; k <= PROBABILITY_CELLS; k++) {
      const s = lo + k * width;
      f[k] = s < ranges[j].lo ? 0 : s > ranges[j].hi ? 1 : betaCdf((s + p.cost) / worth, p.alpha, p.beta, lnB);
    }
    return f;
  });
  const raw = posteriors.map((_, c) => {
    let total = 0;
    for (let k = 0; k < PROBABILITY_CELLS; k++) {
      const mass = cdf[c][k + 1] - cdf[c][k];
      if (mass <= 0) continue;
      let below = 1;
      for (let j = 0; j < n; j++) if (j !== c) below *= (cdf[j][k] + cdf[j][k + 1]) / 2;
      total += mass * below;
    }
    return total;
  });
  const sum = raw.reduce((s, x) => s + x, 0);
  return raw.map((x) => x / sum);
}

/**
 * Chooses among `permitted` (non-empty, the channels that passed consent and reach, in the step's
 * order). Pure: with `draw` (a uniform number in [0, 1), the engine's random source) the choice is
 * Thompson sampling seeded by it, so the same draw and evidence give the same choice; without it the
 * highest posterior mean wins. Ties go to the preference order.
 */
export function chooseChannel(
  permitted: readonly Channel[],
  evidence: ChannelEvidence,
  value: DecimalString,
  settings: ChannelChoiceSettings,
  draw?: number,
): ChannelChoice {
  if (permitted.length === 0) throw new RangeError('no permitted channel to choose from');
  if (draw !== undefined && !(draw >= 0 && draw < 1)) {
    throw new RangeError(`channel choice draw must be in [0, 1), got ${String(draw)}`);
  }
  const ordered = [...permitted].sort((a, b) => CHANNEL_PREFERENCE.indexOf(a) - CHANNEL_PREFERENCE.indexOf(b));
  const shopRate = smoothedRate(evidence.shop);
  const prior = priorFromRate(shopRate, settings.priorStrength);
  const worth = Number(value);
  const gain = Number.isFinite(worth) ? worth : 0;
  const posteriors = ordered.map((channel) => {
    const tally = evidence.byChannel[channel] ?? { engaged: 0, sent: 0 };
    return { channel, tally, posterior: betaPosterior(prior, tally), cost: settings.costs[channel] };
  });
  const estimate = (p: (typeof posteriors)[number]): ChannelEstimate => ({
    channel: p.channel,
    sent: p.tally.sent,
    engaged: Math.min(p.tally.engaged, p.tally.sent),
    rate: round4(p.posterior.mean),
    cost: p.cost,
    expectedValue: round4(p.posterior.mean * gain - p.cost),
  });
  const learned = settings.enabled && posteriors.some((p) => p.tally.sent >= settings.minMessages);
  const common = {
    segment: evidence.segment,
    value,
    shopRate: round4(shopRate),
    priorStrength: settings.priorStrength,
    minMessages: settings.minMessages,
  };
  if (learned && draw !== undefined) {
    // Thompson sampling: one rate per channel from its posterior, seeded by the draw, in preference order.
    const u = seededUniform(Math.floor(draw * 4294967296) >>> 0);
    const sampled = posteriors.map((p) => sampleBeta(p.posterior.alpha, p.posterior.beta, u));
    let best = 0;
    sampled.forEach((r, i) => {
      if (r * gain - posteriors[i].cost > sampled[best] * gain - posteriors[best].cost) best = i;
    });
    const probabilities = channelProbabilities(
      posteriors.map((p) => ({ alpha: p.posterior.alpha, beta: p.posterior.beta, cost: p.cost })),
      gain,
    );
    return {
      chosen: posteriors[best].channel,
      basis: 'sampled',
      ...common,
      candidates: posteriors.map((p, i) => ({
        ...estimate(p),
        sampledRate: round4(sampled[i]),
        probability: round6(probabilities[i]),
      })),
      // Unrounded: an inverse-propensity weight must never be infinite.
      propensity: probabilities[best],
      draw,
    };
  }
  const candidates = posteriors.map(estimate);
  let chosen = candidates[0];
  if (learned) {
    for (const c of candidates) if (c.expectedValue > chosen.expectedValue) chosen = c;
  }
  return {
    chosen: chosen.channel,
    basis: learned ? 'learned' : 'default-order',
    ...common,
    candidates,
    propensity: 1,
  };
}

/** The choice in one line, for the customer history. */
export function describeChannelChoice(c: ChannelChoice): string {
  const pct = (x: number) => `${Math.round(x * 1000) / 10}%`;
  const each = c.candidates
    .map(
      (e) =>
        `${e.channel} ${pct(e.rate)} (${e.engaged}/${e.sent})` +
        (e.sampledRate !== undefined ? ` sampled ${pct(e.sampledRate)}` : '') +
        ` − cost ${e.cost} → ${e.expectedValue}` +
        (e.probability !== undefined ? `, chosen ${pct(e.probability)} of the time` : ''),
    )
    .join(', ');
  const why =
    c.basis === 'sampled'
      ? `Thompson sampling for segment ${c.segment} at value ${c.value} (largest sampled rate × value − cost; ` +
        `probability ${pct(c.propensity ?? 1)}, draw ${c.draw})`
      : c.basis === 'learned'
        ? `highest expected value for segment ${c.segment} at value ${c.value}`
        : `preference order (fewer than ${c.minMessages} messages of segment ${c.segment} on any permitted channel)`;
  return `${c.chosen}: ${why}; ${each}`;
}

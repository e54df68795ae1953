/**
 * Simulated shoppers and their true behaviour. Every random quantity of a shopper is a pure
 * function of (seed, shopper, step, purpose) — counter-based random numbers — so every policy
 * and the no-message counterfactual see the same shoppers with the same draws (common random
 * numbers): a message a policy does not send does not shift anyone else's luck.
 */
import { isValidTimeZone } from '@reclaim/domain';
import type { LabChannel, Population, SegmentSpec } from './population';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** A 32-bit mix of the inputs (murmur3's finaliser over a running hash). */
function mix(...xs: number[]): number {
  let h = 0x9e3779b9;
  for (const x of xs) {
    h = Math.imul(h ^ (x >>> 0), 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
  }
  return h >>> 0;
}

/** Uniform in [0, 1) from the counters. */
export function uniform(...xs: number[]): number {
  return mix(...xs) / 4294967296;
}

/** What a draw is for (the last counter). */
export const enum Draw {
  Segment = 1,
  Returning,
  Orders,
  Mobile,
  Value,
  Value2,
  Zone,
  Day,
  Hour,
  Minute,
  HasEmail,
  EmailConsent,
  HasPhone,
  SmsConsent,
  Organic,
  OrganicTime,
  CodeUse,
  Holdout,
  SendTimeArm,
  LastOrder,
  PastHour,
  PastWeekday,
  Open,
  Click,
  Buy,
  Unsubscribe,
  Delay,
  /** The learned discount policy's draw at the step its incentive is chosen (`chooseIncentive`). */
  Incentive,
  /** The seed of a recovery's variant assignments (the start context's `experiments.seed`). */
  Experiments,
  /** The seed of an experiment's evaluation (counters: the evaluation, the experiment). */
  Evaluation,
  /** The channel choice's draw at a step's pre-send check (`channelDraw`). */
  Channel,
  /** The policy control arm's draw at the start (`policyRandom`, RFC 0021). */
  PolicyArm,
}

export interface Shopper {
  readonly index: number;
  readonly segmentIndex: number;
  readonly segment: SegmentSpec;
  readonly customerKey: string;
  readonly returning: boolean;
  readonly pastOrders: number;
  readonly mobile: boolean;
  /** Cart value (shop currency, cents rounded). */
  readonly value: number;
  readonly zone: string;
  /** When the shopper left the cart (the appliance notices after ABANDON_AFTER). */
  readonly lastActivityAt: number;
  readonly reach: { readonly email: boolean; readonly sms: boolean };
  readonly consent: { readonly email: boolean; readonly sms: boolean };
  /** Buys without any message, at this time (undefined: does not). */
  readonly organicAt?: number;
  /** The appliance's draws at the start (same for every policy). */
  readonly holdoutDraw: number;
  readonly sendTimeDraw: number;
  readonly policyDraw: number;
  /** Past orders (returning customers): their times, for the customer's engagement profile and facts. */
  readonly pastOrderTimes: readonly number[];
}

function pick<T extends { share: number }>(items: readonly T[], u: number): number {
  let acc = 0;
  for (let i = 0; i < items.length; i++) {
    acc += items[i].share;
    if (u < acc) return i;
  }
  return items.length - 1;
}

function pickWeighted(weights: readonly number[], u: number): number {
  const total = weights.reduce((s, w) => s + w, 0);
  let acc = 0;
  for (let i = 0; i < weights.length; i++) {
    acc += weights[i] / total;
    if (u < acc) return i;
  }
  return weights.length - 1;
}

/** Standard normal from two uniforms (Box–Muller). */
function normal(u1: number, u2: number): number {
  return Math.sqrt(-2 * Math.log(Math.max(u1, 1e-12))) * Math.cos(2 * Math.PI * u2);
}

/** Poisson by inversion (small means). */
function poisson(mean: number, u: number): number {
  let k = 0;
  let p = Math.exp(-mean);
  let cdf = p;
  while (u > cdf && k < 1000) {
    k++;
    p *= mean / k;
    cdf += p;
  }
  return k;
}

/** UTC offset of a zone around an instant (ms, local = utc + offset), cached per zone and day. */
const offsets = new Map<string, number>();
const formats = new Map<string, Intl.DateTimeFormat>();
export function zoneOffset(zone: string, ms: number): number {
  const key = `${zone}|${Math.floor(ms / DAY)}`;
  let o = offsets.get(key);
  if (o === undefined) {
    let f = formats.get(zone);
    if (f === undefined) {
      f = new Intl.DateTimeFormat('en-US', {
        timeZone: zone,
        hourCycle: 'h23',
        year: 'numeric',
        month: 'numeric',
        day: 'numeric',
        hour: 'numeric',
        minute: 'numeric',
      });
      formats.set(zone, f);
    }
    const p = f.formatToParts(new Date(Math.floor(ms / DAY) * DAY));
    const v = (t: string) => Number(p.find((x) => x.type === t)?.value);
    o = Date.UTC(v('year'), v('month') - 1, v('day'), v('hour') % 24, v('minute')) - Math.floor(ms / DAY) * DAY;
    offsets.set(key, o);
  }
  return o;
}

/** Local weekday (0 = Monday) and hour of an instant, like the domain's `localSlot`, from the cached day offset. */
export function localWeekdayHour(zone: string, ms: number): { readonly weekday: number; readonly hour: number } {
  const local = ms + zoneOffset(zone, ms);
  const d = new Date(local);
  return { weekday: (d.getUTCDay() + 6) % 7, hour: d.getUTCHours() };
}

/** Local hour (0–23) of an instant in a zone. */
export function localHour(zone: string, ms: number): number {
  const local = ms + zoneOffset(zone, ms);
  return Math.floor((((local % DAY) + DAY) % DAY) / HOUR);
}

export interface TrueModel {
  readonly population: Population;
  /** activeHours normalised to mean 1, per segment. */
  readonly hourWeights: readonly (readonly number[])[];
  /** Abandonment → end of the recovery window (last step + the wait after it). */
  readonly windowMs: number;
}

export function trueModel(population: Population, windowMs: number): TrueModel {
  const hourWeights = population.segments.map((s) => {
    const mean = s.activeHours.reduce((a, b) => a + b, 0) / 24;
    return s.activeHours.map((w) => w / mean);
  });
  return { population, hourWeights, windowMs };
}

export const LAB_START = Date.parse('2026-01-05T00:00:00Z');

/** Shopper `index` of a run: a pure function of (seed, index). */
export function makeShopper(
  model: TrueModel,
  seed: number,
  index: number,
  days: number,
  abandonAfterMs: number,
): Shopper {
  const u = (d: Draw, k = 0) => uniform(seed, index, k, d);
  const segments = model.population.segments;
  const segmentIndex = pick(segments, u(Draw.Segment));
  const s = segments[segmentIndex];
  const returning = u(Draw.Returning) < s.customer.returningShare;
  const pastOrders = returning ? Math.max(1, poisson(s.customer.pastOrdersMean, u(Draw.Orders))) : 0;
  const raw = s.cartValue.median * Math.exp(s.cartValue.sigma * normal(u(Draw.Value), u(Draw.Value2)));
  const value = Math.round(Math.min(s.cartValue.max, Math.max(s.cartValue.min, raw)) * 100) / 100;
  const zone = s.timeZones[pick(s.timeZones, u(Draw.Zone))].zone;
  if (!isValidTimeZone(zone)) throw new Error(`invalid zone ${zone}`);
  const day = Math.floor(u(Draw.Day) * days);
  const hour = pickWeighted(s.activeHours, u(Draw.Hour));
  const localMidnightUtc = LAB_START + day * DAY;
  const abandonedLocal = localMidnightUtc + hour * HOUR + Math.floor(u(Draw.Minute) * HOUR);
  const lastActivityAt = abandonedLocal - zoneOffset(zone, abandonedLocal) - abandonAfterMs;
  const abandonedAt = lastActivityAt + abandonAfterMs;
  const hasEmail = u(Draw.HasEmail) < s.contact.email;
  const hasPhone = u(Draw.HasPhone) < s.contact.sms;
  const organic = u(Draw.Organic) < s.organic.probability;
  let organicAt: number | undefined;
  if (organic) {
    // Exponential with the given mean, truncated to the window (inverse CDF of the truncated law).
    const mean = s.organic.meanHours * HOUR;
    const cap = 1 - Math.exp(-model.windowMs / mean);
    organicAt = abandonedAt + Math.min(model.windowMs - 1, -mean * Math.log(1 - u(Draw.OrganicTime) * cap));
  }
  const pastOrderTimes: number[] = [];
  for (let k = 0; k < pastOrders; k++) {
    const daysAgo = 3 + Math.floor(uniform(seed, index, k, Draw.LastOrder) * 360);
    const h = pickWeighted(s.activeHours, uniform(seed, index, k, Draw.PastHour));
    const local = LAB_START - daysAgo * DAY + h * HOUR + 17 * 60_000;
    pastOrderTimes.push(local - zoneOffset(zone, local));
  }
  pastOrderTimes.sort((a, b) => a - b);
  return {
    index,
    segmentIndex,
    segment: s,
    customerKey: `lab-customer-${index}`,
    returning,
    pastOrders,
    mobile: u(Draw.Mobile) < s.customer.mobileShare,
    value,
    zone,
    lastActivityAt,
    reach: { email: hasEmail, sms: hasPhone },
    consent: {
      email: hasEmail && u(Draw.EmailConsent) < s.consent.email,
      sms: hasPhone && u(Draw.SmsConsent) < s.consent.sms,
    },
    ...(organicAt !== undefined ? { organicAt } : {}),
    holdoutDraw: u(Draw.Holdout),
    sendTimeDraw: u(Draw.SendTimeArm),
    policyDraw: u(Draw.PolicyArm),
    pastOrderTimes,
  };
}

/** True click probability of a message on `channel` arriving at `at`, after `earlier` messages of the recovery. */
export function clickProbability(
  model: TrueModel,
  sh: Shopper,
  channel: LabChannel,
  at: number,
  earlier: number,
): number {
  const w = model.hourWeights[sh.segmentIndex][localHour(sh.zone, at)];
  return Math.min(1, sh.segment.response[channel].click * w * Math.pow(1 - sh.segment.fatigue, earlier));
}

/** True open probability (email; a click implies an open). */
export function openProbability(model: TrueModel, sh: Shopper, at: number, earlier: number, click: number): number {
  const base = sh.segment.response.email.open ?? sh.segment.response.email.click;
  const w = model.hourWeights[sh.segmentIndex][localHour(sh.zone, at)];
  return Math.max(click, Math.min(1, base * w * Math.pow(1 - sh.segment.fatigue, earlier)));
}

/** True probability of buying after a click with `percent` off (a shopper who would not have bought anyway). */
export function buyProbability(sh: Shopper, channel: LabChannel, percent: number): number {
  const r = sh.segment.response[channel].purchaseAfterClick;
  return Math.min(0.99, r * (1 + (sh.segment.discount.elasticity * percent) / 10));
}

export function unsubscribeProbability(sh: Shopper, channel: LabChannel, earlier: number): number {
  const u = sh.segment.unsubscribe;
  return Math.min(1, u[channel] * (1 + u.growth * earlier));
}

/** Probability that a shopper who would buy on their own has not bought by `at` (given organic). */
export function organicSurvival(model: TrueModel, sh: Shopper, abandonedAt: number, at: number): number {
  const mean = sh.segment.organic.meanHours * HOUR;
  const cap = 1 - Math.exp(-model.windowMs / mean);
  const t = Math.max(0, Math.min(model.windowMs, at - abandonedAt));
  return Math.max(0, (Math.exp(-t / mean) - Math.exp(-model.windowMs / mean)) / cap);
}

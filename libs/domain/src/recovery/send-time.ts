/**
 * Send-time optimisation (RFC 0012). Pure: the engine hands over the customer's and the shop's
 * engagement counts by local hour and weekday; this shrinks the customer's towards the shop's
 * (Dirichlet–multinomial posterior mean) and picks the best allowed instant within a window around
 * a follow-up's nominal time, saying why.
 */
import { isInsideWindow, localParts, type LocalWindow } from './quiet-hours';
import { HOUR, toIso, toMs } from './time';
import type { IsoTimestamp } from './types';

export const HOURS = 24;
export const WEEKDAYS = 7;
/** Pseudo-events spread evenly over the hours (and weekdays) of the shop's profile: a shop with no data is flat. */
export const SHOP_PSEUDO_EVENTS = 24;

export interface SendTimeSettings {
  /** The per-shop switch: off, nobody is assigned an arm and every follow-up keeps its nominal time. */
  readonly enabled: boolean;
  /** Share (0-100) of the assigned recoveries in the `on` arm; the rest are the `off` (control) arm. */
  readonly armPercent: number;
  /** A follow-up may move this far either side of its nominal time. */
  readonly windowMs: number;
  /** Never earlier than this after abandonment (unless the nominal delay itself is shorter: then never before nominal). */
  readonly minDelayMs: number;
  /** α: pseudo-events of the shop's profile in the customer's prior. */
  readonly priorStrength: number;
}

export type SendTimeArm = 'on' | 'off';
export type SendTimeZoneSource = 'address' | 'shop-default';

/** One cell of engagement counts: events at a local weekday (0 = Monday … 6 = Sunday) and hour (0–23). */
export interface EngagementCell {
  readonly weekday: number;
  readonly hour: number;
  readonly events: number;
}

/** Counts by local hour and by weekday (marginals of the cells) and their total. */
export interface EngagementProfile {
  readonly hours: readonly number[];
  readonly weekdays: readonly number[];
  readonly events: number;
}

/** A probability distribution over the hours of the day and the days of the week. */
export interface HourDistribution {
  readonly hours: readonly number[];
  readonly weekdays: readonly number[];
}

export const emptyProfile = (): EngagementProfile => ({
  hours: new Array<number>(HOURS).fill(0),
  weekdays: new Array<number>(WEEKDAYS).fill(0),
  events: 0,
});

/** The marginals of the cells; cells outside the ranges or with a non-positive count are ignored. */
export function profileFromCells(cells: readonly EngagementCell[]): EngagementProfile {
  const hours = new Array<number>(HOURS).fill(0);
  const weekdays = new Array<number>(WEEKDAYS).fill(0);
  let events = 0;
  for (const c of cells) {
    if (!Number.isInteger(c.hour) || c.hour < 0 || c.hour >= HOURS) continue;
    if (!Number.isInteger(c.weekday) || c.weekday < 0 || c.weekday >= WEEKDAYS) continue;
    if (!(c.events > 0)) continue;
    hours[c.hour] += c.events;
    weekdays[c.weekday] += c.events;
    events += c.events;
  }
  return { hours, weekdays, events };
}

function smoothed(counts: readonly number[], total: number, prior: readonly number[], strength: number): number[] {
  return counts.map((n, i) => (n + strength * prior[i]) / (total + strength));
}

/** The shop's distribution: its counts with {@link SHOP_PSEUDO_EVENTS} spread evenly (flat without data). */
export function shopDistribution(shop: EngagementProfile): HourDistribution {
  return {
    hours: smoothed(shop.hours, shop.events, new Array<number>(HOURS).fill(1 / HOURS), SHOP_PSEUDO_EVENTS),
    weekdays: smoothed(shop.weekdays, shop.events, new Array<number>(WEEKDAYS).fill(1 / WEEKDAYS), SHOP_PSEUDO_EVENTS),
  };
}

/**
 * The customer's posterior mean under a Dirichlet prior centred on the shop's distribution with
 * strength `alpha`: `p_h = (n_h + α π_h) / (n + α)` (and the same for weekdays). Their own counts
 * weigh `n / (n + α)`.
 */
export function customerDistribution(
  customer: EngagementProfile,
  shop: HourDistribution,
  alpha: number,
): HourDistribution {
  if (!(alpha >= 0)) throw new RangeError('prior strength must be ≥ 0');
  if (customer.events === 0 && alpha === 0) return shop;
  return {
    hours: smoothed(customer.hours, customer.events, shop.hours, alpha),
    weekdays: smoothed(customer.weekdays, customer.events, shop.weekdays, alpha),
  };
}

/** Local weekday (0 = Monday) and hour of an instant in a zone. */
export function localSlot(ms: number, timeZone: string): { readonly weekday: number; readonly hour: number } {
  const p = localParts(ms, timeZone);
  const sundayFirst = new Date(Date.UTC(p.year, p.month - 1, p.day)).getUTCDay();
  return { weekday: (sundayFirst + 6) % 7, hour: p.hour };
}

export type SendTimeReason = 'profile' | 'no-evidence' | 'no-allowed-hour' | 'control-arm';

/** The numbers a `profile` choice rests on (shares are the customer's posterior hour probabilities). */
export interface SendTimeEvidence {
  /** The customer's own engagement events counted. */
  readonly customerEvents: number;
  readonly priorStrength: number;
  readonly chosenHour: number;
  readonly chosenWeekday: number;
  readonly chosenHourShare: number;
  readonly nominalHour: number;
  readonly nominalWeekday: number;
  readonly nominalHourShare: number;
}

export interface SendTimeChoice {
  readonly nominalAt: IsoTimestamp;
  readonly chosenAt: IsoTimestamp;
  readonly windowFrom: IsoTimestamp;
  readonly windowTo: IsoTimestamp;
  readonly reason: SendTimeReason;
  readonly timeZone: string;
  readonly timeZoneSource: SendTimeZoneSource;
  readonly evidence?: SendTimeEvidence;
  /** `control-arm`: what the profile would have chosen (never applied). */
  readonly wouldChooseAt?: IsoTimestamp;
}

/** The window of a follow-up: `[max(T − W, abandonedAt + min(delay, minDelay), now), T + W]` (never empty). */
export function sendTimeWindow(
  abandonedAt: IsoTimestamp,
  delayMs: number,
  settings: Pick<SendTimeSettings, 'windowMs' | 'minDelayMs'>,
  now?: IsoTimestamp,
): { readonly from: number; readonly to: number; readonly nominal: number } {
  const start = toMs(abandonedAt);
  const nominal = start + delayMs;
  const floor = start + Math.min(delayMs, settings.minDelayMs);
  const to = nominal + settings.windowMs;
  const from = Math.min(to, Math.max(nominal - settings.windowMs, floor, now !== undefined ? toMs(now) : -Infinity));
  return { from, to, nominal };
}

export interface SendTimeInput {
  readonly abandonedAt: IsoTimestamp;
  /** The step's nominal delay after abandonment. */
  readonly delayMs: number;
  readonly now: IsoTimestamp;
  readonly settings: SendTimeSettings;
  /** The zone the customer's hours are read in, and where it came from. */
  readonly timeZone: string;
  readonly timeZoneSource: SendTimeZoneSource;
  /** The step's channel's allowed local window (`null`: any time). */
  readonly sendWindow: LocalWindow | null;
  readonly customer: EngagementProfile;
  readonly shop: EngagementProfile;
}

/**
 * The best allowed instant for a follow-up within its window (RFC 0012): nominal without any event
 * of the customer's own (`no-evidence`); otherwise the candidate (window start, nominal, every local
 * top of the hour inside) with the highest `p_hour · q_weekday`, ties to the one closest to nominal.
 */
export function chooseSendTime(input: SendTimeInput): SendTimeChoice {
  const { settings, timeZone, sendWindow } = input;
  const w = sendTimeWindow(input.abandonedAt, input.delayMs, settings, input.now);
  const nominalAt = toIso(w.nominal);
  // The nominal time itself can lie before the window when now is already past it.
  const nominalCandidate = Math.min(w.to, Math.max(w.from, w.nominal));
  const base = {
    nominalAt,
    windowFrom: toIso(w.from),
    windowTo: toIso(w.to),
    timeZone,
    timeZoneSource: input.timeZoneSource,
  };
  const nominalChoice = (reason: SendTimeReason): SendTimeChoice => ({
    ...base,
    chosenAt: toIso(nominalCandidate),
    reason,
  });
  if (input.customer.events <= 0) return nominalChoice('no-evidence');
  const candidates = new Set<number>([w.from, nominalCandidate]);
  // Every local top of the hour inside the window (zones with half-hour offsets included).
  for (let t = Math.ceil(w.from / (15 * 60_000)) * 15 * 60_000; t <= w.to; t += 15 * 60_000) {
    if (localParts(t, timeZone).minute === 0) candidates.add(t);
  }
  const allowed = [...candidates].filter((t) => sendWindow === null || isInsideWindow(t, timeZone, sendWindow));
  if (allowed.length === 0) return nominalChoice('no-allowed-hour');
  const dist = customerDistribution(input.customer, shopDistribution(input.shop), settings.priorStrength);
  const score = (t: number) => {
    const s = localSlot(t, timeZone);
    return dist.hours[s.hour] * dist.weekdays[s.weekday];
  };
  let best = allowed[0];
  let bestScore = score(best);
  for (const t of allowed.slice(1)) {
    const sc = score(t);
    const closer = Math.abs(t - nominalCandidate) < Math.abs(best - nominalCandidate);
    if (sc > bestScore + 1e-12 || (Math.abs(sc - bestScore) <= 1e-12 && closer)) {
      best = t;
      bestScore = sc;
    }
  }
  const chosen = localSlot(best, timeZone);
  const nominal = localSlot(nominalCandidate, timeZone);
  const round = (x: number) => Math.round(x * 10_000) / 10_000;
  return {
    ...base,
    chosenAt: toIso(best),
    reason: 'profile',
    evidence: {
      customerEvents: input.customer.events,
      priorStrength: settings.priorStrength,
      chosenHour: chosen.hour,
      chosenWeekday: chosen.weekday,
      chosenHourShare: round(dist.hours[chosen.hour]),
      nominalHour: nominal.hour,
      nominalWeekday: nominal.weekday,
      nominalHourShare: round(dist.hours[nominal.hour]),
    },
  };
}

/** The control arm's record: the nominal time kept, with what the profile would have chosen. */
export function controlArmChoice(input: SendTimeInput): SendTimeChoice {
  const would = chooseSendTime(input);
  const w = sendTimeWindow(input.abandonedAt, input.delayMs, input.settings);
  return {
    nominalAt: would.nominalAt,
    chosenAt: toIso(Math.max(w.nominal, toMs(input.now))),
    windowFrom: toIso(w.from),
    windowTo: toIso(w.to),
    reason: 'control-arm',
    timeZone: would.timeZone,
    timeZoneSource: would.timeZoneSource,
    ...(would.evidence !== undefined ? { evidence: would.evidence } : {}),
    ...(would.reason === 'profile' ? { wouldChooseAt: would.chosenAt } : {}),
  };
}

/** The probability of each arm {@link sendTimeArm} draws under the share. */
export function sendTimeArmProbabilities(armPercent: number): { readonly [A in SendTimeArm]: number } {
  const p = Math.min(1, Math.max(0, armPercent / 100));
  return { on: p, off: 1 - p };
}

/** The arm of a recovery from its own uniform draw: `on` when `draw < armPercent / 100`. */
export function sendTimeArm(
  draw: number,
  armPercent: number,
): { readonly arm: SendTimeArm; readonly propensity: number } {
  const p = sendTimeArmProbabilities(armPercent);
  return draw < p.on ? { arm: 'on', propensity: p.on } : { arm: 'off', propensity: p.off };
}

const WEEKDAY_NAMES = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];
const hh = (h: number) => `${String(h).padStart(2, '0')}:00`;
const pct = (x: number) => `${Math.round(x * 100)} %`;

/** The choice in one line, for the customer history and the dashboard. */
export function describeSendTime(c: SendTimeChoice): string {
  const zone = `${c.timeZone}, ${c.timeZoneSource === 'address' ? "customer's address" : "shop's zone"}`;
  const local = (iso: IsoTimestamp) => {
    const p = localParts(toMs(iso), c.timeZone);
    const s = localSlot(toMs(iso), c.timeZone);
    return `${WEEKDAY_NAMES[s.weekday]} ${String(p.hour).padStart(2, '0')}:${String(p.minute).padStart(2, '0')}`;
  };
  const e = c.evidence;
  const because =
    e === undefined
      ? ''
      : `: ${e.customerEvents} engagement event${e.customerEvents === 1 ? '' : 's'} (prior strength ${e.priorStrength}), ${hh(e.chosenHour)} has ${pct(e.chosenHourShare)}, ${hh(e.nominalHour)} ${pct(e.nominalHourShare)}`;
  switch (c.reason) {
    case 'no-evidence':
      return `no evidence: nominal ${local(c.nominalAt)} (${zone})`;
    case 'no-allowed-hour':
      return `nominal ${local(c.nominalAt)} kept: no hour of the window is outside quiet hours (${zone})`;
    case 'control-arm':
      return `control arm: nominal ${local(c.nominalAt)} kept (${zone})${
        c.wouldChooseAt !== undefined ? `; the profile would have chosen ${local(c.wouldChooseAt)}` : ''
      }`;
    case 'profile':
      return c.chosenAt === c.nominalAt
        ? `nominal ${local(c.nominalAt)} is the best hour (${zone})${because}`
        : `moved from ${local(c.nominalAt)} to ${local(c.chosenAt)} (${zone})${because}`;
  }
}

/** Hours as a number, for settings written in hours. */
export const hoursToMs = (h: number): number => h * HOUR;

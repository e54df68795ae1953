/**
 * Routing by score (issue 14 item 3): the recovery score recorded at abandonment and the cart's
 * value put each recovery in a band, and the band chooses what the recovery gets:
 *
 * - `personal` — high probability × high value: immediate personal attention (one support ticket
 *   carrying the score and why) and the band's sequence;
 * - `short` — high probability: a short sequence with no early discount (a likely buyer needs a
 *   reminder, not a price cut);
 * - `nurture` — low probability: fewer, spaced messages;
 * - `middle` — between the thresholds: the catalogue's normal match;
 * - `unscored` — no model yet (how many outcomes are still needed): today's rules;
 * - `off` — the shop turned routing off: today's rules, the score still recorded for measurement.
 *
 * Pure: the band is decided from the recorded score and the shop's settings only.
 */
import { gte, isDecimalString } from './money';
import type { DecimalString } from './types';

export const ROUTING_BANDS = ['personal', 'short', 'nurture', 'middle', 'unscored', 'off'] as const;
export type RoutingBand = (typeof ROUTING_BANDS)[number];

/** The bands that choose their own sequence (the others keep the catalogue's match). */
export const ROUTED_SEQUENCE_BANDS = ['personal', 'short', 'nurture'] as const;
export type RoutedSequenceBand = (typeof ROUTED_SEQUENCE_BANDS)[number];

export type RoutingReason =
  | 'high-probability-high-value'
  | 'high-probability'
  | 'low-probability'
  | 'between-thresholds'
  | 'no-model'
  | 'routing-off';

export interface RoutingThresholds {
  /** A score at or above this is high probability. */
  readonly highProbability: number;
  /** A score below this is low probability. */
  readonly lowProbability: number;
  /** A cart worth at least this (shop currency) is high value. */
  readonly highValue: DecimalString;
}

export interface RoutingSettings extends RoutingThresholds {
  /** Off: every recovery keeps today's rules (catalogue match, ticket by TICKET_THRESHOLD); the score is still recorded. */
  readonly enabled: boolean;
  /** The sequence (an id of the shop's catalogue) each routed band chooses. */
  readonly sequences: Readonly<Record<RoutedSequenceBand, string>>;
}

/** What the recorded score says: a probability and the model's version, or no model and how many outcomes are missing. */
export type RecordedScore =
  | { readonly kind: 'scored'; readonly score: number; readonly modelVersion: number }
  | { readonly kind: 'unavailable'; readonly outcomesNeeded: number };

export interface RoutingDecision {
  readonly band: RoutingBand;
  readonly reason: RoutingReason;
  /** The band's own sequence id; absent: the catalogue's normal match decides. */
  readonly sequenceId?: string;
  /**
   * Whether the band asks for a support ticket: `personal` always; `unscored` and `off` by
   * today's rule (cart value ≥ TICKET_THRESHOLD); the other bands never (the score says the
   * support team's time is better spent elsewhere). Holdout and shadow recoveries still open none.
   */
  readonly wantsTicket: boolean;
}

/**
 * The band of a recovery. Boundaries: `score ≥ highProbability` is high, `score < lowProbability`
 * is low, so a score equal to `lowProbability` is in the middle; a cart value that is not a
 * decimal amount is never high value.
 */
export function routeByScore(
  settings: RoutingSettings,
  recorded: RecordedScore,
  cartValue: DecimalString,
  ticketThreshold: DecimalString,
): RoutingDecision {
  const byValue = isDecimalString(cartValue) && gte(cartValue, ticketThreshold);
  if (recorded.kind === 'unavailable') return { band: 'unscored', reason: 'no-model', wantsTicket: byValue };
  if (!settings.enabled) return { band: 'off', reason: 'routing-off', wantsTicket: byValue };
  const { score } = recorded;
  if (score >= settings.highProbability) {
    if (isDecimalString(cartValue) && gte(cartValue, settings.highValue)) {
      return {
        band: 'personal',
        reason: 'high-probability-high-value',
        sequenceId: settings.sequences.personal,
        wantsTicket: true,
      };
    }
    return { band: 'short', reason: 'high-probability', sequenceId: settings.sequences.short, wantsTicket: false };
  }
  if (score < settings.lowProbability) {
    return { band: 'nurture', reason: 'low-probability', sequenceId: settings.sequences.nurture, wantsTicket: false };
  }
  return { band: 'middle', reason: 'between-thresholds', wantsTicket: false };
}

export interface RoutingValidationError {
  readonly field: string;
  readonly message: string;
}

/** The thresholds' own rules (each in (0, 1), low below high, a decimal high value), naming the field. */
export function validateRoutingThresholds(t: Partial<RoutingThresholds>, field = 'routing'): RoutingValidationError[] {
  const errors: RoutingValidationError[] = [];
  const probability = (key: 'highProbability' | 'lowProbability') => {
    const v = t[key];
    if (v !== undefined && !(typeof v === 'number' && Number.isFinite(v) && v > 0 && v < 1)) {
      errors.push({ field: `${field}.${key}`, message: 'must be a probability between 0 and 1 (exclusive)' });
      return false;
    }
    return v !== undefined;
  };
  const high = probability('highProbability');
  const low = probability('lowProbability');
  if (high && low && (t.lowProbability as number) >= (t.highProbability as number)) {
    errors.push({ field: `${field}.lowProbability`, message: 'must be below highProbability' });
  }
  if (t.highValue !== undefined && !(typeof t.highValue === 'string' && isDecimalString(t.highValue))) {
    errors.push({ field: `${field}.highValue`, message: 'must be a non-negative decimal amount (shop currency)' });
  }
  return errors;
}

/** `0.742 ≥ 0.6` style comparisons of a decision, in words (the customer history and the ticket). */
export function describeRouting(r: {
  readonly band: RoutingBand;
  readonly score?: number;
  readonly modelVersion?: number;
  readonly outcomesNeeded?: number;
  readonly cartValue: DecimalString;
  readonly currency: string;
  readonly thresholds: RoutingThresholds;
  readonly sequenceId?: string;
  readonly sequenceFallback?: string;
  readonly ticket: boolean;
  readonly topFeatures?: readonly { readonly feature: string; readonly contribution: number }[];
}): string {
  const t = r.thresholds;
  const s = r.score === undefined ? '' : r.score.toFixed(3);
  const why: Record<RoutingBand, string> = {
    personal: `score ${s} ≥ ${t.highProbability} and cart ${r.cartValue} ${r.currency} ≥ ${t.highValue}: personal attention`,
    short: `score ${s} ≥ ${t.highProbability}, cart ${r.cartValue} ${r.currency} below ${t.highValue}: short sequence`,
    nurture: `score ${s} < ${t.lowProbability}: nurture sequence`,
    middle: `score ${s} between ${t.lowProbability} and ${t.highProbability}: the catalogue's match`,
    unscored: `no model yet${r.outcomesNeeded !== undefined ? ` (${r.outcomesNeeded} more labelled outcomes needed)` : ''}: today's rules`,
    off: `routing by score is off for the shop${r.score !== undefined ? ` (score ${s})` : ''}: today's rules`,
  };
  const parts = [
    why[r.band],
    ...(r.modelVersion !== undefined ? [`model v${r.modelVersion}`] : []),
    ...(r.sequenceId !== undefined ? [`sequence ${r.sequenceId}`] : []),
    ...(r.sequenceFallback !== undefined
      ? [`the band's sequence is ${r.sequenceFallback}, the catalogue's match used`]
      : []),
    ...(r.ticket ? ['support ticket requested'] : []),
    ...(r.topFeatures !== undefined && r.topFeatures.length > 0
      ? [
          `top features: ${r.topFeatures
            .map((f) => `${f.feature} ${f.contribution >= 0 ? '+' : '−'}${Math.abs(f.contribution).toFixed(2)}`)
            .join(', ')}`,
        ]
      : []),
  ];
  return parts.join('; ');
}

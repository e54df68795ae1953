import type { RecoveryConfig } from './config';
import { gte, isDecimalString } from './money';
import { SEGMENTS, type Segment } from './segments';
import { CHANNELS, type Channel, type DecimalString } from './types';

/** What a variant may change of its step; absent fields keep the step's own. */
export interface StepVariant {
  /** 1-32 lower-case letters, digits or dashes, unique within the step. */
  readonly id: string;
  /** E-mail subject line (a template string rendered like the template's own subject). */
  readonly subject?: string;
  readonly template?: string;
  /** Incentive level (0 = none); a shop whose discounts are learned decides the level itself. */
  readonly discountPercent?: number;
  readonly delayMs?: number;
  readonly channels?: readonly Channel[];
  /** Send-time optimisation for this step: `on` moves it to the customer's best hour, `off` keeps nominal. */
  readonly sendTime?: 'on' | 'off';
}

export interface SequenceStep {
  /** Position in the sequence, 0-based. */
  readonly index: number;
  /** Counted from abandonment. */
  readonly delayMs: number;
  /** Channels the step may use; SMS is preferred when listed and allowed, else email. */
  readonly channels: readonly Channel[];
  /** 0 = no discount. */
  readonly discountPercent: number;
  /** Sales template id. */
  readonly template: string;
  /** Help-oriented template used while a support ticket is open. */
  readonly helpTemplate?: string;
  /** E-mail subject line overriding the template's own (a template string; set by a variant). */
  readonly subject?: string;
  /** Send-time optimisation for this step (set by a variant): overrides the recovery's send-time arm. */
  readonly sendTime?: 'on' | 'off';
  /**
   * Variants of this step (RFC 0016), each overriding some of its fields: with the shop's experiments
   * on, each recovery gets one of them (Thompson sampling per segment, until one is adopted).
   */
  readonly variants?: readonly StepVariant[];
}

export interface SequenceMatch {
  /** Matches when the customer has any of these segments. */
  readonly anySegments?: readonly Segment[];
  /** Matches when the cart value is at least this (shop currency). */
  readonly minCartValue?: DecimalString;
}

export interface SequenceDefinition {
  readonly id: string;
  readonly version: number;
  /** All given conditions must hold; an empty match is a catch-all. */
  readonly match: SequenceMatch;
  readonly steps: readonly SequenceStep[];
  /**
   * Chosen only by routing by score (a band's sequence, ./routing.ts), never by the catalogue's
   * match (its `match` is ignored, and it may stand after the catch-all).
   */
  readonly routedOnly?: boolean;
}

/** A shop's sequences, first match wins. A running recovery keeps the version it started with. */
export interface SequenceCatalogue {
  readonly version: number;
  readonly sequences: readonly SequenceDefinition[];
}

export interface ValidationError {
  readonly field: string;
  readonly message: string;
}

function stepsFor(config: RecoveryConfig, prefix: string, channels: readonly Channel[]): SequenceStep[] {
  const delays = [0, ...config.followUpDelaysMs];
  return delays.map((delayMs, index) => ({
    index,
    delayMs,
    channels,
    discountPercent: config.discountPercents[index] ?? config.discountPercents[config.discountPercents.length - 1] ?? 0,
    template: `${prefix}-${index}`,
    helpTemplate: `help-${index}`,
  }));
}

/**
 * The routed bands' default sequences, derived from FOLLOW_UP_DELAYS and the step discounts:
 * `short` (a likely buyer): at abandonment and at the last follow-up delay, no discount before the
 * last step, which keeps the normal sequence's last discount; `nurture` (an unlikely one): fewer,
 * spaced messages — the first follow-up delay, the last one and twice the last — with only the
 * last carrying the normal sequence's last discount.
 */
function routedSequences(config: RecoveryConfig, version: number): SequenceDefinition[] {
  const delays = config.followUpDelaysMs;
  const last = delays[delays.length - 1] ?? 0;
  const lastDiscount =
    config.discountPercents[Math.min(delays.length, config.discountPercents.length - 1)] ??
    config.discountPercents[config.discountPercents.length - 1] ??
    0;
  const steps = (prefix: string, at: readonly number[]): SequenceStep[] => {
    const unique = [...new Set(at)].sort((a, b) => a - b);
    return unique.map((delayMs, index) => ({
      index,
      delayMs,
      channels: ['email'],
      discountPercent: index === unique.length - 1 && unique.length > 1 ? lastDiscount : 0,
      template: `${prefix}-${index}`,
      helpTemplate: `help-${Math.min(index, 3)}`,
    }));
  };
  return [
    { id: 'short', version, match: {}, routedOnly: true, steps: steps('short', [0, last]) },
    {
      id: 'nurture',
      version,
      match: {},
      routedOnly: true,
      steps: steps('nurture', delays.length === 0 ? [0] : [delays[0], last, 2 * last]),
    },
  ];
}

/**
 * premium (cart >= HIGH_VALUE_THRESHOLD), loyalty (returning), welcome (everyone else), then the
 * routed bands' `short` and `nurture` (chosen by routing by score only).
 */
export function defaultSequences(config: RecoveryConfig, version = 1): SequenceCatalogue {
  return {
    version,
    sequences: [
      {
        id: 'premium',
        version,
        match: { minCartValue: config.highValueThreshold },
        steps: stepsFor(config, 'premium', ['email', 'sms']),
      },
      { id: 'loyalty', version, match: { anySegments: ['returning'] }, steps: stepsFor(config, 'loyalty', ['email']) },
      { id: 'welcome', version, match: {}, steps: stepsFor(config, 'welcome', ['email']) },
      ...routedSequences(config, version),
    ],
  };
}

export function sequenceMatches(
  definition: SequenceDefinition,
  segments: readonly Segment[],
  cart: { readonly value: DecimalString },
): boolean {
  const { anySegments, minCartValue } = definition.match;
  if (anySegments !== undefined && !anySegments.some((s) => segments.includes(s))) return false;
  if (minCartValue !== undefined && !(isDecimalString(cart.value) && gte(cart.value, minCartValue))) return false;
  return true;
}

export function selectSequence(
  segments: readonly Segment[],
  cart: { readonly value: DecimalString },
  catalogue: SequenceCatalogue,
): SequenceDefinition | undefined {
  return catalogue.sequences.find((s) => s.routedOnly !== true && sequenceMatches(s, segments, cart));
}

const ID = /^[a-z0-9][a-z0-9-]{0,63}$/;

export function validateSequence(definition: SequenceDefinition, field = ''): ValidationError[] {
  const errors: ValidationError[] = [];
  const at = (name: string) => (field ? `${field}.${name}` : name);
  if (typeof definition.id !== 'string' || !ID.test(definition.id)) {
    errors.push({ field: at('id'), message: 'must be 1-64 lower-case letters, digits or dashes' });
  }
  if (!Number.isInteger(definition.version) || definition.version < 1) {
    errors.push({ field: at('version'), message: 'must be a positive integer' });
  }
  const { anySegments, minCartValue } = definition.match ?? {};
  anySegments?.forEach((s, i) => {
    if (!SEGMENTS.includes(s)) errors.push({ field: at(`match.anySegments[${i}]`), message: `unknown segment '${s}'` });
  });
  if (minCartValue !== undefined && !isDecimalString(minCartValue)) {
    errors.push({ field: at('match.minCartValue'), message: 'must be a non-negative decimal string' });
  }
  if (definition.routedOnly !== undefined && typeof definition.routedOnly !== 'boolean') {
    errors.push({ field: at('routedOnly'), message: 'must be a boolean' });
  }
  if (!Array.isArray(definition.steps) || definition.steps.length === 0) {
    errors.push({ field: at('steps'), message: 'must contain at least one step' });
    return errors;
  }
  definition.steps.forEach((step, i) => {
    const f = (name: string) => at(`steps[${i}].${name}`);
    if (step.index !== i) errors.push({ field: f('index'), message: `must equal its position ${i}` });
    if (!Number.isInteger(step.delayMs) || step.delayMs < 0) {
      errors.push({ field: f('delayMs'), message: 'must be a non-negative integer (milliseconds)' });
    } else if (i > 0 && step.delayMs <= definition.steps[i - 1].delayMs) {
      errors.push({ field: f('delayMs'), message: 'must be greater than the previous step delay' });
    }
    const channels: readonly Channel[] = Array.isArray(step.channels) ? step.channels : [];
    if (channels.length === 0) {
      errors.push({ field: f('channels'), message: 'must list at least one channel' });
    }
    channels.forEach((c, j) => {
      if (!CHANNELS.includes(c)) errors.push({ field: f(`channels[${j}]`), message: `unknown channel '${c}'` });
      else if (channels.indexOf(c) !== j) errors.push({ field: f(`channels[${j}]`), message: 'duplicate' });
    });
    if (!Number.isInteger(step.discountPercent) || step.discountPercent < 0 || step.discountPercent > 90) {
      errors.push({ field: f('discountPercent'), message: 'must be an integer between 0 and 90' });
    }
    if (typeof step.template !== 'string' || step.template.trim() === '') {
      errors.push({ field: f('template'), message: 'must be a non-empty template id' });
    }
    if (step.helpTemplate !== undefined && step.helpTemplate.trim() === '') {
      errors.push({ field: f('helpTemplate'), message: 'must be a non-empty template id when given' });
    }
    errors.push(...validateStepFields(step, f));
    if (step.variants !== undefined) errors.push(...validateVariants(step.variants, (n) => f(`variants${n}`)));
  });
  // Delays must keep the steps in order whichever variants a recovery gets.
  definition.steps.forEach((step, i) => {
    if (i === 0 || !Array.isArray(definition.steps[i - 1].variants ?? []) || !Array.isArray(step.variants ?? []))
      return;
    const previous = delaysOf(definition.steps[i - 1]);
    if (previous.length === 0) return;
    const latestBefore = Math.max(...previous);
    (step.variants ?? []).forEach((v: StepVariant, j: number) => {
      if (v.delayMs !== undefined && Number.isInteger(v.delayMs) && v.delayMs <= latestBefore) {
        errors.push({
          field: at(`steps[${i}].variants[${j}].delayMs`),
          message: `must be greater than every delay of step ${i - 1} (${latestBefore})`,
        });
      }
    });
    if (
      Number.isInteger(step.delayMs) &&
      step.delayMs > definition.steps[i - 1].delayMs &&
      step.delayMs <= latestBefore
    ) {
      errors.push({
        field: at(`steps[${i}].delayMs`),
        message: `must be greater than every delay of step ${i - 1}'s variants (${latestBefore})`,
      });
    }
  });
  return errors;
}

function delaysOf(step: SequenceStep): number[] {
  const variants: readonly StepVariant[] = Array.isArray(step.variants) ? step.variants : [];
  return [step.delayMs, ...variants.map((v) => v.delayMs ?? step.delayMs)].filter((d) => Number.isInteger(d));
}

/** The fields a step and a variant share: subject and send-time. */
function validateStepFields(
  step: { readonly subject?: unknown; readonly sendTime?: unknown },
  f: (name: string) => string,
): ValidationError[] {
  const errors: ValidationError[] = [];
  if (
    step.subject !== undefined &&
    (typeof step.subject !== 'string' || step.subject.trim() === '' || step.subject.length > 200)
  ) {
    errors.push({ field: f('subject'), message: 'must be a non-empty subject line of at most 200 characters' });
  }
  if (step.sendTime !== undefined && step.sendTime !== 'on' && step.sendTime !== 'off') {
    errors.push({ field: f('sendTime'), message: "must be 'on' or 'off'" });
  }
  return errors;
}

const VARIANT_ID = /^[a-z0-9][a-z0-9-]{0,31}$/;
const MAX_VARIANTS = 8;

/** A step's variants: 2-8, unique ids, valid values (a variant with only an id is the step as defined: the control). */
export function validateVariants(variants: unknown, f: (name: string) => string): ValidationError[] {
  const errors: ValidationError[] = [];
  if (!Array.isArray(variants) || variants.length < 2 || variants.length > MAX_VARIANTS) {
    return [{ field: f(''), message: `must list 2 to ${MAX_VARIANTS} variants` }];
  }
  const seen = new Set<string>();
  (variants as StepVariant[]).forEach((v, j) => {
    const g = (name: string) => f(`[${j}].${name}`);
    if (v === null || typeof v !== 'object') {
      errors.push({ field: f(`[${j}]`), message: 'must be an object' });
      return;
    }
    if (typeof v.id !== 'string' || !VARIANT_ID.test(v.id)) {
      errors.push({ field: g('id'), message: 'must be 1-32 lower-case letters, digits or dashes' });
    } else if (seen.has(v.id)) {
      errors.push({ field: g('id'), message: `duplicate variant id '${v.id}'` });
    } else {
      seen.add(v.id);
    }
    const known = new Set(['id', 'subject', 'template', 'discountPercent', 'delayMs', 'channels', 'sendTime']);
    for (const key of Object.keys(v)) {
      if (!known.has(key)) errors.push({ field: g(key), message: 'is not a variant field' });
    }
    if (v.template !== undefined && (typeof v.template !== 'string' || v.template.trim() === '')) {
      errors.push({ field: g('template'), message: 'must be a non-empty template id' });
    }
    if (
      v.discountPercent !== undefined &&
      (!Number.isInteger(v.discountPercent) || v.discountPercent < 0 || v.discountPercent > 90)
    ) {
      errors.push({ field: g('discountPercent'), message: 'must be an integer between 0 and 90' });
    }
    if (v.delayMs !== undefined && (!Number.isInteger(v.delayMs) || v.delayMs < 0)) {
      errors.push({ field: g('delayMs'), message: 'must be a non-negative integer (milliseconds)' });
    }
    if (v.channels !== undefined) {
      const channels: readonly Channel[] = Array.isArray(v.channels) ? v.channels : [];
      if (channels.length === 0) errors.push({ field: g('channels'), message: 'must list at least one channel' });
      channels.forEach((c, k) => {
        if (!CHANNELS.includes(c)) errors.push({ field: g(`channels[${k}]`), message: `unknown channel '${c}'` });
        else if (channels.indexOf(c) !== k) errors.push({ field: g(`channels[${k}]`), message: 'duplicate' });
      });
    }
    errors.push(...validateStepFields(v, g));
  });
  return errors;
}

/** The step as a variant sets it (the variant's fields over the step's; the variants list dropped). */
export function applyVariant(step: SequenceStep, overrides: Omit<StepVariant, 'id'>): SequenceStep {
  const { variants: _variants, ...rest } = step;
  return { ...rest, ...overrides, index: step.index };
}

export function validateSequenceCatalogue(catalogue: SequenceCatalogue): ValidationError[] {
  const errors: ValidationError[] = [];
  if (!Number.isInteger(catalogue.version) || catalogue.version < 1) {
    errors.push({ field: 'version', message: 'must be a positive integer' });
  }
  if (!Array.isArray(catalogue.sequences) || catalogue.sequences.length === 0) {
    errors.push({ field: 'sequences', message: 'must contain at least one sequence' });
    return errors;
  }
  const seen = new Set<string>();
  catalogue.sequences.forEach((s, i) => {
    errors.push(...validateSequence(s, `sequences[${i}]`));
    if (seen.has(s.id)) errors.push({ field: `sequences[${i}].id`, message: `duplicate id '${s.id}'` });
    seen.add(s.id);
  });
  // Routed-only sequences are never matched: the last of the others must catch every cart.
  const matched = catalogue.sequences.map((s, i) => ({ s, i })).filter(({ s }) => s.routedOnly !== true);
  const last = matched[matched.length - 1];
  if (last === undefined) {
    errors.push({ field: 'sequences', message: 'must contain at least one sequence that is not routedOnly' });
  } else if (last.s.match?.anySegments !== undefined || last.s.match?.minCartValue !== undefined) {
    errors.push({
      field: `sequences[${last.i}].match`,
      message: 'the last sequence must be a catch-all (empty match) so every cart gets a sequence',
    });
  }
  return errors;
}

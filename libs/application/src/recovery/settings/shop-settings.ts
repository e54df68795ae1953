/**
 * Per-shop recovery settings (`engine.shop_settings`), editable through the admin API. They override
 * the appliance-wide defaults (environment) for one shop: shadow/live mode, rollout and holdout
 * shares, email consent policy, pausing while (or which of) the customer's own tickets are open, email quiet hours, the merchant's
 * name and postal address (R25), extra storefront hosts click links may redirect to, and the UTM
 * parameters on the shop links of the messages, and the price rule of out-of-stock alternatives.
 */
import type { Pool } from 'pg';
import { listenForNotifications } from '../../shared/listen';
import { utmSettingsOf, validateUtmOverrides, type UtmOverrides, type UtmSettings } from '../../messages/utm';
import {
  createRecoveryDecider,
  DEFAULT_ALTERNATIVE_RULES,
  DISCOUNT_POLICIES,
  type CodeFarmingSettings,
  type DiscountPolicy,
  defaultSequences,
  experimentSettingsOf,
  type ExperimentSettings,
  policyControlOf,
  type PolicyControlSettings,
  type SequenceCatalogue,
  type EmailConsentPolicy,
  type LocalWindow,
  type RecoveryConfig,
  type RecoveryDecider,
  ROUTED_SEQUENCE_BANDS,
  SUPPORT_TICKET_MATCHES,
  type RoutedSequenceBand,
  type RoutingSettings,
  type SupportTicketMatch,
  type ValidationError,
  validateRoutingThresholds,
} from '@reclaim/domain';

export interface QuietHours {
  /** Local time `HH:MM` from which nothing is sent… */
  readonly start: string;
  /** …until this local time `HH:MM` (wraps past midnight when before `start`). */
  readonly end: string;
}

export interface ShopRecoverySettings {
  readonly mode?: 'live' | 'shadow';
  readonly rolloutPercent?: number;
  readonly holdoutPercent?: number;
  readonly emailConsentPolicy?: EmailConsentPolicy;
  /**
   * While a ticket the customer opened about the cart is open: `false` (default) sends the help
   * copy, `true` pauses the recovery until the ticket closes.
   */
  readonly pauseWhileTicketOpen?: boolean;
  /** Which of the customer's open tickets count: `mentions` (default: the cart's products, the cart or an order) or `any`. */
  readonly supportTicketMatch?: SupportTicketMatch;
  /** Printed in every email (R25); overrides MERCHANT_POSTAL_ADDRESS. */
  readonly postalAddress?: string;
  /** Overrides MERCHANT_NAME. */
  readonly storeName?: string;
  /** Email quiet hours in the customer's (else the shop's) zone; `null` = none. SMS keeps 08:00–21:00. */
  readonly quietHours?: { readonly email: QuietHours | null };
  /** Extra storefront hosts (custom domains) click links may redirect to, besides the shop domain. */
  readonly domainAliases?: readonly string[];
  /**
   * UTM parameters on the shop links of the messages: on by default with `utm_source=reclaim`,
   * `utm_medium` by channel, `utm_campaign` `{sequence}-step-{step}`, `utm_content` `{template}`.
   */
  readonly utm?: UtmOverrides;
  /**
   * Engagement fatigue: `enabled`, `threshold` (ignored messages in a row), `windowDays` (only
   * messages sent within it count), `maxSteps` (a fatigued customer still gets the steps below it),
   * `countOwnSteps` (also count the current recovery's own ignored steps; off by default).
   */
  readonly fatigue?: FatigueOverrides;
  /**
   * Engagement score (RFC 0013): `enabled`, `priorStrength` (weight of the shop's rate, in messages),
   * `minMessages` (below it the fatigue counter decides), `unresponsiveBelow` and `engagedFrom`
   * (estimates between 0 and 1).
   */
  readonly engagementScore?: EngagementScoreOverrides;
  /**
   * Channel choice (RFC 0013): `enabled`, `costs` per channel (`email`, `sms`, `push`, shop currency,
   * over CHANNEL_COST_*), `priorStrength`, `minMessages` (a segment's messages on a channel before
   * its rate counts).
   */
  readonly channelChoice?: ChannelChoiceOverrides;
  /**
   * How e-mail sent through Klaviyo (EMAIL_PROVIDER=klaviyo) reaches the shopper: `html` (default)
   * posts the message Reclaim rendered; `template` posts structured properties (cart lines, code,
   * segment, step, links: docs/klaviyo.md) for the merchant's own Klaviyo flow and template.
   */
  readonly klaviyoMode?: KlaviyoMode;
  /**
   * Send-time optimisation (RFC 0012): `enabled` (the switch), `armPercent` (share of the recoveries
   * in the `on` arm, the rest keep nominal times as the control), `windowHours` (a follow-up moves at
   * most this far from its nominal time), `minDelayHours` (never earlier than this after
   * abandonment), `priorStrength` (pseudo-events of the shop's profile in each customer's).
   */
  readonly sendTime?: SendTimeOverrides;
  /**
   * Out-of-stock alternatives: which of the store's suggestions for a sold-out line may be offered
   * in its place. `maxPriceIncreasePercent`: at most this much dearer per unit than the sold-out
   * line (default 20; 0 = never dearer).
   */
  readonly alternatives?: AlternativesOverrides;
  /**
   * Routing by score (issue 14 item 3): `enabled` (default on; it acts only on recoveries a live
   * model scored), `highProbability` / `lowProbability` (score thresholds, 0–1), `highValue` (cart
   * value for personal attention, a decimal string; default TICKET_THRESHOLD) and `sequences`
   * (`personal`, `short`, `nurture`: ids in the shop's catalogue).
   */
  readonly routing?: RoutingOverrides;
  /**
   * Experiments of step variants (RFC 0016): `enabled` (the learning switch; off, variants are
   * ignored), `adoptThreshold` (probability of being best to adopt, default 0.95),
   * `minSamplesPerVariant` (settled recoveries each running variant needs first, default 100),
   * `maxUnsubscribeRate` / `maxComplaintRate` (guardrail limits per message, defaults 0.02 / 0.003),
   * `guardrailConfidence` (posterior probability of exceeding a limit that stops a variant, 0.95),
   * `guardrailMinMessages` (messages before a guardrail can stop, 50).
   */
  readonly experiments?: ExperimentOverrides;
  /**
   * Discounts only where they pay (RFC 0017): `policy` (`fixed` = the sequence's ladder, default;
   * `learned` = randomised incentive arms and the level of highest expected incremental profit),
   * `marginPercent` (gross margin, values a discount), `explorationPercent` (share of learned
   * choices drawn at random), `priorStrength`, and `codeFarming` (`enabled`, `minCodePurchases`,
   * `windowDays`, `minCodeOrderShare`).
   */
  readonly incentives?: IncentivesOverrides;
  /**
   * Policy control arm (RFC 0021): `percent` (0–100, over POLICY_CONTROL_PERCENT; 0 = off) of the
   * live, non-holdout recoveries drawn at the start to run the fixed rules as a whole, the rest
   * under these settings, so the learning policy is measured against the rules on one log. No arm
   * is drawn while these settings already are the fixed rules.
   */
  readonly policyControl?: PolicyControlOverrides;
}

export interface PolicyControlOverrides {
  readonly percent?: number;
}

function validatePolicyControl(input: unknown, errors: ValidationError[]): void {
  validateObject(
    input,
    'policyControl',
    {
      percent: (v) =>
        typeof v === 'number' && Number.isFinite(v) && v >= 0 && v <= 100
          ? undefined
          : 'must be a number from 0 to 100',
    },
    errors,
  );
}

export interface ExperimentOverrides {
  readonly enabled?: boolean;
  readonly adoptThreshold?: number;
  readonly minSamplesPerVariant?: number;
  readonly maxUnsubscribeRate?: number;
  readonly maxComplaintRate?: number;
  readonly guardrailConfidence?: number;
  readonly guardrailMinMessages?: number;
}

const EXPERIMENT_RANGES: Readonly<Record<Exclude<keyof ExperimentOverrides, 'enabled'>, [number, number, boolean]>> = {
  adoptThreshold: [0.5, 0.9999, false],
  minSamplesPerVariant: [1, 1_000_000, true],
  maxUnsubscribeRate: [0.0001, 0.5, false],
  maxComplaintRate: [0.0001, 0.5, false],
  guardrailConfidence: [0.5, 0.9999, false],
  guardrailMinMessages: [1, 1_000_000, true],
};

function validateExperiments(input: unknown, errors: ValidationError[]): void {
  const keys = ['enabled', ...Object.keys(EXPERIMENT_RANGES)];
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    errors.push({ field: 'experiments', message: `must be { ${keys.map((k) => `${k}?`).join(', ')} }` });
    return;
  }
  const f = input as Record<string, unknown>;
  for (const key of Object.keys(f)) {
    if (!keys.includes(key)) errors.push({ field: `experiments.${key}`, message: 'is not an experiments setting' });
  }
  if (f.enabled !== undefined && typeof f.enabled !== 'boolean') {
    errors.push({ field: 'experiments.enabled', message: 'must be a boolean' });
  }
  for (const [key, [min, max, integer]] of Object.entries(EXPERIMENT_RANGES)) {
    const v = f[key];
    if (v === undefined) continue;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max || (integer && !Number.isInteger(v))) {
      errors.push({
        field: `experiments.${key}`,
        message: `must be ${integer ? 'an integer' : 'a number'} from ${min} to ${max}`,
      });
    }
  }
}

export interface RoutingOverrides {
  readonly enabled?: boolean;
  readonly highProbability?: number;
  readonly lowProbability?: number;
  readonly highValue?: string;
  readonly sequences?: Partial<Record<RoutedSequenceBand, string>>;
}

const SEQUENCE_ID = /^[a-z0-9][a-z0-9-]{0,63}$/;

function validateRouting(input: unknown, errors: ValidationError[]): void {
  const o = validateObject(
    input,
    'routing',
    {
      enabled: isBoolean,
      highProbability: () => undefined,
      lowProbability: () => undefined,
      highValue: () => undefined,
      sequences: (v) => (isRecord(v) ? undefined : 'must be { personal?, short?, nurture? }'),
    },
    errors,
  );
  if (o === undefined) return;
  errors.push(
    ...validateRoutingThresholds({
      highProbability: o.highProbability as number | undefined,
      lowProbability: o.lowProbability as number | undefined,
      highValue: o.highValue as string | undefined,
    }),
  );
  if (isRecord(o.sequences)) {
    const check = (v: unknown) =>
      typeof v === 'string' && SEQUENCE_ID.test(v) ? undefined : 'must be a sequence id of the shop (e.g. nurture)';
    validateObject(o.sequences, 'routing.sequences', { personal: check, short: check, nurture: check }, errors);
  }
}

/**
 * What {@link validateShopSettings} cannot check alone: with one threshold given, the other is the
 * appliance default (ROUTING_*), and low must stay below high.
 */
export function validateEffectiveRouting(base: RecoveryConfig, settings: ShopRecoverySettings): ValidationError[] {
  const r = settings.routing;
  if (r === undefined || (r.highProbability !== undefined && r.lowProbability !== undefined)) return [];
  const { highProbability, lowProbability } = routingOf(base.routing, r);
  if (lowProbability < highProbability) return [];
  return r.highProbability !== undefined
    ? [{ field: 'routing.highProbability', message: `must be above lowProbability (${lowProbability})` }]
    : [{ field: 'routing.lowProbability', message: `must be below highProbability (${highProbability})` }];
}

/**
 * The routing sequences the settings name must be in the shop's catalogue (checked when the
 * settings are saved, and when a new catalogue is stored against the saved settings).
 */
export function validateRoutingSequences(
  settings: ShopRecoverySettings,
  catalogue: SequenceCatalogue,
  /** `sequences`: a new catalogue is being stored (the error names it, not the settings). */
  field: 'routing.sequences' | 'sequences' = 'routing.sequences',
): ValidationError[] {
  const ids = new Set(catalogue.sequences.map((q) => q.id));
  const named = settings.routing?.sequences ?? {};
  return ROUTED_SEQUENCE_BANDS.flatMap((band): ValidationError[] => {
    const id = named[band];
    if (typeof id !== 'string' || ids.has(id)) return [];
    return field === 'sequences'
      ? [
          {
            field,
            message: `must keep '${id}': the shop's routing.sequences.${band} names it (change the routing settings first)`,
          },
        ]
      : [
          {
            field: `${field}.${band}`,
            message: `'${id}' is not in the shop's sequence catalogue (version ${catalogue.version}: ${[...ids].join(', ')})`,
          },
        ];
  });
}

export interface IncentivesOverrides {
  readonly policy?: DiscountPolicy;
  readonly marginPercent?: number;
  readonly explorationPercent?: number;
  readonly priorStrength?: number;
  readonly codeFarming?: Partial<CodeFarmingSettings>;
}

const INCENTIVE_KEYS = ['policy', 'marginPercent', 'explorationPercent', 'priorStrength', 'codeFarming'] as const;
const CODE_FARMING_KEYS = ['enabled', 'minCodePurchases', 'windowDays', 'minCodeOrderShare'] as const;

function validateIncentives(input: unknown, errors: ValidationError[]): void {
  const isObject = (v: unknown): v is Record<string, unknown> =>
    typeof v === 'object' && v !== null && !Array.isArray(v);
  if (!isObject(input)) {
    errors.push({ field: 'incentives', message: `must be { ${INCENTIVE_KEYS.map((k) => `${k}?`).join(', ')} }` });
    return;
  }
  for (const key of Object.keys(input)) {
    if (!(INCENTIVE_KEYS as readonly string[]).includes(key)) {
      errors.push({ field: `incentives.${key}`, message: 'is not an incentives setting' });
    }
  }
  if (input.policy !== undefined && !DISCOUNT_POLICIES.includes(input.policy as DiscountPolicy)) {
    errors.push({ field: 'incentives.policy', message: 'must be fixed or learned' });
  }
  const num = (v: unknown, field: string, ok: (n: number) => boolean, message: string) => {
    if (v !== undefined && (typeof v !== 'number' || !Number.isFinite(v) || !ok(v))) errors.push({ field, message });
  };
  num(
    input.marginPercent,
    'incentives.marginPercent',
    (n) => n > 0 && n <= 100,
    'must be a number above 0 and at most 100',
  );
  num(
    input.explorationPercent,
    'incentives.explorationPercent',
    (n) => n >= 0 && n <= 100,
    'must be a number from 0 to 100',
  );
  num(
    input.priorStrength,
    'incentives.priorStrength',
    (n) => n >= 0 && n <= 10_000,
    'must be a number from 0 to 10000',
  );
  const cf = input.codeFarming;
  if (cf === undefined) return;
  if (!isObject(cf)) {
    errors.push({
      field: 'incentives.codeFarming',
      message: `must be { ${CODE_FARMING_KEYS.map((k) => `${k}?`).join(', ')} }`,
    });
    return;
  }
  for (const key of Object.keys(cf)) {
    if (!(CODE_FARMING_KEYS as readonly string[]).includes(key)) {
      errors.push({ field: `incentives.codeFarming.${key}`, message: 'is not a code-farming setting' });
    }
  }
  if (cf.enabled !== undefined && typeof cf.enabled !== 'boolean') {
    errors.push({ field: 'incentives.codeFarming.enabled', message: 'must be a boolean' });
  }
  num(
    cf.minCodePurchases,
    'incentives.codeFarming.minCodePurchases',
    (n) => Number.isInteger(n) && n >= 1 && n <= 100,
    'must be an integer from 1 to 100',
  );
  num(
    cf.windowDays,
    'incentives.codeFarming.windowDays',
    (n) => n > 0 && n <= 3650,
    'must be a number above 0 and at most 3650',
  );
  num(
    cf.minCodeOrderShare,
    'incentives.codeFarming.minCodeOrderShare',
    (n) => n >= 0 && n <= 1,
    'must be a number from 0 to 1',
  );
}

export interface AlternativesOverrides {
  readonly maxPriceIncreasePercent?: number;
}

function validateAlternatives(input: unknown, errors: ValidationError[]): void {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    errors.push({ field: 'alternatives', message: 'must be { maxPriceIncreasePercent? }' });
    return;
  }
  const a = input as Record<string, unknown>;
  for (const key of Object.keys(a)) {
    if (key !== 'maxPriceIncreasePercent') {
      errors.push({ field: `alternatives.${key}`, message: 'is not an alternatives setting' });
    }
  }
  const v = a.maxPriceIncreasePercent;
  if (v !== undefined && (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > 1000)) {
    errors.push({ field: 'alternatives.maxPriceIncreasePercent', message: 'must be a number from 0 to 1000' });
  }
}

export interface SendTimeOverrides {
  readonly enabled?: boolean;
  readonly armPercent?: number;
  readonly windowHours?: number;
  readonly minDelayHours?: number;
  readonly priorStrength?: number;
}

const SEND_TIME_KEYS = ['enabled', 'armPercent', 'windowHours', 'minDelayHours', 'priorStrength'] as const;

function validateSendTime(input: unknown, errors: ValidationError[]): void {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    errors.push({ field: 'sendTime', message: `must be { ${SEND_TIME_KEYS.map((k) => `${k}?`).join(', ')} }` });
    return;
  }
  const f = input as Record<string, unknown>;
  for (const key of Object.keys(f)) {
    if (!(SEND_TIME_KEYS as readonly string[]).includes(key)) {
      errors.push({ field: `sendTime.${key}`, message: 'is not a send-time setting' });
    }
  }
  if (f.enabled !== undefined && typeof f.enabled !== 'boolean') {
    errors.push({ field: 'sendTime.enabled', message: 'must be a boolean' });
  }
  const range = (key: string, min: number, max: number) => {
    const v = f[key];
    if (v !== undefined && (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max)) {
      errors.push({ field: `sendTime.${key}`, message: `must be a number from ${min} to ${max}` });
    }
  };
  range('armPercent', 0, 100);
  range('windowHours', 0, 24);
  range('minDelayHours', 0, 72);
  range('priorStrength', 0, 1000);
}

export type KlaviyoMode = 'html' | 'template';
export const KLAVIYO_MODES: readonly KlaviyoMode[] = ['html', 'template'];

export interface FatigueOverrides {
  readonly enabled?: boolean;
  readonly threshold?: number;
  readonly windowDays?: number;
  readonly maxSteps?: number;
  readonly countOwnSteps?: boolean;
}

export interface EngagementScoreOverrides {
  readonly enabled?: boolean;
  readonly priorStrength?: number;
  readonly minMessages?: number;
  readonly unresponsiveBelow?: number;
  readonly engagedFrom?: number;
}

export interface ChannelChoiceOverrides {
  readonly enabled?: boolean;
  readonly costs?: { readonly email?: number; readonly sms?: number; readonly push?: number };
  readonly priorStrength?: number;
  readonly minMessages?: number;
}

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Checks a settings object's keys and values: `spec` maps each key to its check (a message when wrong). */
function validateObject(
  input: unknown,
  field: string,
  spec: Readonly<Record<string, (v: unknown) => string | undefined>>,
  errors: ValidationError[],
): Record<string, unknown> | undefined {
  if (!isRecord(input)) {
    errors.push({ field, message: `must be { ${Object.keys(spec).join('?, ')}? }` });
    return undefined;
  }
  for (const [key, value] of Object.entries(input)) {
    const check = spec[key];
    if (check === undefined) errors.push({ field: `${field}.${key}`, message: `is not a ${field} setting` });
    else if (value !== undefined) {
      const message = check(value);
      if (message !== undefined) errors.push({ field: `${field}.${key}`, message });
    }
  }
  return input;
}

const isBoolean = (v: unknown) => (typeof v === 'boolean' ? undefined : 'must be a boolean');
const wholeFrom =
  (min: number, max: number) =>
  (v: unknown): string | undefined =>
    typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max
      ? undefined
      : `must be a whole number from ${min} to ${max}`;
const fraction = (v: unknown) =>
  typeof v === 'number' && Number.isFinite(v) && v > 0 && v < 1 ? undefined : 'must be a number between 0 and 1';
const amount = (v: unknown) =>
  typeof v === 'number' && Number.isFinite(v) && v >= 0 && v <= 1_000_000
    ? undefined
    : 'must be a non-negative amount (shop currency)';

function validateEngagementScore(input: unknown, errors: ValidationError[]): void {
  const o = validateObject(
    input,
    'engagementScore',
    {
      enabled: isBoolean,
      priorStrength: wholeFrom(1, 1000),
      minMessages: wholeFrom(1, 100),
      unresponsiveBelow: fraction,
      engagedFrom: fraction,
    },
    errors,
  );
  if (
    o !== undefined &&
    fraction(o.unresponsiveBelow) === undefined &&
    fraction(o.engagedFrom) === undefined &&
    (o.unresponsiveBelow as number) >= (o.engagedFrom as number)
  ) {
    errors.push({ field: 'engagementScore.engagedFrom', message: 'must be above unresponsiveBelow' });
  }
}

function validateChannelChoice(input: unknown, errors: ValidationError[]): void {
  const o = validateObject(
    input,
    'channelChoice',
    {
      enabled: isBoolean,
      costs: (v) => (isRecord(v) ? undefined : 'must be { email?, sms?, push? }'),
      priorStrength: wholeFrom(1, 1000),
      minMessages: wholeFrom(1, 100_000),
    },
    errors,
  );
  if (o !== undefined && isRecord(o.costs)) {
    validateObject(o.costs, 'channelChoice.costs', { email: amount, sms: amount, push: amount }, errors);
  }
}

function validateFatigue(input: unknown, errors: ValidationError[]): void {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    errors.push({
      field: 'fatigue',
      message: 'must be { enabled?, threshold?, windowDays?, maxSteps?, countOwnSteps? }',
    });
    return;
  }
  const f = input as Record<string, unknown>;
  for (const key of Object.keys(f)) {
    if (!['enabled', 'threshold', 'windowDays', 'maxSteps', 'countOwnSteps'].includes(key)) {
      errors.push({ field: `fatigue.${key}`, message: 'is not a fatigue setting' });
    }
  }
  for (const key of ['enabled', 'countOwnSteps'] as const) {
    if (f[key] !== undefined && typeof f[key] !== 'boolean') {
      errors.push({ field: `fatigue.${key}`, message: 'must be a boolean' });
    }
  }
  const whole = (key: string, min: number, max: number) => {
    const v = f[key];
    if (v !== undefined && (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max)) {
      errors.push({ field: `fatigue.${key}`, message: `must be a whole number from ${min} to ${max}` });
    }
  };
  whole('threshold', 1, 100);
  whole('windowDays', 1, 365);
  whole('maxSteps', 0, 20);
}

const KEYS: readonly (keyof ShopRecoverySettings)[] = [
  'mode',
  'rolloutPercent',
  'holdoutPercent',
  'emailConsentPolicy',
  'pauseWhileTicketOpen',
  'supportTicketMatch',
  'postalAddress',
  'storeName',
  'quietHours',
  'domainAliases',
  'utm',
  'fatigue',
  'engagementScore',
  'channelChoice',
  'klaviyoMode',
  'sendTime',
  'alternatives',
  'routing',
  'experiments',
  'incentives',
  'policyControl',
];
const HHMM = /^([01]\d|2[0-3]):([0-5]\d)$/;
const HOST = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/i;

function percent(value: unknown, field: string, errors: ValidationError[]): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > 100) {
    errors.push({ field, message: 'must be a number from 0 to 100' });
  }
}

function text(value: unknown, field: string, max: number, errors: ValidationError[]): void {
  if (typeof value !== 'string' || value.trim() === '' || value.length > max) {
    errors.push({ field, message: `must be a non-empty string of at most ${max} characters` });
  }
}

/** Validates a full settings document (as PUT replaces it); errors name each bad field. */
export function validateShopSettings(input: unknown): ValidationError[] {
  const errors: ValidationError[] = [];
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    return [{ field: '(body)', message: 'must be a JSON object' }];
  }
  const o = input as Record<string, unknown>;
  for (const key of Object.keys(o)) {
    if (!KEYS.includes(key as keyof ShopRecoverySettings)) errors.push({ field: key, message: 'is not a setting' });
  }
  if (o.mode !== undefined && o.mode !== 'live' && o.mode !== 'shadow') {
    errors.push({ field: 'mode', message: 'must be live or shadow' });
  }
  if (o.rolloutPercent !== undefined) percent(o.rolloutPercent, 'rolloutPercent', errors);
  if (o.holdoutPercent !== undefined) percent(o.holdoutPercent, 'holdoutPercent', errors);
  if (
    o.emailConsentPolicy !== undefined &&
    o.emailConsentPolicy !== 'subscribers-only' &&
    o.emailConsentPolicy !== 'unless-opted-out'
  ) {
    errors.push({ field: 'emailConsentPolicy', message: 'must be subscribers-only or unless-opted-out' });
  }
  if (o.pauseWhileTicketOpen !== undefined && typeof o.pauseWhileTicketOpen !== 'boolean') {
    errors.push({ field: 'pauseWhileTicketOpen', message: 'must be a boolean' });
  }
  if (
    o.supportTicketMatch !== undefined &&
    !SUPPORT_TICKET_MATCHES.includes(o.supportTicketMatch as SupportTicketMatch)
  ) {
    errors.push({ field: 'supportTicketMatch', message: 'must be mentions or any' });
  }
  if (o.postalAddress !== undefined) text(o.postalAddress, 'postalAddress', 500, errors);
  if (o.storeName !== undefined) text(o.storeName, 'storeName', 200, errors);
  if (o.quietHours !== undefined) {
    const q = o.quietHours as Record<string, unknown> | null;
    if (typeof q !== 'object' || q === null || Array.isArray(q) || !('email' in q)) {
      errors.push({ field: 'quietHours', message: 'must be { "email": { "start": "HH:MM", "end": "HH:MM" } | null }' });
    } else {
      for (const key of Object.keys(q)) {
        if (key !== 'email') errors.push({ field: `quietHours.${key}`, message: 'only email quiet hours can be set' });
      }
      const email = q.email as Record<string, unknown> | null;
      if (email !== null) {
        if (typeof email !== 'object' || Array.isArray(email)) {
          errors.push({ field: 'quietHours.email', message: 'must be { start, end } or null' });
        } else {
          for (const part of ['start', 'end'] as const) {
            if (typeof email[part] !== 'string' || !HHMM.test(email[part] as string)) {
              errors.push({ field: `quietHours.email.${part}`, message: 'must be a local time HH:MM' });
            }
          }
          if (errors.length === 0 && email.start === email.end) {
            errors.push({ field: 'quietHours.email.end', message: 'must differ from start' });
          }
        }
      }
    }
  }
  if (o.domainAliases !== undefined) {
    if (!Array.isArray(o.domainAliases) || o.domainAliases.length > 20) {
      errors.push({ field: 'domainAliases', message: 'must be a list of at most 20 host names' });
    } else {
      o.domainAliases.forEach((h, i) => {
        if (typeof h !== 'string' || !HOST.test(h)) {
          errors.push({ field: `domainAliases[${i}]`, message: 'must be a host name such as www.example.com' });
        }
      });
    }
  }
  if (o.utm !== undefined) errors.push(...validateUtmOverrides(o.utm, 'utm'));
  if (o.fatigue !== undefined) validateFatigue(o.fatigue, errors);
  if (o.engagementScore !== undefined) validateEngagementScore(o.engagementScore, errors);
  if (o.channelChoice !== undefined) validateChannelChoice(o.channelChoice, errors);
  if (o.sendTime !== undefined) validateSendTime(o.sendTime, errors);
  if (o.alternatives !== undefined) validateAlternatives(o.alternatives, errors);
  if (o.routing !== undefined) validateRouting(o.routing, errors);
  if (o.experiments !== undefined) validateExperiments(o.experiments, errors);
  if (o.incentives !== undefined) validateIncentives(o.incentives, errors);
  if (o.policyControl !== undefined) validatePolicyControl(o.policyControl, errors);
  if (o.klaviyoMode !== undefined && !KLAVIYO_MODES.includes(o.klaviyoMode as KlaviyoMode)) {
    errors.push({ field: 'klaviyoMode', message: 'must be html or template' });
  }
  return errors;
}

const minutes = (hhmm: string): number => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));

/** The allowed send window of quiet hours `start`–`end`: from `end` to `start`. */
export function sendWindowOf(quiet: QuietHours | null): LocalWindow | null {
  return quiet === null ? null : { fromMinute: minutes(quiet.end), toMinute: minutes(quiet.start) };
}

/** The engine configuration of one shop: the appliance defaults with the shop's settings applied. */
export function shopRecoveryConfig(base: RecoveryConfig, s: ShopRecoverySettings): RecoveryConfig {
  return {
    ...base,
    ...(s.mode !== undefined ? { shadowMode: s.mode === 'shadow' } : {}),
    ...(s.rolloutPercent !== undefined ? { rolloutPercent: s.rolloutPercent } : {}),
    ...(s.holdoutPercent !== undefined ? { holdoutPercent: s.holdoutPercent } : {}),
    ...(s.emailConsentPolicy !== undefined ? { emailConsentPolicy: s.emailConsentPolicy } : {}),
    ...(s.pauseWhileTicketOpen !== undefined ? { pauseWhileTicketOpen: s.pauseWhileTicketOpen } : {}),
    ...(s.supportTicketMatch !== undefined ? { supportTicketMatch: s.supportTicketMatch } : {}),
    ...(s.quietHours !== undefined
      ? { sendWindows: { ...base.sendWindows, email: sendWindowOf(s.quietHours.email) } }
      : {}),
    ...(s.fatigue !== undefined
      ? {
          fatigue: {
            ...base.fatigue,
            ...(s.fatigue.enabled !== undefined ? { enabled: s.fatigue.enabled } : {}),
            ...(s.fatigue.threshold !== undefined ? { threshold: s.fatigue.threshold } : {}),
            ...(s.fatigue.windowDays !== undefined ? { windowMs: s.fatigue.windowDays * DAY_MS } : {}),
            ...(s.fatigue.maxSteps !== undefined ? { maxSteps: s.fatigue.maxSteps } : {}),
            ...(s.fatigue.countOwnSteps !== undefined ? { countOwnSteps: s.fatigue.countOwnSteps } : {}),
          },
        }
      : {}),
    ...(s.engagementScore !== undefined
      ? { engagementScore: { ...base.engagementScore, ...definedOnly(s.engagementScore) } }
      : {}),
    ...(s.channelChoice !== undefined
      ? {
          channelChoice: {
            ...base.channelChoice,
            ...definedOnly({ ...s.channelChoice, costs: undefined }),
            costs: { ...base.channelChoice.costs, ...definedOnly(s.channelChoice.costs ?? {}) },
          },
        }
      : {}),
    ...(s.sendTime !== undefined
      ? {
          sendTime: {
            ...base.sendTime,
            ...(s.sendTime.enabled !== undefined ? { enabled: s.sendTime.enabled } : {}),
            ...(s.sendTime.armPercent !== undefined ? { armPercent: s.sendTime.armPercent } : {}),
            ...(s.sendTime.windowHours !== undefined ? { windowMs: s.sendTime.windowHours * HOUR_MS } : {}),
            ...(s.sendTime.minDelayHours !== undefined ? { minDelayMs: s.sendTime.minDelayHours * HOUR_MS } : {}),
            ...(s.sendTime.priorStrength !== undefined ? { priorStrength: s.sendTime.priorStrength } : {}),
          },
        }
      : {}),
    ...(s.routing !== undefined ? { routing: routingOf(base.routing, s.routing) } : {}),
    ...(s.experiments !== undefined
      ? { experiments: { ...experimentSettingsOf(base), ...definedOnly(s.experiments) } }
      : {}),
    ...(s.incentives !== undefined
      ? {
          incentives: {
            ...base.incentives,
            ...definedOnly({ ...s.incentives, codeFarming: undefined }),
            codeFarming: { ...base.incentives.codeFarming, ...definedOnly(s.incentives.codeFarming ?? {}) },
          },
        }
      : {}),
    ...(s.policyControl?.percent !== undefined
      ? { policyControl: { ...policyControlOf(base), percent: s.policyControl.percent } }
      : {}),
    ...(s.alternatives?.maxPriceIncreasePercent !== undefined
      ? {
          alternatives: {
            ...(base.alternatives ?? DEFAULT_ALTERNATIVE_RULES),
            maxPriceIncreasePercent: s.alternatives.maxPriceIncreasePercent,
          },
        }
      : {}),
  };
}

function routingOf(base: RoutingSettings, r: RoutingOverrides): RoutingSettings {
  return {
    ...base,
    ...definedOnly({ ...r, sequences: undefined }),
    sequences: { ...base.sequences, ...definedOnly(r.sequences ?? {}) },
  };
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** What the messages of a shop print: its name and postal address, and how its links are tagged. */
export interface ShopProfile {
  readonly name?: string;
  readonly postalAddress: string;
  /** UTM parameters on the shop links (the defaults of `utmSettingsOf` when absent). */
  readonly utm?: UtmSettings;
  /** E-mail through Klaviyo: finished HTML (default) or structured properties for the merchant's template. */
  readonly klaviyoMode?: KlaviyoMode;
}

export interface ShopProfiles {
  profile(shopId: string): Promise<ShopProfile>;
}

/** The recovery process manager configured for one shop. */
export interface ShopDeciders {
  forShop(shopId: string): Promise<RecoveryDecider>;
  /** The deciders of several shops with at most one round trip (the engine's batches). */
  forShops?(shopIds: readonly string[]): Promise<Map<string, RecoveryDecider>>;
}

export interface ShopSettingsDefaults {
  readonly storeName?: string;
  readonly postalAddress?: string;
}

/** NOTIFY channel of `engine.shop_settings` changes (a trigger; payload the shop id, `*` for all). */
export const SHOP_SETTINGS_CHANNEL = 'reclaim_shop_settings';

interface SettingsEntry {
  readonly at: number;
  readonly settings: ShopRecoverySettings;
  readonly pm: RecoveryDecider;
  /** The shop's current sequence catalogue (`engine.sequences`, else the defaults). */
  readonly catalogue: SequenceCatalogue;
}

/**
 * `engine.shop_settings` plus the per-shop deciders and profiles derived from it, cached in a
 * bounded LRU (`maxEntries`, default 1,000 shops). While {@link follow} listens, an entry stays until
 * its shop's settings change: the table's trigger NOTIFYs every change, whoever makes it, and the
 * entry is dropped on it (a load that raced with a change is not kept). While nobody listens (not
 * started, or the connection was lost) an entry is trusted for `cacheMs` (default 5 s) only, and
 * the whole cache is dropped when listening starts again. Each entry also holds the shop's current
 * sequence catalogue, loaded with its settings in the same query and announced on the same channel
 * by `engine.sequences`' trigger (the cache of `PostgresSequenceRepository`).
 */
export class PostgresShopSettings implements ShopDeciders, ShopProfiles {
  private readonly cache = new Map<string, SettingsEntry>();
  private readonly cacheMs: number;
  private readonly maxEntries: number;
  /** Bumped on every invalidation: a load started before one is returned but not kept. */
  private epoch = 0;
  private listening = false;
  /** Cache counters (hits, loads = rows asked from the database, invalidations received). */
  readonly stats = { hits: 0, loads: 0, invalidations: 0 };

  constructor(
    private readonly pool: Pool,
    private readonly base: RecoveryConfig,
    private readonly defaults: ShopSettingsDefaults = {},
    options: { cacheMs?: number; maxEntries?: number } = {},
  ) {
    this.cacheMs = options.cacheMs ?? 5_000;
    this.maxEntries = Math.max(1, options.maxEntries ?? 1_000);
  }

  /** Whether change notifications are being received (entries are then kept until invalidated). */
  get isListening(): boolean {
    return this.listening;
  }

  /** Entries cached now (bounded by `maxEntries`). */
  get size(): number {
    return this.cache.size;
  }

  /**
   * Listens for settings changes until `signal` aborts, reconnecting after `retryMs`; the engine
   * role runs it. Resolves once stopped.
   */
  follow(signal: AbortSignal, retryMs = 1_000): Promise<void> {
    return listenForNotifications(
      this.pool,
      [SHOP_SETTINGS_CHANNEL],
      {
        onNotify: (_channel, payload) => this.invalidate(payload || '*'),
        onListening: (listening) => {
          if (listening) this.invalidate('*'); // changes made while nobody listened
          this.listening = listening;
        },
      },
      signal,
      retryMs,
    );
  }

  /** Drops the cached entry of `shopId` (`*`: every entry). */
  invalidate(shopId: string): void {
    this.epoch++;
    this.stats.invalidations++;
    if (shopId === '*') this.cache.clear();
    else this.cache.delete(shopId);
  }

  /** The shop's stored settings (only what was set). */
  async get(shopId: string): Promise<ShopRecoverySettings> {
    return (await this.entry(shopId)).settings;
  }

  /** The settings in effect: stored values over the appliance defaults. */
  async effective(shopId: string): Promise<
    Required<
      Omit<
        ShopRecoverySettings,
        | 'postalAddress'
        | 'storeName'
        | 'utm'
        | 'fatigue'
        | 'engagementScore'
        | 'channelChoice'
        | 'sendTime'
        | 'alternatives'
        | 'routing'
        | 'experiments'
        | 'incentives'
        | 'policyControl'
      >
    > & {
      policyControl: PolicyControlSettings;
      experiments: Omit<ExperimentSettings, 'draws'>;
      routing: RoutingSettings & { modelRequired: string };
      sendTime: Required<SendTimeOverrides>;
      alternatives: Required<AlternativesOverrides>;
      incentives: RecoveryConfig['incentives'];
      utm: UtmSettings;
      engagementScore: RecoveryConfig['engagementScore'];
      channelChoice: RecoveryConfig['channelChoice'];
      fatigue: Required<FatigueOverrides> & { machineOpenWithinSeconds: number };
      postalAddress: string | null;
      storeName: string | null;
    }
  > {
    const s = await this.get(shopId);
    const c = shopRecoveryConfig(this.base, s);
    const email = c.sendWindows.email;
    const hhmm = (m: number) => `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;
    return {
      mode: c.shadowMode ? 'shadow' : 'live',
      rolloutPercent: c.rolloutPercent,
      holdoutPercent: c.holdoutPercent,
      emailConsentPolicy: c.emailConsentPolicy,
      pauseWhileTicketOpen: c.pauseWhileTicketOpen,
      supportTicketMatch: c.supportTicketMatch,
      postalAddress: s.postalAddress ?? this.defaults.postalAddress ?? null,
      storeName: s.storeName ?? this.defaults.storeName ?? null,
      quietHours: { email: email === null ? null : { start: hhmm(email.toMinute), end: hhmm(email.fromMinute) } },
      domainAliases: s.domainAliases ?? [],
      utm: utmSettingsOf(s.utm),
      fatigue: {
        enabled: c.fatigue.enabled,
        threshold: c.fatigue.threshold,
        windowDays: c.fatigue.windowMs / DAY_MS,
        maxSteps: c.fatigue.maxSteps,
        countOwnSteps: c.fatigue.countOwnSteps,
        machineOpenWithinSeconds: c.fatigue.machineOpenWithinMs / 1000,
      },
      engagementScore: c.engagementScore,
      channelChoice: c.channelChoice,
      klaviyoMode: s.klaviyoMode ?? 'html',
      sendTime: {
        enabled: c.sendTime.enabled,
        armPercent: c.sendTime.armPercent,
        windowHours: c.sendTime.windowMs / HOUR_MS,
        minDelayHours: c.sendTime.minDelayMs / HOUR_MS,
        priorStrength: c.sendTime.priorStrength,
      },
      incentives: c.incentives,
      alternatives: {
        maxPriceIncreasePercent: (c.alternatives ?? DEFAULT_ALTERNATIVE_RULES).maxPriceIncreasePercent,
      },
      routing: {
        ...c.routing,
        modelRequired:
          'routing acts only on recoveries scored by a live model; until the shop has one every recovery is recorded as unscored and keeps the catalogue match and the ticket by TICKET_THRESHOLD',
      },
      experiments: (({ draws: _draws, ...rest }) => rest)(experimentSettingsOf(c)),
      policyControl: policyControlOf(c),
    };
  }

  /** Replaces the shop's settings (validate first with {@link validateShopSettings}). */
  async save(shopId: string, settings: ShopRecoverySettings): Promise<void> {
    await this.pool.query(
      `INSERT INTO engine.shop_settings (shop_id, settings, updated_at) VALUES ($1, $2, now())
       ON CONFLICT (shop_id) DO UPDATE SET settings = EXCLUDED.settings, updated_at = now()`,
      [shopId, JSON.stringify(settings)],
    );
    this.invalidate(shopId);
  }

  async forShop(shopId: string): Promise<RecoveryDecider> {
    return (await this.entry(shopId)).pm;
  }

  async forShops(shopIds: readonly string[]): Promise<Map<string, RecoveryDecider>> {
    const entries = await this.entries(shopIds);
    return new Map([...entries].map(([id, e]) => [id, e.pm]));
  }

  /** The current sequence catalogues of several shops (cached with their settings). */
  async catalogues(shopIds: readonly string[]): Promise<Map<string, SequenceCatalogue>> {
    const entries = await this.entries(shopIds);
    return new Map([...entries].map(([id, e]) => [id, e.catalogue]));
  }

  async profile(shopId: string): Promise<ShopProfile> {
    const s = await this.get(shopId);
    const name = s.storeName ?? this.defaults.storeName;
    return {
      ...(name !== undefined ? { name } : {}),
      postalAddress: s.postalAddress ?? this.defaults.postalAddress ?? '',
      utm: utmSettingsOf(s.utm),
      klaviyoMode: s.klaviyoMode ?? 'html',
    };
  }

  private async entry(shopId: string): Promise<SettingsEntry> {
    return (await this.entries([shopId])).get(shopId)!;
  }

  private fresh(shopId: string): SettingsEntry | undefined {
    const cached = this.cache.get(shopId);
    if (cached === undefined) return undefined;
    if (!this.listening && Date.now() - cached.at >= this.cacheMs) {
      this.cache.delete(shopId);
      return undefined;
    }
    this.cache.delete(shopId); // most recently used last
    this.cache.set(shopId, cached);
    this.stats.hits++;
    return cached;
  }

  /** Cached entries, the missing ones loaded with one query. */
  private async entries(shopIds: readonly string[]): Promise<Map<string, SettingsEntry>> {
    const out = new Map<string, SettingsEntry>();
    const missing: string[] = [];
    for (const id of new Set(shopIds)) {
      const hit = this.fresh(id);
      if (hit) out.set(id, hit);
      else missing.push(id);
    }
    if (missing.length === 0) return out;
    const epoch = this.epoch;
    const { rows } = await this.pool.query<{
      shop_id: string;
      settings: ShopRecoverySettings | null;
      version: number | null;
      definition: SequenceCatalogue | null;
    }>(
      `SELECT w.shop_id, s.settings, q.version, q.definition
         FROM unnest($1::text[]) AS w(shop_id)
         LEFT JOIN engine.shop_settings s ON s.shop_id = w.shop_id
         LEFT JOIN LATERAL (
           SELECT version, definition FROM engine.sequences
            WHERE shop_id = w.shop_id ORDER BY version DESC LIMIT 1) q ON true`,
      [missing],
    );
    this.stats.loads += missing.length;
    const stored = new Map(rows.map((r) => [r.shop_id, r]));
    const keep = epoch === this.epoch;
    for (const id of missing) {
      const row = stored.get(id);
      const settings = row?.settings ?? {};
      const catalogue =
        row?.definition != null && row.version !== null
          ? { ...row.definition, version: row.version }
          : defaultSequences(this.base);
      const entry = {
        at: Date.now(),
        settings,
        pm: createRecoveryDecider(shopRecoveryConfig(this.base, settings)),
        catalogue,
      };
      out.set(id, entry);
      if (!keep) continue;
      this.cache.set(id, entry);
      while (this.cache.size > this.maxEntries) this.cache.delete(this.cache.keys().next().value as string);
    }
    return out;
  }
}

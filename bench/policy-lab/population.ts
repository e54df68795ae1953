/**
 * A shopper population for the policy lab: the true behaviour of a store's abandoners, written as
 * JSON (docs/policy-lab.md), checked on load against a JSON Schema (ajv) and a few rules a schema
 * cannot say (shares that sum to 1, a week of hours that is not all zero, valid IANA zones). Every
 * error names its field (`segments[1].response.email.click`).
 */
import Ajv from 'ajv';
import { readFileSync } from 'node:fs';
import { isValidTimeZone } from '@reclaim/domain';

export type LabChannel = 'email' | 'sms';

export interface ChannelResponse {
  /** Email only: probability that a message is opened by a person (a click implies an open). */
  readonly open?: number;
  /** Probability that a message is clicked, at an hour of average activity (weight 1) and no earlier message. */
  readonly click: number;
  /** Probability of buying after a click without a discount. */
  readonly purchaseAfterClick: number;
}

export interface SegmentSpec {
  readonly name: string;
  /** Share of the shoppers in this segment (all segments sum to 1). */
  readonly share: number;
  readonly customer: {
    /** Share of returning customers (the rest are new). */
    readonly returningShare: number;
    /** Mean number of past orders of a returning customer (Poisson, at least 1). */
    readonly pastOrdersMean: number;
    /** Share of carts from a mobile device (the rest desktop). */
    readonly mobileShare: number;
  };
  /** Cart value, log-normal: median and σ of the log, clamped to [min, max]. */
  readonly cartValue: { readonly median: number; readonly sigma: number; readonly min: number; readonly max: number };
  /** Time zones of the shoppers with their shares (sum to 1). */
  readonly timeZones: readonly { readonly zone: string; readonly share: number }[];
  /**
   * 24 non-negative weights by local hour: when carts are abandoned and past orders were placed, and
   * the multiplier of the click probability of a message arriving at that hour (normalised to mean 1).
   */
  readonly activeHours: readonly number[];
  /** Share of shoppers with an email address / a valid mobile number on the checkout. */
  readonly contact: { readonly email: number; readonly sms: number };
  /** Share of those who subscribed to marketing on that channel. */
  readonly consent: { readonly email: number; readonly sms: number };
  /** Probability of buying the cart without any message within the recovery window; time to purchase exponential (mean hours), truncated to the window. */
  readonly organic: { readonly probability: number; readonly meanHours: number };
  readonly response: { readonly email: ChannelResponse; readonly sms: ChannelResponse };
  readonly discount: {
    /** Relative increase of the purchase probability after a click per 10 points of discount (0.5: 10 % off → ×1.5). */
    readonly elasticity: number;
    /** Probability that a shopper who would have bought anyway uses a code they received. */
    readonly organicCodeUse: number;
  };
  /** Each earlier message of the same recovery multiplies the click probability by (1 − fatigue). */
  readonly fatigue: number;
  /** Probability that a message leads to an unsubscribe on its channel, × (1 + growth × earlier messages). */
  readonly unsubscribe: { readonly email: number; readonly sms: number; readonly growth: number };
}

export interface Population {
  readonly name: string;
  readonly description: string;
  readonly currency: string;
  /** The shop's IANA zone (the appliance's fallback zone). */
  readonly shopTimeZone: string;
  readonly segments: readonly SegmentSpec[];
}

export class PopulationError extends Error {
  constructor(
    readonly source: string,
    readonly errors: readonly { readonly field: string; readonly message: string }[],
  ) {
    super(`${source}: invalid population\n${errors.map((e) => `  ${e.field}: ${e.message}`).join('\n')}`);
    this.name = 'PopulationError';
  }
}

const probability = { type: 'number', minimum: 0, maximum: 1 } as const;
const channelResponse = (withOpen: boolean) =>
  ({
    type: 'object',
    additionalProperties: false,
    required: ['click', 'purchaseAfterClick'],
    properties: {
      ...(withOpen ? { open: probability } : {}),
      click: probability,
      purchaseAfterClick: probability,
    },
  }) as const;

/** The JSON Schema of a population file (also in docs/policy-lab.md, in words). */
export const POPULATION_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'description', 'currency', 'shopTimeZone', 'segments'],
  properties: {
    $schema: { type: 'string' },
    name: { type: 'string', minLength: 1, maxLength: 100 },
    description: { type: 'string' },
    currency: { type: 'string', pattern: '^[A-Z]{3}$' },
    shopTimeZone: { type: 'string', minLength: 1 },
    segments: {
      type: 'array',
      minItems: 1,
      maxItems: 50,
      items: {
        type: 'object',
        additionalProperties: false,
        required: [
          'name',
          'share',
          'customer',
          'cartValue',
          'timeZones',
          'activeHours',
          'contact',
          'consent',
          'organic',
          'response',
          'discount',
          'fatigue',
          'unsubscribe',
        ],
        properties: {
          name: { type: 'string', minLength: 1, maxLength: 100 },
          share: probability,
          customer: {
            type: 'object',
            additionalProperties: false,
            required: ['returningShare', 'pastOrdersMean', 'mobileShare'],
            properties: {
              returningShare: probability,
              pastOrdersMean: { type: 'number', minimum: 0, maximum: 1000 },
              mobileShare: probability,
            },
          },
          cartValue: {
            type: 'object',
            additionalProperties: false,
            required: ['median', 'sigma', 'min', 'max'],
            properties: {
              median: { type: 'number', exclusiveMinimum: 0 },
              sigma: { type: 'number', minimum: 0, maximum: 5 },
              min: { type: 'number', exclusiveMinimum: 0 },
              max: { type: 'number', exclusiveMinimum: 0 },
            },
          },
          timeZones: {
            type: 'array',
            minItems: 1,
            items: {
              type: 'object',
              additionalProperties: false,
              required: ['zone', 'share'],
              properties: { zone: { type: 'string', minLength: 1 }, share: probability },
            },
          },
          activeHours: { type: 'array', minItems: 24, maxItems: 24, items: { type: 'number', minimum: 0 } },
          contact: {
            type: 'object',
            additionalProperties: false,
            required: ['email', 'sms'],
            properties: { email: probability, sms: probability },
          },
          consent: {
            type: 'object',
            additionalProperties: false,
            required: ['email', 'sms'],
            properties: { email: probability, sms: probability },
          },
          organic: {
            type: 'object',
            additionalProperties: false,
            required: ['probability', 'meanHours'],
            properties: { probability, meanHours: { type: 'number', exclusiveMinimum: 0, maximum: 10_000 } },
          },
          response: {
            type: 'object',
            additionalProperties: false,
            required: ['email', 'sms'],
            properties: { email: channelResponse(true), sms: channelResponse(false) },
          },
          discount: {
            type: 'object',
            additionalProperties: false,
            required: ['elasticity', 'organicCodeUse'],
            properties: { elasticity: { type: 'number', minimum: 0, maximum: 20 }, organicCodeUse: probability },
          },
          fatigue: probability,
          unsubscribe: {
            type: 'object',
            additionalProperties: false,
            required: ['email', 'sms', 'growth'],
            properties: { email: probability, sms: probability, growth: { type: 'number', minimum: 0, maximum: 100 } },
          },
        },
      },
    },
  },
} as const;

const ajv = new Ajv({ allErrors: true });
const validateSchema = ajv.compile(POPULATION_SCHEMA);

/** `/segments/0/response/email` → `segments[0].response.email`. */
function fieldOf(instancePath: string, missing?: string): string {
  const parts = instancePath.split('/').filter((p) => p !== '');
  if (missing !== undefined) parts.push(missing);
  let out = '';
  for (const p of parts) out += /^\d+$/.test(p) ? `[${p}]` : out === '' ? p : `.${p}`;
  return out === '' ? '(file)' : out;
}

const SHARE_TOLERANCE = 1e-6;

/** Checks a parsed population; throws a {@link PopulationError} listing every problem by field. */
export function validatePopulation(input: unknown, source = 'population'): Population {
  if (!validateSchema(input)) {
    const errors = (validateSchema.errors ?? []).map((e) => {
      const params = e.params as { missingProperty?: string; additionalProperty?: string };
      if (params.missingProperty !== undefined) {
        return { field: fieldOf(e.instancePath, params.missingProperty), message: 'is required' };
      }
      if (params.additionalProperty !== undefined) {
        return { field: fieldOf(e.instancePath, params.additionalProperty), message: 'is not a population field' };
      }
      return { field: fieldOf(e.instancePath), message: e.message ?? 'is invalid' };
    });
    throw new PopulationError(source, errors);
  }
  const p = input as unknown as Population;
  const errors: { field: string; message: string }[] = [];
  if (!isValidTimeZone(p.shopTimeZone)) errors.push({ field: 'shopTimeZone', message: 'must be an IANA time zone' });
  const total = p.segments.reduce((s, x) => s + x.share, 0);
  if (Math.abs(total - 1) > SHARE_TOLERANCE) {
    errors.push({ field: 'segments', message: `shares must sum to 1 (they sum to ${total})` });
  }
  const names = new Set<string>();
  p.segments.forEach((s, i) => {
    const at = (f: string) => `segments[${i}].${f}`;
    if (names.has(s.name)) errors.push({ field: at('name'), message: `duplicate segment '${s.name}'` });
    names.add(s.name);
    const zones = s.timeZones.reduce((sum, z) => sum + z.share, 0);
    if (Math.abs(zones - 1) > SHARE_TOLERANCE) {
      errors.push({ field: at('timeZones'), message: `shares must sum to 1 (they sum to ${zones})` });
    }
    s.timeZones.forEach((z, j) => {
      if (!isValidTimeZone(z.zone))
        errors.push({ field: at(`timeZones[${j}].zone`), message: 'must be an IANA time zone' });
    });
    if (!s.activeHours.some((w) => w > 0)) {
      errors.push({ field: at('activeHours'), message: 'must have at least one hour with a positive weight' });
    }
    if (s.cartValue.min > s.cartValue.max)
      errors.push({ field: at('cartValue.min'), message: 'must be ≤ cartValue.max' });
    for (const c of ['email', 'sms'] as const) {
      const r = s.response[c];
      if (r.open !== undefined && r.click > r.open) {
        errors.push({
          field: at(`response.${c}.click`),
          message: `must be ≤ response.${c}.open (a click implies an open)`,
        });
      }
    }
  });
  if (errors.length > 0) throw new PopulationError(source, errors);
  return p;
}

/** Reads and checks a population file. */
export function loadPopulation(path: string): Population {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new PopulationError(path, [{ field: '(file)', message: `cannot be read: ${(e as Error).message}` }]);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new PopulationError(path, [{ field: '(file)', message: `is not JSON: ${(e as Error).message}` }]);
  }
  return validatePopulation(parsed, path);
}

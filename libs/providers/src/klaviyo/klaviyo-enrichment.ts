/**
 * Klaviyo enrichment: what the merchant's Klaviyo account knows about a shopper, read in one short
 * attempt when a recovery starts (Get Profiles with `additional-fields[profile]=subscriptions,
 * predictive_analytics`, then Get Segments and Get Lists for Profile). The answer is recorded by the
 * engine as `recovery.enriched`; nothing here is ever asked again by a replay.
 *
 * Amounts come as JSON numbers and are kept as decimal strings (never floats in events); names of
 * the merchant's segments and lists are kept, addresses and names of the shopper are not.
 */
import type { NamedGroup, PredictiveFacts, ProfileEnrichment } from '@reclaim/domain';
import { PermanentProviderError, RetryableProviderError, type ProfileEnricher } from '@reclaim/ports';
import { isRecord, jsonOf } from '../common';
import { filterString, type KlaviyoApi } from './klaviyo';

/** Enrichment waits at most this long by default (the recovery goes on without it). */
export const KLAVIYO_ENRICHMENT_TIMEOUT_MS = 2_000;

const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
/** A non-negative amount as a decimal string with at most 2 decimals (Klaviyo answers floats). */
const amount = (v: unknown): string | undefined => {
  const n = num(v);
  return n !== undefined && n >= 0 && n < 1e15 ? n.toFixed(2) : undefined;
};
const isoDate = (v: unknown): string | undefined =>
  typeof v === 'string' && !Number.isNaN(Date.parse(v)) ? new Date(v).toISOString() : undefined;

/** `attributes.predictive_analytics` of a profile, or `undefined` when the account has none. */
export function predictiveFactsOf(pa: unknown): PredictiveFacts | undefined {
  if (!isRecord(pa)) return undefined;
  const churn = num(pa.churn_probability);
  const facts: PredictiveFacts = {
    ...(amount(pa.historic_clv) !== undefined ? { historicClv: amount(pa.historic_clv) } : {}),
    ...(amount(pa.predicted_clv) !== undefined ? { predictedClv: amount(pa.predicted_clv) } : {}),
    ...(num(pa.historic_number_of_orders) !== undefined ? { historicOrders: num(pa.historic_number_of_orders) } : {}),
    ...(amount(pa.average_order_value) !== undefined ? { averageOrderValue: amount(pa.average_order_value) } : {}),
    ...(churn !== undefined && churn >= 0 && churn <= 1 ? { churnProbability: churn } : {}),
    ...(isoDate(pa.expected_date_of_next_order) !== undefined
      ? { expectedDateOfNextOrder: isoDate(pa.expected_date_of_next_order) }
      : {}),
  };
  return Object.keys(facts).length > 0 ? facts : undefined;
}

function groupsOf(body: unknown): NamedGroup[] {
  if (!isRecord(body) || !Array.isArray(body.data)) {
    throw new PermanentProviderError('klaviyo profile groups: unexpected response', 'bad-response');
  }
  return body.data.flatMap((g: unknown) =>
    isRecord(g) && typeof g.id === 'string'
      ? [{ id: g.id, name: isRecord(g.attributes) && typeof g.attributes.name === 'string' ? g.attributes.name : '' }]
      : [],
  );
}

const consentOf = (sub: unknown): string | undefined =>
  isRecord(sub) && isRecord(sub.marketing) && typeof sub.marketing.consent === 'string'
    ? sub.marketing.consent
    : undefined;

export class KlaviyoEnrichment implements ProfileEnricher {
  readonly source = 'klaviyo' as const;

  /** `api` should be a client of its own with a short timeout and one attempt (see {@link klaviyoEnrichmentApi}). */
  constructor(
    private readonly api: KlaviyoApi,
    private readonly options: { readonly timeoutMs?: number } = {},
  ) {}

  enrich(email: string): Promise<ProfileEnrichment> {
    const timeoutMs = this.options.timeoutMs ?? KLAVIYO_ENRICHMENT_TIMEOUT_MS;
    let timer: NodeJS.Timeout | undefined;
    // The whole read (rate-limiter waits included) is bounded, not only each request.
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new RetryableProviderError('klaviyo enrichment: timed out', undefined, 'timeout')),
        timeoutMs,
      );
    });
    return Promise.race([this.read(email), deadline]).finally(() => clearTimeout(timer));
  }

  private async read(email: string): Promise<ProfileEnrichment> {
    const res = await this.api.http.request({
      method: 'GET',
      path: '/api/profiles',
      query: {
        filter: `equals(email,${filterString(email)})`,
        'additional-fields[profile]': 'subscriptions,predictive_analytics',
        'page[size]': '1',
      },
      operation: 'profiles.get',
      idempotent: true,
      limiter: this.api.profilesLimiter,
    });
    const body = jsonOf(res);
    if (!isRecord(body) || !Array.isArray(body.data)) {
      throw new PermanentProviderError('klaviyo profiles.get: unexpected response', 'bad-response');
    }
    const profile: unknown = body.data[0];
    if (!isRecord(profile) || typeof profile.id !== 'string' || !isRecord(profile.attributes)) {
      return { source: 'klaviyo', profileFound: false, segments: [], lists: [], consent: {} };
    }
    const a = profile.attributes;
    const id = encodeURIComponent(profile.id);
    const groups = (kind: 'segments' | 'lists') =>
      this.api.http
        .request({
          method: 'GET',
          path: `/api/profiles/${id}/${kind}`,
          query: { [`fields[${kind === 'segments' ? 'segment' : 'list'}]`]: 'name' },
          operation: `profiles.${kind}`,
          idempotent: true,
          limiter: this.api.groupsLimiter,
        })
        .then((r) => groupsOf(jsonOf(r)));
    const [segments, lists] = await Promise.all([groups('segments'), groups('lists')]);
    const subs = isRecord(a.subscriptions) ? a.subscriptions : {};
    const predictive = predictiveFactsOf(a.predictive_analytics);
    const email_ = consentOf(subs.email);
    const sms = consentOf(subs.sms);
    const lastEventAt = isoDate(a.last_event_date);
    return {
      source: 'klaviyo',
      profileFound: true,
      ...(predictive !== undefined ? { predictive } : {}),
      segments,
      lists,
      consent: { ...(email_ !== undefined ? { email: email_ } : {}), ...(sms !== undefined ? { sms } : {}) },
      ...(lastEventAt !== undefined ? { lastEventAt } : {}),
    };
  }
}

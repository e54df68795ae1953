/**
 * Klaviyo (revision-dated JSON:API, `Authorization: Klaviyo-API-Key …`, `revision` header).
 *
 * - {@link KlaviyoFlowChannel}: a `ChannelPort` variant "klaviyo-flow". It does not send mail itself:
 *   it creates an event (`POST /api/events/`) with `unique_id` = our idempotency key, and the
 *   merchant's Klaviyo flow triggered by that metric sends the message. Klaviyo records only the
 *   first event per (profile, metric, unique_id), so a retry is safe. Klaviyo cannot be asked for an
 *   event by `unique_id`, so `lookup` answers `not-sent`: resending is deduplicated by Klaviyo.
 * - {@link KlaviyoProfiles}: a {@link ProfilePort} (lookup by email for enrichment, consent read,
 *   upsert of Reclaim's segment and recovery context as profile properties).
 *
 * Errors: the JSON:API `errors[0].code` ("invalid", "not_authenticated", "throttled"…) becomes the
 * typed error's code; `detail` is never used (it can echo an address).
 */
import type {
  ChannelLookupResult,
  ChannelMessage,
  ChannelPort,
  RecoveryProfileContext,
  RecoveryProfileSync,
} from '@reclaim/ports';
import { PermanentProviderError } from '@reclaim/ports';
import {
  isRecord,
  jsonOf,
  optionalEnv,
  PROVIDER_LIMITS,
  ProviderHttpClient,
  type ProviderErrorDetail,
  type ProviderLog,
  type ProviderResponse,
  RateLimiter,
  requireEnv,
  type RateLimitWait,
  type RetryPolicy,
  type Sleep,
} from '../common';

export const KLAVIYO_DEFAULT_URL = 'https://a.klaviyo.com';
/** The revision the adapter and its stand-in are written against (klaviyo/openapi stable). */
export const KLAVIYO_REVISION = '2026-07-15';
export const KLAVIYO_DEFAULT_METRIC = 'Reclaim Cart Recovery';
export const JSON_API = 'application/vnd.api+json';

export interface KlaviyoConfig {
  readonly apiKey: string;
  readonly apiUrl?: string;
  readonly revision?: string;
  /** Metric name of the events that trigger the merchant's flow. */
  readonly metricName?: string;
  readonly timeoutMs?: number;
}

export interface KlaviyoDeps {
  readonly log?: ProviderLog;
  readonly sleep?: Sleep;
  readonly now?: () => number;
  readonly random?: () => number;
  readonly retry?: Partial<RetryPolicy>;
  readonly onRateLimitWait?: (wait: RateLimitWait) => void;
}

/** `KLAVIYO_API_KEY` (required), `KLAVIYO_API_URL`, `KLAVIYO_REVISION`, `KLAVIYO_METRIC`; `undefined` without a key. */
export function klaviyoConfigFromEnv(env: Readonly<Record<string, string | undefined>>): KlaviyoConfig | undefined {
  if (optionalEnv(env, 'KLAVIYO_API_KEY') === undefined) return undefined;
  return {
    apiKey: requireEnv(env, 'KLAVIYO_API_KEY'),
    apiUrl: optionalEnv(env, 'KLAVIYO_API_URL'),
    revision: optionalEnv(env, 'KLAVIYO_REVISION'),
    metricName: optionalEnv(env, 'KLAVIYO_METRIC'),
  };
}

export function describeKlaviyoError(res: ProviderResponse): ProviderErrorDetail {
  const body = jsonOf(res);
  if (!isRecord(body) || !Array.isArray(body.errors)) return {};
  const first: unknown = body.errors[0];
  if (!isRecord(first) || typeof first.code !== 'string') return {};
  return { code: first.code.replace(/[^a-z0-9_.-]/gi, '').slice(0, 64) };
}

/** The shared HTTP plumbing: one client, two limiters (events and profiles have different limits). */
export class KlaviyoApi {
  readonly http: ProviderHttpClient;
  readonly eventsLimiter: RateLimiter;
  readonly profilesLimiter: RateLimiter;
  /** Segments and lists of a profile (much lower limits than the profiles themselves). */
  readonly groupsLimiter: RateLimiter;
  /** Get Events / Get Event (engagement polling). */
  readonly eventsReadLimiter: RateLimiter;
  /** Get Metrics. */
  readonly metricsLimiter: RateLimiter;
  readonly metricName: string;

  constructor(config: KlaviyoConfig, deps: KlaviyoDeps = {}) {
    const limiterOptions = { now: deps.now, sleep: deps.sleep, onWait: deps.onRateLimitWait };
    this.eventsLimiter = new RateLimiter('klaviyo.events', PROVIDER_LIMITS.klaviyoEvents, limiterOptions);
    this.profilesLimiter = new RateLimiter('klaviyo.profiles', PROVIDER_LIMITS.klaviyoProfiles, limiterOptions);
    this.groupsLimiter = new RateLimiter(
      'klaviyo.profile-groups',
      PROVIDER_LIMITS.klaviyoProfileGroups,
      limiterOptions,
    );
    this.eventsReadLimiter = new RateLimiter('klaviyo.events-read', PROVIDER_LIMITS.klaviyoEventsRead, limiterOptions);
    this.metricsLimiter = new RateLimiter('klaviyo.metrics', PROVIDER_LIMITS.klaviyoMetrics, limiterOptions);
    this.metricName = config.metricName ?? KLAVIYO_DEFAULT_METRIC;
    this.http = new ProviderHttpClient({
      provider: 'klaviyo',
      baseUrl: config.apiUrl ?? KLAVIYO_DEFAULT_URL,
      timeoutMs: config.timeoutMs,
      retry: deps.retry,
      sleep: deps.sleep,
      now: deps.now,
      random: deps.random,
      log: deps.log,
      headers: {
        authorization: `Klaviyo-API-Key ${config.apiKey}`,
        revision: config.revision ?? KLAVIYO_REVISION,
        accept: JSON_API,
      },
      describeError: describeKlaviyoError,
    });
  }

  close(): Promise<void> {
    return this.http.close();
  }
}

/** First https URL of a `List-Unsubscribe` header, for the flow template. */
function unsubscribeUrl(headers: Readonly<Record<string, string>> | undefined): string | undefined {
  const entry = Object.entries(headers ?? {}).find(([k]) => k.toLowerCase() === 'list-unsubscribe');
  return entry?.[1].match(/<(https:[^>]+)>/)?.[1];
}

export class KlaviyoFlowChannel implements ChannelPort {
  constructor(
    private readonly api: KlaviyoApi,
    private readonly now: () => number = Date.now,
  ) {}

  async send(message: ChannelMessage): Promise<{ readonly messageId: string }> {
    const identifier = message.channel === 'sms' ? { phone_number: message.to } : { email: message.to };
    const unsubscribe = unsubscribeUrl(message.headers);
    const body = {
      data: {
        type: 'event',
        attributes: {
          properties: {
            reclaim_idempotency_key: message.idempotencyKey,
            reclaim_channel: message.channel,
            ...(message.context
              ? {
                  reclaim_shop_id: message.context.shopId,
                  reclaim_recovery_id: message.context.recoveryId,
                  reclaim_step: message.context.step,
                }
              : {}),
            ...(message.subject !== undefined ? { subject: message.subject } : {}),
            ...(message.templateProperties !== undefined
              ? // Template mode: the merchant's own template renders these (docs/klaviyo.md), no finished HTML.
                { reclaim_mode: 'template', ...message.templateProperties }
              : {
                  reclaim_mode: 'html',
                  ...(message.text !== undefined ? { text: message.text } : {}),
                  ...(message.body !== undefined ? { sms_body: message.body } : {}),
                  ...(unsubscribe !== undefined ? { unsubscribe_url: unsubscribe } : {}),
                  // Not segmentable: only for the flow's template.
                  ...(message.html !== undefined ? { $extra: { html: message.html } } : {}),
                }),
          },
          time: new Date(Math.floor(this.now() / 1000) * 1000).toISOString(),
          unique_id: message.idempotencyKey,
          metric: { data: { type: 'metric', attributes: { name: this.api.metricName } } },
          profile: { data: { type: 'profile', attributes: identifier } },
        },
      },
    };
    await this.api.http.request({
      method: 'POST',
      path: '/api/events/',
      headers: { 'content-type': JSON_API },
      body: JSON.stringify(body),
      operation: 'events.create',
      idempotent: true,
      limiter: this.api.eventsLimiter,
    });
    return { messageId: `klaviyo-event:${message.idempotencyKey}` };
  }

  /** Klaviyo cannot find an event by `unique_id`; a resend is deduplicated by Klaviyo, so `not-sent` is safe. */
  async lookup(_idempotencyKey: string): Promise<ChannelLookupResult> {
    return { status: 'not-sent' };
  }
}

// ---------------------------------------------------------------- profiles

export interface ChannelConsent {
  /** Klaviyo's consent status: SUBSCRIBED, UNSUBSCRIBED, NEVER_SUBSCRIBED… */
  readonly consent: string;
  readonly canReceive: boolean;
  readonly timestamp?: string;
  readonly method?: string;
}

export interface ProviderProfile {
  readonly id: string;
  readonly properties: Readonly<Record<string, unknown>>;
  readonly consent: { readonly email?: ChannelConsent; readonly sms?: ChannelConsent };
}

export type ProfilePropertyValue = string | number | boolean | null;

/** A marketing platform's customer profile: enrichment, consent, and Reclaim's context written back. */
export interface ProfilePort {
  lookup(email: string): Promise<ProviderProfile | null>;
  upsert(
    email: string,
    properties: Readonly<Record<string, ProfilePropertyValue>>,
  ): Promise<{ readonly profileId: string }>;
}

/** Reclaim's segment and recovery context as profile properties (`reclaim_*`), usable in Klaviyo segments. */
export function recoveryProfileProperties(context: {
  readonly segments: readonly string[];
  readonly recoveryId?: string;
  readonly recoveryStatus?: string;
  readonly step?: number;
  readonly cartValue?: string;
  readonly currency?: string;
  readonly at: Date;
}): Record<string, ProfilePropertyValue> {
  return {
    reclaim_segment: context.segments[0] ?? null,
    reclaim_segments: context.segments.join(','),
    reclaim_recovery_id: context.recoveryId ?? null,
    reclaim_recovery_status: context.recoveryStatus ?? null,
    reclaim_recovery_step: context.step ?? null,
    // Decimal string kept as a string: never a float.
    reclaim_cart_value: context.cartValue ?? null,
    reclaim_cart_currency: context.currency ?? null,
    reclaim_updated_at: context.at.toISOString(),
  };
}

function consentOf(channel: unknown, flag: string): ChannelConsent | undefined {
  if (!isRecord(channel) || !isRecord(channel.marketing)) return undefined;
  const m = channel.marketing;
  return {
    consent: typeof m.consent === 'string' ? m.consent : 'UNKNOWN',
    canReceive: m[flag] === true,
    ...(typeof m.consent_timestamp === 'string' ? { timestamp: m.consent_timestamp } : {}),
    ...(typeof m.method === 'string' ? { method: m.method } : {}),
  };
}

function profileOf(resource: unknown): ProviderProfile | null {
  if (!isRecord(resource) || typeof resource.id !== 'string' || !isRecord(resource.attributes)) return null;
  const a = resource.attributes;
  const subs = isRecord(a.subscriptions) ? a.subscriptions : {};
  return {
    id: resource.id,
    properties: isRecord(a.properties) ? a.properties : {},
    consent: {
      email: consentOf(subs.email, 'can_receive_email_marketing'),
      sms: consentOf(subs.sms, 'can_receive_sms_marketing'),
    },
  };
}

/** A filter string value: Klaviyo filters quote strings with double quotes. */
export function filterString(value: string): string {
  if (/["\\\r\n]/.test(value))
    throw new PermanentProviderError('klaviyo: unsupported character in filter value', 'bad-filter');
  return `"${value}"`;
}

export class KlaviyoProfiles implements ProfilePort, RecoveryProfileSync {
  constructor(private readonly api: KlaviyoApi) {}

  async lookup(email: string): Promise<ProviderProfile | null> {
    const res = await this.api.http.request({
      method: 'GET',
      path: '/api/profiles',
      query: {
        filter: `equals(email,${filterString(email)})`,
        'additional-fields[profile]': 'subscriptions',
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
    return body.data.length === 0 ? null : profileOf(body.data[0]);
  }

  /** Consent per channel, `null` when Klaviyo has no profile for the address. */
  async consent(email: string): Promise<ProviderProfile['consent'] | null> {
    return (await this.lookup(email))?.consent ?? null;
  }

  async upsert(
    email: string,
    properties: Readonly<Record<string, ProfilePropertyValue>>,
  ): Promise<{ readonly profileId: string }> {
    const res = await this.api.http.request({
      method: 'POST',
      path: '/api/profile-import',
      headers: { 'content-type': JSON_API },
      body: JSON.stringify({ data: { type: 'profile', attributes: { email, properties } } }),
      operation: 'profiles.upsert',
      // Create-or-update by email: repeating it converges to the same profile.
      idempotent: true,
      limiter: this.api.profilesLimiter,
    });
    const body = jsonOf(res);
    const profile = isRecord(body) ? profileOf(body.data) : null;
    if (profile === null)
      throw new PermanentProviderError('klaviyo profiles.upsert: unexpected response', 'bad-response');
    return { profileId: profile.id };
  }

  /** The engine's profile sync: Reclaim's segment and recovery context as `reclaim_*` properties. */
  async push(email: string, context: RecoveryProfileContext): Promise<void> {
    await this.upsert(email, recoveryProfileProperties(context));
  }
}

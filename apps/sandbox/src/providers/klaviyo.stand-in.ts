/**
 * Klaviyo stand-in (revision-dated JSON:API): `Authorization: Klaviyo-API-Key <key>` and a
 * `revision` header required (400 without); Create Event (`POST /api/events/`, 202, deduplicated by
 * (profile, metric, unique_id) as Klaviyo does), Get Profiles (`filter=equals(email,"…")`,
 * `additional-fields[profile]=subscriptions,predictive_analytics`), Get Segments / Lists for Profile,
 * Create or Update Profile (`POST /api/profile-import`, 201 created / 200 updated), Get Metrics,
 * Get Events (`filter`, `sort`, `page[size]`, `page[cursor]`) and Get Event; a flow's opens, clicks
 * and bounces of a Reclaim event are reported with {@link KlaviyoStandIn.engage}. Klaviyo's rate
 * limits per route ({@link KLAVIYO_RATE_LIMITS}, lower ones for tests) answer 429 `throttled` with
 * `Retry-After`. Errors in the JSON:API shape `{errors: [{id, status, code, title, detail, source}]}`.
 */
import { randomUUID } from 'node:crypto';
import {
  E164,
  EMAIL,
  header,
  isObj,
  mediaType,
  parseJson,
  type StandIn,
  type StandInRequest,
  type StandInResponse,
} from './kit';

export interface KlaviyoSeedProfile {
  readonly email: string;
  readonly properties?: Record<string, unknown>;
  readonly emailConsent?: 'SUBSCRIBED' | 'UNSUBSCRIBED' | 'NEVER_SUBSCRIBED';
  readonly smsConsent?: 'SUBSCRIBED' | 'UNSUBSCRIBED' | 'NEVER_SUBSCRIBED';
  readonly phoneNumber?: string;
  /** `predictive_analytics` as Klaviyo answers it (numbers, ISO dates), when the account has them. */
  readonly predictive?: Record<string, unknown>;
  /** Names of the segments and lists the profile belongs to. */
  readonly segments?: readonly string[];
  readonly lists?: readonly string[];
  readonly lastEventDate?: string;
}

export interface KlaviyoEventRecord {
  /** Klaviyo's id of the event (Get Events, `$attributed_event_id`). */
  readonly id: string;
  readonly uniqueId: string | null;
  readonly metric: string;
  readonly profileKey: string;
  readonly properties: Record<string, unknown>;
  readonly time: string;
}

interface Profile {
  id: string;
  email?: string;
  phone_number?: string;
  properties: Record<string, unknown>;
  emailConsent: string;
  smsConsent: string;
  created: string;
  updated: string;
  predictive?: Record<string, unknown>;
  segments: readonly string[];
  lists: readonly string[];
  lastEventDate?: string;
}

const JSON_API = 'application/vnd.api+json';

/** The stand-in's rate-limited routes (Klaviyo limits per account and endpoint). */
export type KlaviyoRoute = 'events.create' | 'events.read' | 'profiles' | 'profile-groups' | 'metrics';

export interface KlaviyoLimit {
  readonly burstPerSecond: number;
  readonly steadyPerMinute: number;
}

/** Klaviyo's documented limits (x-klaviyo-ratelimit of each operation, revision 2026-07-15). */
export const KLAVIYO_RATE_LIMITS: Readonly<Record<KlaviyoRoute, KlaviyoLimit>> = {
  'events.create': { burstPerSecond: 350, steadyPerMinute: 3_500 },
  'events.read': { burstPerSecond: 350, steadyPerMinute: 3_500 },
  profiles: { burstPerSecond: 75, steadyPerMinute: 750 },
  'profile-groups': { burstPerSecond: 3, steadyPerMinute: 60 },
  metrics: { burstPerSecond: 10, steadyPerMinute: 150 },
};

export interface KlaviyoStandInOptions {
  /** Lower limits for tests (each route keeps Klaviyo's unless given). */
  readonly rateLimits?: Partial<Record<KlaviyoRoute, KlaviyoLimit>>;
  readonly now?: () => number;
}

function routeOf(method: string, path: string): KlaviyoRoute | undefined {
  if (path === '/api/events') return method === 'POST' ? 'events.create' : 'events.read';
  if (/^\/api\/events\/[^/]+$/.test(path)) return 'events.read';
  if (/^\/api\/profiles\/[^/]+\/(segments|lists)$/.test(path)) return 'profile-groups';
  if (path === '/api/profiles' || path === '/api/profile-import') return 'profiles';
  if (path === '/api/metrics') return 'metrics';
  return undefined;
}
const IDENTIFIERS = ['id', 'email', 'phone_number', 'external_id', 'anonymous_id', '_kx'];

function jsonApiError(status: number, code: string, title: string, detail: string, pointer?: string): StandInResponse {
  return {
    status,
    contentType: JSON_API,
    body: { errors: [{ id: randomUUID(), status, code, title, detail, source: pointer ? { pointer } : {}, meta: {} }] },
  };
}

const invalid = (detail: string, pointer: string) => jsonApiError(400, 'invalid', 'Invalid input.', detail, pointer);

function eventId(): string {
  return `${Date.now().toString(36)}${randomUUID().replace(/-/g, '').slice(0, 20)}`;
}

function profileId(): string {
  const alphabet = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
  let s = '01';
  for (let i = 0; i < 24; i++) s += alphabet[Math.floor(Math.random() * alphabet.length)];
  return s;
}

export class KlaviyoStandIn implements StandIn {
  readonly name = 'klaviyo' as const;
  readonly events: KlaviyoEventRecord[] = [];
  /** Create Event calls answered 202 whose unique_id had been seen: accepted, not recorded again. */
  duplicatesIgnored = 0;
  private readonly seen = new Set<string>();
  private readonly profiles: Profile[] = [];
  /** Times of the accepted requests per route (the last minute's), for the rate limits. */
  private readonly calls = new Map<KlaviyoRoute, number[]>();
  /** Requests answered 429 per route. */
  readonly throttled = new Map<KlaviyoRoute, number>();
  private readonly limits: Readonly<Record<KlaviyoRoute, KlaviyoLimit>>;
  private readonly now: () => number;

  constructor(
    private readonly apiKey: string,
    seed: readonly KlaviyoSeedProfile[] = [],
    options: KlaviyoStandInOptions = {},
  ) {
    this.limits = { ...KLAVIYO_RATE_LIMITS, ...options.rateLimits };
    this.now = options.now ?? Date.now;
    for (const p of seed) {
      const now = new Date().toISOString();
      this.profiles.push({
        id: profileId(),
        email: p.email.toLowerCase(),
        phone_number: p.phoneNumber,
        properties: { ...p.properties },
        emailConsent: p.emailConsent ?? 'NEVER_SUBSCRIBED',
        smsConsent: p.smsConsent ?? 'NEVER_SUBSCRIBED',
        created: now,
        updated: now,
        predictive: p.predictive,
        segments: p.segments ?? [],
        lists: p.lists ?? [],
        lastEventDate: p.lastEventDate,
      });
    }
  }

  profileByEmail(email: string): Readonly<Profile> | undefined {
    return this.profiles.find((p) => p.email === email.toLowerCase());
  }

  errorBody(status: number): unknown {
    if (status === 429) {
      return jsonApiError(
        429,
        'throttled',
        'Request was throttled.',
        'Request was throttled. Expected available in 1 second.',
      ).body;
    }
    return jsonApiError(status, status >= 500 ? 'error' : 'invalid', 'A server error occurred.', 'Internal error.')
      .body;
  }

  recordBody(req: StandInRequest): unknown {
    const parsed = parseJson(req.raw);
    return parsed.ok ? parsed.value : req.raw.toString('utf8');
  }

  handle(req: StandInRequest): StandInResponse {
    if (header(req, 'authorization') !== `Klaviyo-API-Key ${this.apiKey}`) {
      return jsonApiError(
        401,
        'not_authenticated',
        'Authentication credentials were not provided.',
        'Missing or invalid private key.',
        '/data/',
      );
    }
    const revision = header(req, 'revision');
    if (revision === undefined || !/^\d{4}-\d{2}-\d{2}(\.[a-z0-9]+)?$/.test(revision)) {
      return jsonApiError(400, 'invalid', 'Invalid input.', 'Missing or invalid revision header.');
    }
    if (req.method === 'POST') {
      const type = mediaType(req);
      if (type !== JSON_API && type !== 'application/json') {
        return jsonApiError(
          415,
          'unsupported_media_type',
          'Unsupported media type.',
          `Unsupported media type "${type}" in request.`,
        );
      }
    }
    const path = req.path.replace(/\/+$/, '');
    const route = routeOf(req.method, path);
    const throttled = route !== undefined ? this.throttle(route) : undefined;
    if (throttled) return throttled;
    if (req.method === 'POST' && path === '/api/events') return this.createEvent(req.raw);
    if (req.method === 'GET' && path === '/api/profiles') return this.getProfiles(req.query);
    if (req.method === 'GET' && path === '/api/metrics') return this.getMetrics(req.query);
    if (req.method === 'GET' && path === '/api/events') return this.getEvents(req.query);
    const oneEvent = /^\/api\/events\/([^/]+)$/.exec(path);
    if (req.method === 'GET' && oneEvent) return this.getEvent(decodeURIComponent(oneEvent[1]!));
    const groups = /^\/api\/profiles\/([^/]+)\/(segments|lists)$/.exec(path);
    if (req.method === 'GET' && groups) return this.profileGroups(groups[1]!, groups[2] as 'segments' | 'lists');
    if (req.method === 'POST' && path === '/api/profile-import') return this.upsertProfile(req.raw);
    return jsonApiError(404, 'not_found', 'Not found.', 'Not found.');
  }

  /**
   * Klaviyo's fixed-window-ish limits as sliding windows: more than `burstPerSecond` requests in the
   * last second, or `steadyPerMinute` in the last minute, are answered 429 `throttled` with
   * `Retry-After` (whole seconds until the oldest counted request leaves the window).
   */
  private throttle(route: KlaviyoRoute): StandInResponse | undefined {
    const now = this.now();
    const limit = this.limits[route];
    const recent = (this.calls.get(route) ?? []).filter((t) => t > now - 60_000);
    const lastSecond = recent.filter((t) => t > now - 1_000);
    let waitMs = 0;
    if (lastSecond.length >= limit.burstPerSecond) waitMs = lastSecond[0]! + 1_000 - now;
    if (recent.length >= limit.steadyPerMinute) waitMs = Math.max(waitMs, recent[0]! + 60_000 - now);
    if (waitMs > 0) {
      this.calls.set(route, recent);
      this.throttled.set(route, (this.throttled.get(route) ?? 0) + 1);
      const seconds = Math.max(1, Math.ceil(waitMs / 1_000));
      const res = jsonApiError(
        429,
        'throttled',
        'Request was throttled.',
        `Request was throttled. Expected available in ${seconds} second${seconds === 1 ? '' : 's'}.`,
      );
      return { ...res, headers: { 'retry-after': String(seconds) } };
    }
    recent.push(now);
    this.calls.set(route, recent);
    return undefined;
  }

  private document(
    raw: Buffer,
    type: string,
  ): { ok: true; attributes: Record<string, unknown> } | { ok: false; res: StandInResponse } {
    const parsed = parseJson(raw);
    if (!parsed.ok)
      return { ok: false, res: jsonApiError(400, 'parse_error', 'Malformed request.', 'JSON parse error.') };
    const doc = parsed.value;
    if (!isObj(doc) || !isObj(doc.data)) return { ok: false, res: invalid('`data` is required.', '/data') };
    if (doc.data.type !== type) return { ok: false, res: invalid(`\`type\` must be "${type}".`, '/data/type') };
    if (!isObj(doc.data.attributes)) {
      return {
        ok: false,
        res: invalid('One of `attributes`, `relationships` or `id` must be included in the request payload.', '/data'),
      };
    }
    return { ok: true, attributes: doc.data.attributes };
  }

  private profileIdentity(attrs: Record<string, unknown>, pointer: string): StandInResponse | undefined {
    if (!IDENTIFIERS.some((k) => typeof attrs[k] === 'string' && attrs[k] !== '')) {
      return invalid('A profile identifier is required (id, email, phone_number, external_id…).', pointer);
    }
    if (
      attrs.email !== undefined &&
      attrs.email !== null &&
      (typeof attrs.email !== 'string' || !EMAIL.test(attrs.email))
    ) {
      return invalid('Invalid email address', `${pointer}/email`);
    }
    if (
      attrs.phone_number !== undefined &&
      attrs.phone_number !== null &&
      (typeof attrs.phone_number !== 'string' || !E164.test(attrs.phone_number))
    ) {
      return invalid(
        'Invalid phone number format (Example of a valid format: +12345678901)',
        `${pointer}/phone_number`,
      );
    }
    return undefined;
  }

  private findOrCreate(attrs: Record<string, unknown>): { profile: Profile; created: boolean } {
    const email = typeof attrs.email === 'string' ? attrs.email.toLowerCase() : undefined;
    const phone = typeof attrs.phone_number === 'string' ? attrs.phone_number : undefined;
    const existing = this.profiles.find(
      (p) =>
        (typeof attrs.id === 'string' && p.id === attrs.id) ||
        (email && p.email === email) ||
        (phone && p.phone_number === phone),
    );
    if (existing) return { profile: existing, created: false };
    const now = new Date().toISOString();
    const profile: Profile = {
      id: profileId(),
      email,
      phone_number: phone,
      properties: {},
      emailConsent: 'NEVER_SUBSCRIBED',
      smsConsent: 'NEVER_SUBSCRIBED',
      created: now,
      updated: now,
      segments: [],
      lists: [],
    };
    this.profiles.push(profile);
    return { profile, created: true };
  }

  private createEvent(raw: Buffer): StandInResponse {
    const doc = this.document(raw, 'event');
    if (!doc.ok) return doc.res;
    const a = doc.attributes;
    if (!isObj(a.properties)) return invalid('`properties` is required.', '/data/attributes/properties');
    if (Object.keys(a.properties).length > 400)
      return invalid('An event may have at most 400 properties.', '/data/attributes/properties');
    if (
      !isObj(a.metric) ||
      !isObj(a.metric.data) ||
      a.metric.data.type !== 'metric' ||
      !isObj(a.metric.data.attributes)
    ) {
      return invalid('`metric` is required.', '/data/attributes/metric/data');
    }
    const name = a.metric.data.attributes.name;
    if (typeof name !== 'string' || name === '' || name.length >= 128) {
      return invalid(
        'Metric name must be a string shorter than 128 characters.',
        '/data/attributes/metric/data/attributes/name',
      );
    }
    if (
      !isObj(a.profile) ||
      !isObj(a.profile.data) ||
      a.profile.data.type !== 'profile' ||
      !isObj(a.profile.data.attributes)
    ) {
      return invalid('`profile` is required.', '/data/attributes/profile/data');
    }
    const bad = this.profileIdentity(a.profile.data.attributes, '/data/attributes/profile/data/attributes');
    if (bad) return bad;
    let time = new Date().toISOString();
    if (a.time !== undefined && a.time !== null) {
      const t = typeof a.time === 'string' ? Date.parse(a.time) : NaN;
      if (Number.isNaN(t) || t < Date.UTC(1990, 0, 1) || t > Date.now() + 365 * 86_400_000) {
        return invalid(
          '`time` must be a date-time after 1990 and at most one year in the future.',
          '/data/attributes/time',
        );
      }
      time = new Date(Math.floor(t / 1000) * 1000).toISOString();
    }
    if (a.unique_id !== undefined && a.unique_id !== null && typeof a.unique_id !== 'string') {
      return invalid('`unique_id` must be a string.', '/data/attributes/unique_id');
    }
    const { profile } = this.findOrCreate(a.profile.data.attributes);
    const uniqueId = typeof a.unique_id === 'string' ? a.unique_id : null;
    // Klaviyo: "If the unique_id is repeated for the same profile and metric, only the first processed event will be recorded";
    // without one, one event per profile and metric per second.
    const dedupe = `${profile.id}|${name}|${uniqueId ?? time}`;
    if (this.seen.has(dedupe)) {
      this.duplicatesIgnored += 1;
      return { status: 202 };
    }
    this.seen.add(dedupe);
    this.events.push({ id: eventId(), uniqueId, metric: name, profileKey: profile.id, properties: a.properties, time });
    return { status: 202 };
  }

  /**
   * What Klaviyo's flow does after a Reclaim event: the shopper opens, clicks or the e-mail bounces.
   * Recorded as Klaviyo's own metric event, attributed to the triggering event like a flow message's
   * (`$attribution.$attributed_event_id`, `$flow`, `$message`); a click carries its `URL`.
   */
  engage(
    uniqueId: string,
    kind: 'opened' | 'clicked' | 'bounced' | 'complained',
    options: { url?: string; at?: Date } = {},
  ): KlaviyoEventRecord {
    const trigger = this.events.find((e) => e.uniqueId === uniqueId);
    if (!trigger) throw new Error(`no event with unique_id ${uniqueId}`);
    const metric = {
      opened: 'Opened Email',
      clicked: 'Clicked Email',
      bounced: 'Bounced Email',
      complained: 'Marked Email as Spam',
    }[kind];
    const record: KlaviyoEventRecord = {
      id: eventId(),
      uniqueId: null,
      metric,
      profileKey: trigger.profileKey,
      properties: {
        Subject: typeof trigger.properties.subject === 'string' ? trigger.properties.subject : '',
        $flow: 'FLOWRECLAIM',
        $message: 'MSGRECLAIM01',
        $message_interaction: 'MSGRECLAIM01',
        $event_id: `${trigger.id}:${metric}`,
        $attribution: { $send_ts: Math.floor(Date.parse(trigger.time) / 1000), $attributed_event_id: trigger.id },
        ...(kind === 'clicked' && options.url !== undefined ? { URL: options.url } : {}),
        ...(kind === 'bounced' ? { 'Bounce Type': 'hard' } : {}),
      },
      time: new Date(Math.floor((options.at ?? new Date()).getTime() / 1000) * 1000).toISOString(),
    };
    this.events.push(record);
    return record;
  }

  private metricId(name: string): string {
    return `M${Buffer.from(name).toString('hex').slice(0, 10).toUpperCase()}`;
  }

  /** Get Metrics: every metric recorded so far (Klaviyo's built-in e-mail metrics once they occurred). */
  private getMetrics(query: URLSearchParams): StandInResponse {
    const fields = query.get('fields[metric]');
    if (fields !== null && fields.split(',').some((f) => !['name', 'created', 'updated', 'integration'].includes(f))) {
      return invalid("'fields[metric]' has an unsupported value.", '/fields[metric]');
    }
    const names = [...new Set(this.events.map((e) => e.metric))];
    return {
      status: 200,
      contentType: JSON_API,
      body: {
        data: names.map((name) => ({ type: 'metric', id: this.metricId(name), attributes: { name } })),
        links: { self: 'https://a.klaviyo.com/api/metrics/', next: null, prev: null },
      },
    };
  }

  private eventResource(e: KlaviyoEventRecord): Record<string, unknown> {
    return {
      type: 'event',
      id: e.id,
      attributes: {
        timestamp: Math.floor(Date.parse(e.time) / 1000),
        datetime: e.time.replace(/\.\d{3}Z$/, '+00:00'),
        event_properties: e.properties,
        uuid: e.id,
      },
      relationships: {
        metric: { data: { type: 'metric', id: this.metricId(e.metric) } },
        profile: { data: { type: 'profile', id: e.profileKey } },
      },
      links: { self: `https://a.klaviyo.com/api/events/${e.id}/` },
    };
  }

  /**
   * Get Events: `filter` is a comma list of `equals(metric_id,"…")`, `equals(profile_id,"…")` and
   * `greater-than|greater-or-equal|less-than(datetime,<ISO>)`; `sort` `datetime` or `-datetime`;
   * `page[size]` 1..1000 (default 200) and `page[cursor]` from `links.next`.
   */
  private getEvents(query: URLSearchParams): StandInResponse {
    let list = [...this.events];
    const filter = query.get('filter');
    if (filter !== null) {
      for (const expr of filter.split(/,(?![^(]*\))/)) {
        let m: RegExpExecArray | null;
        if ((m = /^equals\((metric_id|profile_id),"([^"]*)"\)$/.exec(expr))) {
          const [, field, value] = m;
          list = list.filter((e) => (field === 'metric_id' ? this.metricId(e.metric) : e.profileKey) === value);
        } else if ((m = /^(greater-than|greater-or-equal|less-than)\(datetime,([^)]+)\)$/.exec(expr))) {
          const t = Date.parse(m[2]!);
          if (Number.isNaN(t)) return invalid(`Invalid datetime in filter: ${m[2]}`, '/filter');
          const op = m[1];
          list = list.filter((e) => {
            const at = Date.parse(e.time);
            return op === 'greater-than' ? at > t : op === 'greater-or-equal' ? at >= t : at < t;
          });
        } else {
          return invalid('Invalid filter provided.', '/filter');
        }
      }
    }
    const sort = query.get('sort');
    if (sort !== null && !['datetime', '-datetime', 'timestamp', '-timestamp'].includes(sort)) {
      return invalid(`'sort' must be datetime or timestamp (optionally with -).`, '/sort');
    }
    list.sort((a, b) => Date.parse(a.time) - Date.parse(b.time) || a.id.localeCompare(b.id));
    if (sort?.startsWith('-')) list.reverse();
    const size = Number(query.get('page[size]') ?? '200');
    if (!Number.isInteger(size) || size < 1 || size > 1000)
      return invalid('page[size] must be 1..1000.', '/page[size]');
    const offset = Number(Buffer.from(query.get('page[cursor]') ?? '', 'base64url').toString() || '0');
    if (!Number.isInteger(offset) || offset < 0) return invalid('Invalid page cursor.', '/page[cursor]');
    const page = list.slice(offset, offset + size);
    const more = offset + size < list.length;
    const next = new URL('https://a.klaviyo.com/api/events/');
    for (const [k, v] of query) if (k !== 'page[cursor]') next.searchParams.set(k, v);
    next.searchParams.set('page[cursor]', Buffer.from(String(offset + size)).toString('base64url'));
    return {
      status: 200,
      contentType: JSON_API,
      body: {
        data: page.map((e) => this.eventResource(e)),
        links: { self: 'https://a.klaviyo.com/api/events/', next: more ? next.href : null, prev: null },
      },
    };
  }

  private getEvent(id: string): StandInResponse {
    const e = this.events.find((x) => x.id === id);
    if (!e) return jsonApiError(404, 'not_found', 'Not found.', 'An event with the given id was not found.');
    return {
      status: 200,
      contentType: JSON_API,
      body: { data: this.eventResource(e), links: { self: `https://a.klaviyo.com/api/events/${id}/` } },
    };
  }

  /** Get Segments / Get Lists for Profile: the groups' ids are derived from their names. */
  private profileGroups(id: string, kind: 'segments' | 'lists'): StandInResponse {
    const p = this.profiles.find((x) => x.id === decodeURIComponent(id));
    if (!p) return jsonApiError(404, 'not_found', 'Not found.', 'A profile with the given id was not found.');
    const type = kind === 'segments' ? 'segment' : 'list';
    const names = kind === 'segments' ? p.segments : p.lists;
    return {
      status: 200,
      contentType: JSON_API,
      body: {
        data: names.map((name) => ({
          type,
          id: `${type.toUpperCase()}${Buffer.from(name).toString('hex').slice(0, 12)}`,
          attributes: { name },
          links: { self: `https://a.klaviyo.com/api/${kind}/${type}/` },
        })),
        links: { self: `https://a.klaviyo.com/api/profiles/${p.id}/${kind}/`, next: null, prev: null },
      },
    };
  }

  private resource(p: Profile, withSubscriptions: boolean, withPredictive = false): Record<string, unknown> {
    const sub = (consent: string, flag: string) => ({
      marketing: {
        [flag]: consent === 'SUBSCRIBED',
        consent,
        consent_timestamp: consent === 'NEVER_SUBSCRIBED' ? null : p.updated,
      },
    });
    return {
      type: 'profile',
      id: p.id,
      attributes: {
        email: p.email ?? null,
        phone_number: p.phone_number ?? null,
        properties: p.properties,
        created: p.created,
        updated: p.updated,
        last_event_date: p.lastEventDate ?? null,
        ...(withPredictive ? { predictive_analytics: p.predictive ?? null } : {}),
        ...(withSubscriptions
          ? {
              subscriptions: {
                email: sub(p.emailConsent, 'can_receive_email_marketing'),
                sms: sub(p.smsConsent, 'can_receive_sms_marketing'),
              },
            }
          : {}),
      },
      links: { self: `https://a.klaviyo.com/api/profiles/${p.id}/` },
    };
  }

  private getProfiles(query: URLSearchParams): StandInResponse {
    const filter = query.get('filter');
    const size = Number(query.get('page[size]') ?? '20');
    if (!Number.isInteger(size) || size < 1 || size > 100)
      return jsonApiError(400, 'invalid', 'Invalid input.', 'page[size] must be 1..100.');
    const additional = (query.get('additional-fields[profile]') ?? '').split(',').filter((s) => s !== '');
    if (additional.some((f) => f !== 'subscriptions' && f !== 'predictive_analytics')) {
      return jsonApiError(400, 'invalid', 'Invalid input.', "'additional-fields[profile]' has an unsupported value.");
    }
    let matches = this.profiles;
    if (filter !== null) {
      const m = /^equals\((email|phone_number|id),"([^"\\]*)"\)$/.exec(filter);
      if (!m) return jsonApiError(400, 'invalid', 'Invalid input.', 'Invalid filter provided.');
      const [, field, value] = m;
      matches = this.profiles.filter((p) =>
        field === 'email'
          ? p.email === value!.toLowerCase()
          : field === 'id'
            ? p.id === value
            : p.phone_number === value,
      );
    }
    return {
      status: 200,
      contentType: JSON_API,
      body: {
        data: matches
          .slice(0, size)
          .map((p) =>
            this.resource(p, additional.includes('subscriptions'), additional.includes('predictive_analytics')),
          ),
        links: { self: 'https://a.klaviyo.com/api/profiles/', next: null, prev: null },
      },
    };
  }

  private upsertProfile(raw: Buffer): StandInResponse {
    const doc = this.document(raw, 'profile');
    if (!doc.ok) return doc.res;
    const a = doc.attributes;
    const bad = this.profileIdentity(a, '/data/attributes');
    if (bad) return bad;
    if (a.properties !== undefined && !isObj(a.properties))
      return invalid('`properties` must be an object.', '/data/attributes/properties');
    if (Buffer.byteLength(raw) > 100 * 1024) return invalid('The maximum allowed payload size is 100KB.', '/data');
    const { profile, created } = this.findOrCreate(a);
    Object.assign(profile.properties, isObj(a.properties) ? a.properties : {});
    profile.updated = new Date().toISOString();
    return { status: created ? 201 : 200, contentType: JSON_API, body: { data: this.resource(profile, false) } };
  }
}

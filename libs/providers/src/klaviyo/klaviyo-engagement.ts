/**
 * Klaviyo engagement back: the opens, clicks, bounces and spam complaints of the e-mails Klaviyo's
 * flow sent for Reclaim's events, read by polling Get Events (`GET /api/events`) per metric
 * ("Opened Email", "Clicked Email", "Bounced Email", "Marked Email as Spam"), oldest first, with a durable cursor (per metric: the datetime
 * reached and the event ids seen at exactly that datetime; `page[cursor]` pages within one poll).
 *
 * Matching: an engagement event of a flow e-mail names the event that triggered the flow in
 * `event_properties.$attribution.$attributed_event_id`; that event (Get Event) is Reclaim's own and
 * carries `reclaim_idempotency_key`, the message's key. Engagement of any other message (campaigns,
 * other flows) has no such trigger and is left out. The trigger look-ups are cached.
 */
import {
  PermanentProviderError,
  type EngagementCursor,
  type EngagementSource,
  type ProviderEngagement,
} from '@reclaim/ports';
import { isRecord, jsonOf } from '../common';
import type { KlaviyoApi } from './klaviyo';

/** Klaviyo's built-in e-mail metrics, and what each is for Reclaim. */
export const KLAVIYO_ENGAGEMENT_METRICS = {
  'Opened Email': 'opened',
  'Clicked Email': 'clicked',
  'Bounced Email': 'bounced',
  'Marked Email as Spam': 'complained',
} as const satisfies Record<string, ProviderEngagement['kind']>;

type MetricName = keyof typeof KLAVIYO_ENGAGEMENT_METRICS;

interface MetricCursor {
  /** ISO-8601: events at or after this are read. */
  readonly since: string;
  /** Ids of the events already read at exactly `since` (so `greater-or-equal` does not read them twice). */
  readonly seen: readonly string[];
}

export interface KlaviyoEngagementOptions {
  /** Events per page (Klaviyo: up to 1000; default 200). */
  readonly pageSize?: number;
  /** Pages per metric and poll (the rest is read at the next poll). Default 10. */
  readonly maxPages?: number;
}

const TRIGGER_CACHE_MAX = 10_000;

function cursorOf(value: unknown): MetricCursor | undefined {
  if (!isRecord(value) || typeof value.since !== 'string' || Number.isNaN(Date.parse(value.since))) return undefined;
  const seen = Array.isArray(value.seen) ? value.seen.filter((s): s is string => typeof s === 'string') : [];
  return { since: value.since, seen };
}

/** `page[cursor]` of a JSON:API `links.next` URL. */
function nextCursor(body: Record<string, unknown>): string | undefined {
  const next = isRecord(body.links) ? body.links.next : undefined;
  if (typeof next !== 'string' || next === '') return undefined;
  try {
    return new URL(next).searchParams.get('page[cursor]') ?? undefined;
  } catch {
    return undefined;
  }
}

export class KlaviyoEngagementFeed implements EngagementSource {
  readonly source = 'klaviyo';
  private metricIds: Map<MetricName, string> | undefined;
  /** Klaviyo event id of a flow trigger → Reclaim's message key (`null`: not one of Reclaim's). */
  private readonly triggers = new Map<string, string | null>();

  constructor(
    private readonly api: KlaviyoApi,
    private readonly options: KlaviyoEngagementOptions = {},
  ) {}

  async poll(
    cursor: EngagementCursor | undefined,
    since: Date,
  ): Promise<{ items: ProviderEngagement[]; cursor: EngagementCursor }> {
    const ids = await this.metrics();
    const items: ProviderEngagement[] = [];
    const next: Record<string, MetricCursor> = {};
    for (const name of Object.keys(KLAVIYO_ENGAGEMENT_METRICS) as MetricName[]) {
      const start = cursorOf(cursor?.[name]) ?? { since: since.toISOString(), seen: [] };
      const id = ids.get(name);
      // A metric the account has not recorded yet (no e-mail opened so far): nothing to read.
      next[name] = id === undefined ? start : await this.read(name, id, start, items);
    }
    return { items, cursor: next };
  }

  private async read(name: MetricName, metricId: string, start: MetricCursor, out: ProviderEngagement[]) {
    let since = start.since;
    let seen = new Set(start.seen);
    let page: string | undefined;
    for (let n = 0; n < (this.options.maxPages ?? 10); n++) {
      const res = await this.api.http.request({
        method: 'GET',
        path: '/api/events',
        query: {
          filter: `equals(metric_id,"${metricId}"),greater-or-equal(datetime,${new Date(start.since).toISOString()})`,
          sort: 'datetime',
          'fields[event]': 'datetime,event_properties',
          'page[size]': String(this.options.pageSize ?? 200),
          ...(page !== undefined ? { 'page[cursor]': page } : {}),
        },
        operation: 'events.list',
        idempotent: true,
        limiter: this.api.eventsReadLimiter,
      });
      const body = jsonOf(res);
      if (!isRecord(body) || !Array.isArray(body.data)) {
        throw new PermanentProviderError('klaviyo events.list: unexpected response', 'bad-response');
      }
      for (const e of body.data as unknown[]) {
        if (!isRecord(e) || typeof e.id !== 'string' || !isRecord(e.attributes)) continue;
        const at = typeof e.attributes.datetime === 'string' ? e.attributes.datetime : undefined;
        if (at === undefined || Number.isNaN(Date.parse(at))) continue;
        const iso = new Date(at).toISOString();
        if (iso === new Date(start.since).toISOString() && start.seen.includes(e.id)) continue;
        if (Date.parse(iso) > Date.parse(since)) {
          since = iso;
          seen = new Set();
        }
        seen.add(e.id);
        const props = isRecord(e.attributes.event_properties) ? e.attributes.event_properties : {};
        const attribution = isRecord(props.$attribution) ? props.$attribution : {};
        const trigger = attribution.$attributed_event_id;
        if (typeof trigger !== 'string' || trigger === '') continue;
        const messageKey = await this.messageKeyOf(trigger);
        if (messageKey === null) continue;
        const url = props.URL ?? props.url;
        out.push({
          id: e.id,
          kind: KLAVIYO_ENGAGEMENT_METRICS[name],
          at: iso,
          messageKey,
          ...(name === 'Clicked Email' && typeof url === 'string' ? { targetUrl: url } : {}),
        });
      }
      page = nextCursor(body);
      if (page === undefined) break;
    }
    return { since, seen: [...seen] };
  }

  /** Reclaim's message key carried by the flow's trigger event, `null` when it is not Reclaim's. */
  private async messageKeyOf(eventId: string): Promise<string | null> {
    const cached = this.triggers.get(eventId);
    if (cached !== undefined) return cached;
    const res = await this.api.http.request({
      method: 'GET',
      path: `/api/events/${encodeURIComponent(eventId)}`,
      query: { 'fields[event]': 'event_properties' },
      operation: 'events.get',
      idempotent: true,
      accept: [404],
      limiter: this.api.eventsReadLimiter,
    });
    const body = res.status === 404 ? undefined : jsonOf(res);
    const data = isRecord(body) ? body.data : undefined;
    const props = isRecord(data) && isRecord(data.attributes) ? data.attributes.event_properties : undefined;
    const key =
      isRecord(props) && typeof props.reclaim_idempotency_key === 'string' ? props.reclaim_idempotency_key : null;
    if (this.triggers.size >= TRIGGER_CACHE_MAX) this.triggers.delete(this.triggers.keys().next().value as string);
    this.triggers.set(eventId, key);
    return key;
  }

  /** The ids of Klaviyo's e-mail metrics in this account (Get Metrics, cached once all are known). */
  private async metrics(): Promise<Map<MetricName, string>> {
    if (this.metricIds?.size === Object.keys(KLAVIYO_ENGAGEMENT_METRICS).length) return this.metricIds;
    const found = new Map<MetricName, string>();
    let page: string | undefined;
    for (let n = 0; n < 20; n++) {
      const res = await this.api.http.request({
        method: 'GET',
        path: '/api/metrics',
        query: { 'fields[metric]': 'name', ...(page !== undefined ? { 'page[cursor]': page } : {}) },
        operation: 'metrics.list',
        idempotent: true,
        limiter: this.api.metricsLimiter,
      });
      const body = jsonOf(res);
      if (!isRecord(body) || !Array.isArray(body.data)) {
        throw new PermanentProviderError('klaviyo metrics.list: unexpected response', 'bad-response');
      }
      for (const m of body.data as unknown[]) {
        if (!isRecord(m) || typeof m.id !== 'string' || !isRecord(m.attributes)) continue;
        const name = m.attributes.name;
        if (typeof name === 'string' && name in KLAVIYO_ENGAGEMENT_METRICS && !found.has(name as MetricName)) {
          found.set(name as MetricName, m.id);
        }
      }
      page = nextCursor(body);
      if (page === undefined) break;
    }
    this.metricIds = found;
    return found;
  }
}

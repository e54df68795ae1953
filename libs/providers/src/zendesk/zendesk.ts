/**
 * Zendesk Support tickets: `POST /api/v2/tickets.json` with basic auth `{email}/token:{api token}`
 * on `ZENDESK_API_URL` (https://<subdomain>.zendesk.com) and the `Idempotency-Key` header = our key:
 * Zendesk answers a repeat within its key lifetime (2 h) with the first response instead of a
 * second ticket, so timeouts and 5xx are retried. Beyond that window `open` still finds the
 * ticket: it lists by `external_id` first. 429 carries `Retry-After`. Limit per plan (default
 * 700 requests/min, `ZENDESK_RATE_LIMIT`).
 */
import type { CustomerTicket, CustomerTicketLookup, TicketPort, TicketRequest } from '@reclaim/ports';
import { PermanentProviderError } from '@reclaim/ports';
import {
  isOwnTicket,
  timedLookup,
  firstIdOf,
  basicAuth,
  isRecord,
  jsonOf,
  optionalEnv,
  PROVIDER_LIMITS,
  ProviderHttpClient,
  type ProviderErrorDetail,
  type ProviderLog,
  type ProviderResponse,
  RateLimiter,
  type RateLimitWait,
  requireEnv,
  type RetryPolicy,
  type Sleep,
} from '../common';

export interface ZendeskConfig {
  readonly apiUrl: string;
  readonly email: string;
  readonly apiToken: string;
  /** Requests per minute of the merchant's plan; default 700. */
  readonly ratePerMinute?: number;
  readonly timeoutMs?: number;
  /** Timeout of the customer-ticket lookups made at send time (one attempt, no retry). Default 2 s. */
  readonly lookupTimeoutMs?: number;
}

/** Default timeout of a customer-ticket lookup (SUPPORT_LOOKUP_TIMEOUT). */
export const DEFAULT_LOOKUP_TIMEOUT_MS = 2_000;

/** A search term value: quoted when it holds spaces or quotes (Zendesk search syntax). */
const searchValue = (v: string): string => (/[\s"]/.test(v) ? `"${v.replace(/"/g, '')}"` : v);

export interface ZendeskDeps {
  readonly log?: ProviderLog;
  readonly sleep?: Sleep;
  readonly now?: () => number;
  readonly random?: () => number;
  readonly retry?: Partial<RetryPolicy>;
  readonly onRateLimitWait?: (wait: RateLimitWait) => void;
}

/** `ZENDESK_API_URL`, `ZENDESK_EMAIL`, `ZENDESK_API_TOKEN`, `ZENDESK_RATE_LIMIT`; `undefined` without a URL. */
export function zendeskConfigFromEnv(env: Readonly<Record<string, string | undefined>>): ZendeskConfig | undefined {
  if (optionalEnv(env, 'ZENDESK_API_URL') === undefined) return undefined;
  const rate = optionalEnv(env, 'ZENDESK_RATE_LIMIT');
  if (rate !== undefined && !/^[1-9]\d*$/.test(rate)) throw new Error('ZENDESK_RATE_LIMIT must be a positive integer');
  return {
    apiUrl: requireEnv(env, 'ZENDESK_API_URL'),
    email: requireEnv(env, 'ZENDESK_EMAIL'),
    apiToken: requireEnv(env, 'ZENDESK_API_TOKEN'),
    ratePerMinute: rate !== undefined ? Number(rate) : undefined,
  };
}

/** Zendesk errors: `{error: "RecordInvalid", details: {field: [...]}}` or `{error: "..."}`: the error name and field names only. */
export function describeZendeskError(res: ProviderResponse): ProviderErrorDetail {
  const body = jsonOf(res);
  if (!isRecord(body)) return {};
  const name =
    typeof body.error === 'string'
      ? body.error
      : isRecord(body.error) && typeof body.error.title === 'string'
        ? body.error.title
        : undefined;
  if (name === undefined || !/^[A-Za-z][A-Za-z0-9_ ]{0,40}$/.test(name)) return {};
  const fields = isRecord(body.details) ? Object.keys(body.details).sort().join(',') : '';
  return { code: (fields === '' ? name : `${name}:${fields}`).replace(/\s+/g, '_').slice(0, 64) };
}

export class ZendeskTickets implements TicketPort, CustomerTicketLookup {
  readonly desk = 'zendesk' as const;
  private readonly http: ProviderHttpClient;
  /** Lookups: short timeout, one attempt (a send never waits long for the help desk). */
  private readonly lookups: ProviderHttpClient;
  private readonly lookupTimeoutMs: number;

  constructor(config: ZendeskConfig, deps: ZendeskDeps = {}) {
    const rate = config.ratePerMinute;
    const limiter = new RateLimiter(
      'zendesk',
      rate !== undefined ? [{ capacity: rate, intervalMs: 60_000 }] : PROVIDER_LIMITS.zendesk,
      { now: deps.now, sleep: deps.sleep, onWait: deps.onRateLimitWait },
    );
    const common = {
      provider: 'zendesk',
      baseUrl: config.apiUrl,
      sleep: deps.sleep,
      now: deps.now,
      random: deps.random,
      log: deps.log,
      headers: { authorization: basicAuth(`${config.email}/token`, config.apiToken) },
      describeError: describeZendeskError,
      limiter,
    };
    this.lookupTimeoutMs = config.lookupTimeoutMs ?? DEFAULT_LOOKUP_TIMEOUT_MS;
    this.lookups = new ProviderHttpClient({
      ...common,
      timeoutMs: this.lookupTimeoutMs,
      retry: { ...deps.retry, maxAttempts: 1 },
    });
    this.http = new ProviderHttpClient({
      provider: 'zendesk',
      baseUrl: config.apiUrl,
      timeoutMs: config.timeoutMs,
      retry: deps.retry,
      sleep: deps.sleep,
      now: deps.now,
      random: deps.random,
      log: deps.log,
      headers: { authorization: basicAuth(`${config.email}/token`, config.apiToken) },
      describeError: describeZendeskError,
      limiter,
    });
  }

  async close(): Promise<void> {
    await Promise.all([this.http.close(), this.lookups.close()]);
  }

  /**
   * `GET /api/v2/search.json?query=type:ticket requester:{email} status<solved` (Search API: offset
   * pages of up to 100, newest updated first; one page is plenty for one shopper's open tickets).
   */
  openTicketsOf(email: string): Promise<readonly CustomerTicket[]> {
    return timedLookup(this.lookupTimeoutMs, () => this.searchOpen(email));
  }

  private async searchOpen(email: string): Promise<readonly CustomerTicket[]> {
    const res = await this.lookups.request({
      method: 'GET',
      path: '/api/v2/search.json',
      query: {
        query: `type:ticket requester:${searchValue(email)} status<solved`,
        sort_by: 'updated_at',
        sort_order: 'desc',
        per_page: '100',
      },
      operation: 'search.tickets',
      idempotent: true,
    });
    const body = jsonOf(res);
    if (!isRecord(body) || !Array.isArray(body.results)) {
      throw new PermanentProviderError('zendesk search: unexpected response', 'bad-response');
    }
    const open = new Set(['new', 'open', 'pending', 'hold']);
    return body.results.flatMap((r): CustomerTicket[] => {
      if (!isRecord(r) || (r.result_type !== undefined && r.result_type !== 'ticket')) return [];
      if (typeof r.id !== 'number' && typeof r.id !== 'string') return [];
      if (typeof r.status === 'string' && !open.has(r.status.toLowerCase())) return [];
      // Our own proactive tickets carry our key as external_id: they are not the customer's question.
      if (isOwnTicket(r.external_id)) return [];
      return [
        {
          ticketId: String(r.id),
          ...(typeof r.subject === 'string' ? { subject: r.subject } : {}),
          ...(typeof r.description === 'string' ? { text: r.description } : {}),
        },
      ];
    });
  }

  /** `GET /api/v2/tickets/{id}.json?include=users`: the requester's address from the side-loaded users. */
  requesterOf(ticketId: string): Promise<string | undefined> {
    return timedLookup(this.lookupTimeoutMs, () => this.requesterOfTicket(ticketId));
  }

  private async requesterOfTicket(ticketId: string): Promise<string | undefined> {
    if (!/^\d{1,20}$/.test(ticketId)) return undefined;
    const res = await this.lookups.request({
      method: 'GET',
      path: `/api/v2/tickets/${ticketId}.json`,
      query: { include: 'users' },
      operation: 'tickets.show',
      idempotent: true,
      accept: [404],
    });
    if (res.status === 404) return undefined;
    const body = jsonOf(res);
    if (!isRecord(body) || !isRecord(body.ticket)) {
      throw new PermanentProviderError('zendesk tickets.show: unexpected response', 'bad-response');
    }
    const requesterId = body.ticket.requester_id;
    const users = Array.isArray(body.users) ? body.users : [];
    const user = users.find((u) => isRecord(u) && u.id !== undefined && String(u.id) === String(requesterId));
    return isRecord(user) && typeof user.email === 'string' ? user.email : undefined;
  }

  async find(idempotencyKey: string): Promise<string | undefined> {
    const res = await this.http.request({
      method: 'GET',
      path: '/api/v2/tickets.json',
      query: { external_id: idempotencyKey },
      operation: 'tickets.list',
      idempotent: true,
    });
    const body = jsonOf(res);
    if (!isRecord(body) || !Array.isArray(body.tickets)) {
      throw new PermanentProviderError('zendesk tickets.list: unexpected response', 'bad-response');
    }
    return firstIdOf(body.tickets);
  }

  async open(request: TicketRequest): Promise<{ readonly ticketId: string }> {
    const existing = await this.find(request.idempotencyKey);
    if (existing !== undefined) return { ticketId: existing };
    const ticket = {
      subject: request.subject,
      comment: { body: request.body, public: false },
      external_id: request.idempotencyKey,
      tags: ['reclaim', 'abandoned-cart'],
      ...(request.customerEmail !== undefined ? { requester: { email: request.customerEmail } } : {}),
    };
    const res = await this.http.request({
      method: 'POST',
      path: '/api/v2/tickets.json',
      headers: { 'content-type': 'application/json', 'idempotency-key': request.idempotencyKey },
      body: JSON.stringify({ ticket }),
      operation: 'tickets.create',
      idempotent: true,
    });
    const body = jsonOf(res);
    const created = isRecord(body) && isRecord(body.ticket) ? body.ticket : undefined;
    if (created === undefined || (typeof created.id !== 'number' && typeof created.id !== 'string')) {
      throw new PermanentProviderError('zendesk tickets.create: unexpected response', 'bad-response');
    }
    return { ticketId: String(created.id) };
  }
}

/**
 * Zendesk Support tickets: `POST /api/v2/tickets.json` with basic auth `{email}/token:{api token}`
 * on `ZENDESK_API_URL` (https://<subdomain>.zendesk.com) and the `Idempotency-Key` header = our key:
 * Zendesk answers a repeat within its key lifetime (2 h) with the first response instead of a
 * second ticket, so timeouts and 5xx are retried. Beyond that window `open` still finds the
 * ticket: it lists by `external_id` first. 429 carries `Retry-After`. Limit per plan (default
 * 700 requests/min, `ZENDESK_RATE_LIMIT`).
 */
import type { TicketPort, TicketRequest } from '@reclaim/ports';
import { PermanentProviderError } from '@reclaim/ports';
import {
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
}

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

export class ZendeskTickets implements TicketPort {
  private readonly http: ProviderHttpClient;

  constructor(config: ZendeskConfig, deps: ZendeskDeps = {}) {
    const rate = config.ratePerMinute;
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
      limiter: new RateLimiter(
        'zendesk',
        rate !== undefined ? [{ capacity: rate, intervalMs: 60_000 }] : PROVIDER_LIMITS.zendesk,
        { now: deps.now, sleep: deps.sleep, onWait: deps.onRateLimitWait },
      ),
    });
  }

  close(): Promise<void> {
    return this.http.close();
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

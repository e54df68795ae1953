/**
 * Gorgias tickets: basic auth `GORGIAS_EMAIL:GORGIAS_API_KEY` on `GORGIAS_API_URL`
 * (https://<account>.gorgias.com). Gorgias has no idempotency key and does not enforce unique
 * `external_id`, so every `open` first lists tickets by `external_id` = our key and creates only
 * when none exists: a retry after a lost answer finds the first ticket instead of making a second.
 * (Two processes opening the same key at the same instant could still race; the engine runs one
 * effect per key at a time.) Limit: 40 requests / 20 s for API-key integrations.
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

export interface GorgiasConfig {
  readonly apiUrl: string;
  readonly email: string;
  readonly apiKey: string;
  readonly timeoutMs?: number;
  /** Timeout of the customer-ticket lookups made at send time (one attempt, no retry). Default 2 s. */
  readonly lookupTimeoutMs?: number;
}

export interface GorgiasDeps {
  readonly log?: ProviderLog;
  readonly sleep?: Sleep;
  readonly now?: () => number;
  readonly random?: () => number;
  readonly retry?: Partial<RetryPolicy>;
  readonly onRateLimitWait?: (wait: RateLimitWait) => void;
}

/** `GORGIAS_API_URL`, `GORGIAS_EMAIL`, `GORGIAS_API_KEY`; `undefined` without a URL. */
export function gorgiasConfigFromEnv(env: Readonly<Record<string, string | undefined>>): GorgiasConfig | undefined {
  if (optionalEnv(env, 'GORGIAS_API_URL') === undefined) return undefined;
  return {
    apiUrl: requireEnv(env, 'GORGIAS_API_URL'),
    email: requireEnv(env, 'GORGIAS_EMAIL'),
    apiKey: requireEnv(env, 'GORGIAS_API_KEY'),
  };
}

/** Gorgias error bodies carry `error.msg` and per-field `error.data`: only the field names are kept. */
export function describeGorgiasError(res: ProviderResponse): ProviderErrorDetail {
  const body = jsonOf(res);
  if (!isRecord(body) || !isRecord(body.error)) return {};
  const fields = isRecord(body.error.data) ? Object.keys(body.error.data).sort().join(',') : '';
  return fields === '' ? {} : { code: `${res.status}:${fields}`.slice(0, 64) };
}

function escapeHtml(s: string): string {
  return s.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c,
  );
}

export class GorgiasTickets implements TicketPort, CustomerTicketLookup {
  readonly desk = 'gorgias' as const;
  private readonly http: ProviderHttpClient;
  /** Lookups: short timeout, one attempt (a send never waits long for the help desk). */
  private readonly lookups: ProviderHttpClient;
  private readonly lookupTimeoutMs: number;

  constructor(
    private readonly config: GorgiasConfig,
    deps: GorgiasDeps = {},
  ) {
    const limiter = new RateLimiter('gorgias', PROVIDER_LIMITS.gorgias, {
      now: deps.now,
      sleep: deps.sleep,
      onWait: deps.onRateLimitWait,
    });
    this.lookupTimeoutMs = config.lookupTimeoutMs ?? 2_000;
    this.lookups = new ProviderHttpClient({
      provider: 'gorgias',
      baseUrl: config.apiUrl,
      timeoutMs: this.lookupTimeoutMs,
      retry: { ...deps.retry, maxAttempts: 1 },
      sleep: deps.sleep,
      now: deps.now,
      random: deps.random,
      log: deps.log,
      headers: { authorization: basicAuth(config.email, config.apiKey) },
      describeError: describeGorgiasError,
      limiter,
    });
    this.http = new ProviderHttpClient({
      provider: 'gorgias',
      baseUrl: config.apiUrl,
      timeoutMs: config.timeoutMs,
      retry: deps.retry,
      sleep: deps.sleep,
      now: deps.now,
      random: deps.random,
      log: deps.log,
      headers: { authorization: basicAuth(config.email, config.apiKey) },
      describeError: describeGorgiasError,
      limiter,
    });
  }

  async close(): Promise<void> {
    await Promise.all([this.http.close(), this.lookups.close()]);
  }

  /**
   * The customer by address (`GET /api/customers?email=`), then their tickets
   * (`GET /api/tickets?customer_id=&limit=100`, cursor list, newest first), keeping the `open` ones.
   */
  openTicketsOf(email: string): Promise<readonly CustomerTicket[]> {
    return timedLookup(this.lookupTimeoutMs, () => this.searchOpen(email));
  }

  private async searchOpen(email: string): Promise<readonly CustomerTicket[]> {
    const customers = jsonOf(
      await this.lookups.request({
        method: 'GET',
        path: '/api/customers',
        query: { email, limit: '1' },
        operation: 'customers.list',
        idempotent: true,
      }),
    );
    if (!isRecord(customers) || !Array.isArray(customers.data)) {
      throw new PermanentProviderError('gorgias customers.list: unexpected response', 'bad-response');
    }
    const customerId = firstIdOf(customers.data);
    if (customerId === undefined) return [];
    const tickets = jsonOf(
      await this.lookups.request({
        method: 'GET',
        path: '/api/tickets',
        query: { customer_id: customerId, limit: '100' },
        operation: 'tickets.list',
        idempotent: true,
      }),
    );
    if (!isRecord(tickets) || !Array.isArray(tickets.data)) {
      throw new PermanentProviderError('gorgias tickets.list: unexpected response', 'bad-response');
    }
    return tickets.data.flatMap((t): CustomerTicket[] => {
      if (!isRecord(t) || (typeof t.id !== 'number' && typeof t.id !== 'string') || t.status !== 'open') return [];
      // Our own proactive tickets carry our key as external_id: they are not the customer's question.
      if (isOwnTicket(t.external_id)) return [];
      return [
        {
          ticketId: String(t.id),
          ...(typeof t.subject === 'string' ? { subject: t.subject } : {}),
          ...(typeof t.excerpt === 'string' ? { text: t.excerpt } : {}),
        },
      ];
    });
  }

  /** `GET /api/tickets/{id}`: the ticket's customer address. */
  requesterOf(ticketId: string): Promise<string | undefined> {
    return timedLookup(this.lookupTimeoutMs, () => this.requesterOfTicket(ticketId));
  }

  private async requesterOfTicket(ticketId: string): Promise<string | undefined> {
    if (!/^\d{1,20}$/.test(ticketId)) return undefined;
    const res = await this.lookups.request({
      method: 'GET',
      path: `/api/tickets/${ticketId}`,
      operation: 'tickets.get',
      idempotent: true,
      accept: [404],
    });
    if (res.status === 404) return undefined;
    const body = jsonOf(res);
    if (!isRecord(body)) throw new PermanentProviderError('gorgias tickets.get: unexpected response', 'bad-response');
    return isRecord(body.customer) && typeof body.customer.email === 'string' ? body.customer.email : undefined;
  }

  /** The ticket already opened for this key, if any. */
  async find(idempotencyKey: string): Promise<string | undefined> {
    const res = await this.http.request({
      method: 'GET',
      path: '/api/tickets',
      query: { external_id: idempotencyKey, limit: '1' },
      operation: 'tickets.list',
      idempotent: true,
    });
    const body = jsonOf(res);
    if (!isRecord(body) || !Array.isArray(body.data)) {
      throw new PermanentProviderError('gorgias tickets.list: unexpected response', 'bad-response');
    }
    return firstIdOf(body.data);
  }

  async open(request: TicketRequest): Promise<{ readonly ticketId: string }> {
    const existing = await this.find(request.idempotencyKey);
    if (existing !== undefined) return { ticketId: existing };
    const html = `<pre>${escapeHtml(request.body)}</pre>`;
    // With the customer's address the ticket reads as the customer's (channel api); without it, an internal note.
    const message =
      request.customerEmail !== undefined
        ? { channel: 'api', via: 'api', from_agent: false, sender: { email: request.customerEmail } }
        : { channel: 'internal-note', via: 'api', from_agent: true, sender: { email: this.config.email } };
    const ticket = {
      external_id: request.idempotencyKey,
      channel: message.channel,
      via: 'api',
      from_agent: message.from_agent,
      subject: request.subject,
      ...(request.customerEmail !== undefined ? { customer: { email: request.customerEmail } } : {}),
      tags: [{ name: 'reclaim' }],
      meta: { reclaim: { shop_id: request.shopId, cart_id: request.cartId } },
      messages: [{ ...message, subject: request.subject, body_text: request.body, body_html: html }],
    };
    const res = await this.http.request({
      method: 'POST',
      path: '/api/tickets',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(ticket),
      operation: 'tickets.create',
      idempotent: false,
    });
    const body = jsonOf(res);
    if (!isRecord(body) || (typeof body.id !== 'number' && typeof body.id !== 'string')) {
      throw new PermanentProviderError('gorgias tickets.create: unexpected response', 'bad-response');
    }
    return { ticketId: String(body.id) };
  }
}

/**
 * Zendesk Support stand-in: basic auth `{email}/token:{token}`; `POST /api/v2/tickets.json`
 * (`ticket.comment.body` or `html_body` required → 422 RecordInvalid) honouring `Idempotency-Key`
 * like Zendesk: a repeat with the same key and body within 2 hours replays the first response
 * (`x-idempotency-lookup: hit`), a repeat with another body is refused (400
 * IdempotentRequestError); `GET /api/v2/tickets.json?external_id=`.
 *
 * Customers' own tickets (support-aware copy): `openCustomerTicket` files one as a shopper would
 * (web form), `PUT /api/v2/tickets/{id}.json` `{ticket: {status}}` changes its status;
 * `GET /api/v2/search.json?query=type:ticket requester:{email} status<solved` (Search API: envelope
 * `results`/`count`/`next_page`/`previous_page`/`facets`, each result with `result_type`), and
 * `GET /api/v2/tickets/{id}.json?include=users` (side-loaded `users`). With a webhook subscribed
 * (`subscribeWebhook(url, secret)`), creates and status changes are POSTed as event-subscribed
 * webhooks (`zen:event-type:ticket.created` / `ticket.status_changed`, `detail` ids as strings and
 * status upper-case, `event` `{current, previous}`), signed like Zendesk: headers
 * `X-Zendesk-Webhook-Signature` = base64(HMAC-SHA256(secret, timestamp + body)) and
 * `X-Zendesk-Webhook-Signature-Timestamp`.
 */
import { createHash, createHmac, randomUUID } from 'node:crypto';
import {
  basicCredentials,
  EMAIL,
  header,
  isObj,
  mediaType,
  parseJson,
  type StandIn,
  type StandInRequest,
  type StandInResponse,
} from './kit';

const KEY_TTL_MS = 2 * 60 * 60 * 1000;

export interface ZendeskTicketRecord {
  readonly id: number;
  readonly subject: string | null;
  readonly description: string;
  readonly external_id: string | null;
  readonly requester_email: string | null;
  readonly tags: string[];
  readonly public: boolean;
  readonly created_at: string;
  status: ZendeskStatus;
  updated_at: string;
}

export type ZendeskStatus = 'new' | 'open' | 'pending' | 'hold' | 'solved' | 'closed';
const STATUSES: readonly ZendeskStatus[] = ['new', 'open', 'pending', 'hold', 'solved', 'closed'];
const stamp = () => new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');

function recordInvalid(field: string, description: string, error = 'BlankValue'): StandInResponse {
  return {
    status: 422,
    body: {
      error: 'RecordInvalid',
      description: 'Record validation errors',
      details: { [field]: [{ description, error }] },
    },
  };
}

export class ZendeskStandIn implements StandIn {
  readonly name = 'zendesk' as const;
  readonly tickets: ZendeskTicketRecord[] = [];
  /** Creates answered from the idempotency store instead of creating. */
  idempotentReplays = 0;
  private nextId = 35436;
  private readonly keys = new Map<string, { bodyHash: string; response: StandInResponse; at: number }>();
  private readonly users = new Map<string, number>();
  private webhook: { url: string; secret: string } | undefined;
  /** Webhook deliveries made (and the status each got; 0 = no answer). */
  readonly webhookDeliveries: { type: string; ticketId: number; status: number }[] = [];

  constructor(
    private readonly email: string,
    private readonly token: string,
    private readonly host = 'sandbox.zendesk.com',
  ) {}

  errorBody(status: number): unknown {
    if (status === 429)
      return { error: 'APIRateLimitExceeded', description: 'Number of allowed API requests per minute exceeded' };
    return { error: 'InternalError', description: 'Something went wrong' };
  }

  recordBody(req: StandInRequest): unknown {
    const parsed = parseJson(req.raw);
    return parsed.ok ? parsed.value : req.raw.toString('utf8');
  }

  handle(req: StandInRequest): StandInResponse {
    const creds = basicCredentials(req);
    if (!creds || creds[0] !== `${this.email}/token` || creds[1] !== this.token) {
      return { status: 401, body: { error: "Couldn't authenticate you" } };
    }
    if (req.path === '/api/v2/tickets.json' && req.method === 'GET') return this.list(req.query);
    if (req.path === '/api/v2/tickets.json' && req.method === 'POST') return this.createIdempotent(req);
    if (req.path === '/api/v2/search.json' && req.method === 'GET') return this.search(req.query);
    const one = /^\/api\/v2\/tickets\/(\d+)\.json$/.exec(req.path);
    if (one && req.method === 'GET') return this.show(Number(one[1]), req.query);
    if (one && req.method === 'PUT') return this.update(Number(one[1]), req);
    return { status: 404, body: { error: 'InvalidEndpoint', description: 'Not found' } };
  }

  private view(t: ZendeskTicketRecord): Record<string, unknown> {
    return {
      id: t.id,
      url: `https://${this.host}/api/v2/tickets/${t.id}.json`,
      external_id: t.external_id,
      subject: t.subject,
      raw_subject: t.subject,
      description: t.description,
      status: t.status,
      type: null,
      priority: null,
      requester_id: this.userId(t.requester_email),
      tags: t.tags,
      via: { channel: t.external_id === null && t.public ? 'web' : 'api' },
      created_at: t.created_at,
      updated_at: t.updated_at,
    };
  }

  private userId(email: string | null): number {
    if (email === null) return 1;
    const key = email.toLowerCase();
    if (!this.users.has(key)) this.users.set(key, 20978392 + this.users.size);
    return this.users.get(key)!;
  }

  /** Event-subscribed webhooks for ticket creates and status changes go to `url`, signed with `secret`. */
  subscribeWebhook(url: string, secret: string): void {
    this.webhook = { url, secret };
  }

  /** A ticket the shopper files themselves (web form): open, public, no external id. */
  openCustomerTicket(input: { email: string; subject: string; description: string }): ZendeskTicketRecord {
    const now = stamp();
    const ticket: ZendeskTicketRecord = {
      id: this.nextId++,
      subject: input.subject,
      description: input.description,
      external_id: null,
      requester_email: input.email,
      tags: [],
      public: true,
      created_at: now,
      status: 'open',
      updated_at: now,
    };
    this.tickets.push(ticket);
    void this.notify(ticket, 'ticket.created');
    return ticket;
  }

  /** Sets a ticket's status as an agent would; `undefined` when there is no such ticket. */
  setStatus(id: number, status: ZendeskStatus): ZendeskTicketRecord | undefined {
    const ticket = this.tickets.find((t) => t.id === id);
    if (ticket === undefined) return undefined;
    const previous = ticket.status;
    if (previous === status) return ticket;
    ticket.status = status;
    ticket.updated_at = stamp();
    void this.notify(ticket, 'ticket.status_changed', {
      current: status.toUpperCase(),
      previous: previous.toUpperCase(),
    });
    return ticket;
  }

  private async notify(t: ZendeskTicketRecord, type: string, event: Record<string, unknown> = {}): Promise<void> {
    const hook = this.webhook;
    if (hook === undefined) return;
    const requester = String(this.userId(t.requester_email));
    const body = JSON.stringify({
      account_id: 22129848,
      detail: {
        actor_id: requester,
        assignee_id: null,
        brand_id: '8447346621310',
        created_at: t.created_at,
        description: t.description,
        external_id: t.external_id,
        id: String(t.id),
        is_public: t.public,
        priority: null,
        requester_id: requester,
        status: t.status.toUpperCase(),
        subject: t.subject,
        submitter_id: requester,
        tags: t.tags,
        type: null,
        updated_at: t.updated_at,
        via: { channel: 'web_service' },
      },
      event,
      id: randomUUID(),
      subject: `zen:ticket:${t.id}`,
      time: new Date().toISOString(),
      type: `zen:event-type:${type}`,
      zendesk_event_version: '2022-11-06',
    });
    const timestamp = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
    const signature = createHmac('sha256', hook.secret)
      .update(timestamp + body)
      .digest('base64');
    let status = 0;
    try {
      const res = await fetch(hook.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-zendesk-webhook-signature': signature,
          'x-zendesk-webhook-signature-timestamp': timestamp,
          'x-zendesk-webhook-id': '01GFXYZSANDBOX',
        },
        body,
        signal: AbortSignal.timeout(10_000),
      });
      status = res.status;
    } catch {
      // Zendesk retries failed deliveries a few times; the stand-in records the failure only.
    }
    this.webhookDeliveries.push({ type, ticketId: t.id, status });
  }

  private search(query: URLSearchParams): StandInResponse {
    const q = query.get('query');
    if (q === null || q.trim() === '') {
      return { status: 400, body: { error: 'invalid', description: 'query parameter is required' } };
    }
    const perPage = Number(query.get('per_page') ?? '100');
    if (!Number.isInteger(perPage) || perPage < 1 || perPage > 100) {
      return { status: 400, body: { error: 'invalid', description: 'per_page must be between 1 and 100' } };
    }
    const terms = q.match(/(?:[^\s"]+|"[^"]*")+/g) ?? [];
    let type: string | undefined;
    let requester: string | undefined;
    let below: number | undefined;
    let status: string | undefined;
    for (const term of terms) {
      const m = /^([a-z_]+)(:|<|>)(.*)$/.exec(term);
      if (!m) continue;
      const value = m[3]!.replace(/^"|"$/g, '').toLowerCase();
      if (m[1] === 'type' && m[2] === ':') type = value;
      else if (m[1] === 'requester' && m[2] === ':') requester = value;
      else if (m[1] === 'status' && m[2] === '<') below = STATUSES.indexOf(value as ZendeskStatus);
      else if (m[1] === 'status' && m[2] === ':') status = value;
    }
    const results =
      type !== undefined && type !== 'ticket'
        ? []
        : this.tickets
            .filter(
              (t) =>
                (requester === undefined || t.requester_email?.toLowerCase() === requester) &&
                (below === undefined || STATUSES.indexOf(t.status) < below) &&
                (status === undefined || t.status === status),
            )
            .sort((a, b) => b.updated_at.localeCompare(a.updated_at) || b.id - a.id)
            .slice(0, perPage)
            .map((t) => ({ ...this.view(t), result_type: 'ticket' }));
    return {
      status: 200,
      headers: { 'zendesk-ratelimit-search-index': 'total=100; remaining=99; resets=60' },
      body: { count: results.length, facets: null, next_page: null, previous_page: null, results },
    };
  }

  private show(id: number, query: URLSearchParams): StandInResponse {
    const ticket = this.tickets.find((t) => t.id === id);
    if (ticket === undefined) return { status: 404, body: { error: 'RecordNotFound', description: 'Not found' } };
    const view = this.view(ticket);
    const users =
      query.get('include')?.split(',').includes('users') && ticket.requester_email !== null
        ? [{ id: view.requester_id, email: ticket.requester_email, role: 'end-user' }]
        : undefined;
    return { status: 200, body: { ticket: view, ...(users !== undefined ? { users } : {}) } };
  }

  private update(id: number, req: StandInRequest): StandInResponse {
    if (mediaType(req) !== 'application/json') return { status: 415, body: { error: 'Unsupported Media Type' } };
    const parsed = parseJson(req.raw);
    const t = parsed.ok && isObj(parsed.value) ? parsed.value.ticket : undefined;
    if (!isObj(t)) return recordInvalid('ticket', 'Ticket: is missing');
    if (t.status !== undefined && !STATUSES.includes(t.status as ZendeskStatus)) {
      return recordInvalid('status', 'Status: is not valid', 'InvalidValue');
    }
    const ticket =
      t.status !== undefined ? this.setStatus(id, t.status as ZendeskStatus) : this.tickets.find((x) => x.id === id);
    if (ticket === undefined) return { status: 404, body: { error: 'RecordNotFound', description: 'Not found' } };
    return { status: 200, body: { ticket: this.view(ticket) } };
  }

  private list(query: URLSearchParams): StandInResponse {
    const external = query.get('external_id');
    const tickets = this.tickets
      .filter((t) => external === null || t.external_id === external)
      .map((t) => this.view(t));
    return { status: 200, body: { tickets, next_page: null, previous_page: null, count: tickets.length } };
  }

  private createIdempotent(req: StandInRequest): StandInResponse {
    const key = header(req, 'idempotency-key');
    if (key === undefined) return this.create(req);
    const now = Date.now();
    for (const [k, v] of this.keys) if (now - v.at > KEY_TTL_MS) this.keys.delete(k);
    const bodyHash = createHash('sha256').update(req.raw).digest('hex');
    const stored = this.keys.get(key);
    if (stored) {
      if (stored.bodyHash !== bodyHash) {
        return {
          status: 400,
          body: {
            error: 'IdempotentRequestError',
            description: 'Request parameters do not match the original request',
          },
        };
      }
      this.idempotentReplays += 1;
      return { ...stored.response, headers: { ...stored.response.headers, 'x-idempotency-lookup': 'hit' } };
    }
    const response = this.create(req);
    if (response.status < 400) this.keys.set(key, { bodyHash, response, at: now });
    return { ...response, headers: { ...response.headers, 'x-idempotency-lookup': 'miss' } };
  }

  private create(req: StandInRequest): StandInResponse {
    if (mediaType(req) !== 'application/json') return { status: 415, body: { error: 'Unsupported Media Type' } };
    const parsed = parseJson(req.raw);
    if (!parsed.ok || !isObj(parsed.value))
      return { status: 400, body: { error: 'Unprocessable Entity', description: 'Malformed JSON' } };
    const t = parsed.value.ticket;
    if (!isObj(t)) return recordInvalid('ticket', 'Ticket: is missing');
    const comment = t.comment;
    const body = isObj(comment)
      ? typeof comment.body === 'string'
        ? comment.body
        : typeof comment.html_body === 'string'
          ? comment.html_body
          : ''
      : '';
    if (body.trim() === '') return recordInvalid('description', 'Description: cannot be blank');
    if (t.subject !== undefined && typeof t.subject !== 'string')
      return recordInvalid('subject', 'Subject: is invalid', 'InvalidValue');
    if (t.external_id !== undefined && t.external_id !== null && typeof t.external_id !== 'string') {
      return recordInvalid('external_id', 'External ID: is invalid', 'InvalidValue');
    }
    let requester: string | null = null;
    if (t.requester !== undefined) {
      if (!isObj(t.requester) || typeof t.requester.email !== 'string' || !EMAIL.test(t.requester.email)) {
        return recordInvalid('requester', 'Requester: Email is not properly formatted', 'InvalidValue');
      }
      requester = t.requester.email;
    }
    const ticket: ZendeskTicketRecord = {
      id: this.nextId++,
      subject: typeof t.subject === 'string' ? t.subject : null,
      description: body,
      external_id: typeof t.external_id === 'string' ? t.external_id : null,
      requester_email: requester,
      tags: Array.isArray(t.tags) ? t.tags.filter((x): x is string => typeof x === 'string') : [],
      public: !(isObj(comment) && comment.public === false),
      created_at: stamp(),
      status: 'new',
      updated_at: stamp(),
    };
    this.tickets.push(ticket);
    return {
      status: 201,
      headers: { location: `https://${this.host}/api/v2/tickets/${ticket.id}.json` },
      body: { ticket: this.view(ticket) },
    };
  }
}

/**
 * Zendesk Support stand-in: basic auth `{email}/token:{token}`; `POST /api/v2/tickets.json`
 * (`ticket.comment.body` or `html_body` required → 422 RecordInvalid) honouring `Idempotency-Key`
 * like Zendesk: a repeat with the same key and body within 2 hours replays the first response
 * (`x-idempotency-lookup: hit`), a repeat with another body is refused (400
 * IdempotentRequestError); `GET /api/v2/tickets.json?external_id=`.
 */
import { createHash } from 'node:crypto';
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
}

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
      status: 'new',
      type: null,
      priority: null,
      requester_id: t.requester_email === null ? 1 : 20978392 + t.id,
      tags: t.tags,
      via: { channel: 'api' },
      created_at: t.created_at,
      updated_at: t.created_at,
    };
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
      created_at: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
    };
    this.tickets.push(ticket);
    return {
      status: 201,
      headers: { location: `https://${this.host}/api/v2/tickets/${ticket.id}.json` },
      body: { ticket: this.view(ticket) },
    };
  }
}

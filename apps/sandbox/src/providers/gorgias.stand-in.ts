/**
 * Gorgias stand-in: basic auth `email:api key`; `GET /api/tickets` (filters `external_id`,
 * `customer_id`, `limit` 1..100, cursor list `{object, uri, data, meta}`) and `POST /api/tickets`
 * (messages 1..500 each with `channel`, `via`, `from_agent`, `sender`; `external_id` ≤ 255).
 * Like Gorgias, `external_id` is not unique: a second create makes a second ticket.
 * Validation errors: 400 `{error: {msg, data: {field: [reasons]}}}`.
 */
import {
  basicCredentials,
  EMAIL,
  isObj,
  mediaType,
  parseJson,
  type StandIn,
  type StandInRequest,
  type StandInResponse,
} from './kit';

const CHANNELS = [
  'aircall',
  'api',
  'chat',
  'contact_form',
  'email',
  'facebook',
  'facebook-mention',
  'help-center',
  'internal-note',
  'phone',
  'sms',
];

export interface GorgiasTicketRecord {
  readonly id: number;
  readonly external_id: string | null;
  readonly subject: string | null;
  readonly channel: string;
  readonly via: string;
  readonly customer: { id: number; email: string | null } | null;
  readonly messages: Record<string, unknown>[];
  readonly created_datetime: string;
}

function validationError(data: Record<string, unknown>): StandInResponse {
  return { status: 400, body: { error: { msg: 'Failed to create the ticket.', data } } };
}

export class GorgiasStandIn implements StandIn {
  readonly name = 'gorgias' as const;
  readonly tickets: GorgiasTicketRecord[] = [];
  private nextId = 1001;
  private readonly customers = new Map<string, number>();

  constructor(
    private readonly email: string,
    private readonly apiKey: string,
  ) {}

  errorBody(status: number): unknown {
    return { error: { msg: status === 429 ? 'Too many requests.' : 'Internal server error.' } };
  }

  recordBody(req: StandInRequest): unknown {
    const parsed = parseJson(req.raw);
    return parsed.ok ? parsed.value : req.raw.toString('utf8');
  }

  handle(req: StandInRequest): StandInResponse {
    const creds = basicCredentials(req);
    if (!creds || creds[0] !== this.email || creds[1] !== this.apiKey) {
      return { status: 401, body: { error: { msg: 'Unauthorized: invalid credentials.' } } };
    }
    const path = req.path.replace(/\/+$/, '');
    if (path === '/api/tickets' && req.method === 'GET') return this.list(req.query);
    if (path === '/api/tickets' && req.method === 'POST') return this.create(req);
    return { status: 404, body: { error: { msg: 'Not found.' } } };
  }

  private view(t: GorgiasTicketRecord): Record<string, unknown> {
    return { ...t, uri: `/api/tickets/${t.id}/`, status: 'open', from_agent: t.messages[0]?.from_agent ?? false };
  }

  private list(query: URLSearchParams): StandInResponse {
    const limit = Number(query.get('limit') ?? '30');
    if (!Number.isInteger(limit) || limit < 1 || limit > 100) {
      return {
        status: 400,
        body: { error: { msg: 'Invalid query.', data: { limit: ['Must be between 1 and 100.'] } } },
      };
    }
    const external = query.get('external_id');
    const customer = query.get('customer_id');
    const data = this.tickets
      .filter(
        (t) =>
          (external === null || t.external_id === external) &&
          (customer === null || String(t.customer?.id) === customer),
      )
      .reverse()
      .slice(0, limit)
      .map((t) => this.view(t));
    return {
      status: 200,
      body: { object: 'list', uri: '/api/tickets', data, meta: { prev_cursor: null, next_cursor: null } },
    };
  }

  private create(req: StandInRequest): StandInResponse {
    if (mediaType(req) !== 'application/json')
      return { status: 415, body: { error: { msg: 'Unsupported media type.' } } };
    const parsed = parseJson(req.raw);
    if (!parsed.ok || !isObj(parsed.value)) return validationError({ _schema: ['Invalid input type.'] });
    const t = parsed.value;
    const errors: Record<string, unknown> = {};
    if (!Array.isArray(t.messages) || t.messages.length < 1 || t.messages.length > 500) {
      errors.messages = ['Length must be between 1 and 500.'];
    } else {
      const perMessage: Record<string, Record<string, string[]>> = {};
      t.messages.forEach((m: unknown, i: number) => {
        const e: Record<string, string[]> = {};
        if (!isObj(m)) {
          perMessage[i] = { _schema: ['Invalid input type.'] };
          return;
        }
        if (typeof m.channel !== 'string' || !CHANNELS.includes(m.channel))
          e.channel = ['Must be one of the supported channels.'];
        if (typeof m.via !== 'string') e.via = ['Missing data for required field.'];
        if (typeof m.from_agent !== 'boolean') e.from_agent = ['Missing data for required field.'];
        if (!isObj(m.sender) || (m.sender.id === undefined && typeof m.sender.email !== 'string')) {
          e.sender = ['Missing data for required field.'];
        } else if (typeof m.sender.email === 'string' && !EMAIL.test(m.sender.email))
          e.sender = ['Not a valid email address.'];
        if (typeof m.body_text !== 'string' && typeof m.body_html !== 'string')
          e.body_text = ['A message needs body_text or body_html.'];
        if (Object.keys(e).length > 0) perMessage[i] = e;
      });
      if (Object.keys(perMessage).length > 0) errors.messages = perMessage;
    }
    if (t.channel !== undefined && (typeof t.channel !== 'string' || !CHANNELS.includes(t.channel)))
      errors.channel = ['Must be one of the supported channels.'];
    if (
      t.external_id !== undefined &&
      t.external_id !== null &&
      (typeof t.external_id !== 'string' || t.external_id.length > 255)
    ) {
      errors.external_id = ['Longer than maximum length 255.'];
    }
    if (
      t.customer !== undefined &&
      (!isObj(t.customer) || (typeof t.customer.email === 'string' && !EMAIL.test(t.customer.email)))
    ) {
      errors.customer = ['Not a valid customer.'];
    }
    if (Object.keys(errors).length > 0) return validationError(errors);
    const messages = t.messages as Record<string, unknown>[];
    const customerEmail =
      isObj(t.customer) && typeof t.customer.email === 'string'
        ? t.customer.email
        : messages[0]!.from_agent === false &&
            isObj(messages[0]!.sender) &&
            typeof messages[0]!.sender.email === 'string'
          ? messages[0]!.sender.email
          : null;
    let customer: GorgiasTicketRecord['customer'] = null;
    if (customerEmail !== null) {
      const key = customerEmail.toLowerCase();
      if (!this.customers.has(key)) this.customers.set(key, 5000 + this.customers.size);
      customer = { id: this.customers.get(key)!, email: customerEmail };
    }
    const ticket: GorgiasTicketRecord = {
      id: this.nextId++,
      external_id: typeof t.external_id === 'string' ? t.external_id : null,
      subject: typeof t.subject === 'string' ? t.subject : null,
      channel: typeof t.channel === 'string' ? t.channel : String(messages[0]!.channel),
      via: typeof t.via === 'string' ? t.via : 'api',
      customer,
      messages,
      created_datetime: new Date().toISOString(),
    };
    this.tickets.push(ticket);
    return { status: 201, body: this.view(ticket) };
  }
}

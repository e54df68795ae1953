/**
 * Gorgias stand-in: basic auth `email:api key`; `GET /api/tickets` (filters `external_id`,
 * `customer_id`, `limit` 1..100, cursor list `{object, uri, data, meta}`) and `POST /api/tickets`
 * (messages 1..500 each with `channel`, `via`, `from_agent`, `sender`; `external_id` ≤ 255).
 * Like Gorgias, `external_id` is not unique: a second create makes a second ticket.
 * Validation errors: 400 `{error: {msg, data: {field: [reasons]}}}`.
 *
 * Customers' own tickets (support-aware copy), after the documented customer and ticket objects:
 * `GET /api/customers?email=` (cursor list of customers), `GET /api/tickets/{id}`,
 * `PUT /api/tickets/{id}` `{status: open|closed}`; tickets carry `status` and `excerpt`.
 * `openCustomerTicket` files one as a shopper would (e-mail channel). An HTTP integration
 * (`subscribeHttpIntegration(url, secret)`) is called on "ticket created" and "ticket updated" the
 * way a merchant configures one in Gorgias: POST, JSON body from the template
 * `{"ticket_id": "{{ticket.id}}", "status": "{{ticket.status}}"}`, and the shared secret in the
 * `X-Reclaim-Secret` header the merchant adds to the integration.
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
  status: 'open' | 'closed';
}

function validationError(data: Record<string, unknown>): StandInResponse {
  return { status: 400, body: { error: { msg: 'Failed to create the ticket.', data } } };
}

export class GorgiasStandIn implements StandIn {
  readonly name = 'gorgias' as const;
  readonly tickets: GorgiasTicketRecord[] = [];
  private nextId = 1001;
  private readonly customers = new Map<string, number>();
  private integration: { url: string; secret: string } | undefined;
  /** HTTP integration calls made (and the status each got; 0 = no answer). */
  readonly integrationCalls: { ticketId: number; status: number }[] = [];

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
    if (path === '/api/customers' && req.method === 'GET') return this.listCustomers(req.query);
    const one = /^\/api\/tickets\/(\d+)$/.exec(path);
    if (one && req.method === 'GET') return this.show(Number(one[1]));
    if (one && req.method === 'PUT') return this.update(Number(one[1]), req);
    return { status: 404, body: { error: { msg: 'Not found.' } } };
  }

  private view(t: GorgiasTicketRecord): Record<string, unknown> {
    const first = t.messages[0];
    const text = typeof first?.body_text === 'string' ? first.body_text : '';
    return {
      ...t,
      uri: `/api/tickets/${t.id}/`,
      excerpt: text.slice(0, 200),
      from_agent: first?.from_agent ?? false,
    };
  }

  private customerOf(email: string): { id: number; email: string } {
    const key = email.toLowerCase();
    if (!this.customers.has(key)) this.customers.set(key, 5000 + this.customers.size);
    return { id: this.customers.get(key)!, email };
  }

  /** The merchant's HTTP integration: called on ticket created / updated with the shared secret. */
  subscribeHttpIntegration(url: string, secret: string): void {
    this.integration = { url, secret };
  }

  /** A ticket the shopper files themselves (an e-mail to support). */
  openCustomerTicket(input: { email: string; subject: string; body: string }): GorgiasTicketRecord {
    const ticket: GorgiasTicketRecord = {
      id: this.nextId++,
      external_id: null,
      subject: input.subject,
      channel: 'email',
      via: 'email',
      customer: this.customerOf(input.email),
      messages: [
        { channel: 'email', via: 'email', from_agent: false, sender: { email: input.email }, body_text: input.body },
      ],
      created_datetime: new Date().toISOString(),
      status: 'open',
    };
    this.tickets.push(ticket);
    void this.callIntegration(ticket);
    return ticket;
  }

  /** Opens or closes a ticket as an agent would; `undefined` when there is no such ticket. */
  setStatus(id: number, status: 'open' | 'closed'): GorgiasTicketRecord | undefined {
    const ticket = this.tickets.find((t) => t.id === id);
    if (ticket === undefined) return undefined;
    if (ticket.status !== status) {
      ticket.status = status;
      void this.callIntegration(ticket);
    }
    return ticket;
  }

  private async callIntegration(t: GorgiasTicketRecord): Promise<void> {
    const hook = this.integration;
    if (hook === undefined) return;
    let status = 0;
    try {
      const res = await fetch(hook.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-reclaim-secret': hook.secret },
        body: JSON.stringify({ ticket_id: String(t.id), status: t.status }),
        signal: AbortSignal.timeout(10_000),
      });
      status = res.status;
    } catch {
      // Gorgias records the failed call in the integration's log; nothing is retried here.
    }
    this.integrationCalls.push({ ticketId: t.id, status });
  }

  private listCustomers(query: URLSearchParams): StandInResponse {
    const email = query.get('email')?.toLowerCase();
    const data = [...this.customers.entries()]
      .filter(([key]) => email === undefined || key === email)
      .map(([key, id]) => ({ id, email: key, channels: [{ type: 'email', address: key }] }));
    return {
      status: 200,
      body: { object: 'list', uri: '/api/customers', data, meta: { prev_cursor: null, next_cursor: null } },
    };
  }

  private show(id: number): StandInResponse {
    const ticket = this.tickets.find((t) => t.id === id);
    return ticket === undefined
      ? { status: 404, body: { error: { msg: 'Resource not found.' } } }
      : { status: 200, body: this.view(ticket) };
  }

  private update(id: number, req: StandInRequest): StandInResponse {
    const parsed = parseJson(req.raw);
    if (mediaType(req) !== 'application/json' || !parsed.ok || !isObj(parsed.value))
      return validationError({ _schema: ['Invalid input type.'] });
    const status = parsed.value.status;
    if (status !== undefined && status !== 'open' && status !== 'closed')
      return validationError({ status: ['Must be one of: open, closed.'] });
    const ticket =
      status === undefined ? this.tickets.find((t) => t.id === id) : this.setStatus(id, status as 'open' | 'closed');
    return ticket === undefined
      ? { status: 404, body: { error: { msg: 'Resource not found.' } } }
      : { status: 200, body: this.view(ticket) };
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
    const customer: GorgiasTicketRecord['customer'] = customerEmail !== null ? this.customerOf(customerEmail) : null;
    const ticket: GorgiasTicketRecord = {
      id: this.nextId++,
      external_id: typeof t.external_id === 'string' ? t.external_id : null,
      subject: typeof t.subject === 'string' ? t.subject : null,
      channel: typeof t.channel === 'string' ? t.channel : String(messages[0]!.channel),
      via: typeof t.via === 'string' ? t.via : 'api',
      customer,
      messages,
      created_datetime: new Date().toISOString(),
      status: 'open',
    };
    this.tickets.push(ticket);
    return { status: 201, body: this.view(ticket) };
  }
}

import {
  PermanentProviderError,
  ProviderOutcomeUnknownError,
  RetryableProviderError,
  type TicketRequest,
} from '@reclaim/ports';
import { GorgiasTickets } from '@reclaim/providers/gorgias';
import { ZendeskTickets } from '@reclaim/providers/zendesk';
import { type ProviderSandbox, startProviderSandbox } from '../sandbox';
import { captureLog, expectNoLeak, fakeTime } from './contract-kit';

const CUSTOMER = 'big.spender@example.org';

function ticket(key: string, overrides: Partial<TicketRequest> = {}): TicketRequest {
  return {
    idempotencyKey: key,
    shopId: 'shop-1',
    cartId: 'cart-1',
    subject: 'High-value cart abandoned (249.90 EUR)',
    body: '2 × Walnut desk — 249.90 EUR\nCheckout: https://shop.example/checkouts/abc',
    customerEmail: CUSTOMER,
    ...overrides,
  };
}

let sandbox: ProviderSandbox;
const closers: { close(): Promise<void> }[] = [];
beforeAll(async () => {
  sandbox = await startProviderSandbox();
});
afterAll(async () => {
  await Promise.all(closers.map((c) => c.close()));
  await sandbox.stop();
});
afterEach(() => sandbox.clearFaults());

describe('Gorgias adapter against its stand-in', () => {
  function setup(overrides: { apiKey?: string; timeoutMs?: number; maxAttempts?: number } = {}) {
    const time = fakeTime();
    const log = captureLog();
    const waits: number[] = [];
    const tickets = new GorgiasTickets(
      {
        apiUrl: sandbox.urls.gorgias,
        email: sandbox.credentials.gorgiasEmail,
        apiKey: overrides.apiKey ?? sandbox.credentials.gorgiasApiKey,
        timeoutMs: overrides.timeoutMs,
      },
      {
        log,
        sleep: time.sleep,
        now: time.now,
        random: () => 0.5,
        retry: { maxAttempts: overrides.maxAttempts ?? 3 },
        onRateLimitWait: (w) => waits.push(w.waitedMs),
      },
    );
    closers.push(tickets);
    return { tickets, time, log, waits };
  }
  const stored = (key: string) => sandbox.stores.gorgias.tickets.filter((t) => t.external_id === key);

  it('creates an api-channel ticket with external_id, customer and the cart body', async () => {
    const { tickets, log } = setup();
    const { ticketId } = await tickets.open(ticket('rec-1:ticket'));
    const [t] = stored('rec-1:ticket');
    expect(String(t!.id)).toBe(ticketId);
    expect(t).toMatchObject({ channel: 'api', via: 'api', customer: { email: CUSTOMER } });
    expect(t!.messages[0]).toMatchObject({ channel: 'api', from_agent: false, sender: { email: CUSTOMER } });
    expect(String(t!.messages[0]!.body_text)).toContain('Walnut desk');
    expectNoLeak(log.lines, [CUSTOMER, sandbox.credentials.gorgiasApiKey]);
  });

  it('opens a retried request once (looked up by external_id first)', async () => {
    const { tickets } = setup();
    const a = await tickets.open(ticket('rec-2:ticket'));
    const b = await tickets.open(ticket('rec-2:ticket'));
    expect(b).toEqual(a);
    expect(stored('rec-2:ticket')).toHaveLength(1);
  });

  it('without a customer address the ticket is an internal note from the API user', async () => {
    const { tickets } = setup();
    await tickets.open(ticket('rec-2b:ticket', { customerEmail: undefined }));
    expect(stored('rec-2b:ticket')[0]!.messages[0]).toMatchObject({ channel: 'internal-note', from_agent: true });
  });

  it('bad credentials are a permanent 401', async () => {
    const { tickets } = setup({ apiKey: 'nope' });
    const err = await tickets.open(ticket('rec-3:ticket')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PermanentProviderError);
    expect((err as PermanentProviderError).code).toBe('401');
  });

  it('a validation error is permanent and names fields, not values', async () => {
    const { tickets, log } = setup();
    const err = await tickets
      .open(ticket('rec-4:ticket', { customerEmail: 'not an address' }))
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PermanentProviderError);
    expect((err as PermanentProviderError).code).toBe('400:customer,messages');
    expect(stored('rec-4:ticket')).toHaveLength(0);
    expectNoLeak(log.lines, ['not an address']);
  });

  it('honours Retry-After on 429 and retries 5xx reads', async () => {
    const { tickets, time } = setup();
    sandbox.injectFault({ provider: 'gorgias', method: 'GET', kind: 'status', status: 429, retryAfter: '3' });
    sandbox.injectFault({ provider: 'gorgias', method: 'GET', kind: 'status', status: 500 });
    await tickets.open(ticket('rec-5:ticket'));
    expect(time.sleeps[0]).toBe(3000);
    expect(time.sleeps).toHaveLength(2);
    expect(stored('rec-5:ticket')).toHaveLength(1);
  });

  it('a timeout after the create went out is unknown; the retry finds the ticket instead of duplicating it', async () => {
    const { tickets } = setup({ timeoutMs: 300 });
    sandbox.injectFault({ provider: 'gorgias', method: 'POST', kind: 'process-then-hang' });
    await expect(tickets.open(ticket('rec-6:ticket'))).rejects.toBeInstanceOf(ProviderOutcomeUnknownError);
    const { ticketId } = await tickets.open(ticket('rec-6:ticket'));
    expect(stored('rec-6:ticket')).toHaveLength(1);
    expect(String(stored('rec-6:ticket')[0]!.id)).toBe(ticketId);
  });

  it('waits for the 40 / 20 s limit instead of failing', async () => {
    const { tickets, waits } = setup();
    // 21 opens = 42 requests (lookup + create): the last two wait for refill.
    for (let i = 0; i < 21; i++) await tickets.open(ticket(`rate-${i}:ticket`));
    expect(waits.length).toBeGreaterThanOrEqual(2);
    expect(waits.every((w) => w > 0 && w <= 500)).toBe(true);
  });
});

describe('Zendesk adapter against its stand-in', () => {
  function setup(overrides: { token?: string; timeoutMs?: number; maxAttempts?: number; ratePerMinute?: number } = {}) {
    const time = fakeTime();
    const log = captureLog();
    const waits: number[] = [];
    const tickets = new ZendeskTickets(
      {
        apiUrl: sandbox.urls.zendesk,
        email: sandbox.credentials.zendeskEmail,
        apiToken: overrides.token ?? sandbox.credentials.zendeskApiToken,
        timeoutMs: overrides.timeoutMs,
        ratePerMinute: overrides.ratePerMinute,
      },
      {
        log,
        sleep: time.sleep,
        now: time.now,
        random: () => 0.5,
        retry: { maxAttempts: overrides.maxAttempts ?? 3 },
        onRateLimitWait: (w) => waits.push(w.waitedMs),
      },
    );
    closers.push(tickets);
    return { tickets, time, log, waits };
  }
  const stored = (key: string) => sandbox.stores.zendesk.tickets.filter((t) => t.external_id === key);

  it('creates a ticket with the Idempotency-Key header and a private comment', async () => {
    const { tickets, log } = setup();
    const { ticketId } = await tickets.open(ticket('z-1:ticket'));
    const [t] = stored('z-1:ticket');
    expect(String(t!.id)).toBe(ticketId);
    expect(t).toMatchObject({ requester_email: CUSTOMER, public: false });
    const post = sandbox
      .received('zendesk')
      .filter((r) => r.method === 'POST')
      .at(-1)!;
    expect(post.headers['idempotency-key']).toBe('z-1:ticket');
    expectNoLeak(log.lines, [CUSTOMER, sandbox.credentials.zendeskApiToken]);
  });

  it('a create whose answer was lost is retried with the same key and replayed, not duplicated', async () => {
    const { tickets } = setup({ timeoutMs: 300, maxAttempts: 2 });
    const replaysBefore = sandbox.stores.zendesk.idempotentReplays;
    sandbox.injectFault({ provider: 'zendesk', method: 'POST', kind: 'process-then-hang' });
    const { ticketId } = await tickets.open(ticket('z-2:ticket'));
    expect(stored('z-2:ticket')).toHaveLength(1);
    expect(String(stored('z-2:ticket')[0]!.id)).toBe(ticketId);
    expect(sandbox.stores.zendesk.idempotentReplays).toBe(replaysBefore + 1);
  });

  it('out of retries, a lost answer is unknown; opening again later finds the ticket', async () => {
    const { tickets } = setup({ timeoutMs: 300, maxAttempts: 1 });
    sandbox.injectFault({ provider: 'zendesk', method: 'POST', kind: 'process-then-hang' });
    await expect(tickets.open(ticket('z-3:ticket'))).rejects.toBeInstanceOf(ProviderOutcomeUnknownError);
    await tickets.open(ticket('z-3:ticket'));
    expect(stored('z-3:ticket')).toHaveLength(1);
  });

  it('bad credentials are a permanent 401', async () => {
    const { tickets } = setup({ token: 'wrong' });
    const err = await tickets.open(ticket('z-4:ticket')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PermanentProviderError);
    expect((err as PermanentProviderError).code).toBe('401');
  });

  it('a blank description is a permanent RecordInvalid', async () => {
    const { tickets } = setup();
    const err = await tickets.open(ticket('z-5:ticket', { body: '   ' })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PermanentProviderError);
    expect((err as PermanentProviderError).code).toBe('RecordInvalid:description');
  });

  it('honours Retry-After on 429 and retries a 5xx create under the same key', async () => {
    const { tickets, time } = setup();
    sandbox.injectFault({ provider: 'zendesk', method: 'POST', kind: 'status', status: 429, retryAfter: '4' });
    sandbox.injectFault({ provider: 'zendesk', method: 'POST', kind: 'status', status: 502 });
    await tickets.open(ticket('z-6:ticket'));
    expect(time.sleeps[0]).toBe(4000);
    expect(time.sleeps).toHaveLength(2);
    expect(stored('z-6:ticket')).toHaveLength(1);
  });

  it('waits for the plan limit instead of failing', async () => {
    const { tickets, waits } = setup({ ratePerMinute: 3 });
    await tickets.open(ticket('z-7:ticket'));
    await tickets.open(ticket('z-8:ticket'));
    expect(waits).toEqual([20_000]);
    expect(stored('z-8:ticket')).toHaveLength(1);
  });
});

describe("customers' own tickets, read from each help desk's stand-in", () => {
  const SHOPPER = 'asked.support@example.org';
  const setups = {
    gorgias: () =>
      new GorgiasTickets(
        {
          apiUrl: sandbox.urls.gorgias,
          email: sandbox.credentials.gorgiasEmail,
          apiKey: sandbox.credentials.gorgiasApiKey,
          lookupTimeoutMs: 300,
        },
        { random: () => 0.5 },
      ),
    zendesk: () =>
      new ZendeskTickets(
        {
          apiUrl: sandbox.urls.zendesk,
          email: sandbox.credentials.zendeskEmail,
          apiToken: sandbox.credentials.zendeskApiToken,
          lookupTimeoutMs: 300,
        },
        { random: () => 0.5 },
      ),
  };

  it.each(['gorgias', 'zendesk'] as const)(
    '%s: lists the open tickets the shopper filed (never ours, never closed ones) and names the requester',
    async (desk) => {
      const tickets = setups[desk]();
      closers.push(tickets);
      const email = `${desk}.${SHOPPER}`;
      expect(await tickets.openTicketsOf(email)).toEqual([]);
      // Our own proactive ticket for this shopper is not their question.
      await tickets.open(ticket(`recovery-shop-1-cart-${desk}:ticket`, { customerEmail: email }));
      const asked =
        desk === 'zendesk'
          ? sandbox.stores.zendesk.openCustomerTicket({
              email,
              subject: 'Walnut desk: which wood oil?',
              description: 'Hi, is the Walnut desk oiled?',
            })
          : sandbox.stores.gorgias.openCustomerTicket({
              email,
              subject: 'Walnut desk: which wood oil?',
              body: 'Hi, is the Walnut desk oiled?',
            });
      const older =
        desk === 'zendesk'
          ? sandbox.stores.zendesk.openCustomerTicket({ email, subject: 'Old question', description: 'x' })
          : sandbox.stores.gorgias.openCustomerTicket({ email, subject: 'Old question', body: 'x' });
      if (desk === 'zendesk') sandbox.stores.zendesk.setStatus(older.id, 'solved');
      else sandbox.stores.gorgias.setStatus(older.id, 'closed');
      const open = await tickets.openTicketsOf(email);
      expect(open).toEqual([
        {
          ticketId: String(asked.id),
          subject: 'Walnut desk: which wood oil?',
          text: 'Hi, is the Walnut desk oiled?',
        },
      ]);
      expect(await tickets.requesterOf(String(asked.id))).toBe(email);
      expect(await tickets.requesterOf('999999')).toBeUndefined();
      expect(await tickets.openTicketsOf(`nobody.${SHOPPER}`)).toEqual([]);
    },
  );

  it.each(['gorgias', 'zendesk'] as const)(
    '%s: a lookup that hangs fails fast (one attempt, short timeout) with a retryable error',
    async (desk) => {
      const tickets = setups[desk]();
      closers.push(tickets);
      sandbox.injectFault({ provider: desk, method: 'GET', kind: 'hang', times: 3 });
      const started = Date.now();
      const failure = tickets.openTicketsOf(SHOPPER);
      await expect(failure).rejects.toBeInstanceOf(RetryableProviderError);
      await expect(failure).rejects.toMatchObject({ code: 'timeout' });
      expect(Date.now() - started).toBeLessThan(3_000);
    },
  );

  it('zendesk: the search asks for open tickets of the requester, in the Search API syntax', async () => {
    const tickets = setups.zendesk();
    closers.push(tickets);
    await tickets.openTicketsOf('a b"c@example.org');
    const last = sandbox.received('zendesk').at(-1)!;
    expect(last.path).toBe('/api/v2/search.json');
    expect(last.query.query).toBe('type:ticket requester:"a bc@example.org" status<solved');
  });
});

describe("the sandbox's control API for customers' tickets", () => {
  const control = (path: string, body: unknown) =>
    fetch(`${sandbox.urls.control}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });

  it.each(['zendesk', 'gorgias'] as const)(
    '%s: files a ticket, changes its status, and names what is missing',
    async (desk) => {
      const email = `control.${desk}@example.org`;
      const filed = await control(`/${desk}/tickets`, { email, subject: 'Lamp bulbs?', body: 'Which bulbs fit?' });
      expect(filed.status).toBe(201);
      const { id } = (await filed.json()) as { id: number };
      const tickets = desk === 'zendesk' ? setupZendesk() : setupGorgias();
      expect((await tickets.openTicketsOf(email)).map((t) => t.ticketId)).toEqual([String(id)]);
      const closing = desk === 'zendesk' ? 'solved' : 'closed';
      expect((await control(`/${desk}/tickets/${id}/status`, { status: closing })).status).toBe(200);
      expect(await tickets.openTicketsOf(email)).toEqual([]);
      expect((await control(`/${desk}/tickets/${id}/status`, { status: 'gone' })).status).toBe(400);
      expect((await control(`/${desk}/tickets/999999/status`, { status: closing })).status).toBe(404);
      expect((await control(`/${desk}/tickets`, { email })).status).toBe(400);
      expect((await control(`/${desk}/webhook`, { url: 'http://127.0.0.1:9/x' })).status).toBe(400);
    },
  );

  function setupZendesk() {
    const t = new ZendeskTickets({
      apiUrl: sandbox.urls.zendesk,
      email: sandbox.credentials.zendeskEmail,
      apiToken: sandbox.credentials.zendeskApiToken,
    });
    closers.push(t);
    return t;
  }
  function setupGorgias() {
    const t = new GorgiasTickets({
      apiUrl: sandbox.urls.gorgias,
      email: sandbox.credentials.gorgiasEmail,
      apiKey: sandbox.credentials.gorgiasApiKey,
    });
    closers.push(t);
    return t;
  }
});

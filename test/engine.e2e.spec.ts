/**
 * The recovery engine inside the appliance, end to end: signed Shopify webhooks through HTTP, the
 * engine role on its real schedule with short durations, email into the local outbox, tickets and
 * discount codes through fakes, unsubscribe and click through the public links, and the audit
 * history through the admin API. Only polling (`eventually`), never fixed sleeps as assertions.
 */
import { randomUUID } from 'node:crypto';
import { FakeCommerce, FakeTickets } from '@reclaim/testing/fakes';
import { ANALYST_TOKEN, api, eventually, hmacBase64, post, startHarness, type Harness } from './support/harness';
import { shopifyCheckout, shopifyOrder } from './support/payloads';

const SECRET = 'shpss_engine_secret';
const DOMAIN = 'lamps.myshopify.com';
const POSTAL = '1 Analytical Way, London EC1A 1AA';

interface OutboxRow {
  messageId: string;
  recoveryId: string;
  step: number;
  recipient: string | null;
  subject: string;
  html: string;
  text: string;
  headers: Record<string, string>;
}

interface HistoryEntry {
  kind: string;
  step?: number;
  reason?: string;
  channel?: string;
  discountCode?: string;
  channelsSkipped?: { channel: string; reason: string }[];
  sent?: { discount?: { percent: number }; consentUsed?: { basis: string } };
  event: { type: string; [k: string]: unknown };
}

describe('recovery engine through HTTP (abandonment → steps → purchase / unsubscribe → audit)', () => {
  let h: Harness;
  let shopId: string;
  const tickets = new FakeTickets();
  const commerce = new FakeCommerce();

  beforeAll(async () => {
    h = await startHarness(
      {
        ABANDON_AFTER: '2s',
        // Generous follow-ups: the buyer's order must land between step 0 and step 1 even on a loaded CI machine.
        FOLLOW_UP_DELAYS: '6s,8s',
        HOLDOUT_PERCENT: '0',
        TIMER_TICK: '200ms',
        PUBLIC_URL: 'https://reclaim.test',
        MERCHANT_NAME: 'Lumen Lamps',
        MERCHANT_POSTAL_ADDRESS: POSTAL,
      },
      { adapters: { tickets, commerce } },
    );
    const res = await api(h, 'POST', '/api/shops', {
      platform: 'shopify',
      shopDomain: DOMAIN,
      webhookSecret: SECRET,
      apiUrl: `https://${DOMAIN}/admin/api/2025-01`,
      apiToken: 'shpat_engine_token',
      currency: 'USD',
      timezone: 'America/New_York',
    });
    expect(res.status).toBe(201);
    shopId = res.body.id;
  });

  afterAll(async () => {
    await h?.close();
  });

  function signed(topic: string, body: string) {
    return post(h, '/webhooks/shopify', body, {
      'content-type': 'application/json',
      'x-shopify-topic': topic,
      'x-shopify-shop-domain': DOMAIN,
      'x-shopify-api-version': '2025-01',
      'x-shopify-webhook-id': randomUUID(),
      'x-shopify-hmac-sha256': hmacBase64(SECRET, body),
    });
  }

  async function outbox(): Promise<OutboxRow[]> {
    const res = await api(h, 'GET', `/api/shops/${shopId}/outbox?limit=500`);
    expect(res.status).toBe(200);
    return res.body as OutboxRow[];
  }

  // Shopify checkouts are keyed by their cart token (`cart-<checkout token>` in the payloads).
  const recoveryOf = (token: string) => `recovery-${shopId}-cart-${token}`;
  const sentFor = (rows: OutboxRow[], token: string) =>
    rows.filter((r) => r.recoveryId === recoveryOf(token)).sort((a, b) => a.step - b.step);

  async function history(email: string): Promise<HistoryEntry[]> {
    const key = h.runtime.vault.subjectFor(shopId, { email }) as string;
    const res = await api(h, 'GET', `/api/customers/${shopId}/${key}/history`, undefined, ANALYST_TOKEN);
    expect(res.status).toBe(200);
    return res.body.entries as HistoryEntry[];
  }

  it('validates settings and sequences, read-only for the analyst, 404 for an unknown shop', async () => {
    const bad = await api(h, 'PUT', `/api/shops/${shopId}/settings`, {
      mode: 'loud',
      holdoutPercent: 140,
      utm: { campaign: '{cart}' },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.errors.map((e: { field: string }) => e.field).sort()).toEqual([
      'holdoutPercent',
      'mode',
      'utm.campaign',
    ]);
    const analyst = await api(h, 'PUT', `/api/shops/${shopId}/settings`, { mode: 'live' }, ANALYST_TOKEN);
    expect(analyst.status).toBe(403);
    expect((await api(h, 'GET', `/api/shops/${shopId}/outbox`, undefined, ANALYST_TOKEN)).status).toBe(403);
    expect((await api(h, 'GET', `/api/shops/${randomUUID()}/settings`)).status).toBe(404);
    expect((await api(h, 'GET', `/api/shops/${randomUUID()}/sequences`)).status).toBe(404);

    // The checkout links of the test payloads point at the storefront's custom domain.
    const ok = await api(h, 'PUT', `/api/shops/${shopId}/settings`, {
      mode: 'live',
      domainAliases: ['shop.example'],
      utm: { campaign: 'recovery-{sequence}-{step}' },
    });
    expect(ok.status).toBe(200);
    expect(ok.body.effective).toMatchObject({
      mode: 'live',
      holdoutPercent: 0,
      postalAddress: POSTAL,
      utm: {
        enabled: true,
        source: 'reclaim',
        medium: { email: 'email', sms: 'sms' },
        campaign: 'recovery-{sequence}-{step}',
      },
    });

    const current = await api(h, 'GET', `/api/shops/${shopId}/sequences`, undefined, ANALYST_TOKEN);
    expect(current.status).toBe(200);
    expect(current.body.version).toBe(1);
    expect(current.body.sequences.map((s: { id: string }) => s.id)).toEqual([
      'premium',
      'loyalty',
      'welcome',
      'short',
      'nurture',
    ]);
    const invalidSeq = await api(h, 'PUT', `/api/shops/${shopId}/sequences`, {
      sequences: [{ ...current.body.sequences[2], steps: [] }],
    });
    expect(invalidSeq.status).toBe(400);
    expect(invalidSeq.body.errors[0].field).toMatch(/^sequences\[0\]\.steps/);
    const badTemplate = await api(h, 'PUT', `/api/shops/${shopId}/templates/welcome-0`, {
      channel: 'email',
      subject: 'Hi {{constructor.name}}',
      mjml: '<mjml><mj-body></mj-body></mjml>',
      text: 'hi',
    });
    expect(badTemplate.status).toBe(400);
    expect(badTemplate.body.errors[0].field).toBe('subject');
  });

  it('recovers carts: steps with escalating unique discounts, a ticket only ≥ 200, nothing after purchase or unsubscribe', async () => {
    // The settings this test relies on, as the test above leaves them (so it also runs on its own):
    // live, the storefront's custom domain for the click redirect, the UTM campaign it checks.
    const settings = await api(h, 'PUT', `/api/shops/${shopId}/settings`, {
      mode: 'live',
      domainAliases: ['shop.example'],
      utm: { campaign: 'recovery-{sequence}-{step}' },
    });
    expect(settings.status).toBe(200);
    const now = new Date().toISOString();
    const high = `hi-${randomUUID()}`;
    const low = `lo-${randomUUID()}`;
    const buyer = `buy-${randomUUID()}`;
    const leaver = `unsub-${randomUUID()}`;
    const carts = [
      { token: high, email: 'hi@example.com', price: '249.00', phone: undefined },
      { token: low, email: 'lo@example.com', price: '50.00', phone: null },
      { token: buyer, email: 'ada@example.com', price: '80.00', phone: null },
      { token: leaver, email: 'dee@example.com', price: '60.00', phone: null },
    ];
    for (const c of carts) {
      const body = shopifyCheckout({ token: c.token, updatedAt: now, email: c.email, price: c.price, phone: c.phone });
      expect((await signed('checkouts/update', body)).status).toBe(200);
    }

    // Step 0 for every cart, at abandonment (ABANDON_AFTER=2s).
    const first = await eventually(async () => {
      const rows = await outbox();
      return carts.every((c) => sentFor(rows, c.token).length >= 1) ? rows : undefined;
    }, 30_000);

    // The buyer clicks the step-0 link, then orders: no later step, the order is attributed.
    const buyerMail = sentFor(first, buyer)[0];
    const click = /https:\/\/reclaim\.test(\/t\/c\/[A-Za-z0-9._~-]+)/.exec(buyerMail.html);
    expect(click).not.toBeNull();
    const clicked = await fetch(`${h.baseUrl}${(click as RegExpExecArray)[1]}`, { redirect: 'manual' });
    expect(clicked.status).toBe(302);
    const landing = new URL(clicked.headers.get('location') as string);
    expect(landing.host).toBe('shop.example');
    // The shop's analytics see the recovery: UTM parameters survive the click redirect.
    expect(landing.searchParams.get('utm_source')).toBe('reclaim');
    expect(landing.searchParams.get('utm_medium')).toBe('email');
    expect(landing.searchParams.get('utm_campaign')).toMatch(/^recovery-[a-z-]+-0$/);
    // The shopper lands on the store and orders a little later: the click is on record by then.
    // Recorded through the engine's engagement path (held until the send record lands, then
    // applied): give it the step-0 wait's 30 s, not the default 15 s, on a loaded CI machine.
    await eventually(
      async () => (await history('ada@example.com')).some((e) => e.event.type === 'recovery.message-clicked'),
      30_000,
    );
    expect(
      (await signed('orders/create', shopifyOrder({ checkoutToken: buyer, placedAt: new Date().toISOString() })))
        .status,
    ).toBe(200);

    // The leaver unsubscribes with the one-click POST named in the List-Unsubscribe header (R25).
    const leaverMail = sentFor(first, leaver)[0];
    const unsubscribe = /^<https:\/\/reclaim\.test(\/u\/[^>]+)>$/.exec(leaverMail.headers['List-Unsubscribe']);
    expect(unsubscribe).not.toBeNull();
    const res = await fetch(`${h.baseUrl}${(unsubscribe as RegExpExecArray)[1]}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'List-Unsubscribe=One-Click',
    });
    expect(res.status).toBe(200);

    // The high-value and the low-value cart run all three steps (0 s, 6 s, 8 s after abandonment).
    const all = await eventually(async () => {
      const rows = await outbox();
      return sentFor(rows, high).length === 3 && sentFor(rows, low).length === 3 ? rows : undefined;
    }, 30_000);

    // Nothing after the purchase, nothing after the unsubscribe: their recoveries ended or skipped.
    const buyerHistory = await eventually(async () => {
      const entries = await history('ada@example.com');
      const ended = entries.find((e) => e.kind === 'ended');
      return ended && entries.some((e) => e.event.type === 'recovery.order-attributed') ? entries : undefined;
    });
    expect(buyerHistory.find((e) => e.kind === 'ended')?.reason).toBe('purchased');
    expect(buyerHistory.find((e) => e.event.type === 'recovery.message-clicked')).toMatchObject({ step: 0 });
    expect(buyerHistory.find((e) => e.event.type === 'recovery.order-attributed')?.event).toMatchObject({
      step: 0,
      channel: 'email',
      messageId: buyerMail.messageId,
      revenue: '249',
      currency: 'USD',
      landingSite: '/products/lamp',
    });
    expect(sentFor(all, buyer).map((r) => r.step)).toEqual([0]);
    const leaverHistory = await eventually(async () => {
      const entries = await history('dee@example.com');
      return entries.some((e) => e.kind === 'ended') ? entries : undefined;
    });
    expect(leaverHistory.find((e) => e.kind === 'ended')?.reason).toBe('opted-out');
    expect(leaverHistory.filter((e) => e.kind === 'sent').map((e) => e.step)).toEqual([0]);
    expect(sentFor(all, leaver).map((r) => r.step)).toEqual([0]);

    // Escalating, unique discount codes: none at step 0, then 5 % and 10 %, each in its message.
    const highMails = sentFor(all, high);
    const codes = commerce.codes.filter((c) => c.cartId === `cart-${high}`);
    expect(codes.map((c) => c.percent)).toEqual([5, 10]);
    expect(new Set(codes.map((c) => c.code)).size).toBe(2);
    expect(highMails[0].html).not.toContain('RECLAIM-');
    expect(highMails[1].html).toContain(codes[0].code);
    expect(highMails[2].html).toContain(codes[1].code);

    // One ticket for the cart ≥ TICKET_THRESHOLD, none for the others.
    await eventually(async () => tickets.tickets.length >= 1);
    expect(tickets.tickets.map((t) => t.cartId)).toEqual([`cart-${high}`]);

    // Every email: List-Unsubscribe (https) + One-Click, the postal address, a masked recipient.
    for (const mail of all) {
      expect(mail.headers['List-Unsubscribe']).toMatch(/^<https:\/\/reclaim\.test\/u\/[^>]+>$/);
      expect(mail.headers['List-Unsubscribe-Post']).toBe('List-Unsubscribe=One-Click');
      expect(mail.html).toContain('1 Analytical Way');
      expect(mail.text).toContain('1 Analytical Way');
      expect(mail.recipient).toMatch(/^[a-z]\*\*\*@example\.com$/);
    }

    // The audit history lists every step with its reasons and decision inputs.
    const highHistory = await history('hi@example.com');
    const sent = highHistory.filter((e) => e.kind === 'sent');
    expect(sent.map((e) => e.step)).toEqual([0, 1, 2]);
    expect(sent.map((e) => e.sent?.discount?.percent ?? 0)).toEqual([0, 5, 10]);
    expect(sent.map((e) => e.discountCode)).toEqual([undefined, codes[0].code, codes[1].code]);
    // Premium asks for SMS too: no SMS provider, so the email was used and the reason recorded.
    expect(sent[0].channelsSkipped).toEqual([{ channel: 'sms', reason: 'channel-unavailable' }]);
    expect(sent[0].sent?.consentUsed?.basis).toBe('subscribed');
    expect(highHistory.some((e) => e.kind === 'ticket-opened')).toBe(true);
    expect(highHistory.map((e) => e.kind)).toEqual(expect.arrayContaining(['started', 'step-due', 'sent']));
    const lowHistory = await history('lo@example.com');
    expect(lowHistory.some((e) => e.kind === 'ticket-requested')).toBe(false);
    expect(lowHistory.filter((e) => e.kind === 'sent').map((e) => e.step)).toEqual([0, 1, 2]);
  });
});

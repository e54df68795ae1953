/**
 * Out of stock, end to end: signed Shopify checkouts through HTTP, the engine on its real schedule,
 * the store behind the commerce port (FakeCommerce: stock per line, the store's suggestions per
 * product). A sold-out line is replaced by an in-stock alternative the store suggests, or, when
 * none fits, announced as sold out; a failing suggestion lookup announces it too, and is visible in
 * the customer history and in /metrics. A line announced as sold out is watched: when the store's
 * products/update webhook reports it back (and the store confirms), one back-in-stock message
 * follows, through the same pre-send checks.
 */
import { randomUUID } from 'node:crypto';
import { RetryableProviderError } from '@reclaim/ports';
import { FakeCommerce } from '@reclaim/testing/fakes';
import { ANALYST_TOKEN, api, eventually, hmacBase64, post, startHarness, type Harness } from './support/harness';
import { shopifyCheckout } from './support/payloads';

const SECRET = 'shpss_stock_secret';
const DOMAIN = 'totes.myshopify.com';

interface OutboxRow {
  recoveryId: string;
  step: number;
  subject: string;
  html: string;
  text: string;
}

interface HistoryEntry {
  kind: string;
  step?: number;
  reason?: string;
  detail?: string;
  error?: string;
  sent?: { leftOut: string[]; replaced?: { lineId: string; productId: string }[]; cartValue: string };
  soldOut?: {
    lineId: string;
    lookup: string;
    alternative?: { productId: string };
    considered: { verdict: string }[];
  }[];
  messageId?: string;
  event: { type: string };
}

describe('out-of-stock lines: an alternative from the store, or announced as sold out', () => {
  let h: Harness;
  let shopId: string;
  const commerce = new FakeCommerce();

  beforeAll(async () => {
    h = await startHarness(
      {
        ABANDON_AFTER: '1s',
        FOLLOW_UP_DELAYS: '1h',
        HOLDOUT_PERCENT: '0',
        TIMER_TICK: '200ms',
        PUBLIC_URL: 'https://reclaim.test',
        MERCHANT_NAME: 'Tote Shop',
        MERCHANT_POSTAL_ADDRESS: '1 Canvas Street, Leeds LS1 1AA',
      },
      { adapters: { commerce } },
    );
    const res = await api(h, 'POST', '/api/shops', {
      platform: 'shopify',
      shopDomain: DOMAIN,
      webhookSecret: SECRET,
      apiUrl: `https://${DOMAIN}/admin/api/2025-10`,
      apiToken: 'shpat_stock_token',
      currency: 'USD',
      timezone: 'UTC',
    });
    expect(res.status).toBe(201);
    shopId = res.body.id;
  });

  afterAll(async () => {
    await h?.close();
  });

  function checkout(token: string, email: string, lines: Parameters<typeof shopifyCheckout>[0]['lines']) {
    const total = (lines ?? []).reduce((sum, l) => sum + Number(l.price) * (l.quantity ?? 1), 0).toFixed(2);
    const body = shopifyCheckout({
      token,
      updatedAt: new Date().toISOString(),
      email,
      price: total,
      phone: null,
      lines,
    });
    return post(h, '/webhooks/shopify', body, {
      'content-type': 'application/json',
      'x-shopify-topic': 'checkouts/update',
      'x-shopify-shop-domain': DOMAIN,
      'x-shopify-api-version': '2025-10',
      'x-shopify-webhook-id': randomUUID(),
      'x-shopify-hmac-sha256': hmacBase64(SECRET, body),
    });
  }

  async function firstMessage(token: string, step = 0): Promise<OutboxRow> {
    return eventually(async () => {
      const res = await api(h, 'GET', `/api/shops/${shopId}/outbox?limit=100`);
      return (res.body as OutboxRow[]).find(
        (r) => r.recoveryId === `recovery-${shopId}-cart-${token}` && r.step === step,
      );
    }, 30_000);
  }

  function productUpdate(productId: string, variantId: string, quantity: number) {
    const body = `{"id": ${productId}, "title": "Market tote", "status": "active", "updated_at": "${new Date().toISOString()}",
      "variants": [{"id": ${variantId}, "product_id": ${productId}, "inventory_management": "shopify", "inventory_policy": "deny", "inventory_quantity": ${quantity}}]}`;
    return post(h, '/webhooks/shopify', body, {
      'content-type': 'application/json',
      'x-shopify-topic': 'products/update',
      'x-shopify-shop-domain': DOMAIN,
      'x-shopify-api-version': '2025-10',
      'x-shopify-webhook-id': randomUUID(),
      'x-shopify-hmac-sha256': hmacBase64(SECRET, body),
    });
  }

  /** The customer history once the step's send is recorded (the outbox row comes a moment before). */
  async function history(email: string): Promise<HistoryEntry[]> {
    const key = h.runtime.vault.subjectFor(shopId, { email }) as string;
    return eventually(async () => {
      const res = await api(h, 'GET', `/api/customers/${shopId}/${key}/history`, undefined, ANALYST_TOKEN);
      expect(res.status).toBe(200);
      const entries = res.body.entries as HistoryEntry[];
      return entries.some((e) => e.kind === 'sent') ? entries : undefined;
    });
  }

  it('replaces a sold-out tote by the first suggestion in stock within the price rule', async () => {
    commerce
      .setStock('tote-a', { available: false })
      .setStock('strap-a', { available: true, currentUnitPrice: '9.00' })
      .setAlternatives('4001', [
        {
          productId: '4002',
          variantId: '5002',
          title: 'Linen tote',
          available: false,
          unitPrice: '26.00',
          source: 'recommendations',
        },
        {
          productId: '4003',
          variantId: '5003',
          title: 'Leather tote',
          available: true,
          unitPrice: '80.00',
          source: 'recommendations',
        },
        {
          productId: '4004',
          variantId: '5004',
          title: 'Jute tote',
          available: true,
          unitPrice: '27.00',
          productUrl: 'https://totes.example/products/jute',
          source: 'recommendations',
        },
      ]);
    const token = `alt-${randomUUID()}`;
    const email = 'alt@example.com';
    expect(
      (
        await checkout(token, email, [
          { key: 'tote-a', productId: '4001', variantId: '5001', title: 'Canvas tote', price: '24.50', quantity: 2 },
          { key: 'strap-a', productId: '4009', variantId: '5009', title: 'Tote strap', price: '9.00' },
        ])
      ).status,
    ).toBe(200);

    const mail = await firstMessage(token);
    expect(mail.text).toContain('Jute tote: 2 × $27.00');
    expect(mail.text).toContain('in place of Canvas tote, which is sold out');
    expect(mail.text).toContain('Total: $63.00');
    expect(mail.text).not.toContain('is sold out for now');
    expect(mail.html).toContain('Jute tote');
    expect(mail.html).toContain('which is sold out');

    const entries = await history(email);
    const checked = entries.find((e) => e.kind === 'alternatives-checked');
    expect(checked).toMatchObject({ step: 0, reason: 'alternative-offered' });
    expect(checked?.soldOut?.[0]?.considered.map((c) => c.verdict)).toEqual([
      'out-of-stock',
      'price-too-high',
      'offered',
    ]);
    expect(checked?.detail).toContain('Canvas tote (line tote-a) sold out: offered Jute tote at 27.00');
    const sent = entries.find((e) => e.kind === 'sent');
    expect(sent?.sent).toMatchObject({
      leftOut: [],
      replaced: [{ lineId: 'tote-a', productId: '4004' }],
      cartValue: '63.00',
    });
    // The dashboard's preview, re-rendered from the log, shows the alternative as it was sent.
    const preview = await api(
      h,
      'GET',
      `/api/dashboard/messages/preview?recoveryId=${encodeURIComponent(`recovery-${shopId}-cart-${token}`)}&step=0`,
    );
    expect(preview.status).toBe(200);
    expect(preview.body.text).toContain('Jute tote: 2 × $27.00');
    expect(preview.body.text).toContain('in place of Canvas tote, which is sold out');
    // The record comes before the decision that used it.
    expect(entries.indexOf(checked as HistoryEntry)).toBeLessThan(entries.indexOf(sent as HistoryEntry));
  });

  it('announces the tote as sold out when no suggestion fits, and still reminds of the rest', async () => {
    commerce
      .setStock('tote-b', { available: false })
      .setStock('strap-b', { available: true, currentUnitPrice: '9.00' })
      .setAlternatives('4101', [
        {
          productId: '4102',
          variantId: '5102',
          title: 'Silk tote',
          available: true,
          unitPrice: '99.00',
          source: 'related',
        },
      ]);
    const token = `soldout-${randomUUID()}`;
    const email = 'soldout@example.com';
    expect(
      (
        await checkout(token, email, [
          { key: 'tote-b', productId: '4101', variantId: '5101', title: 'Market tote', price: '24.50' },
          { key: 'strap-b', productId: '4109', variantId: '5109', title: 'Tote strap', price: '9.00' },
        ])
      ).status,
    ).toBe(200);

    const mail = await firstMessage(token);
    expect(mail.text).toContain('Market tote is sold out for now.');
    expect(mail.text).toContain('Tote strap: 1 × $9.00');
    expect(mail.text).toContain('Total: $9.00');
    expect(mail.html).toContain('is sold out for now.');

    const entries = await history(email);
    expect(entries.find((e) => e.kind === 'alternatives-checked')).toMatchObject({
      reason: 'sold-out',
      detail: 'Market tote (line tote-b) sold out: none of 1 suggestions fits (1 price-too-high)',
    });
    expect(entries.find((e) => e.kind === 'sent')?.sent).toMatchObject({ leftOut: ['tote-b'], cartValue: '9.00' });
    const preview = await api(
      h,
      'GET',
      `/api/dashboard/messages/preview?recoveryId=${encodeURIComponent(`recovery-${shopId}-cart-${token}`)}&step=0`,
    );
    expect(preview.body.text).toContain('Market tote is sold out for now.');
    expect(entries.find((e) => e.kind === 'back-in-stock-watched')).toMatchObject({
      step: 0,
      detail: 'line tote-b: product 4101 variant 5101',
    });

    // The shopper follows "Notify me": recorded once on the recovery, thanked.
    const notify = /https:\/\/reclaim\.test(\/t\/n\/[A-Za-z0-9._~-]+)/.exec(mail.text);
    expect(notify).not.toBeNull();
    const thanked = await fetch(`${h.baseUrl}${(notify as RegExpExecArray)[1]}`);
    expect(thanked.status).toBe(200);
    expect(await thanked.text()).toContain('We will let you know when it is back in stock.');
    expect((await fetch(`${h.baseUrl}${(notify as RegExpExecArray)[1]}`)).status).toBe(200);
    // A character well inside the token (the last one of base64url may carry only padding bits).
    const link = (notify as RegExpExecArray)[1];
    const at = link.length - 6;
    const tampered = link.slice(0, at) + (link[at] === 'A' ? 'B' : 'A') + link.slice(at + 1);
    expect((await fetch(`${h.baseUrl}${tampered}`)).status).toBe(400);
    await eventually(async () =>
      (await history(email)).filter((e) => e.kind === 'back-in-stock-requested').length === 1 ? true : undefined,
    );

    // The store still has none: an update saying so asks nothing; another product's restock neither.
    expect((await productUpdate('4101', '5101', 0)).status).toBe(200);
    expect((await productUpdate('4199', '5199', 7)).status).toBe(200);
    // Back: the webhook says so, the store confirms (stock and price), one back-in-stock message follows.
    commerce.setStock('tote-b', { available: true, currentUnitPrice: '24.50' });
    expect((await productUpdate('4101', '5101', 3)).status).toBe(200);
    const back = await firstMessage(token, 1000);
    expect(back.subject).toBe('Back in stock at Tote Shop');
    expect(back.text).toContain('Market tote: 1 × $24.50');
    expect(back.text).toContain('Total: $24.50');
    expect(back.text).not.toContain('Tote strap');
    const after = await eventually(async () => {
      const all = await history(email);
      return all.some((e) => e.kind === 'back-in-stock-sent') ? all : undefined;
    });
    expect(after.filter((e) => e.kind === 'back-in-stock-due')).toHaveLength(1);
    expect(after.find((e) => e.kind === 'back-in-stock-sent')).toMatchObject({ step: 1000, channel: 'email' });
    // The shopper opens it: the open is recorded on the back-in-stock message (1000 + watch), not held.
    const pixel = /https:\/\/reclaim\.test(\/t\/o\/[A-Za-z0-9._~-]+\.gif)/.exec(back.html);
    expect(pixel).not.toBeNull();
    expect((await fetch(`${h.baseUrl}${(pixel as RegExpExecArray)[1]}`)).status).toBe(200);
    await eventually(async () =>
      (await history(email)).some((e) => e.kind === 'opened' && e.step === 1000) ? true : undefined,
    );
    // The analyst read model and the dashboard have it: read.messages kind back-in-stock, its open,
    // the messages panel and the step effectiveness (one 'back in stock' row).
    const rid = `recovery-${shopId}-cart-${token}`;
    const rows = await eventually(async () => {
      const { rows: got } = await h.runtime.pool.query<{
        step: number;
        kind: string;
        line_id: string | null;
        status: string;
        channel: string | null;
        opened_at: Date | null;
      }>(
        `SELECT step, kind, line_id, status, channel, opened_at FROM read.messages WHERE recovery_id = $1 ORDER BY step`,
        [rid],
      );
      return got.find((r) => r.step === 1000)?.opened_at ? got : undefined;
    }, 30_000);
    expect(rows.map((r) => [r.step, r.kind, r.line_id, r.status, r.channel])).toEqual([
      [0, 'step', null, 'sent', 'email'],
      [1000, 'back-in-stock', 'tote-b', 'sent', 'email'],
    ]);
    const listed = (
      (await api(h, 'GET', `/api/dashboard/messages?limit=100&shopId=${shopId}`)).body as {
        recoveryId: string;
        step: number;
        kind: string;
        openedAt: string | null;
      }[]
    ).filter((m) => m.recoveryId === rid);
    expect(listed.map((m) => [m.step, m.kind, m.openedAt !== null])).toEqual([
      [1000, 'back-in-stock', true],
      [0, 'step', false],
    ]);
    const today = new Date().toISOString().slice(0, 10);
    const summary = await api(h, 'GET', `/api/dashboard/summary?shopId=${shopId}&from=${today}&to=${today}`);
    expect(summary.status).toBe(200);
    expect((summary.body.steps as { kind: string }[]).find((r) => r.kind === 'back-in-stock')).toMatchObject({
      step: 1000,
      templateId: 'back-in-stock',
      sent: 1,
      opened: 1,
    });
    // Never twice: a later update of the same product sends nothing more.
    expect((await productUpdate('4101', '5101', 9)).status).toBe(200);
    await new Promise((r) => setTimeout(r, 1500));
    const res = await api(h, 'GET', `/api/shops/${shopId}/outbox?limit=100`);
    expect((res.body as OutboxRow[]).filter((r) => r.recoveryId === `recovery-${shopId}-cart-${token}`)).toHaveLength(
      2,
    );
  });

  it('a failing suggestion lookup announces the line as sold out, in the history and in /metrics', async () => {
    commerce
      .setStock('tote-c', { available: false })
      .setStock('strap-c', { available: true, currentUnitPrice: '9.00' })
      .setAlternatives('4201', new RetryableProviderError('store answered 503', undefined, '503'));
    const token = `failed-${randomUUID()}`;
    const email = 'failed@example.com';
    expect(
      (
        await checkout(token, email, [
          { key: 'tote-c', productId: '4201', variantId: '5201', title: 'Beach tote', price: '24.50' },
          { key: 'strap-c', productId: '4209', variantId: '5209', title: 'Tote strap', price: '9.00' },
        ])
      ).status,
    ).toBe(200);

    const mail = await firstMessage(token);
    expect(mail.text).toContain('Beach tote is sold out for now.');
    const entries = await history(email);
    expect(entries.find((e) => e.kind === 'alternatives-checked')).toMatchObject({
      reason: 'lookup-failed',
      error: expect.stringContaining('503'),
    });
    const metrics = await (await fetch(`${h.baseUrl}/metrics`)).text();
    expect(metrics).toMatch(/reclaim_provider_errors_total\{provider="store-shopify",kind="retryable"\} [1-9]/);
  });

  it("the price rule is the shop's own: a shop that allows 300% dearer is offered the leather tote", async () => {
    const put = await api(h, 'PUT', `/api/shops/${shopId}/settings`, {
      alternatives: { maxPriceIncreasePercent: 300 },
    });
    expect(put.status).toBe(200);
    const bad = await api(h, 'PUT', `/api/shops/${shopId}/settings`, { alternatives: { maxPriceIncreasePercent: -5 } });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toContain('alternatives.maxPriceIncreasePercent');
    const got = await api(h, 'GET', `/api/shops/${shopId}/settings`);
    expect(got.body.effective.alternatives).toEqual({ maxPriceIncreasePercent: 300 });
    try {
      commerce.setStock('tote-d', { available: false }).setAlternatives('4301', [
        {
          productId: '4303',
          variantId: '5303',
          title: 'Leather tote',
          available: true,
          unitPrice: '80.00',
          source: 'recommendations',
        },
      ]);
      const token = `rule-${randomUUID()}`;
      const email = 'rule@example.com';
      expect(
        (
          await checkout(token, email, [
            { key: 'tote-d', productId: '4301', variantId: '5301', title: 'Canvas tote', price: '24.50' },
          ])
        ).status,
      ).toBe(200);
      const mail = await firstMessage(token);
      expect(mail.text).toContain('Leather tote: 1 × $80.00');
      expect(mail.text).toContain('in place of Canvas tote, which is sold out');
      const checked = (await history(email)).find((e) => e.kind === 'alternatives-checked');
      expect(checked).toMatchObject({ reason: 'alternative-offered' });
      expect(checked?.soldOut?.[0]?.considered.map((c) => c.verdict)).toEqual(['offered']);
    } finally {
      expect((await api(h, 'PUT', `/api/shops/${shopId}/settings`, {})).status).toBe(200);
    }
  });
});

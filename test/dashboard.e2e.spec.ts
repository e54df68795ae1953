/**
 * The dashboard's JSON endpoints over HTTP: auth (401 without a token, the analyst reads, the
 * analyst may not retry), KPIs from the read models, the stuck steps, and the retry of a
 * dead-lettered step feeding the real engine. The dead letter is a real one: without a postal
 * address the renderer refuses (R25) and step 0 is dead-lettered `not-retryable`; once the shop
 * has an address, the retry sends it into the outbox. Polling only, no timed assertions.
 */
import { randomUUID } from 'node:crypto';
import { FakeCommerce } from '@reclaim/testing/fakes';
import { ANALYST_TOKEN, api, eventually, hmacBase64, post, startHarness, type Harness } from './support/harness';
import { shopifyCheckout } from './support/payloads';

const SECRET = 'shpss_dashboard_api';
const DOMAIN = 'dashboard-api.myshopify.com';
const EMAIL = 'dora@example.com';

describe('dashboard JSON endpoints over HTTP', () => {
  let h: Harness;
  let shopId: string;
  const token = `dash-${randomUUID()}`;
  let recoveryId: string;
  const today = new Date().toISOString().slice(0, 10);
  const from = addDays(today, -30);
  // Tomorrow too: the cohort day is the shop's (UTC here), the test machine's clock may be ahead.
  const period = () => `shopId=${shopId}&from=${from}&to=${addDays(today, 1)}`;

  beforeAll(async () => {
    // No MERCHANT_POSTAL_ADDRESS: the first send is refused and dead-lettered.
    h = await startHarness(
      { ABANDON_AFTER: '1s', HOLDOUT_PERCENT: '0', TIMER_TICK: '200ms' },
      { adapters: { commerce: new FakeCommerce() } },
    );
    const res = await api(h, 'POST', '/api/shops', {
      platform: 'shopify',
      shopDomain: DOMAIN,
      webhookSecret: SECRET,
      apiUrl: `https://${DOMAIN}/admin/api/2025-01`,
      apiToken: 'shpat_dashboard',
      currency: 'USD',
      timezone: 'UTC',
    });
    expect(res.status).toBe(201);
    shopId = res.body.id;
    recoveryId = `recovery-${shopId}-cart-${token}`;
    const body = shopifyCheckout({ token, updatedAt: new Date().toISOString(), email: EMAIL, price: '80.00' });
    const delivered = await post(h, '/webhooks/shopify', body, {
      'content-type': 'application/json',
      'x-shopify-topic': 'checkouts/update',
      'x-shopify-shop-domain': DOMAIN,
      'x-shopify-api-version': '2025-01',
      'x-shopify-webhook-id': randomUUID(),
      'x-shopify-hmac-sha256': hmacBase64(SECRET, body),
    });
    expect(delivered.status).toBe(200);
    await eventually(async () => {
      const { rows } = await h.runtime.pool.query(
        `SELECT 1 FROM read.messages WHERE recovery_id = $1 AND step = 0 AND status = 'dead-lettered'`,
        [recoveryId],
      );
      return rows.length === 1;
    }, 30_000);
  });

  afterAll(async () => {
    await h?.close();
  });

  it('needs a token: 401 without one or with a wrong one', async () => {
    expect((await api(h, 'GET', `/api/dashboard/summary?${period()}`, undefined, null)).status).toBe(401);
    expect((await api(h, 'GET', `/api/dashboard/summary?${period()}`, undefined, 'not-a-token')).status).toBe(401);
    expect((await api(h, 'GET', `/api/dashboard/stuck-steps?shopId=${shopId}`, undefined, null)).status).toBe(401);
    const retry = await api(h, 'POST', '/api/dashboard/stuck-steps/retry', { recoveryId, step: 0 }, null);
    expect(retry.status).toBe(401);
  });

  it('the analyst reads the KPIs, funnel, segments and engagement of a period', async () => {
    const res = await api(h, 'GET', `/api/dashboard/summary?${period()}`, undefined, ANALYST_TOKEN);
    expect(res.status).toBe(200);
    const { kpis, funnel, segments } = res.body;
    expect(kpis).toMatchObject({
      currency: 'USD',
      abandonedCarts: 1,
      treated: { carts: 1, recovered: 0, recoveryRate: 0, recoveredRevenue: '0', revenuePerRecoveredCart: null },
      holdout: { carts: 0, recovered: 0, recoveryRate: null },
      lift: { status: 'not enough data yet', treatedCarts: 1, holdoutCarts: 0, minimum: 30 },
    });
    const days = funnel as { day: string; abandoned: number }[];
    expect(days.map((d) => d.day)).toEqual(Array.from({ length: 32 }, (_, i) => addDays(from, i)));
    expect(days.reduce((n, d) => n + d.abandoned, 0)).toBe(1);
    expect(segments).toEqual(
      expect.arrayContaining([expect.objectContaining({ segment: 'all', treatedCarts: 1, holdoutCarts: 0 })]),
    );
    // A period without the cart.
    const empty = await api(h, 'GET', `/api/dashboard/summary?shopId=${shopId}&from=2001-01-01&to=2001-01-31`);
    expect(empty.body.kpis).toMatchObject({ abandonedCarts: 0, lift: { status: 'not enough data yet' } });
    expect(empty.body.funnel).toHaveLength(31);
  });

  it('names each bad parameter (400) and answers 404 for an unknown shop', async () => {
    const long = await api(h, 'GET', `/api/dashboard/summary?shopId=${shopId}&from=2000-01-01&to=2001-01-01`);
    expect(long.body.errors).toEqual([{ field: 'to', message: 'the period is at most 366 days' }]);
    const bad = await api(h, 'GET', `/api/dashboard/summary?shopId=${shopId}&from=2026-02-30&to=x`);
    expect(bad.status).toBe(400);
    expect(bad.body.errors).toEqual([{ field: 'from', message: 'is not a calendar day' }]);
    const reversed = await api(h, 'GET', `/api/dashboard/summary?shopId=${shopId}&from=2026-02-02&to=2026-02-01`);
    expect(reversed.body.errors).toEqual([{ field: 'to', message: 'must not be before from' }]);
    expect((await api(h, 'GET', `/api/dashboard/summary?from=2026-01-01&to=2026-01-02`)).status).toBe(400);
    const unknown = await api(h, 'GET', `/api/dashboard/summary?shopId=${randomUUID()}&from=2026-01-01&to=2026-01-02`);
    expect(unknown.status).toBe(404);
  });

  it('the customer key of an e-mail comes from the vault, the address only in a header', async () => {
    const res = await fetch(`${h.baseUrl}/api/dashboard/customer-key?shopId=${shopId}`, {
      headers: { authorization: `Bearer ${ANALYST_TOKEN}`, 'x-customer-email': `  ${EMAIL.toUpperCase()} ` },
    });
    expect(res.status).toBe(200);
    const { customerKey } = (await res.json()) as { customerKey: string };
    expect(customerKey).toBe(h.runtime.vault.subjectFor(shopId, { email: EMAIL }));
    const { rows } = await h.runtime.pool.query(`SELECT customer_key FROM read.recoveries WHERE recovery_id = $1`, [
      recoveryId,
    ]);
    expect(rows[0].customer_key).toBe(customerKey);
    const missing = await api(h, 'GET', `/api/dashboard/customer-key?shopId=${shopId}`, undefined, ANALYST_TOKEN);
    expect(missing.status).toBe(400);
    expect(missing.body.errors[0].field).toBe('x-customer-email');
  });

  it('lists the dead letter; the analyst may not retry (403), the admin re-queues it into the engine', async () => {
    const stuck = await api(h, 'GET', `/api/dashboard/stuck-steps?shopId=${shopId}`, undefined, ANALYST_TOKEN);
    expect(stuck.status).toBe(200);
    expect(stuck.body).toEqual([
      expect.objectContaining({
        recoveryId,
        cartId: `cart-${token}`,
        step: 0,
        channel: 'email',
        status: 'dead-lettered',
        reason: 'not-retryable',
        recoveryStatus: 'active',
      }),
    ]);
    expect(JSON.stringify(stuck.body)).not.toContain(EMAIL);

    const analyst = await api(h, 'POST', '/api/dashboard/stuck-steps/retry', { recoveryId, step: 0 }, ANALYST_TOKEN);
    expect(analyst.status).toBe(403);
    const invalidBody = await api(h, 'POST', '/api/dashboard/stuck-steps/retry', { recoveryId: 'x', step: -1 });
    expect(invalidBody.body.errors.map((e: { field: string }) => e.field)).toEqual(['recoveryId', 'step']);
    const notDead = await api(h, 'POST', '/api/dashboard/stuck-steps/retry', { recoveryId, step: 1 });
    expect(notDead.status).toBe(409);
    expect(notDead.body.message).toBe('step 1 is pending, not dead-lettered');
    const unknown = await api(h, 'POST', '/api/dashboard/stuck-steps/retry', {
      recoveryId: `recovery-${shopId}-cart-nope`,
      step: 0,
    });
    expect(unknown.status).toBe(404);
    // Nothing was re-queued by the refused attempts.
    expect((await api(h, 'GET', `/api/shops/${shopId}/outbox`)).body).toEqual([]);

    // Fix the cause, then retry: the engine sends step 0 into the outbox.
    const settings = await api(h, 'PUT', `/api/shops/${shopId}/settings`, { postalAddress: '2 Retry Lane, Leeds' });
    expect(settings.status).toBe(200);
    const retried = await api(h, 'POST', '/api/dashboard/stuck-steps/retry', { recoveryId, step: 0 });
    expect(retried.status).toBe(202);
    expect(retried.body).toEqual({ status: 'queued', resume: 'resend' });
    const again = await api(h, 'POST', '/api/dashboard/stuck-steps/retry', { recoveryId, step: 0 });
    expect(again.status).toBe(409);

    const sent = await eventually(async () => {
      const rows = (await api(h, 'GET', `/api/shops/${shopId}/outbox`)).body as { recoveryId: string; step: number }[];
      return rows.find((r) => r.recoveryId === recoveryId && r.step === 0);
    }, 30_000);
    expect(sent).toBeDefined();
    const row = await eventually(async () => {
      const { rows } = await h.runtime.pool.query(
        `SELECT status, attempts FROM read.messages WHERE recovery_id = $1 AND step = 0 AND status = 'sent'`,
        [recoveryId],
      );
      return rows[0];
    });
    expect(row.status).toBe('sent');
    const events = await h.runtime.store.readStream(recoveryId);
    const types = events.map((e) => e.type);
    expect(types.indexOf('recovery.dead-letter-retried')).toBeGreaterThan(types.indexOf('recovery.dead-lettered'));
    expect(types.filter((t) => t === 'recovery.dead-letter-retried')).toHaveLength(1);
    expect(types.lastIndexOf('recovery.message-sent')).toBeGreaterThan(types.indexOf('recovery.dead-letter-retried'));
    const stillStuck = await api(h, 'GET', `/api/dashboard/stuck-steps?shopId=${shopId}`);
    expect(stillStuck.body).toEqual([]);
    // The audit history shows the manual retry between the dead letter and the send.
    const customerKey = h.runtime.vault.subjectFor(shopId, { email: EMAIL }) as string;
    const history = await api(h, 'GET', `/api/customers/${shopId}/${customerKey}/history`);
    const kinds = (history.body.entries as { kind: string; step?: number }[])
      .filter((e) => e.step === 0)
      .map((e) => e.kind);
    expect(kinds.indexOf('dead-letter-retried')).toBeGreaterThan(kinds.indexOf('dead-lettered'));
    expect(kinds.lastIndexOf('sent')).toBeGreaterThan(kinds.indexOf('dead-letter-retried'));
  });

  it('activity in buckets fitted to the data, 30-day recovery, sequence views and the all-shops view', async () => {
    const res = await api(h, 'GET', `/api/dashboard/summary?${period()}`, undefined, ANALYST_TOKEN);
    expect(res.status).toBe(200);
    const { kpis, activity, sequences, steps } = res.body;
    expect(kpis.treated).toMatchObject({
      recoveredWithin30Days: 0,
      recoveryRateWithin30Days: 0,
      cartsStillInWindow: 1,
    });
    expect(kpis.mixedCurrencies).toBe(false);
    // A month-long period of a few minutes' history: hours, from the first event, not 32 days.
    expect(activity.bucket).toBe('hour');
    expect(activity.points.length).toBeLessThanOrEqual(3);
    expect(activity.points[0]).toMatchObject({ abandoned: 1 });
    expect(activity.points.reduce((n: number, p: { messaged: number }) => n + p.messaged, 0)).toBe(1);
    expect(sequences).toEqual([
      expect.objectContaining({ sequenceId: 'welcome', segment: 'all', treatedCarts: 1, treatedRecovered: 0 }),
      ...sequences.slice(1),
    ]);
    expect(steps).toEqual([
      expect.objectContaining({ sequenceId: 'welcome', step: 0, templateId: 'welcome-0', sent: 1 }),
    ]);
    const all = await api(
      h,
      'GET',
      `/api/dashboard/summary?shopId=all&from=${from}&to=${addDays(today, 1)}`,
      undefined,
      ANALYST_TOKEN,
    );
    expect(all.status).toBe(200);
    expect(all.body.kpis.abandonedCarts).toBe(1);
    expect(all.body.activity.timeZone).toBe('UTC');
  });

  it('lists the messages sent through any provider; the admin sees one rendered again from its send record', async () => {
    const list = await api(h, 'GET', `/api/dashboard/messages?shopId=${shopId}`, undefined, ANALYST_TOKEN);
    expect(list.status).toBe(200);
    expect(list.body).toEqual([
      expect.objectContaining({
        recoveryId,
        step: 0,
        channel: 'email',
        templateId: 'welcome-0',
        sequenceId: 'welcome',
      }),
    ]);
    expect(JSON.stringify(list.body)).not.toContain(EMAIL);
    expect((await api(h, 'GET', `/api/dashboard/messages?shopId=${shopId}&limit=0`)).body.errors).toEqual([
      { field: 'limit', message: 'must be 1 to 500' },
    ]);
    const url = `/api/dashboard/messages/preview?recoveryId=${recoveryId}&step=0`;
    expect((await api(h, 'GET', url, undefined, ANALYST_TOKEN)).status).toBe(403);
    const preview = await api(h, 'GET', url);
    expect(preview.status).toBe(200);
    expect(preview.body).toMatchObject({ ok: true, origin: 'default', cart: { source: 'cart' } });
    expect(preview.body.html).toContain('Desk lamp');
    expect(preview.body.html).not.toContain(EMAIL);
    expect((await api(h, 'GET', `/api/dashboard/messages/preview?recoveryId=${recoveryId}&step=3`)).status).toBe(404);
    expect((await api(h, 'GET', '/api/dashboard/messages/preview?recoveryId=x&step=-1')).body.errors).toEqual([
      { field: 'recoveryId', message: 'must be a recovery id (recovery-<shop>-<cart>)' },
      { field: 'step', message: 'must be a step index (0, 1, …)' },
    ]);
  });

  it('the editor previews drafts (errors as answers), refuses bad requests naming the field, and records test sends', async () => {
    const template = await api(h, 'GET', `/api/dashboard/editor/templates/welcome-0?shopId=${shopId}`);
    expect(template.body).toMatchObject({ templateId: 'welcome-0', origin: 'default', source: { channel: 'email' } });
    const carts = await api(h, 'GET', `/api/dashboard/editor/carts?shopId=${shopId}`);
    expect(carts.body).toEqual([expect.objectContaining({ cartId: `cart-${token}`, itemCount: 1 })]);
    const draft = {
      shopId,
      templateId: 'welcome-0',
      step: 0,
      subject: template.body.source.subject,
      mjml: template.body.source.mjml,
      text: template.body.source.text,
      cartId: `cart-${token}`,
    };
    const ok = await api(h, 'POST', '/api/dashboard/editor/preview', draft);
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ ok: true, origin: 'draft', cart: { source: 'cart', cartId: `cart-${token}` } });
    const sample = await api(h, 'POST', '/api/dashboard/editor/preview', { ...draft, cartId: undefined });
    expect(sample.body.cart).toEqual({ source: 'sample' });
    expect(sample.body.html).toContain('Sample product');
    const broken = await api(h, 'POST', '/api/dashboard/editor/preview', {
      ...draft,
      subject: 'Hi {{customer.secret}}',
    });
    expect(broken.body).toMatchObject({ ok: false, field: 'subject' });
    const bad = await api(h, 'POST', '/api/dashboard/editor/preview', { shopId, templateId: 'Bad Id', step: -1 });
    expect(bad.status).toBe(400);
    expect(bad.body.errors.map((e: { field: string }) => e.field)).toEqual([
      'templateId',
      'subject',
      'mjml',
      'text',
      'step',
    ]);
    const noAddress = await api(h, 'POST', '/api/dashboard/editor/test-send', { ...draft, to: 'not-an-address' });
    expect(noAddress.status).toBe(400);
    expect(noAddress.body.errors).toEqual([{ field: 'to', message: 'must be an e-mail address' }]);
    expect(
      (await api(h, 'POST', '/api/dashboard/editor/test-send', { ...draft, to: 'a@example.com' }, ANALYST_TOKEN))
        .status,
    ).toBe(403);
    const sent = await api(h, 'POST', '/api/dashboard/editor/test-send', { ...draft, to: 'owner@example.com' });
    expect(sent.status).toBe(202);
    expect(sent.body).toMatchObject({ ok: true, recipient: 'o***@example.com' });
    const listed = await api(h, 'GET', `/api/dashboard/editor/test-sends?shopId=${shopId}`, undefined, ANALYST_TOKEN);
    expect(listed.body).toEqual([
      expect.objectContaining({ templateId: 'welcome-0', recipient: 'o***@example.com', cart: 'cart', error: null }),
    ]);
    expect(JSON.stringify(listed.body)).not.toContain('owner@example.com');
    // A test send is no recovery and no message of one.
    const { rows } = await h.runtime.pool.query(
      `SELECT (SELECT count(*)::int FROM read.recoveries WHERE shop_id = $1) AS r,
              (SELECT count(*)::int FROM read.messages WHERE shop_id = $1 AND sent_at IS NOT NULL) AS m`,
      [shopId],
    );
    expect(rows[0]).toEqual({ r: 1, m: 1 });
  });
});

function addDays(day: string, n: number): string {
  return new Date(Date.parse(`${day}T00:00:00Z`) + n * 86_400_000).toISOString().slice(0, 10);
}

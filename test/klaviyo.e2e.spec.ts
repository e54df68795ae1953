/**
 * Klaviyo as a partner: the appliance wired to the Klaviyo stand-in through its environment only.
 * As each recovery starts, the shopper's Klaviyo facts (predictive analytics, segments, lists,
 * consent, last activity) are read once and recorded on the recovery stream; they add segments,
 * reach the customer history and the support ticket, and a rebuild of the read models with the
 * stand-in down gives the same rows (replays never call the network). A manual clock moves the
 * engine; only polling (`eventually`) waits for the background work.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';
import { READ_MODEL_PROJECTIONS, rebuildProjection } from '@reclaim/read-models';
import { FakeCommerce, ManualClock } from '@reclaim/testing/fakes';
import { startProviderSandbox, type ProviderSandbox } from '../apps/sandbox/src/providers';
import { ANALYST_TOKEN, api, eventually, hmacBase64, post, startHarness, type Harness } from './support/harness';
import { renderDjangoSubset } from './support/django-subset';
import { shopifyCheckout, shopifyOrder } from './support/payloads';

const SECRET = 'shpss_klaviyo_partner';
const DOMAIN = 'klaviyo-partner.myshopify.com';
const PUBLIC = 'https://reclaim.test';
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const IMAGE = 'https://cdn.shopify.com/s/files/1/lamp-brass.png';
const PRODUCT = `https://${DOMAIN}/products/desk-lamp`;

interface HistoryEntry {
  kind: string;
  step?: number;
  reason?: string;
  error?: string;
  recoveryId: string;
  messageId?: string;
  discountCode?: string;
  enrichment?: {
    profileFound: boolean;
    predictive?: Record<string, unknown>;
    segments: { id: string; name: string }[];
    lists: { id: string; name: string }[];
    consent: { email?: string };
  };
  segmentsAdded?: string[];
}

describe('Klaviyo enrichment recorded as a fact', () => {
  let providers: ProviderSandbox;
  let h: Harness;
  let db: Client;
  let shopId: string;
  let templateToken = '';
  const clock = new ManualClock(new Date(Math.floor(Date.now() / 1000) * 1000));

  beforeAll(async () => {
    providers = await startProviderSandbox({
      klaviyoProfiles: [
        {
          email: 'vip.shopper@example.com',
          emailConsent: 'SUBSCRIBED',
          predictive: {
            historic_clv: 1234.5,
            predicted_clv: 310.2,
            historic_number_of_orders: 7,
            average_order_value: 176.36,
            churn_probability: 0.12,
            expected_date_of_next_order: '2026-12-24T00:00:00+00:00',
          },
          segments: ['VIP customers', 'Repeat purchasers'],
          lists: ['Newsletter'],
          lastEventDate: '2026-11-30T18:00:00+00:00',
        },
      ],
    });
    const c = providers.credentials;
    // No projector role: the test rebuilds the read models itself (a rebuild takes the projection over).
    h = await startHarness(
      {
        ROLES: 'ingest,engine',
        ABANDON_AFTER: '1m',
        FOLLOW_UP_DELAYS: '1h,2h',
        HOLDOUT_PERCENT: '0',
        TICKET_THRESHOLD: '200',
        TIMER_TICK: '200ms',
        PUBLIC_URL: PUBLIC,
        MERCHANT_POSTAL_ADDRESS: '1 Analytical Way, London EC1A 1AA',
        EMAIL_PROVIDER: 'klaviyo',
        KLAVIYO_API_KEY: c.klaviyoApiKey,
        KLAVIYO_API_URL: providers.urls.klaviyo,
        KLAVIYO_ENRICHMENT_TIMEOUT: '4s',
        KLAVIYO_ENGAGEMENT_POLL: '1s',
        ZENDESK_API_URL: providers.urls.zendesk,
        ZENDESK_EMAIL: c.zendeskEmail,
        ZENDESK_API_TOKEN: c.zendeskApiToken,
      },
      { clock, adapters: { commerce: new FakeCommerce() } },
    );
    db = new Client({ connectionString: h.db.url });
    await db.connect();
    const res = await api(h, 'POST', '/api/shops', {
      platform: 'shopify',
      shopDomain: DOMAIN,
      webhookSecret: SECRET,
      apiUrl: `https://${DOMAIN}/admin/api/2025-10`,
      apiToken: 'shpat_klaviyo',
      currency: 'USD',
      timezone: 'UTC',
    });
    expect(res.status).toBe(201);
    shopId = res.body.id;
  });

  afterAll(async () => {
    await db?.end();
    await h?.close();
    await providers?.stop();
  });

  async function checkout(email: string, price: string): Promise<{ status: number; token: string }> {
    const token = `kl-${randomUUID()}`;
    const body = shopifyCheckout({
      token,
      updatedAt: clock.now().toISOString(),
      email,
      price,
      phone: null,
    }).replace('"vendor": "Lumen"', `"vendor": "Lumen", "image_url": "${IMAGE}", "url": "${PRODUCT}"`);
    const res = await post(h, '/webhooks/shopify', body, {
      'content-type': 'application/json',
      'x-shopify-topic': 'checkouts/update',
      'x-shopify-shop-domain': DOMAIN,
      'x-shopify-api-version': '2025-10',
      'x-shopify-webhook-id': randomUUID(),
      'x-shopify-hmac-sha256': hmacBase64(SECRET, body),
    });
    return { status: res.status, token };
  }

  async function history(email: string): Promise<HistoryEntry[]> {
    const key = h.runtime.vault.subjectFor(shopId, { email }) as string;
    const res = await api(h, 'GET', `/api/customers/${shopId}/${key}/history`, undefined, ANALYST_TOKEN);
    expect(res.status).toBe(200);
    return res.body.entries as HistoryEntry[];
  }

  const entry = (email: string, kind: string) =>
    eventually(async () => (await history(email)).find((e) => e.kind === kind), 30_000);

  async function readModels(): Promise<unknown> {
    const recoveries = await db.query(
      'SELECT recovery_id, status, segments, sequence_id, messages_sent FROM read.recoveries ORDER BY recovery_id',
    );
    const segments = await db.query('SELECT recovery_id, segment FROM read.segments ORDER BY recovery_id, segment');
    return { recoveries: recoveries.rows, segments: segments.rows };
  }

  it('records the facts as the recovery starts: they add vip and reach the history and the ticket', async () => {
    expect((await checkout('vip.shopper@example.com', '249.00')).status).toBe(200);
    expect((await checkout('stranger@example.com', '60.00')).status).toBe(200);
    clock.advance(MINUTE + 1_000);

    const vip = await entry('vip.shopper@example.com', 'enriched');
    expect(vip.reason).toBe('klaviyo');
    expect(vip.segmentsAdded).toEqual(['vip']);
    expect(vip.enrichment).toMatchObject({
      profileFound: true,
      predictive: {
        historicClv: '1234.50',
        predictedClv: '310.20',
        historicOrders: 7,
        churnProbability: 0.12,
        expectedDateOfNextOrder: '2026-12-24T00:00:00.000Z',
      },
      consent: { email: 'SUBSCRIBED' },
      lastEventAt: '2026-11-30T18:00:00.000Z',
    });
    expect(vip.enrichment!.segments.map((s) => s.name)).toEqual(['VIP customers', 'Repeat purchasers']);
    expect(vip.enrichment!.lists.map((s) => s.name)).toEqual(['Newsletter']);
    // No personal data in the recorded fact.
    expect(JSON.stringify(vip)).not.toContain('vip.shopper@example.com');

    // A shopper Klaviyo knows nothing about (at most the profile Reclaim's own push created): nothing added.
    const stranger = await entry('stranger@example.com', 'enriched');
    expect(stranger.enrichment).toMatchObject({ segments: [], lists: [] });
    expect(stranger.enrichment!.predictive).toBeUndefined();
    expect(stranger.segmentsAdded).toEqual([]);

    // Enrichment read the profile, its segments and lists with the revision header; never the address in a URL path.
    const reads = providers.received('klaviyo').filter((r) => r.method === 'GET');
    expect(
      reads.some(
        (r) => r.path === '/api/profiles' && /predictive_analytics/.test(r.query['additional-fields[profile]'] ?? ''),
      ),
    ).toBe(true);
    expect(reads.some((r) => /^\/api\/profiles\/[^/]+\/segments$/.test(r.path))).toBe(true);
    expect(reads.every((r) => /^\d{4}-\d{2}-\d{2}$/.test(r.headers.revision ?? ''))).toBe(true);

    // The high-value cart's ticket carries the recorded facts for the agent.
    const ticket = await eventually(
      async () => providers.stores.zendesk.tickets.find((t) => /1234\.50/.test(t.description)),
      30_000,
    );
    expect(ticket.description).toContain('VIP customers');
    expect(ticket.description).toContain('churn probability: 12%');
    expect(ticket.description).toMatch(/Segments: .*vip/);

    // The dashboard's per-shop status knows the last success and no failure yet.
    const status = await eventually(async () => {
      const { rows } = await db.query(
        'SELECT enriched, unavailable, last_failed_at FROM engine.enrichment_status WHERE shop_id = $1',
        [shopId],
      );
      return rows[0]?.enriched === '2' ? rows : undefined;
    });
    expect(status).toEqual([{ enriched: '2', unavailable: '0', last_failed_at: null }]);
  });

  it('a Klaviyo too slow to answer is recorded as unavailable (timeout) and the recovery goes on', async () => {
    providers.injectFault({
      provider: 'klaviyo',
      method: 'GET',
      path: '/api/profiles',
      kind: 'latency',
      delayMs: 8_000,
    });
    expect((await checkout('slow.klaviyo@example.com', '60.00')).status).toBe(200);
    clock.advance(MINUTE + 1_000);
    const unavailable = await entry('slow.klaviyo@example.com', 'enrichment-unavailable');
    expect(unavailable.reason).toBe('timeout');
    // The step-0 message still went out (through the Klaviyo flow event).
    await entry('slow.klaviyo@example.com', 'sent');
    const failed = await eventually(async () => {
      const { rows } = await db.query(
        'SELECT unavailable, last_failure_reason, last_failed_at IS NOT NULL AS failed FROM engine.enrichment_status WHERE shop_id = $1',
        [shopId],
      );
      return rows[0]?.unavailable === '1' ? rows : undefined;
    });
    expect(failed).toEqual([{ unavailable: '1', last_failure_reason: 'timeout', failed: true }]);
  });

  it('template mode: the shop gets structured Klaviyo events that the documented example template renders', async () => {
    const put = await api(h, 'PUT', `/api/shops/${shopId}/settings`, { klaviyoMode: 'template' });
    expect(put.status).toBe(200);
    expect(put.body.effective.klaviyoMode).toBe('template');
    const bad = await api(h, 'PUT', `/api/shops/${shopId}/settings`, { klaviyoMode: 'mjml' });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toContain('klaviyoMode');

    const placed = await checkout('template.shopper@example.com', '120.00');
    expect(placed.status).toBe(200);
    templateToken = placed.token;
    clock.advance(MINUTE + 1_000);
    const first = await entry('template.shopper@example.com', 'sent');
    clock.advance(HOUR);
    const second = await eventually(
      async () => (await history('template.shopper@example.com')).find((e) => e.kind === 'sent' && e.step === 1),
      30_000,
    );
    const recoveryId = first.recoveryId;
    const events = providers.stores.klaviyo.events.filter(
      (e) => e.metric === 'Reclaim Cart Recovery' && e.properties.reclaim_recovery_id === recoveryId,
    );
    expect(events.map((e) => e.uniqueId)).toEqual([
      expect.stringMatching(/:step-0:email$/),
      expect.stringMatching(/:step-1:email$/),
    ]);
    // Every send keeps its audit entry: the message ids of the history are the events' unique ids.
    expect(first.messageId).toBe(`klaviyo-event:${events[0]!.uniqueId}`);
    expect(second.messageId).toBe(`klaviyo-event:${events[1]!.uniqueId}`);
    const props = events[1]!.properties as Record<string, any>;
    expect(props.reclaim_mode).toBe('template');
    expect(props.$extra).toBeUndefined();
    expect(props.text).toBeUndefined();
    expect(props).toMatchObject({
      reclaim_template_version: 1,
      step: 1,
      step_number: 2,
      segment: expect.any(String),
      currency: 'USD',
      cart_total: '120.00',
      item_count: 1,
      score: null,
    });
    expect(props.items[0]).toMatchObject({
      title: expect.stringContaining('Desk lamp'),
      variant: 'Brass',
      image_url: IMAGE,
      quantity: 1,
      unit_price: '120.00',
      unit_price_text: '$120.00',
    });
    // Links are Reclaim's own: the product and the cart through the click tracker, the signed unsubscribe.
    expect(props.items[0].url).toMatch(new RegExp(`^${PUBLIC}/t/c/`));
    expect(props.restore_url).toMatch(new RegExp(`^${PUBLIC}/t/c/`));
    expect(props.unsubscribe_url).toMatch(new RegExp(`^${PUBLIC}/u/`));
    expect(props.discount).toMatchObject({ code: expect.any(String), percent: 5 });
    expect(second.discountCode).toBe(props.discount.code);
    expect(JSON.stringify(props)).not.toContain('template.shopper@example.com');

    // The example template of docs/ renders this very event: its items, images and code appear.
    const template = readFileSync(join(__dirname, '..', 'docs', 'klaviyo-template.html'), 'utf8');
    const html = renderDjangoSubset(template, { event: props, person: { first_name: 'Ada' } });
    expect(html).toContain('Still thinking it over, Ada?');
    expect(html).toContain(`<img src="${IMAGE}"`);
    expect(html).toContain('Desk lamp');
    expect(html).toContain('Qty 1 × $120.00');
    expect(html).toContain(`<strong style="font-size: 18px">${props.discount.code}</strong>`);
    expect(html).toContain(`href="${props.restore_url.replace(/&/g, '&amp;')}"`);
    expect(html).toContain(props.unsubscribe_url);
    expect(html).not.toMatch(/\{\{|\{%/);
    // Step 0 had no code: the template's discount block is left out.
    const firstHtml = renderDjangoSubset(template, { event: events[0]!.properties, person: {} });
    expect(firstHtml).toContain('You left something behind, there');
    expect(firstHtml).not.toContain('off with code');
  });

  it("engagement back: Klaviyo's open and click of the message reach the history and attribution; a bounce is its delivery status", async () => {
    const recoveryId = (await history('template.shopper@example.com'))[0]!.recoveryId;
    const [step0, step1] = providers.stores.klaviyo.events.filter(
      (e) => e.metric === 'Reclaim Cart Recovery' && e.properties.reclaim_recovery_id === recoveryId,
    );
    const restore = (step1!.properties as { restore_url: string }).restore_url;
    // Klaviyo's flow delivered the step-1 e-mail: the shopper opened it (twice) and clicked it.
    // (Klaviyo's clock is the engine's here: the test's clock runs ahead of the machine's.)
    const later = (ms: number) => new Date(clock.now().getTime() + ms);
    providers.stores.klaviyo.engage(step1!.uniqueId!, 'opened', { at: later(2 * MINUTE) });
    providers.stores.klaviyo.engage(step1!.uniqueId!, 'opened', { at: later(3 * MINUTE) });
    providers.stores.klaviyo.engage(step1!.uniqueId!, 'clicked', { url: restore, at: later(4 * MINUTE) });
    // Engagement of a message that is not Reclaim's (another flow's trigger Klaviyo does not know) is left out.
    providers.stores.klaviyo.events.push({
      id: 'OTHERFLOWOPEN1',
      uniqueId: null,
      metric: 'Opened Email',
      profileKey: step1!.profileKey,
      properties: { $attribution: { $attributed_event_id: 'NOT-RECLAIMS' } },
      time: new Date().toISOString(),
    });
    const opened = await entry('template.shopper@example.com', 'opened');
    const clicked = await entry('template.shopper@example.com', 'clicked');
    expect([opened.step, clicked.step]).toEqual([1, 1]);
    expect((await history('template.shopper@example.com')).filter((e) => e.kind === 'opened')).toHaveLength(1);

    // The order after the click is attributed to the Klaviyo-sent message.
    const order = shopifyOrder({
      checkoutToken: templateToken,
      orderId: '5512345678901239999',
      placedAt: later(5 * MINUTE).toISOString(),
    }).replace(/ada@example\.com/g, 'template.shopper@example.com');
    const res = await post(h, '/webhooks/shopify', order, {
      'content-type': 'application/json',
      'x-shopify-topic': 'orders/create',
      'x-shopify-shop-domain': DOMAIN,
      'x-shopify-api-version': '2025-10',
      'x-shopify-webhook-id': randomUUID(),
      'x-shopify-hmac-sha256': hmacBase64(SECRET, order),
    });
    expect(res.status).toBe(200);
    const attributed = await entry('template.shopper@example.com', 'order-attributed');
    expect(attributed).toMatchObject({ step: 1, channel: 'email', messageId: `klaviyo-event:${step1!.uniqueId}` });

    // A bounce of the step-0 e-mail is the provider's delivery status on that step.
    providers.stores.klaviyo.engage(step0!.uniqueId!, 'bounced', { at: later(MINUTE) });
    const bounced = await entry('template.shopper@example.com', 'delivery-reported');
    expect(bounced).toMatchObject({ step: 0, channel: 'email' });
    // The step-1 e-mail marked as spam: a complaint on that step (what the experiments' guardrails count).
    providers.stores.klaviyo.engage(step1!.uniqueId!, 'complained', { at: later(6 * MINUTE) });
    const complaint = await eventually(async () =>
      (await history('template.shopper@example.com')).find((e) => e.kind === 'delivery-reported' && e.step === 1),
    );
    expect(complaint).toMatchObject({ step: 1, channel: 'email', reason: 'delivered', error: 'spam-complaint' });

    // The cursor is stored: nothing is read twice, and the source is healthy.
    const source = await eventually(async () => {
      const { rows } = await db.query("SELECT * FROM engine.engagement_sources WHERE source = 'klaviyo'");
      return Number(rows[0]?.recorded) >= 5 ? rows[0] : undefined;
    });
    expect(source).toMatchObject({ consecutive_failures: 0, last_error: null });
    expect(Object.keys(source.cursor).sort()).toEqual([
      'Bounced Email',
      'Clicked Email',
      'Marked Email as Spam',
      'Opened Email',
    ]);
    const reads = providers.received('klaviyo').filter((r) => r.path === '/api/events' && r.method === 'GET');
    expect(reads.at(-1)!.query.filter).toMatch(/^equals\(metric_id,"[^"]+"\),greater-or-equal\(datetime,/);
  });

  it('a failing engagement poll is counted on its source (dashboard, /metrics) and the next one resumes', async () => {
    providers.injectFault({
      provider: 'klaviyo',
      method: 'GET',
      path: '/api/events',
      kind: 'status',
      status: 500,
      times: 0,
    });
    const failing = await eventually(async () => {
      const { rows } = await db.query("SELECT * FROM engine.engagement_sources WHERE source = 'klaviyo'");
      return rows[0]?.consecutive_failures > 0 ? rows[0] : undefined;
    });
    expect(failing.last_error).toMatch(/RetryableProviderError/);
    const metrics = await fetch(`${h.baseUrl}/metrics`).then((r) => r.text());
    expect(metrics).toMatch(/reclaim_engagement_poll_consecutive_failures\{source="klaviyo"\} [1-9]/);
    // The dashboard shows it, with each shop's mode in use and its last enrichment failure.
    const dash = await api(h, 'GET', `/api/dashboard/klaviyo?shopId=${shopId}`, undefined, ANALYST_TOKEN);
    expect(dash.status).toBe(200);
    expect(dash.body.engagementSources).toEqual([
      expect.objectContaining({
        source: 'klaviyo',
        consecutiveFailures: expect.any(Number),
        lastError: expect.stringMatching(/Retryable/),
      }),
    ]);
    expect(dash.body.engagementSources[0].consecutiveFailures).toBeGreaterThan(0);
    expect(dash.body.shops).toEqual([
      expect.objectContaining({
        shopId,
        klaviyoMode: 'template',
        modeInUse: 'template',
        enrichmentUnavailable: 1,
        lastEnrichmentFailureReason: 'timeout',
        lastEnrichmentFailureAt: expect.any(String),
      }),
    ]);
    providers.clearFaults();
    await eventually(async () => {
      const { rows } = await db.query(
        "SELECT consecutive_failures FROM engine.engagement_sources WHERE source = 'klaviyo'",
      );
      return rows[0]?.consecutive_failures === 0;
    });
  });

  it('a rebuild of the read models with Klaviyo down gives the same rows: decisions read the record', async () => {
    const rebuild = async () => {
      for (const p of READ_MODEL_PROJECTIONS) {
        await rebuildProjection(p, { store: h.runtime.store, pool: h.runtime.pool, vault: h.runtime.vault });
      }
      return readModels();
    };
    const before = await rebuild();
    const vipRecovery = (await history('vip.shopper@example.com'))[0]!.recoveryId;
    expect((before as { segments: { recovery_id: string; segment: string }[] }).segments).toContainEqual({
      recovery_id: vipRecovery,
      segment: 'vip',
    });
    // Klaviyo down: nothing answers any more.
    await providers.stop();
    await expect(fetch(`${providers.urls.klaviyo}/api/profiles`)).rejects.toThrow();
    const after = await rebuild();
    expect(after).toEqual(before);
    // The history (read from the log) still shows the recorded facts.
    expect((await history('vip.shopper@example.com')).find((e) => e.kind === 'enriched')?.segmentsAdded).toEqual([
      'vip',
    ]);
  });
});

/**
 * A step blocked by an outside error is visible from its first failure (issue 11, item 5): a
 * Shopify shop whose apiUrl does not resolve, the real store adapters on, the engine on its real
 * schedule on PostgreSQL. The stock lookup fails with a DNS error; the customer history shows the
 * deferral in words, `/metrics` counts the provider error, the dashboard's attention list names
 * the blocked step with its reason and since when, and `/health` turns degraded once the block
 * outlasts BLOCKED_STEP_DEGRADED_AFTER. Only polling (`eventually`), never fixed sleeps.
 */
import { randomUUID } from 'node:crypto';
import { ANALYST_TOKEN, api, eventually, hmacBase64, post, startHarness, type Harness } from './support/harness';
import { shopifyCheckout } from './support/payloads';

const SECRET = 'shpss_outside_errors_secret';
const DOMAIN = 'unreachable-api.myshopify.com';
// `.invalid` never resolves (RFC 2606): the README's kind of example apiUrl.
const API_HOST = 'admin.reclaim-store-missing.invalid';

interface HistoryEntry {
  kind: string;
  step?: number;
  reason?: string;
  error?: string;
  until?: string;
  at: string;
}

describe('outside errors visible from the first failure (store API unreachable)', () => {
  let h: Harness;
  let shopId: string;

  beforeAll(async () => {
    h = await startHarness({
      STORE_ADAPTERS: 'on',
      ABANDON_AFTER: '1s',
      HOLDOUT_PERCENT: '0',
      TIMER_TICK: '200ms',
      PUBLIC_URL: 'https://reclaim.test',
      // One deferral is enough here: the next attempt is an hour away.
      OUTSIDE_ERROR_RETRY: '1h',
      BLOCKED_STEP_DEGRADED_AFTER: '1s',
    });
    // Registered while its API answered (the registration verifies the credentials); its API host
    // has gone away since, as a shop whose domain lapsed or whose apiUrl was mistyped in a restore.
    const { shop } = await h.runtime.shops.register({
      platform: 'shopify',
      shopDomain: DOMAIN,
      webhookSecret: SECRET,
      apiUrl: `https://${API_HOST}/admin/api/2025-01`,
      apiToken: 'shpat_unreachable_token',
      currency: 'USD',
      timezone: 'UTC',
      registerWebhooks: false,
    });
    shopId = shop.id;
  });

  afterAll(async () => {
    await h?.close();
  });

  it('shows the deferral in the history, counts the error in /metrics, lists the step as blocked, and /health degrades', async () => {
    const token = `dns-${randomUUID()}`;
    const email = 'blocked@example.com';
    const body = shopifyCheckout({ token, updatedAt: new Date().toISOString(), email, price: '80.00', phone: null });
    const webhook = await post(h, '/webhooks/shopify', body, {
      'content-type': 'application/json',
      'x-shopify-topic': 'checkouts/update',
      'x-shopify-shop-domain': DOMAIN,
      'x-shopify-api-version': '2025-01',
      'x-shopify-webhook-id': randomUUID(),
      'x-shopify-hmac-sha256': hmacBase64(SECRET, body),
    });
    expect(webhook.status).toBe(200);

    // The customer history: step 0 due, then deferred with what the store API did, in words.
    const key = h.runtime.vault.subjectFor(shopId, { email }) as string;
    const deferred = await eventually(async () => {
      const res = await api(h, 'GET', `/api/customers/${shopId}/${key}/history`, undefined, ANALYST_TOKEN);
      const entries = (res.body?.entries ?? []) as HistoryEntry[];
      return entries.find((e) => e.kind === 'deferred');
    }, 30_000);
    expect(deferred).toMatchObject({ step: 0, reason: 'store-unavailable' });
    expect(deferred.error).toMatch(
      new RegExp(`^store API unreachable \\(getaddrinfo (ENOTFOUND|EAI_AGAIN) ${API_HOST.replace(/\./g, '\\.')}\\)$`),
    );
    // The back-off setting: the step comes back in an hour, not a minute.
    // (`until` is set when the store call failed, `at` when the deferral is recorded a moment later.)
    const backOff = Date.parse(deferred.until as string) - Date.parse(deferred.at);
    expect(backOff).toBeGreaterThan(3_590_000);
    expect(backOff).toBeLessThanOrEqual(3_600_000);

    // /metrics: the outside error has its sample from the first failure.
    const metrics = await fetch(`${h.baseUrl}/metrics`, { headers: { authorization: `Bearer ${ANALYST_TOKEN}` } });
    const text = await metrics.text();
    const sample = /reclaim_provider_errors_total\{provider="store-shopify",kind="unreachable"\} (\d+)/.exec(text);
    expect(sample).not.toBeNull();
    expect(Number((sample as RegExpExecArray)[1])).toBeGreaterThanOrEqual(1);

    // The dashboard's attention list: the blocked step, its reason and since when.
    const stuck = await eventually(async () => {
      const res = await api(h, 'GET', `/api/dashboard/stuck-steps?shopId=${shopId}`, undefined, ANALYST_TOKEN);
      const rows = (res.body ?? []) as {
        status: string;
        cartId: string;
        step: number;
        reason: string;
        detail: string;
        since: string;
      }[];
      return rows.find((r) => r.status === 'blocked' && r.cartId === `cart-${token}`);
    }, 30_000);
    expect(stuck).toMatchObject({ step: 0, reason: 'store-unavailable', detail: deferred.error });
    expect(stuck.since).toBe(new Date(deferred.at).toISOString());

    // /health: degraded once the block is older than BLOCKED_STEP_DEGRADED_AFTER (1 s), naming it.
    const health = await eventually(async () => {
      const res = await fetch(`${h.baseUrl}/health`);
      const json = (await res.json()) as { status: string; degraded?: string[]; blockedSteps?: { steps: number } };
      return json.blockedSteps !== undefined ? { status: res.status, json } : undefined;
    }, 30_000);
    expect(health.status).toBe(200);
    expect(health.json.status).toBe('degraded');
    expect(health.json.degraded).toEqual(
      expect.arrayContaining([expect.stringMatching(/^1 step blocked by outside errors since /)]),
    );
  });
});

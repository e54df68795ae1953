/**
 * The Klaviyo stand-in is strict where Klaviyo is (revision header, JSON:API shapes, rate limits
 * answered 429 with Retry-After), and the enrichment and engagement adapters work against it.
 */
import { RetryableProviderError } from '@reclaim/ports';
import { KlaviyoApi, KlaviyoEngagementFeed, KlaviyoEnrichment, KlaviyoFlowChannel } from '@reclaim/providers/klaviyo';
import { type ProviderSandbox, startProviderSandbox } from '../sandbox';
import { captureLog, expectNoLeak } from './contract-kit';

const VIP = 'vip.partner@example.org';

describe('Klaviyo stand-in: strict like Klaviyo, and the partner adapters against it', () => {
  let sandbox: ProviderSandbox;
  const apis: KlaviyoApi[] = [];

  beforeAll(async () => {
    sandbox = await startProviderSandbox({
      klaviyoProfiles: [
        {
          email: VIP,
          emailConsent: 'SUBSCRIBED',
          predictive: {
            historic_clv: 93.87,
            churn_probability: 0.89,
            expected_date_of_next_order: '2026-04-01T00:00:00+00:00',
          },
          segments: ['VIP', 'Repeat purchasers'],
          lists: ['Newsletter'],
          lastEventDate: '2026-02-20T10:00:00+00:00',
        },
      ],
      // Lower than Klaviyo's so a test reaches them: Get Segments/Lists for Profile 2 per second.
      klaviyoRateLimits: { 'profile-groups': { burstPerSecond: 2, steadyPerMinute: 60 } },
    });
  });
  afterAll(async () => {
    await Promise.all(apis.map((a) => a.close()));
    await sandbox.stop();
  });
  afterEach(() => sandbox.clearFaults());

  function api(options: { maxAttempts?: number; sleeps?: number[]; timeoutMs?: number } = {}) {
    const log = captureLog();
    const a = new KlaviyoApi(
      { apiKey: sandbox.credentials.klaviyoApiKey, apiUrl: sandbox.urls.klaviyo, timeoutMs: options.timeoutMs },
      {
        log,
        retry: { maxAttempts: options.maxAttempts ?? 3 },
        // Real waiting (the stand-in counts real time), recorded.
        sleep: async (ms) => {
          options.sleeps?.push(ms);
          await new Promise((r) => setTimeout(r, ms));
        },
      },
    );
    apis.push(a);
    return { api: a, log };
  }

  const raw = (path: string, headers: Record<string, string> = {}) =>
    fetch(`${sandbox.urls.klaviyo}${path}`, {
      headers: {
        authorization: `Klaviyo-API-Key ${sandbox.credentials.klaviyoApiKey}`,
        accept: 'application/vnd.api+json',
        ...headers,
      },
    });

  it('refuses a request without a revision header, in the JSON:API error shape', async () => {
    const res = await raw('/api/profiles');
    expect(res.status).toBe(400);
    const body = (await res.json()) as { errors: Record<string, unknown>[] };
    expect(body.errors[0]).toEqual({
      id: expect.any(String),
      status: 400,
      code: 'invalid',
      title: 'Invalid input.',
      detail: expect.stringContaining('revision'),
      source: {},
      meta: {},
    });
    const ok = await raw('/api/profiles', { revision: '2026-07-15' });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({ data: expect.any(Array), links: { self: expect.any(String) } });
  });

  it('answers 429 throttled with Retry-After beyond a route limit; the adapter waits it out', async () => {
    const profile = sandbox.stores.klaviyo.profileByEmail(VIP)!;
    const path = `/api/profiles/${profile.id}/segments`;
    const statuses: number[] = [];
    let throttled: Response | undefined;
    for (let i = 0; i < 3; i++) {
      const res = await raw(path, { revision: '2026-07-15' });
      statuses.push(res.status);
      if (res.status === 429) throttled = res;
    }
    expect(statuses).toEqual([200, 200, 429]);
    expect(Number(throttled!.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(((await throttled!.json()) as { errors: { code: string; status: number }[] }).errors[0]).toMatchObject({
      status: 429,
      code: 'throttled',
    });
    // Another route has its own budget.
    expect((await raw('/api/profiles', { revision: '2026-07-15' })).status).toBe(200);

    // Enrichment reads profile, segments and lists; over the budget it waits the Retry-After (real time here).
    await new Promise((r) => setTimeout(r, 1_100));
    const sleeps: number[] = [];
    const { api: a } = api({ sleeps });
    const enrichment = new KlaviyoEnrichment(a, { timeoutMs: 10_000 });
    const throttledBefore = sandbox.stores.klaviyo.throttled.get('profile-groups') ?? 0;
    await enrichment.enrich(VIP); // 2 group reads: the whole budget of this second
    const second = await enrichment.enrich(VIP); // the client's own limiter or the 429's Retry-After
    expect(second.segments.map((s) => s.name)).toEqual(['VIP', 'Repeat purchasers']);
    expect(sandbox.stores.klaviyo.throttled.get('profile-groups')).toBeGreaterThan(throttledBefore);
    // The 429's Retry-After (1 s) was waited, then the read succeeded.
    expect(sleeps).toContain(1_000);
  });

  it('enrichment: predictive analytics as decimal strings, segments, lists, consent, last activity', async () => {
    await new Promise((r) => setTimeout(r, 1_100));
    const { api: a, log } = api();
    const facts = await new KlaviyoEnrichment(a).enrich(VIP);
    expect(facts).toEqual({
      source: 'klaviyo',
      profileFound: true,
      predictive: { historicClv: '93.87', churnProbability: 0.89, expectedDateOfNextOrder: '2026-04-01T00:00:00.000Z' },
      segments: [
        { id: expect.any(String), name: 'VIP' },
        { id: expect.any(String), name: 'Repeat purchasers' },
      ],
      lists: [{ id: expect.any(String), name: 'Newsletter' }],
      consent: { email: 'SUBSCRIBED', sms: 'NEVER_SUBSCRIBED' },
      lastEventAt: '2026-02-20T10:00:00.000Z',
    });
    const read = sandbox
      .received('klaviyo')
      .filter((r) => r.path === '/api/profiles')
      .at(-1)!;
    expect(read.query['additional-fields[profile]']).toBe('subscriptions,predictive_analytics');
    expect(await new KlaviyoEnrichment(a).enrich('nobody@example.org')).toEqual({
      source: 'klaviyo',
      profileFound: false,
      segments: [],
      lists: [],
      consent: {},
    });
    expectNoLeak(log.lines, [VIP]);
  });

  it('enrichment: one short attempt — a throttled or slow Klaviyo is a typed error saying which', async () => {
    const { api: a } = api({ maxAttempts: 1 });
    sandbox.injectFault({ provider: 'klaviyo', path: '/api/profiles', kind: 'status', status: 429, retryAfter: '30' });
    const throttled = await new KlaviyoEnrichment(a).enrich(VIP).catch((e: unknown) => e);
    expect(throttled).toBeInstanceOf(RetryableProviderError);
    expect((throttled as RetryableProviderError).code).toBe('throttled');
    sandbox.injectFault({ provider: 'klaviyo', path: '/api/profiles', kind: 'latency', delayMs: 1_500 });
    const slow = await new KlaviyoEnrichment(a, { timeoutMs: 300 }).enrich(VIP).catch((e: unknown) => e);
    expect(slow).toBeInstanceOf(RetryableProviderError);
    expect((slow as RetryableProviderError).code).toBe('timeout');
  });

  it("engagement: pages through Get Events with page[cursor], matches Reclaim's messages, resumes from its cursor", async () => {
    const { api: a } = api();
    const channel = new KlaviyoFlowChannel(a);
    const key = 'recovery-shop-1-cart-9:step-0:email';
    await channel.send({ idempotencyKey: key, channel: 'email', to: VIP, subject: 'Your cart', html: '<p>x</p>' });
    const k = sandbox.stores.klaviyo;
    k.engage(key, 'opened');
    k.engage(key, 'opened');
    k.engage(key, 'clicked', { url: 'https://reclaim.example/t/c/abc' });
    k.engage(key, 'bounced');
    k.engage(key, 'complained');
    // Engagement of another flow's message: its trigger is not Reclaim's.
    k.events.push({
      id: 'FOREIGN1',
      uniqueId: null,
      metric: 'Opened Email',
      profileKey: k.events[0]!.profileKey,
      properties: { $attribution: { $attributed_event_id: 'NOT-RECLAIMS' } },
      time: new Date().toISOString(),
    });
    const feed = new KlaviyoEngagementFeed(a, { pageSize: 1 });
    const first = await feed.poll(undefined, new Date(Date.now() - 3_600_000));
    expect(first.items.map((i) => [i.kind, i.messageKey])).toEqual([
      ['opened', key],
      ['opened', key],
      ['clicked', key],
      ['bounced', key],
      ['complained', key],
    ]);
    expect(first.items.find((i) => i.kind === 'clicked')?.targetUrl).toBe('https://reclaim.example/t/c/abc');
    const pages = sandbox.received('klaviyo').filter((r) => r.path === '/api/events' && r.method === 'GET');
    expect(pages.some((r) => r.query['page[cursor]'] !== undefined)).toBe(true);
    // From the stored cursor: nothing again; then only what is new.
    const again = await feed.poll(JSON.parse(JSON.stringify(first.cursor)), new Date(0));
    expect(again.items).toEqual([]);
    k.engage(key, 'clicked', { url: 'https://reclaim.example/t/c/def' });
    const later = await feed.poll(again.cursor, new Date(0));
    expect(later.items.map((i) => i.targetUrl)).toEqual(['https://reclaim.example/t/c/def']);
  });

  it('refuses what Klaviyo refuses on Get Events: a bad filter, sort or page size', async () => {
    const h = { revision: '2026-07-15' };
    expect((await raw('/api/events?filter=contains(name,"x")', h)).status).toBe(400);
    expect((await raw('/api/events?sort=name', h)).status).toBe(400);
    expect((await raw('/api/events?page[size]=5000', h)).status).toBe(400);
    expect((await raw('/api/events/NO-SUCH-EVENT', h)).status).toBe(404);
    expect((await raw('/api/metrics', h)).status).toBe(200);
  });
});

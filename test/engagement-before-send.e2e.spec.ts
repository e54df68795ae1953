/**
 * Engagement is never lost (issue 11, item 4), through HTTP: the e-mail provider accepts the
 * message and the shopper clicks its link 5 ms later — before the appliance has recorded the send
 * (the provider call has not even returned). The /t/c redirect answers 302 at once; the click is
 * held against the message and applied when the send is recorded: it is in the customer history
 * after the send, once, and the order that follows is attributed to the message.
 */
import { randomUUID } from 'node:crypto';
import type { ChannelMessage, ChannelPort } from '@reclaim/ports';
import { ANALYST_TOKEN, api, eventually, hmacBase64, post, startHarness, type Harness } from './support/harness';
import { shopifyCheckout, shopifyOrder } from './support/payloads';

const SECRET = 'shpss_engagement_secret';
const DOMAIN = 'engagement-before-send.myshopify.com';

/** An e-mail provider whose recipient clicks the first link 5 ms after it accepted the message. */
class ClickingProvider implements ChannelPort {
  harness: Harness | undefined;
  readonly accepted: ChannelMessage[] = [];
  readonly clicks: number[] = [];

  async send(message: ChannelMessage): Promise<{ messageId: string }> {
    this.accepted.push(message);
    const link = /https:\/\/reclaim\.test(\/t\/c\/[A-Za-z0-9._~-]+)/.exec(message.html ?? '');
    if (link && this.harness) {
      await new Promise((r) => setTimeout(r, 5));
      // Twice: a mail client following the link again is the same click.
      for (let i = 0; i < 2; i++) {
        const res = await fetch(`${this.harness.baseUrl}${link[1]}`, { redirect: 'manual' });
        this.clicks.push(res.status);
      }
    }
    return { messageId: `accepted-${this.accepted.length}` };
  }

  async lookup(): Promise<{ status: 'not-sent' }> {
    return { status: 'not-sent' };
  }
}

describe('a click before the send is recorded (HTTP, real engine on PostgreSQL)', () => {
  const provider = new ClickingProvider();
  let h: Harness;
  let shopId: string;

  beforeAll(async () => {
    h = await startHarness(
      {
        ABANDON_AFTER: '1s',
        HOLDOUT_PERCENT: '0',
        TIMER_TICK: '200ms',
        PUBLIC_URL: 'https://reclaim.test',
        MERCHANT_NAME: 'Lumen Lamps',
        MERCHANT_POSTAL_ADDRESS: '1 Analytical Way, London EC1A 1AA',
      },
      { adapters: { channels: { email: provider } } },
    );
    provider.harness = h;
    const res = await api(h, 'POST', '/api/shops', {
      platform: 'shopify',
      shopDomain: DOMAIN,
      webhookSecret: SECRET,
      apiUrl: `https://${DOMAIN}/admin/api/2025-01`,
      apiToken: 'shpat_engagement_token',
      currency: 'USD',
      timezone: 'UTC',
    });
    expect(res.status).toBe(201);
    shopId = res.body.id;
    expect((await api(h, 'PUT', `/api/shops/${shopId}/settings`, { domainAliases: ['shop.example'] })).status).toBe(
      200,
    );
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

  it('the click ends in the history after the send, once, and the order is attributed to the message', async () => {
    const token = `early-${randomUUID()}`;
    const email = 'ada@example.com';
    const checkout = shopifyCheckout({
      token,
      updatedAt: new Date().toISOString(),
      email,
      price: '80.00',
      phone: null,
    });
    expect((await signed('checkouts/update', checkout)).status).toBe(200);

    const key = h.runtime.vault.subjectFor(shopId, { email }) as string;
    const history = async () => {
      const res = await api(h, 'GET', `/api/customers/${shopId}/${key}/history`, undefined, ANALYST_TOKEN);
      return (res.body?.entries ?? []) as { kind: string; step?: number; messageId?: string }[];
    };
    const entries = await eventually(async () => {
      const list = await history();
      return list.some((e) => e.kind === 'clicked') ? list : undefined;
    }, 30_000);
    // The redirect answered while the send was not recorded yet; the click was held, not dropped.
    expect(provider.clicks).toEqual([302, 302]);
    const kinds = entries.map((e) => e.kind);
    expect(kinds.indexOf('clicked')).toBeGreaterThan(kinds.indexOf('sent'));
    expect(kinds.filter((k) => k === 'clicked')).toHaveLength(1);

    // The shopper orders: last-click attribution finds the held-then-applied click.
    expect(
      (await signed('orders/create', shopifyOrder({ checkoutToken: token, placedAt: new Date().toISOString() })))
        .status,
    ).toBe(200);
    const attributed = await eventually(
      async () => (await history()).find((e) => e.kind === 'order-attributed'),
      30_000,
    );
    expect(attributed).toMatchObject({ step: 0, messageId: 'accepted-1' });

    // /metrics: nothing waits, nothing expired.
    const text = await (await fetch(`${h.baseUrl}/metrics`)).text();
    expect(text).toMatch(/reclaim_engagement_held\{status="waiting"\} 0/);
    expect(text).toMatch(/reclaim_engagement_held\{status="expired"\} 0/);
  });
});

/**
 * Send-time optimisation (issue 14, item 4; RFC 0012) with the running appliance: a customer whose
 * orders came in the evening (19:10 on five days) abandons a cart at 13:00; the follow-up's nominal
 * time is 17:00 (abandoned at 14:00 + 3 h). On a shop whose recoveries all draw the `on` arm it lands
 * at 19:00, and the customer history shows nominal vs chosen and why; on a shop whose recoveries
 * all draw the `off` arm (the control) it keeps 17:00, and the history says what would have been
 * chosen. A manual clock moves the engine; only polling (`eventually`) waits for the background work.
 */
import { randomUUID } from 'node:crypto';
import type { ChannelMessage, ChannelPort } from '@reclaim/ports';
import { ManualClock } from '@reclaim/testing/fakes';
import { ANALYST_TOKEN, api, eventually, hmacBase64, post, startHarness, type Harness } from './support/harness';
import { shopifyCheckout, shopifyOrder } from './support/payloads';

const SECRET = 'shpss_send_time';
const EMAIL = 'ada@example.com';
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

class CapturingEmail implements ChannelPort {
  readonly accepted: ChannelMessage[] = [];
  async send(message: ChannelMessage): Promise<{ messageId: string }> {
    this.accepted.push(message);
    return { messageId: `st-${this.accepted.length}` };
  }
  async lookup(): Promise<{ status: 'not-sent' }> {
    return { status: 'not-sent' };
  }
}

interface HistoryEntry {
  kind: string;
  at: string;
  step?: number;
  reason?: string;
  detail?: string;
  until?: string;
  sendTime?: {
    nominalAt: string;
    chosenAt: string;
    reason: string;
    wouldChooseAt?: string;
    timeZone: string;
    timeZoneSource: string;
  };
  sendTimeArm?: { arm: string; propensity: number };
}

describe('send-time optimisation: the follow-up lands at the hour the customer engages', () => {
  // Monday 7 December 2026, 13:00 UTC (the shops' zone; the orders carry no address, the checkouts a London one).
  const clock = new ManualClock('2026-12-07T13:00:00.000Z');
  const email = new CapturingEmail();
  let h: Harness;
  const shops: Record<'on' | 'off', { id: string; domain: string }> = {
    on: { id: '', domain: 'send-time-on.myshopify.com' },
    off: { id: '', domain: 'send-time-off.myshopify.com' },
  };

  function signed(domain: string, topic: string, body: string) {
    return post(h, '/webhooks/shopify', body, {
      'content-type': 'application/json',
      'x-shopify-topic': topic,
      'x-shopify-shop-domain': domain,
      'x-shopify-api-version': '2025-10',
      'x-shopify-webhook-id': randomUUID(),
      'x-shopify-hmac-sha256': hmacBase64(SECRET, body),
    });
  }

  async function history(shopId: string): Promise<HistoryEntry[]> {
    const key = h.runtime.vault.subjectFor(shopId, { email: EMAIL }) as string;
    const res = await api(h, 'GET', `/api/customers/${shopId}/${key}/history`, undefined, ANALYST_TOKEN);
    expect(res.status).toBe(200);
    return res.body.entries as HistoryEntry[];
  }

  const find = (shopId: string, pick: (e: HistoryEntry) => boolean) =>
    eventually(async () => (await history(shopId)).find(pick), 30_000);

  beforeAll(async () => {
    h = await startHarness(
      {
        ABANDON_AFTER: '1h',
        FOLLOW_UP_DELAYS: '3h',
        HOLDOUT_PERCENT: '0',
        TIMER_TICK: '200ms',
        PUBLIC_URL: 'https://reclaim.test',
        MERCHANT_POSTAL_ADDRESS: '1 Evening Lane, York YO1 7HH',
      },
      { clock, adapters: { channels: { email } } },
    );
    for (const arm of ['on', 'off'] as const) {
      const res = await api(h, 'POST', '/api/shops', {
        platform: 'shopify',
        shopDomain: shops[arm].domain,
        webhookSecret: SECRET,
        apiUrl: `https://${shops[arm].domain}/admin/api/2025-10`,
        apiToken: 'shpat_send_time',
        currency: 'USD',
        timezone: 'UTC',
      });
      expect(res.status).toBe(201);
      shops[arm].id = res.body.id;
      const settings = await api(h, 'PUT', `/api/shops/${shops[arm].id}/settings`, {
        sendTime: { enabled: true, armPercent: arm === 'on' ? 100 : 0, windowHours: 4 },
      });
      expect(settings.status).toBe(200);
      // The customer's evening habit: five orders at 19:10 on the days before.
      for (let day = 2; day <= 6; day++) {
        const order = shopifyOrder({
          checkoutToken: `old-${arm}-${day}`,
          orderId: `55123456789012345${day}0`,
          placedAt: `2026-12-0${day}T19:10:00Z`,
        });
        expect((await signed(shops[arm].domain, 'orders/create', order)).status).toBe(200);
      }
    }
  });

  afterAll(async () => {
    await h?.close();
  });

  it('a bad send-time setting is refused, naming the field', async () => {
    const res = await api(h, 'PUT', `/api/shops/${shops.on.id}/settings`, { sendTime: { windowHours: 30, spin: 1 } });
    expect(res.status).toBe(400);
    const text = JSON.stringify(res.body);
    expect(text).toContain('sendTime.windowHours');
    expect(text).toContain('sendTime.spin');
  });

  it('on arm: moved from 17:00 to 19:00 with the evidence; off arm: nominal 17:00 kept', async () => {
    // Both profiles are built from the order log before the carts arrive.
    await eventually(async () => {
      const { rows } = await h.runtime.pool.query<{ n: number }>(
        `SELECT coalesce(sum(orders), 0)::integer AS n FROM engine.engagement_hours WHERE hour = 19`,
      );
      return rows[0].n === 10 ? true : undefined;
    }, 30_000);
    for (const arm of ['on', 'off'] as const) {
      const body = shopifyCheckout({
        token: `st-${arm}-${randomUUID()}`,
        updatedAt: clock.now().toISOString(),
        email: EMAIL,
        price: '80.00',
        phone: null,
      });
      expect((await signed(shops[arm].domain, 'checkouts/update', body)).status).toBe(200);
    }
    // Abandoned at 14:00: step 0 goes out at once on both shops.
    clock.advance(HOUR + 1_000);
    for (const arm of ['on', 'off'] as const) {
      await find(shops[arm].id, (e) => e.kind === 'sent' && e.step === 0);
      const assigned = await find(shops[arm].id, (e) => e.kind === 'send-time-assigned');
      expect(assigned.sendTimeArm).toEqual({ arm, propensity: 1 });
    }

    // 15:00 is the on arm's window start (nominal 17:00 − 4 h, not before 1 h after abandonment).
    clock.set('2026-12-07T15:00:05.000Z');
    const chosen = await find(shops.on.id, (e) => e.kind === 'send-time-chosen' && e.step === 1);
    expect(chosen.sendTime).toMatchObject({
      nominalAt: '2026-12-07T17:00:00.000Z',
      chosenAt: '2026-12-07T19:00:00.000Z',
      reason: 'profile',
      // The checkout's address is in London (UTC in December), like the shop's zone.
      timeZone: 'Europe/London',
      timeZoneSource: 'address',
    });
    expect(chosen.detail).toMatch(
      /^step 1: moved from Mon 17:00 to Mon 19:00 \(Europe\/London, customer's address\): 5 engagement events/,
    );
    await find(shops.on.id, (e) => e.kind === 'deferred' && e.step === 1 && e.reason === 'send-time');

    // 17:00, the nominal time: the off arm sends, the on arm waits.
    clock.set('2026-12-07T17:00:05.000Z');
    const offSent = await find(shops.off.id, (e) => e.kind === 'sent' && e.step === 1);
    expect(Date.parse(offSent.at)).toBeLessThan(Date.parse('2026-12-07T19:00:00.000Z'));
    const control = await find(shops.off.id, (e) => e.kind === 'send-time-chosen' && e.step === 1);
    expect(control.sendTime).toMatchObject({
      reason: 'control-arm',
      nominalAt: '2026-12-07T17:00:00.000Z',
      wouldChooseAt: '2026-12-07T19:00:00.000Z',
    });
    expect(control.detail).toContain('control arm: nominal Mon 17:00 kept');
    await new Promise((r) => setTimeout(r, 1_500));
    expect((await history(shops.on.id)).some((e) => e.kind === 'sent' && e.step === 1)).toBe(false);

    // 19:00, the customer's evening hour: the on arm's follow-up goes out.
    clock.set('2026-12-07T19:00:02.000Z');
    const onSent = await find(shops.on.id, (e) => e.kind === 'sent' && e.step === 1);
    expect(Date.parse(onSent.at)).toBeGreaterThanOrEqual(Date.parse('2026-12-07T19:00:00.000Z'));
  }, 120_000);

  it('the arms are measured: the read model, the analyst view and the dashboard figure', async () => {
    for (const arm of ['on', 'off'] as const) {
      const rows = await eventually(async () => {
        const res = await h.runtime.pool.query<{ arm: string; carts: number; mean_propensity: string }>(
          `SELECT arm, carts, mean_propensity FROM read.send_time_arms WHERE shop_id = $1`,
          [shops[arm].id],
        );
        return res.rows.length > 0 ? res.rows : undefined;
      }, 30_000);
      expect(rows).toEqual([{ arm, carts: 1, mean_propensity: '1.0000' }]);
      const lift = await h.runtime.pool.query(
        `SELECT status, on_carts, off_carts FROM read.send_time_lift WHERE shop_id = $1`,
        [shops[arm].id],
      );
      expect(lift.rows).toEqual([
        { status: 'not enough data yet', on_carts: arm === 'on' ? 1 : 0, off_carts: arm === 'off' ? 1 : 0 },
      ]);
    }
    const res = await api(
      h,
      'GET',
      `/api/dashboard/summary?shopId=all&from=2026-12-01&to=2026-12-31`,
      undefined,
      ANALYST_TOKEN,
    );
    expect(res.status).toBe(200);
    expect(res.body.kpis.sendTime).toEqual({ status: 'not enough data yet', onCarts: 1, offCarts: 1, minimum: 30 });
  });
});

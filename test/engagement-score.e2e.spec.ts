/**
 * Engagement score and channel choice (issue 14, item 5; RFC 0013) through the running appliance:
 * Shopify webhooks in, the real engine on PostgreSQL, recording e-mail and SMS providers out.
 *
 * - A customer who never engages gets fewer messages: once the score has the evidence, the steps
 *   between the first and the last are skipped as `low-responsiveness`, with the estimate in the
 *   customer history and counted in the dashboard's step view.
 * - Where SMS responded better than e-mail for a segment, a customer of that segment who consented
 *   to both gets SMS; where e-mail responded better, e-mail — with the rates and costs recorded.
 */
import { randomUUID } from 'node:crypto';
import type { ChannelMessage, ChannelPort } from '@reclaim/ports';
import { ANALYST_TOKEN, api, eventually, hmacBase64, post, startHarness, type Harness } from './support/harness';
import { shopifyCheckout } from './support/payloads';

const SECRET = 'shpss_engagement_score_secret';

/** A zone where it is now around midday, so the SMS send window (08:00–21:00 local) is open. */
function middayZone(): string {
  const offset = 12 - new Date().getUTCHours(); // local = UTC + offset
  const clamped = Math.max(-12, Math.min(14, offset));
  // Etc/GMT zones have the inverted sign: Etc/GMT-3 is UTC+3.
  return clamped === 0 ? 'UTC' : `Etc/GMT${clamped > 0 ? '-' : '+'}${Math.abs(clamped)}`;
}

/** A provider that records every message and, for the recoveries named in `engaging`, clicks its link. */
class RecordingProvider implements ChannelPort {
  harness: Harness | undefined;
  readonly accepted: ChannelMessage[] = [];
  readonly engaging = new Set<string>();

  async send(message: ChannelMessage): Promise<{ messageId: string }> {
    this.accepted.push(message);
    const recoveryId = message.context?.recoveryId ?? '';
    if (this.harness && [...this.engaging].some((token) => recoveryId.includes(token))) {
      const link = /https:\/\/reclaim\.test(\/t\/c\/[A-Za-z0-9._~-]+)/.exec(message.html ?? message.body ?? '');
      if (link) {
        const base = this.harness.baseUrl;
        // The shopper clicks a little later, after the send is recorded.
        setTimeout(() => void fetch(`${base}${link[1]}`, { redirect: 'manual' }).catch(() => undefined), 300);
      }
    }
    return { messageId: `${message.channel}-${this.accepted.length}` };
  }

  async lookup(): Promise<{ status: 'not-sent' }> {
    return { status: 'not-sent' };
  }

  of(token: string): ChannelMessage[] {
    return this.accepted.filter((m) => (m.context?.recoveryId ?? '').includes(token));
  }
}

interface Entry {
  kind: string;
  step?: number;
  reason?: string;
  channel?: string;
  detail?: string;
  responsiveness?: { level: string; sent: number; engaged: number; estimate: number };
  responsivenessDetail?: string;
  channelChoice?: {
    chosen: string;
    basis: string;
    segment: string;
    propensity?: number;
    draw?: number;
    candidates: {
      channel: string;
      sent: number;
      engaged: number;
      rate: number;
      cost: number;
      sampledRate?: number;
      probability?: number;
    }[];
  };
  channelChoiceDetail?: string;
}

async function connectShop(h: Harness, domain: string, settings: Record<string, unknown>): Promise<string> {
  const res = await api(h, 'POST', '/api/shops', {
    platform: 'shopify',
    shopDomain: domain,
    webhookSecret: SECRET,
    apiUrl: `https://${domain}/admin/api/2025-01`,
    apiToken: 'shpat_engagement_score',
    currency: 'USD',
    timezone: middayZone(),
  });
  expect(res.status).toBe(201);
  const shopId = res.body.id as string;
  const saved = await api(h, 'PUT', `/api/shops/${shopId}/settings`, {
    domainAliases: ['shop.example'],
    ...settings,
  });
  expect(saved.status).toBe(200);
  return shopId;
}

let customerId = 7_000_000_000_000_000_000n;
const MOBILE_UA =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1';
const DESKTOP_UA =
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Safari/605.1.15';

/** A checkout of a distinct customer: e-mail and/or phone, with the marketing consents given. */
function checkout(opts: {
  token: string;
  email: string | null;
  phone: string | null;
  price: string;
  mobile?: boolean;
}): string {
  customerId += 1n;
  const body = shopifyCheckout({
    token: opts.token,
    updatedAt: new Date().toISOString(),
    email: opts.email as string,
    phone: opts.phone,
    price: opts.price,
  })
    .replace(
      '"buyer_accepts_marketing": true,',
      '"buyer_accepts_marketing": true, "buyer_accepts_sms_marketing": true,',
    )
    .replace('"id": 6012345678901234567', `"id": ${customerId}`)
    .replace(
      '"source_name": "web",',
      `"source_name": "web", "client_details": { "user_agent": ${JSON.stringify(opts.mobile ? MOBILE_UA : DESKTOP_UA)} },`,
    )
    // No address: the send windows are read in the shop's zone.
    .replace(/,\s*"billing_address": \{[^}]*\}/, '');
  return body;
}

function signer(h: Harness, domain: string) {
  return (topic: string, body: string) =>
    post(h, '/webhooks/shopify', body, {
      'content-type': 'application/json',
      'x-shopify-topic': topic,
      'x-shopify-shop-domain': domain,
      'x-shopify-api-version': '2025-01',
      'x-shopify-webhook-id': randomUUID(),
      'x-shopify-hmac-sha256': hmacBase64(SECRET, body),
    });
}

/** The dashboard summary of the shop, from yesterday to tomorrow. */
function summaryOf(h: Harness, shopId: string) {
  const day = (offset: number) => new Date(Date.now() + offset * 86_400_000).toISOString().slice(0, 10);
  return api(
    h,
    'GET',
    `/api/dashboard/summary?shopId=${shopId}&from=${day(-1)}&to=${day(1)}`,
    undefined,
    ANALYST_TOKEN,
  );
}

async function historyOf(h: Harness, shopId: string, contact: { email?: string; phone?: string }): Promise<Entry[]> {
  const key = h.runtime.vault.subjectFor(shopId, contact) as string;
  const res = await api(h, 'GET', `/api/customers/${shopId}/${key}/history`, undefined, ANALYST_TOKEN);
  return (res.body?.entries ?? []) as Entry[];
}

describe('a customer who never engages gets fewer messages, with the reason (HTTP, real engine)', () => {
  const email = new RecordingProvider();
  let h: Harness;
  let shopId: string;
  const DOMAIN = 'engagement-score-cold.myshopify.com';

  beforeAll(async () => {
    h = await startHarness(
      {
        ABANDON_AFTER: '1s',
        // Seven steps, 2 s apart.
        FOLLOW_UP_DELAYS: '2s,4s,6s,8s,10s,12s',
        HOLDOUT_PERCENT: '0',
        TIMER_TICK: '200ms',
        PUBLIC_URL: 'https://reclaim.test',
        MERCHANT_NAME: 'Lumen Lamps',
        MERCHANT_POSTAL_ADDRESS: '1 Analytical Way, London EC1A 1AA',
      },
      { adapters: { channels: { email } } },
    );
    email.harness = h;
    // The recovery's own unanswered steps count as evidence; the fatigue counter (the fallback) is off,
    // so what cuts the messages is the score alone.
    shopId = await connectShop(h, DOMAIN, { fatigue: { countOwnSteps: true, enabled: false } });
  });

  afterAll(async () => {
    await h?.close();
  });

  it('after four unanswered messages the intermediate steps are skipped as low-responsiveness; the last step is still sent', async () => {
    const token = `cold-${randomUUID()}`;
    const address = 'cold@example.com';
    const signed = signer(h, DOMAIN);
    expect(
      (await signed('checkouts/update', checkout({ token, email: address, phone: null, price: '80.00' }))).status,
    ).toBe(200);

    const entries = await eventually(async () => {
      const list = await historyOf(h, shopId, { email: address });
      return list.some((e) => e.kind === 'sent' && e.step === 6) ? list : undefined;
    }, 120_000);
    // Seven steps, five messages: 0–3 (too little evidence, then not yet unresponsive), 6 (the last).
    expect(email.of(token).map((m) => m.context?.step)).toEqual([0, 1, 2, 3, 6]);
    const skipped = entries.filter((e) => e.kind === 'skipped');
    expect(skipped.map((e) => [e.step, e.reason])).toEqual([
      [4, 'low-responsiveness'],
      [5, 'low-responsiveness'],
    ]);
    expect(skipped[0].responsiveness).toMatchObject({ level: 'unresponsive', sent: 4, engaged: 0 });
    expect(skipped[0].responsiveness?.estimate).toBeLessThan(0.12);
    expect(skipped[0].detail).toMatch(/^unresponsive \(estimate [\d.]+%; unresponsive below 12%/);
    expect(skipped[0].detail).toContain('engaged after 0 of 4 messages in 30 days');
    // The last step records the estimate it was sent with.
    const last = entries.find((e) => e.kind === 'sent' && e.step === 6);
    expect(last?.responsiveness).toMatchObject({ level: 'unresponsive', sent: 4 });
    expect(last?.responsivenessDetail).toContain('engaged after 0 of 4 messages');

    // The dashboard's step view counts the skips.
    const summary = await eventually(async () => {
      const res = await summaryOf(h, shopId);
      const steps = (res.body?.steps ?? []) as { step: number; skippedLowResponsiveness: number }[];
      return steps.filter((s) => s.skippedLowResponsiveness > 0).length === 2 ? steps : undefined;
    }, 30_000);
    expect(summary.filter((s) => s.skippedLowResponsiveness > 0).map((s) => s.step)).toEqual([4, 5]);

    // The analyst's view of the customer's responsiveness (default prior and thresholds).
    const key = h.runtime.vault.subjectFor(shopId, { email: address });
    const rows = await eventually(async () => {
      const res = await h.runtime.pool.query(
        'SELECT sent, engaged, level FROM read.customer_responsiveness WHERE shop_id = $1 AND customer_key = $2',
        [shopId, key],
      );
      return res.rows[0]?.sent === 5 ? res.rows : undefined;
    }, 30_000);
    expect(rows).toEqual([{ sent: 5, engaged: 0, level: 'unresponsive' }]);
  }, 240_000);
});

describe('channel choice learned per segment × channel (HTTP, real engine)', () => {
  const email = new RecordingProvider();
  const sms = new RecordingProvider();
  let h: Harness;
  let shopId: string;
  const DOMAIN = 'engagement-score-channels.myshopify.com';
  // Premium carts (the premium sequence lists e-mail and SMS); on a phone inside checkout the shopper
  // is in mobile-checkout-friction, on a desktop in high-value-cart.
  const PRICE = '249.00';

  beforeAll(async () => {
    h = await startHarness(
      {
        ABANDON_AFTER: '1s',
        // Only step 0 within the test.
        FOLLOW_UP_DELAYS: '6h',
        HOLDOUT_PERCENT: '0',
        TIMER_TICK: '200ms',
        PUBLIC_URL: 'https://reclaim.test',
        MERCHANT_NAME: 'Lumen Lamps',
        MERCHANT_POSTAL_ADDRESS: '1 Analytical Way, London EC1A 1AA',
      },
      // The channel choice's Thompson draw, fixed: the sampled choice is the same on every run.
      { adapters: { channels: { email, sms }, channelRandom: () => 0.5 } },
    );
    email.harness = h;
    sms.harness = h;
    shopId = await connectShop(h, DOMAIN, { channelChoice: { minMessages: 2 } });
  });

  afterAll(async () => {
    await h?.close();
  });

  it('SMS where SMS answered better for the segment, e-mail where e-mail did; each choice with its rates and costs', async () => {
    const signed = signer(h, DOMAIN);
    // Evidence, one reachable channel per customer: shoppers on phones answer SMS and ignore e-mail,
    // shoppers on desktops the reverse.
    const evidence: { token: string; channel: 'email' | 'sms'; mobile: boolean; engages: boolean }[] = [];
    for (let i = 0; i < 3; i++) {
      evidence.push({ token: `mob-sms-${i}-${randomUUID()}`, channel: 'sms', mobile: true, engages: true });
      evidence.push({ token: `mob-mail-${i}-${randomUUID()}`, channel: 'email', mobile: true, engages: false });
      evidence.push({ token: `desk-sms-${i}-${randomUUID()}`, channel: 'sms', mobile: false, engages: false });
      evidence.push({ token: `desk-mail-${i}-${randomUUID()}`, channel: 'email', mobile: false, engages: true });
    }
    for (const [n, e] of evidence.entries()) {
      if (e.engages) (e.channel === 'sms' ? sms : email).engaging.add(e.token);
      const body = checkout({
        token: e.token,
        email: e.channel === 'email' ? `evidence-${n}@example.com` : null,
        phone: e.channel === 'sms' ? `+1415555${String(1000 + n)}` : null,
        price: PRICE,
        mobile: e.mobile,
      });
      expect((await signed('checkouts/update', body)).status).toBe(200);
    }
    // Every evidence message out, and every click recorded, before the test customers abandon.
    await eventually(
      async () => evidence.every((e) => (e.channel === 'sms' ? sms : email).of(e.token).length === 1),
      120_000,
    );
    await eventually(async () => {
      const { rows } = await h.runtime.pool.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM engine.sent_messages WHERE clicked_at IS NOT NULL',
      );
      return rows[0].n === 6;
    }, 30_000);

    // Two customers who consented to both channels: one on a phone, one on a desktop.
    const phone = { token: `mob-both-${randomUUID()}`, email: 'vera@example.com', phone: '+14155559001' };
    const desk = { token: `desk-both-${randomUUID()}`, email: 'lou@example.com', phone: '+14155559002' };
    expect((await signed('checkouts/update', checkout({ ...phone, price: PRICE, mobile: true }))).status).toBe(200);
    expect((await signed('checkouts/update', checkout({ ...desk, price: PRICE, mobile: false }))).status).toBe(200);
    const outOf = (token: string) => sms.of(token).length + email.of(token).length;
    await eventually(async () => outOf(phone.token) > 0 && outOf(desk.token) > 0, 120_000);
    // Without evidence both would get SMS (the preference order); the desktop shopper gets e-mail.
    expect(sms.of(phone.token)).toHaveLength(1);
    expect(email.of(phone.token)).toHaveLength(0);
    expect(email.of(desk.token)).toHaveLength(1);
    expect(sms.of(desk.token)).toHaveLength(0);

    // The customer history says why: segment, learned rates per channel, costs.
    const sentOf = (email: string) =>
      eventually(async () => (await historyOf(h, shopId, { email })).find((e) => e.kind === 'sent'), 30_000);
    const sentPhone = await sentOf(phone.email);
    // Thompson sampling (RFC 0013 §2): the draw, each channel's sampled rate and probability, and the
    // propensity of the channel sent are on the decision; SMS is the likelier choice, not a certain one.
    expect(sentPhone).toMatchObject({
      channel: 'sms',
      channelChoice: { chosen: 'sms', basis: 'sampled', segment: 'mobile-checkout-friction', draw: 0.5 },
    });
    const smsRate = sentPhone?.channelChoice?.candidates.find((c) => c.channel === 'sms');
    const mailRate = sentPhone?.channelChoice?.candidates.find((c) => c.channel === 'email');
    expect(smsRate).toMatchObject({ sent: 3, engaged: 3, cost: 0.05 });
    expect(mailRate).toMatchObject({ sent: 3, engaged: 0, cost: 0.001 });
    expect(smsRate!.rate).toBeGreaterThan(mailRate!.rate);
    expect(smsRate!.sampledRate! * 249 - 0.05).toBeGreaterThan(mailRate!.sampledRate! * 249 - 0.001);
    expect(smsRate!.probability).toBeGreaterThan(0.5);
    expect(smsRate!.probability).toBeLessThan(1);
    expect(mailRate!.probability).toBeGreaterThan(0);
    expect(smsRate!.probability! + mailRate!.probability!).toBeCloseTo(1, 5);
    expect(sentPhone?.channelChoice?.propensity).toBeCloseTo(smsRate!.probability!, 5);
    expect(sentPhone?.channelChoiceDetail).toMatch(
      /^sms: Thompson sampling for segment mobile-checkout-friction at value 249(\.00)? \(largest sampled rate × value − cost; probability \d+(\.\d)?%, draw 0\.5\)/,
    );

    const sentDesk = await sentOf(desk.email);
    expect(sentDesk).toMatchObject({
      channel: 'email',
      channelChoice: { chosen: 'email', basis: 'sampled', segment: 'high-value-cart', draw: 0.5 },
    });
    const deskMail = sentDesk?.channelChoice?.candidates.find((c) => c.channel === 'email');
    expect(deskMail?.probability).toBeGreaterThan(0.5);
    expect(sentDesk?.channelChoice?.propensity).toBeCloseTo(deskMail!.probability!, 5);

    // The analyst's view of the learned rates.
    const res = await summaryOf(h, shopId);
    const rates = res.body.responseRates as { segment: string; channel: string; sent: number; engaged: number }[];
    const view = await eventually(async () => {
      const res = await h.runtime.pool.query(
        `SELECT segment, channel, sent, engaged FROM read.channel_response_rates WHERE shop_id = $1
          AND segment IN ('mobile-checkout-friction', 'high-value-cart') ORDER BY segment, channel`,
        [shopId],
      );
      return res.rows.reduce((n: number, r: { sent: number }) => n + r.sent, 0) === 14 ? res.rows : undefined;
    }, 30_000);
    expect(view).toEqual([
      { segment: 'high-value-cart', channel: 'email', sent: 4, engaged: 3 },
      { segment: 'high-value-cart', channel: 'sms', sent: 3, engaged: 0 },
      { segment: 'mobile-checkout-friction', channel: 'email', sent: 3, engaged: 0 },
      { segment: 'mobile-checkout-friction', channel: 'sms', sent: 4, engaged: 3 },
    ]);
    expect(rates).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ segment: 'mobile-checkout-friction', channel: 'sms', engaged: 3 }),
        expect.objectContaining({ segment: 'mobile-checkout-friction', channel: 'email', engaged: 0 }),
        expect.objectContaining({ segment: 'high-value-cart', channel: 'email', engaged: 3 }),
      ]),
    );
  }, 300_000);
});

/**
 * The appliance wired to real adapters through its environment only: e-mail over SMTP into the
 * sandbox's SMTP sink, SMS through the Twilio stand-in, tickets through the Zendesk stand-in and
 * discount codes through the Shopify Admin stand-in (the shop's apiUrl). A manual clock moves the
 * engine from one step to the next, so nothing depends on how fast the machine is; only polling
 * (`eventually`) waits for the background work.
 */
import { randomUUID } from 'node:crypto';
import { startProviderSandbox, type ProviderSandbox, type SinkMessage } from '../apps/sandbox/src/providers';
import { SANDBOX_CREDENTIALS, startStoreSandbox, type StoreSandbox } from '../apps/sandbox/src/stores';
import { computeTwilioSignature } from '@reclaim/providers';
import { ManualClock } from '@reclaim/testing/fakes';
import { ANALYST_TOKEN, api, eventually, hmacBase64, post, startHarness, type Harness } from './support/harness';
import { shopifyCheckout } from './support/payloads';

const SECRET = 'shpss_adapters_secret';
const DOMAIN = 'adapters-e2e.myshopify.com';
const PUBLIC = 'https://reclaim.test';
const CUSTOMER_GID = 'gid://shopify/Customer/6012345678901234567';
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

interface HistoryEntry {
  kind: string;
  step?: number;
  reason?: string;
  channel?: string;
  discountCode?: string;
  channelsSkipped?: { channel: string; reason: string }[];
}

/** An IANA zone where it is early afternoon at `at`: SMS may only go out 08:00–21:00 local time. */
function afternoonZone(at: Date): string {
  let offset = 14 - at.getUTCHours();
  if (offset > 14) offset -= 24;
  if (offset < -12) offset += 24;
  return offset === 0 ? 'Etc/GMT' : `Etc/GMT${offset > 0 ? '-' : '+'}${Math.abs(offset)}`;
}

/** The sink's raw message with quoted-printable and base64 bodies decoded (enough to find a code). */
function decoded(mail: SinkMessage): string {
  const qp = mail.raw
    .replace(/=\r?\n/g, '')
    .replace(/=([0-9A-F]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)));
  const b64 = (mail.raw.match(/(?:^[A-Za-z0-9+/=]{40,}\r?\n)+/gm) ?? [])
    .map((block) => Buffer.from(block.replace(/\s+/g, ''), 'base64').toString('utf8'))
    .join('\n');
  return `${qp}\n${b64}`;
}

describe('adapters wired by configuration (SMTP, Twilio, Zendesk, Shopify Admin)', () => {
  let providers: ProviderSandbox;
  let stores: StoreSandbox;
  let h: Harness;
  let shopId: string;
  const clock = new ManualClock(new Date(Math.floor(Date.now() / 1000) * 1000));
  const start = clock.now();

  beforeAll(async () => {
    // Status callbacks are posted by the test itself, signed for PUBLIC_URL (the stand-in cannot reach it).
    providers = await startProviderSandbox({ twilioStatusCallbacks: false });
    stores = await startStoreSandbox({
      catalogue: [
        { productId: '7823456789012345678', variantId: '9123456789012345678', title: 'Desk lamp', price: '249.00' },
      ],
    });
    const c = providers.credentials;
    h = await startHarness(
      {
        ABANDON_AFTER: '1m',
        FOLLOW_UP_DELAYS: '1h,2h',
        HOLDOUT_PERCENT: '0',
        HIGH_VALUE_THRESHOLD: '100',
        TICKET_THRESHOLD: '200',
        TIMER_TICK: '200ms',
        PUBLIC_URL: PUBLIC,
        MERCHANT_NAME: 'Lumen Lamps',
        MERCHANT_POSTAL_ADDRESS: '1 Analytical Way, London EC1A 1AA',
        SMTP_URL: providers.urls.smtp,
        MAIL_FROM: 'Lumen Lamps <shop@lumen.example>',
        TWILIO_ACCOUNT_SID: c.twilioAccountSid,
        TWILIO_AUTH_TOKEN: c.twilioAuthToken,
        TWILIO_FROM: c.twilioFrom,
        TWILIO_API_URL: providers.urls.twilio,
        ZENDESK_API_URL: providers.urls.zendesk,
        ZENDESK_EMAIL: c.zendeskEmail,
        ZENDESK_API_TOKEN: c.zendeskApiToken,
        STORE_ADAPTERS: 'on',
        // Klaviyo for profiles only (segment and recovery context); e-mail still goes by SMTP.
        EMAIL_PROVIDER: 'smtp',
        KLAVIYO_API_KEY: c.klaviyoApiKey,
        KLAVIYO_API_URL: providers.urls.klaviyo,
      },
      { clock },
    );
    const res = await api(h, 'POST', '/api/shops', {
      platform: 'shopify',
      shopDomain: DOMAIN,
      webhookSecret: SECRET,
      apiUrl: stores.urls.shopify,
      apiToken: SANDBOX_CREDENTIALS.shopify,
      currency: 'USD',
      timezone: afternoonZone(start),
    });
    expect(res.status).toBe(201);
    shopId = res.body.id;
  });

  afterAll(async () => {
    await h?.close();
    await providers?.stop();
    await stores?.stop();
  });

  function checkout(token: string, email: string, price: string, phone: string | null): Promise<{ status: number }> {
    let body = shopifyCheckout({
      token,
      updatedAt: start.toISOString(),
      email,
      price,
      phone,
      // The customer's zone would be London's; quiet hours use the shop's afternoon zone instead.
      billingCountry: null,
    });
    if (phone !== null) {
      body = body.replace(
        '"buyer_accepts_marketing": true,',
        '"buyer_accepts_marketing": true, "buyer_accepts_sms_marketing": true,',
      );
    }
    return post(h, '/webhooks/shopify', body, {
      'content-type': 'application/json',
      'x-shopify-topic': 'checkouts/update',
      'x-shopify-shop-domain': DOMAIN,
      'x-shopify-api-version': '2025-10',
      'x-shopify-webhook-id': randomUUID(),
      'x-shopify-hmac-sha256': hmacBase64(SECRET, body),
    });
  }

  function twilioPost(path: string, params: Record<string, string>, signature?: string) {
    return fetch(`${h.baseUrl}${path}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'x-twilio-signature':
          signature ?? computeTwilioSignature(providers.credentials.twilioAuthToken, `${PUBLIC}${path}`, params),
      },
      body: new URLSearchParams(params).toString(),
    });
  }

  async function history(email: string): Promise<HistoryEntry[]> {
    const key = h.runtime.vault.subjectFor(shopId, { email }) as string;
    const res = await api(h, 'GET', `/api/customers/${shopId}/${key}/history`, undefined, ANALYST_TOKEN);
    expect(res.status).toBe(200);
    return res.body.entries as HistoryEntry[];
  }

  const mailTo = (address: string) => providers.stores.mail.filter((m) => m.to.includes(address));
  const textsTo = (phone: string) => providers.stores.twilio.messages.filter((m) => m.to === phone);

  it('sends by SMTP with real codes, texts by Twilio, opens one Zendesk ticket, and honours STOP', async () => {
    const high = `hi-${randomUUID()}`; // 249: premium (SMS first), ticket
    const low = `lo-${randomUUID()}`; // 50: welcome (e-mail only), no ticket
    const blocked = `st-${randomUUID()}`; // 150: premium, but the number opted out at Twilio (21610)
    const phoneHigh = '+14155550123';
    const phoneBlocked = '+14155550199';
    await fetch(`${providers.urls.control}/twilio/opt-outs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ phone: phoneBlocked }),
    });
    expect((await checkout(high, 'hi@example.com', '249.00', phoneHigh)).status).toBe(200);
    expect((await checkout(low, 'lo@example.com', '50.00', null)).status).toBe(200);
    expect((await checkout(blocked, 'st@example.com', '150.00', phoneBlocked)).status).toBe(200);

    // Abandonment and step 0.
    clock.advance(MINUTE + 1_000);
    await eventually(async () => textsTo(phoneHigh).length === 1 && mailTo('lo@example.com').length === 1, 30_000);
    const stepZeroBlocked = await eventually(async () => {
      const entries = await history('st@example.com');
      return entries.find((e) => e.kind === 'skipped' && e.step === 0);
    }, 30_000);
    expect(stepZeroBlocked.reason).toBe('channel-opted-out');
    expect(textsTo(phoneBlocked)).toHaveLength(0);

    // The SMS went through Twilio with a status callback to this appliance carrying our key.
    const text = textsTo(phoneHigh)[0];
    expect(text.from).toBe(providers.credentials.twilioFrom);
    const callback = new URL(text.statusCallback as string);
    expect(`${callback.origin}${callback.pathname}`).toBe(`${PUBLIC}/webhooks/twilio/status`);
    expect(callback.searchParams.get('reclaim_key')).toMatch(/:step-0:sms$/);
    const statusPath = `${callback.pathname}${callback.search}`;
    const status = {
      MessageSid: text.sid,
      MessageStatus: 'delivered',
      To: phoneHigh,
      AccountSid: providers.credentials.twilioAccountSid,
    };
    expect((await twilioPost(statusPath, status)).status).toBe(204);
    expect((await twilioPost(statusPath, { ...status, MessageStatus: 'failed' }, 'bm90IGEgc2lnbmF0dXJl')).status).toBe(
      403,
    );
    // The final status is on the recovery (held first if it beat the send record), once.
    expect((await twilioPost(statusPath, status)).status).toBe(204);
    const reported = await eventually(async () => {
      const list = (await history('hi@example.com')).filter((e) => e.kind === 'delivery-reported');
      return list.length > 0 ? list : undefined;
    }, 30_000);
    expect(reported).toEqual([expect.objectContaining({ step: 0, channel: 'sms', reason: 'delivered' })]);

    // The step-0 e-mail: SMTP, one-click unsubscribe headers (R25), the postal address.
    const lowMail = mailTo('lo@example.com')[0];
    expect(lowMail.headers['list-unsubscribe']).toMatch(/^<https:\/\/reclaim\.test\/u\/[^>]+>$/);
    expect(lowMail.headers['list-unsubscribe-post']).toBe('List-Unsubscribe=One-Click');
    expect(lowMail.headers['message-id']).toMatch(/\.reclaim@lumen\.example>$/);
    expect(decoded(lowMail)).toContain('1 Analytical Way');

    // Klaviyo profile sync: the segment and recovery context as reclaim_* profile properties.
    const lowProfile = await eventually(async () => {
      const p = providers.stores.klaviyo.profileByEmail('lo@example.com');
      return p?.properties.reclaim_recovery_status !== undefined ? p : undefined;
    }, 30_000);
    expect(lowProfile.properties).toMatchObject({
      reclaim_recovery_id: expect.stringContaining(shopId),
      reclaim_cart_value: '50',
      reclaim_cart_currency: 'USD',
    });
    expect(typeof lowProfile.properties.reclaim_segment).toBe('string');
    expect(String(lowProfile.properties.reclaim_segments)).toContain(String(lowProfile.properties.reclaim_segment));

    // STOP replies (R26): a bad signature is refused; "please stop" is confirmed once in TwiML
    // (Twilio does not handle it), its retry and a later STOP are not confirmed again.
    const reply = (body: string, sid: string) => ({
      MessageSid: sid,
      From: phoneHigh,
      To: providers.credentials.twilioFrom,
      Body: body,
      AccountSid: providers.credentials.twilioAccountSid,
    });
    // A real answer (not a keyword) is engagement on the SMS it answers; nothing is sent back.
    const question = reply('Is the blue one still in stock?', `SM${'0'.repeat(32)}`);
    const replied = await eventually(async () => {
      const res = await twilioPost('/webhooks/twilio/inbound', question);
      expect(res.status).toBe(200);
      expect(await res.text()).not.toContain('<Message>');
      return (await history('hi@example.com')).find((e) => e.kind === 'replied');
    }, 30_000);
    expect(replied).toMatchObject({ step: 0, channel: 'sms' });
    const stop1 = reply('please stop texting me', `SM${'1'.repeat(32)}`);
    const forged = await twilioPost(
      '/webhooks/twilio/inbound',
      stop1,
      computeTwilioSignature('wrong-token', `${PUBLIC}/webhooks/twilio/inbound`, stop1),
    );
    expect(forged.status).toBe(403);
    const first = await twilioPost('/webhooks/twilio/inbound', stop1);
    expect(first.status).toBe(200);
    expect(first.headers.get('content-type')).toMatch(/^text\/xml/);
    expect(await first.text()).toContain('<Message>You are unsubscribed');
    const retried = await twilioPost('/webhooks/twilio/inbound', stop1);
    expect(await retried.text()).not.toContain('<Message>');
    const again = await twilioPost('/webhooks/twilio/inbound', reply('STOP', `SM${'2'.repeat(32)}`));
    expect(again.status).toBe(200);
    expect(await again.text()).not.toContain('<Message>');
    await eventually(async () => (await history('hi@example.com')).some((e) => e.kind === 'channel-revoked'), 30_000);

    // Step 1 (an hour after abandonment): e-mail only, each with a 5 % code created in the Shopify stand-in.
    clock.advance(HOUR);
    await eventually(
      async () =>
        mailTo('hi@example.com').length === 1 &&
        mailTo('lo@example.com').length === 2 &&
        mailTo('st@example.com').length === 1,
      30_000,
    );
    expect(textsTo(phoneHigh)).toHaveLength(1);
    expect(textsTo(phoneBlocked)).toHaveLength(0);
    // The mail reaches the sink before the send is recorded: wait for the record.
    const highStep1 = await eventually(
      async () => (await history('hi@example.com')).find((e) => e.kind === 'sent' && e.step === 1),
      30_000,
    );
    expect(highStep1.channel).toBe('email');
    expect(highStep1?.channelsSkipped?.map((s) => s.channel)).toEqual(['sms']);
    const discounts = [...stores.state.shopify.discounts.values()];
    expect(discounts).toHaveLength(3);
    for (const address of ['hi@example.com', 'lo@example.com', 'st@example.com']) {
      const sent = await eventually(
        async () => (await history(address)).find((e) => e.kind === 'sent' && e.step === 1),
        30_000,
      );
      const code = sent?.discountCode as string;
      const discount = discounts.find((d) => d.code === code);
      expect(discount?.input).toMatchObject({
        usageLimit: 1,
        customerGets: { value: { percentage: 0.05 } },
        context: { customers: { add: [CUSTOMER_GID] } },
      });
      const mails = mailTo(address);
      expect(decoded(mails[mails.length - 1])).toContain(code);
    }
    for (const mail of providers.stores.mail) {
      expect(mail.headers['list-unsubscribe']).toMatch(/^<https:\/\/reclaim\.test\/u\/[^>]+>$/);
    }

    // Exactly one Zendesk ticket, for the cart ≥ TICKET_THRESHOLD, created with an Idempotency-Key.
    const tickets = await eventually(async () =>
      providers.stores.zendesk.tickets.length >= 1 ? providers.stores.zendesk.tickets : undefined,
    );
    expect(tickets).toHaveLength(1);
    expect(tickets[0].external_id).toBe(`recovery-${shopId}-cart-${high}:ticket`);
    const creates = providers.received('zendesk').filter((r) => r.method === 'POST');
    expect(creates).toHaveLength(1);
    expect(creates[0].headers['idempotency-key']).toBe(`recovery-${shopId}-cart-${high}:ticket`);
  }, 120_000);
});

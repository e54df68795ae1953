/**
 * Engagement is never lost (issue 11, item 4), for a provider status: Twilio accepts a text and its
 * delivery status callback reaches the appliance — over HTTP, on the real route, signed as Twilio
 * signs it — before the appliance has recorded the send (the provider call has not returned yet).
 * The route answers 204 at once; the status is held against the message (engine.held_engagement)
 * and applied when the send is recorded: "delivery reported" is in the customer history after the
 * send, once, and nothing is left waiting.
 *
 * A small proxy sits between the appliance and the Twilio stand-in: it forwards the send, and before
 * handing the stand-in's answer back it posts the signed `delivered` callback (twice: Twilio retries)
 * to the StatusCallback URL the appliance gave, and waits for the answers.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startProviderSandbox, type ProviderSandbox } from '../apps/sandbox/src/providers';
import { computeTwilioSignature } from '@reclaim/providers';
import { ANALYST_TOKEN, api, eventually, hmacBase64, post, startHarness, type Harness } from './support/harness';
import { shopifyCheckout } from './support/payloads';

const SECRET = 'shpss_twilio_early_status';
const DOMAIN = 'twilio-early-status.myshopify.com';
const PUBLIC = 'https://reclaim.test';
const PHONE = '+14155550142';

/** An IANA zone where it is early afternoon now: SMS may only go out 08:00–21:00 local time. */
function afternoonZone(at: Date): string {
  let offset = 14 - at.getUTCHours();
  if (offset > 14) offset -= 24;
  if (offset < -12) offset += 24;
  return offset === 0 ? 'Etc/GMT' : `Etc/GMT${offset > 0 ? '-' : '+'}${Math.abs(offset)}`;
}

describe('a Twilio delivery status before the send is recorded (HTTP, real engine on PostgreSQL)', () => {
  let providers: ProviderSandbox;
  let proxy: Server;
  let h: Harness;
  let shopId: string;
  /** What the appliance answered each early callback (while its send was not recorded). */
  const earlyAnswers: number[] = [];
  let recordedAtCallback: boolean | undefined;

  async function sendRecorded(): Promise<boolean> {
    const { rows } = await h.runtime.pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM event_store.events WHERE type = 'recovery.message-sent'`,
    );
    return rows[0].n > 0;
  }

  beforeAll(async () => {
    providers = await startProviderSandbox({ twilioStatusCallbacks: false });
    const c = providers.credentials;
    const upstream = providers.urls.twilio.replace(/\/$/, '');
    proxy = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (d: Buffer) => chunks.push(d));
      req.on('end', () => {
        void (async () => {
          const body = Buffer.concat(chunks);
          const forwarded = await fetch(`${upstream}${req.url ?? ''}`, {
            method: req.method,
            headers: Object.fromEntries(
              Object.entries(req.headers)
                .filter(([k]) => k !== 'host' && k !== 'content-length' && k !== 'connection')
                .map(([k, v]) => [k, String(v)]),
            ),
            ...(req.method === 'POST' ? { body } : {}),
          });
          const answer = await forwarded.text();
          const callback = new URLSearchParams(body.toString('utf8')).get('StatusCallback');
          if (req.method === 'POST' && forwarded.ok && callback !== null && h !== undefined) {
            const sid = (JSON.parse(answer) as { sid: string }).sid;
            const url = new URL(callback);
            const params = {
              MessageSid: sid,
              SmsSid: sid,
              MessageStatus: 'delivered',
              To: PHONE,
              AccountSid: c.twilioAccountSid,
            };
            recordedAtCallback = await sendRecorded();
            for (let i = 0; i < 2; i++) {
              const r = await fetch(`${h.baseUrl}${url.pathname}${url.search}`, {
                method: 'POST',
                headers: {
                  'content-type': 'application/x-www-form-urlencoded',
                  'x-twilio-signature': computeTwilioSignature(c.twilioAuthToken, callback, params),
                },
                body: new URLSearchParams(params).toString(),
              });
              earlyAnswers.push(r.status);
            }
          }
          res.writeHead(forwarded.status, {
            'content-type': forwarded.headers.get('content-type') ?? 'application/json',
          });
          res.end(answer);
        })().catch((err: unknown) => {
          res.writeHead(502);
          res.end(String(err));
        });
      });
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    const proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;

    h = await startHarness({
      ABANDON_AFTER: '1s',
      HOLDOUT_PERCENT: '0',
      HIGH_VALUE_THRESHOLD: '100',
      TIMER_TICK: '200ms',
      PUBLIC_URL: PUBLIC,
      MERCHANT_NAME: 'Lumen Lamps',
      MERCHANT_POSTAL_ADDRESS: '1 Analytical Way, London EC1A 1AA',
      TWILIO_ACCOUNT_SID: c.twilioAccountSid,
      TWILIO_AUTH_TOKEN: c.twilioAuthToken,
      TWILIO_FROM: c.twilioFrom,
      TWILIO_API_URL: proxyUrl,
    });
    const res = await api(h, 'POST', '/api/shops', {
      platform: 'shopify',
      shopDomain: DOMAIN,
      webhookSecret: SECRET,
      apiUrl: `https://${DOMAIN}/admin/api/2025-01`,
      apiToken: 'shpat_early_status_token',
      currency: 'USD',
      timezone: afternoonZone(new Date()),
    });
    expect(res.status).toBe(201);
    shopId = res.body.id;
  });

  afterAll(async () => {
    await h?.close();
    await new Promise((r) => proxy?.close(r));
    await providers?.stop();
  });

  it('the status is held, then applied once after the send', async () => {
    const email = 'grace@example.com';
    const body = shopifyCheckout({
      token: `early-status-${randomUUID()}`,
      updatedAt: new Date().toISOString(),
      email,
      price: '249.00',
      phone: PHONE,
      // The customer's zone would be London's; quiet hours use the shop's afternoon zone instead.
      billingCountry: null,
    }).replace(
      '"buyer_accepts_marketing": true,',
      '"buyer_accepts_marketing": true, "buyer_accepts_sms_marketing": true,',
    );
    const res = await post(h, '/webhooks/shopify', body, {
      'content-type': 'application/json',
      'x-shopify-topic': 'checkouts/update',
      'x-shopify-shop-domain': DOMAIN,
      'x-shopify-api-version': '2025-01',
      'x-shopify-webhook-id': randomUUID(),
      'x-shopify-hmac-sha256': hmacBase64(SECRET, body),
    });
    expect(res.status).toBe(200);

    const key = h.runtime.vault.subjectFor(shopId, { email }) as string;
    const history = async () => {
      const r = await api(h, 'GET', `/api/customers/${shopId}/${key}/history`, undefined, ANALYST_TOKEN);
      return (r.body?.entries ?? []) as { kind: string; step?: number; channel?: string; reason?: string }[];
    };
    const entries = await eventually(async () => {
      const list = await history();
      return list.some((e) => e.kind === 'delivery-reported') ? list : undefined;
    }, 30_000);

    // The callbacks came while the send was not recorded, and were answered at once (not 5xx).
    expect(providers.stores.twilio.messages.filter((m) => m.to === PHONE)).toHaveLength(1);
    expect(recordedAtCallback).toBe(false);
    expect(earlyAnswers).toEqual([204, 204]);
    const kinds = entries.map((e) => e.kind);
    expect(kinds).toContain('sent');
    expect(kinds.indexOf('delivery-reported')).toBeGreaterThan(kinds.indexOf('sent'));
    expect(entries.filter((e) => e.kind === 'delivery-reported')).toEqual([
      expect.objectContaining({ step: 0, channel: 'sms', reason: 'delivered' }),
    ]);

    const text = await (await fetch(`${h.baseUrl}/metrics`)).text();
    expect(text).toMatch(/reclaim_engagement_held\{status="waiting"\} 0/);
    expect(text).toMatch(/reclaim_engagement_held\{status="expired"\} 0/);
  });
});

import { randomBytes } from 'node:crypto';
import { Test } from '@nestjs/testing';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyInstance } from 'fastify';
import {
  MessageLinks,
  MessageTokens,
  TemplateMessageRenderer,
  utmParametersFor,
  utmSettingsOf,
  type EngagementRecorder,
  type EngagementSubject,
  type MessageLinkSubject,
  type UnsubscribeRecorder,
  type UnsubscribeRequest,
} from '@reclaim/application/messages';
import { MESSAGE_LINK_CONTROLLERS, MESSAGE_LINK_MAX_PARAM_LENGTH, messageLinkProviders, PIXEL_GIF } from './index';

const DAY = 24 * 60 * 60 * 1000;
const SHOP = '6f1c2d0e-8a51-4a9b-9a43-2b4f3d3c1a10';
const subject: MessageLinkSubject = {
  shopId: SHOP,
  recoveryId: `recovery-${SHOP}-cart-42`,
  step: 1,
  channel: 'email',
  customerKey: 'e-9f86d081884c7d65',
};

class FakeUnsubscribes implements UnsubscribeRecorder {
  readonly recorded: UnsubscribeRequest[] = [];
  failNext = false;
  async recordUnsubscribe(request: UnsubscribeRequest): Promise<void> {
    if (this.failNext) {
      this.failNext = false;
      throw new Error('database unavailable');
    }
    this.recorded.push(request);
  }
}

class FakeEngagement implements EngagementRecorder {
  readonly opened: EngagementSubject[] = [];
  readonly clicked: (EngagementSubject & { target: string })[] = [];
  async recordOpened(s: EngagementSubject): Promise<void> {
    this.opened.push(s);
  }
  async recordClicked(s: EngagementSubject & { target: string }): Promise<void> {
    this.clicked.push(s);
  }
}

describe('message links over HTTP (/u, /t/o, /t/c)', () => {
  let app: NestFastifyApplication;
  let http: FastifyInstance;
  let now: Date;
  let tokens: MessageTokens;
  const unsubscribes = new FakeUnsubscribes();
  const engagement = new FakeEngagement();

  beforeAll(async () => {
    now = new Date('2026-03-01T09:00:00Z');
    const clock = () => now;
    tokens = new MessageTokens(randomBytes(32), { clock });
    const moduleRef = await Test.createTestingModule({
      controllers: MESSAGE_LINK_CONTROLLERS,
      providers: messageLinkProviders({
        tokens,
        unsubscribes,
        engagement,
        shopDomains: {
          allowedHosts: async (shopId) =>
            shopId === SHOP ? ['lamps.myshopify.com', 'https://www.lamps.example'] : undefined,
        },
        clock,
      }),
    }).compile();
    app = moduleRef.createNestApplication<NestFastifyApplication>(
      new FastifyAdapter({ routerOptions: { maxParamLength: MESSAGE_LINK_MAX_PARAM_LENGTH } }),
      {
        bodyParser: false,
        logger: false,
      },
    );
    http = app.getHttpAdapter().getInstance() as unknown as FastifyInstance;
    // As the appliance must do for these paths (see the report): accept any body as raw bytes, ignore it.
    http.removeAllContentTypeParsers();
    http.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
    await app.init();
    await http.ready();
  });

  afterAll(async () => {
    await app?.close();
  });

  beforeEach(() => {
    unsubscribes.recorded.length = 0;
    engagement.opened.length = 0;
    engagement.clicked.length = 0;
  });

  function tamper(token: string): string {
    const [v, payload, sig] = token.split('.');
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
    return `${v}.${Buffer.from(JSON.stringify({ ...claims, k: 'e-someone-else' })).toString('base64url')}.${sig}`;
  }

  describe('unsubscribe', () => {
    it('suppresses on a cookie-less one-click POST (RFC 8058, R25)', async () => {
      const res = await http.inject({
        method: 'POST',
        url: `/u/${tokens.unsubscribe(subject)}`,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        payload: 'List-Unsubscribe=One-Click',
      });
      expect(res.statusCode).toBe(200);
      expect(res.headers['set-cookie']).toBeUndefined();
      expect(res.headers['cache-control']).toBe('no-store');
      expect(res.body).toContain('unsubscribed');
      expect(unsubscribes.recorded).toEqual([
        {
          shopId: SHOP,
          customerKey: subject.customerKey,
          channel: 'email',
          recoveryId: subject.recoveryId,
          step: 1,
          at: now,
          source: 'one-click',
        },
      ]);
    });

    it('accepts a multipart one-click POST too', async () => {
      const boundary = 'b0undary';
      const res = await http.inject({
        method: 'POST',
        url: `/u/${tokens.unsubscribe(subject)}`,
        headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
        payload: `--${boundary}\r\nContent-Disposition: form-data; name="List-Unsubscribe"\r\n\r\nOne-Click\r\n--${boundary}--\r\n`,
      });
      expect(res.statusCode).toBe(200);
      expect(unsubscribes.recorded).toHaveLength(1);
    });

    it('GET only shows a confirmation page whose form POSTs; it records nothing', async () => {
      const token = tokens.unsubscribe(subject);
      const res = await http.inject({ method: 'GET', url: `/u/${token}` });
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toContain('text/html');
      expect(res.headers['content-security-policy']).toContain("form-action 'self'");
      expect(res.body).toContain(`<form method="post" action="/u/${token}?via=page">`);
      expect(unsubscribes.recorded).toHaveLength(0);

      const confirm = await http.inject({
        method: 'POST',
        url: `/u/${token}?via=page`,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        payload: 'List-Unsubscribe=One-Click',
      });
      expect(confirm.statusCode).toBe(200);
      expect(confirm.headers['content-type']).toContain('text/html');
      expect(unsubscribes.recorded.map((r) => r.source)).toEqual(['link']);
    });

    it('refuses tampered, foreign-purpose and garbage tokens with 400 and records nothing (R24)', async () => {
      for (const token of [tamper(tokens.unsubscribe(subject)), tokens.open(subject), 'nonsense', 'v1.e30.AAAA']) {
        const post = await http.inject({ method: 'POST', url: `/u/${token}`, payload: '' });
        expect(post.statusCode).toBe(400);
        expect(post.body).toContain('not valid');
        const get = await http.inject({ method: 'GET', url: `/u/${token}` });
        expect(get.statusCode).toBe(400);
      }
      expect(unsubscribes.recorded).toHaveLength(0);
    });

    it('answers 410 for an expired link and 503 when the suppression could not be recorded', async () => {
      const old = tokens.unsubscribe(subject);
      const saved = now;
      now = new Date(saved.getTime() + 61 * DAY);
      try {
        const res = await http.inject({ method: 'POST', url: `/u/${old}` });
        expect(res.statusCode).toBe(410);
        expect(res.body).toContain('expired');
      } finally {
        now = saved;
      }
      unsubscribes.failNext = true;
      const failed = await http.inject({ method: 'POST', url: `/u/${tokens.unsubscribe(subject)}` });
      expect(failed.statusCode).toBe(503);
      expect(unsubscribes.recorded).toHaveLength(0);
    });
  });

  describe('open pixel', () => {
    it('serves a 1×1 GIF, uncached, and records the open', async () => {
      const res = await http.inject({ method: 'GET', url: `/t/o/${tokens.open(subject)}.gif` });
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toBe('image/gif');
      expect(res.headers['cache-control']).toContain('no-store');
      expect(res.rawPayload.equals(PIXEL_GIF)).toBe(true);
      expect(res.rawPayload.subarray(0, 6).toString('latin1')).toBe('GIF89a');
      expect(engagement.opened).toEqual([
        {
          shopId: SHOP,
          customerKey: subject.customerKey,
          channel: 'email',
          recoveryId: subject.recoveryId,
          step: 1,
          at: now,
        },
      ]);
    });

    it('refuses a tampered or click token and records nothing', async () => {
      for (const token of [tamper(tokens.open(subject)), tokens.click(subject, 'https://lamps.myshopify.com/')]) {
        const res = await http.inject({ method: 'GET', url: `/t/o/${token}.gif` });
        expect(res.statusCode).toBe(400);
      }
      expect(engagement.opened).toHaveLength(0);
    });
  });

  describe('click', () => {
    it.each([
      'https://lamps.myshopify.com/cart/c1?discount=SAVE10',
      'https://LAMPS.myshopify.com./checkouts/x',
      'https://www.lamps.example/products/lamp',
      'http://www.lamps.example/',
    ])('records the click and redirects to the shop: %s', async (target) => {
      const res = await http.inject({ method: 'GET', url: `/t/c/${tokens.click(subject, target)}` });
      expect(res.statusCode).toBe(302);
      expect(res.headers.location).toBe(new URL(target).href);
      expect(res.headers['referrer-policy']).toBe('no-referrer');
      expect(engagement.clicked).toEqual([
        {
          shopId: SHOP,
          customerKey: subject.customerKey,
          channel: 'email',
          recoveryId: subject.recoveryId,
          step: 1,
          at: now,
          target: new URL(target).href,
        },
      ]);
    });

    it.each([
      'https://evil.example/phish',
      'https://lamps.myshopify.com.evil.example/',
      'https://evil.example/?next=https://lamps.myshopify.com',
      'https://lamps.example/',
      'https://lamps.myshopify.com:8443/',
    ])('never redirects outside the shop, even with a valid signature: %s', async (target) => {
      const res = await http.inject({ method: 'GET', url: `/t/c/${tokens.click(subject, target)}` });
      expect(res.statusCode).toBe(400);
      expect(res.headers.location).toBeUndefined();
      expect(engagement.clicked).toHaveLength(0);
    });

    it.each(['email', 'sms'] as const)(
      'lands on the shop with the UTM parameters of the rendered %s link (and the merchant’s own kept)',
      async (channel) => {
        const links = new MessageLinks('https://reclaim.example', tokens).forMessage({ ...subject, channel });
        const utm = utmParametersFor(utmSettingsOf(undefined), {
          channel,
          sequenceId: 'default',
          step: 1,
          templateId: 'welcome-1',
          kind: 'sales',
        });
        const rendered = await new TemplateMessageRenderer().render({
          templateId: 'welcome-1',
          kind: 'sales',
          channel,
          step: 1,
          shop: { id: SHOP, domain: 'lamps.myshopify.com', postalAddress: '1 Main St', currency: 'USD' },
          items: [{ title: 'Lamp', quantity: 1, unitPrice: '10.00', priceChanged: false }],
          cartValue: '10.00',
          currency: 'USD',
          checkoutUrl: 'https://lamps.myshopify.com/cart/c1?utm_source=newsletter',
          unsubscribeUrl: links.unsubscribeUrl,
          trackingPixelUrl: links.trackingPixelUrl,
          ...(utm !== undefined ? { utm } : {}),
          clickUrl: links.clickUrl,
        });
        const path = /https:\/\/reclaim\.example(\/t\/c\/[A-Za-z0-9._-]+)/.exec(rendered.text)?.[1];
        expect(path).toBeDefined();
        const res = await http.inject({ method: 'GET', url: path as string });
        expect(res.statusCode).toBe(302);
        const location = new URL(res.headers.location as string);
        expect(location.origin + location.pathname).toBe('https://lamps.myshopify.com/cart/c1');
        expect(location.searchParams.getAll('utm_source')).toEqual(['newsletter']);
        expect(location.searchParams.get('utm_medium')).toBe(channel);
        expect(location.searchParams.get('utm_campaign')).toBe('default-step-1');
        expect(location.searchParams.get('utm_content')).toBe('welcome-1');
        expect(engagement.clicked[0]?.target).toBe(location.href);
      },
    );

    it('refuses a click for an unknown shop', async () => {
      const token = tokens.click({ ...subject, shopId: 'other-shop' }, 'https://lamps.myshopify.com/');
      const res = await http.inject({ method: 'GET', url: `/t/c/${token}` });
      expect(res.statusCode).toBe(400);
      expect(engagement.clicked).toHaveLength(0);
    });

    it('refuses tampered targets and expired tokens', async () => {
      const token = tokens.click(subject, 'https://lamps.myshopify.com/');
      const [v, payload, sig] = token.split('.');
      const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
      const forged = Buffer.from(JSON.stringify({ ...claims, u: 'https://evil.example/' })).toString('base64url');
      const tampered = await http.inject({ method: 'GET', url: `/t/c/${v}.${forged}.${sig}` });
      expect(tampered.statusCode).toBe(400);
      expect(tampered.headers.location).toBeUndefined();

      const saved = now;
      now = new Date(saved.getTime() + 91 * DAY);
      try {
        const expired = await http.inject({ method: 'GET', url: `/t/c/${token}` });
        expect(expired.statusCode).toBe(410);
      } finally {
        now = saved;
      }
      expect(engagement.clicked).toHaveLength(0);
    });
  });
});

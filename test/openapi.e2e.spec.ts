/**
 * OpenAPI (`/docs-json`) covers every route the appliance registers — Nest controllers, the plain
 * Fastify webhook routes, Twilio's webhooks, the public `/u` and `/t` links, the dashboard page —
 * and its signed webhook examples are real: posted as documented, each is accepted (200) by an
 * appliance on which the example shop is registered with the example secret.
 */
import { normalizeShopDomain } from '@reclaim/platforms';
import type { Platform } from '@reclaim/domain';
import { registeredRoutes } from '../apps/reclaim/src/bootstrap';
import { EXAMPLE_SHOPS, signedWebhookExamples, undocumentedRoutes } from '../apps/reclaim/src/http/webhook-openapi';
import { post, startHarness, type Harness } from './support/harness';

interface Doc {
  paths: Record<string, Record<string, { parameters?: { name: string; in: string; required?: boolean }[] }>>;
}

describe('the OpenAPI document', () => {
  let h: Harness;
  let doc: Doc;

  beforeAll(async () => {
    h = await startHarness();
    const res = await fetch(`${h.baseUrl}/docs-json`);
    expect(res.status).toBe(200);
    doc = (await res.json()) as Doc;
  });

  afterAll(async () => {
    await h?.close();
  });

  it('documents every registered route', () => {
    const routes = registeredRoutes(h.app);
    expect(routes.length).toBeGreaterThan(30);
    expect(undocumentedRoutes(routes, doc)).toEqual([]);
  });

  it('the coverage check names a route the document lacks', () => {
    const routes = [...registeredRoutes(h.app), { method: 'DELETE', url: '/api/shops/:id/nowhere' }];
    expect(undocumentedRoutes(routes, doc)).toEqual(['DELETE /api/shops/:id/nowhere']);
    const { ['/u/{token}']: _dropped, ...paths } = doc.paths;
    expect(undocumentedRoutes(registeredRoutes(h.app), { paths } as never)).toEqual([
      'GET /u/:token',
      'POST /u/:token',
    ]);
  });

  it('includes the webhook, Twilio and public link routes', () => {
    for (const [path, method] of [
      ['/webhooks/shopify', 'post'],
      ['/webhooks/bigcommerce', 'post'],
      ['/webhooks/woocommerce', 'post'],
      ['/webhooks/woocommerce/cartflows/{token}', 'post'],
      ['/webhooks/twilio/status', 'post'],
      ['/webhooks/twilio/inbound', 'post'],
      ['/u/{token}', 'get'],
      ['/u/{token}', 'post'],
      ['/t/o/{file}', 'get'],
      ['/t/c/{token}', 'get'],
      ['/api/customers/{shopId}/history', 'post'],
    ])
      expect([path, method, doc.paths[path]?.[method] !== undefined]).toEqual([path, method, true]);
  });

  it('documents customer-key with its required shopId', () => {
    const params = doc.paths['/api/dashboard/customer-key'].get.parameters ?? [];
    expect(params).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ name: 'shopId', in: 'query', required: true }),
        expect.objectContaining({ name: 'x-customer-email', in: 'header', required: true }),
      ]),
    );
  });

  it.each(['shopify', 'bigcommerce', 'woocommerce'] as Platform[])(
    'the signed %s example is accepted as documented',
    async (platform) => {
      const shop = EXAMPLE_SHOPS[platform];
      await h.runtime.shops.register({
        platform,
        shopDomain: normalizeShopDomain(platform, shop.shopDomain),
        webhookSecret: shop.webhookSecret,
        apiUrl: 'https://example.invalid/api',
        apiToken: 'example-token',
        currency: 'USD',
        timezone: 'UTC',
      });
      const example = signedWebhookExamples(h.runtime.clock())[platform];
      const res = await post(h, `/webhooks/${platform}`, example.body, { ...example.headers });
      expect([res.status, res.body]).toEqual([200, expect.anything()]);
      // The same body with another signature is refused: the example's signature is what made it pass.
      const sig = Object.keys(example.headers).find((k) => /signature|hmac/.test(k)) as string;
      const forged = await post(h, `/webhooks/${platform}`, example.body, { ...example.headers, [sig]: 'v1,AAAA' });
      expect(forged.status).toBe(401);
    },
  );
});

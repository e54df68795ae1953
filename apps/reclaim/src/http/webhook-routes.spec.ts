import { isStoreWebhook } from './webhook-routes';

describe('isStoreWebhook (the POSTs the server hands to the webhook-only Fastify instance)', () => {
  it.each([
    ['/webhooks/shopify'],
    ['/webhooks/bigcommerce'],
    ['/webhooks/woocommerce'],
    ['/webhooks/woocommerce/cartflows/abc_DEF-123'],
    ['/webhooks/shopify?x=1'],
  ])('takes POST %s', (url) => expect(isStoreWebhook('POST', url)).toBe(true));

  it.each([
    ['GET', '/webhooks/shopify'],
    ['POST', '/webhooks/twilio/status'],
    ['POST', '/webhooks/zendesk'],
    ['POST', '/webhooks/gorgias'],
    ['POST', '/webhooks/shopifyx'],
    ['POST', '/webhooks/woocommerce/cartflows/a/b'],
    ['POST', '/api/webhooks/shopify'],
    ['POST', undefined],
  ])('leaves %s %s to Nest', (method, url) => expect(isStoreWebhook(method, url)).toBe(false));
});

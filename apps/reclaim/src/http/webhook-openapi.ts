import { createHmac } from 'node:crypto';
import type { OpenAPIObject } from '@nestjs/swagger';
import type { Platform } from '@reclaim/domain';
import { signStandardWebhook } from '@reclaim/platforms';

/**
 * The OpenAPI description of the webhook routes (plain Fastify routes, see webhook-routes.ts, so
 * Nest's scanner does not see them), each with a signed example delivery. The examples are real:
 * signed with the example secret below for the example shop, they are accepted by an appliance on
 * which that shop is registered with that secret (openapi.e2e.spec.ts posts them).
 */
export const EXAMPLE_SHOPS: Readonly<Record<Platform, { shopDomain: string; webhookSecret: string }>> = {
  shopify: { shopDomain: 'example-shop.myshopify.com', webhookSecret: 'shpss_example_app_secret' },
  bigcommerce: {
    shopDomain: 'abc123xyz',
    webhookSecret: `whsec_${Buffer.from('example-bigcommerce-signing-key').toString('base64')}`,
  },
  woocommerce: { shopDomain: 'https://example-shop.com', webhookSecret: 'example-woocommerce-secret' },
};

export interface SignedExample {
  readonly headers: Readonly<Record<string, string>>;
  /** The exact bytes that were signed (compact JSON: the example object serialises back to them). */
  readonly body: string;
}

const hmacBase64 = (secret: string, body: string) => createHmac('sha256', secret).update(body).digest('base64');

/** One signed delivery per platform; BigCommerce's is bound to `now` (Standard Webhooks: ±5 minutes). */
export function signedWebhookExamples(now: Date): Record<Platform, SignedExample> {
  const at = now.toISOString();
  const shopify = JSON.stringify({
    id: 981234567890,
    token: 'b1946ac92492d2347c6235b4d2611184',
    cart_token: 'c1-example-cart',
    email: 'ada@example.com',
    buyer_accepts_marketing: true,
    created_at: at,
    updated_at: at,
    completed_at: null,
    currency: 'USD',
    subtotal_price: '80.00',
    total_price: '80.00',
    line_items: [
      { key: 'line-1', product_id: 7001, variant_id: 9001, title: 'Desk lamp', quantity: 1, price: '80.00' },
    ],
    customer: { id: 6001, email: 'ada@example.com', first_name: 'Ada' },
  });
  const bcBody = JSON.stringify({
    scope: 'store/cart/updated',
    store_id: '1025646',
    data: { type: 'cart', id: '09346904-4175-44fd-be53-f7e598531b6c' },
    hash: '3f8a1c2b9d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a',
    created_at: Math.floor(now.getTime() / 1000),
    producer: `stores/${EXAMPLE_SHOPS.bigcommerce.shopDomain}`,
  });
  const bcId = 'msg_2KWPBgLlAfxdpx2AI54pPJ85f4W';
  const bcTimestamp = Math.floor(now.getTime() / 1000);
  const woo = JSON.stringify({
    id: 4711,
    status: 'pending',
    currency: 'EUR',
    total: '59.90',
    discount_total: '0.00',
    date_created_gmt: at.slice(0, 19),
    date_modified_gmt: at.slice(0, 19),
    customer_id: 12,
    billing: { first_name: 'Emilie', email: 'emilie@example.com' },
    line_items: [{ id: 1, product_id: 5, variation_id: 0, name: 'Mug', quantity: 2, price: 29.95, total: '59.90' }],
    coupon_lines: [],
  });
  return {
    shopify: {
      body: shopify,
      headers: {
        'content-type': 'application/json',
        'x-shopify-topic': 'checkouts/update',
        'x-shopify-shop-domain': EXAMPLE_SHOPS.shopify.shopDomain,
        'x-shopify-api-version': '2025-01',
        'x-shopify-webhook-id': 'b54557e4-bdd9-4b37-8a5f-bf7d70bcd043',
        'x-shopify-hmac-sha256': hmacBase64(EXAMPLE_SHOPS.shopify.webhookSecret, shopify),
      },
    },
    bigcommerce: {
      body: bcBody,
      headers: {
        'content-type': 'application/json',
        'webhook-id': bcId,
        'webhook-timestamp': String(bcTimestamp),
        'webhook-signature': signStandardWebhook(
          EXAMPLE_SHOPS.bigcommerce.webhookSecret,
          bcId,
          bcTimestamp,
          Buffer.from(bcBody),
        ),
      },
    },
    woocommerce: {
      body: woo,
      headers: {
        'content-type': 'application/json',
        'x-wc-webhook-source': `${EXAMPLE_SHOPS.woocommerce.shopDomain}/`,
        'x-wc-webhook-topic': 'order.updated',
        'x-wc-webhook-resource': 'order',
        'x-wc-webhook-event': 'updated',
        'x-wc-webhook-delivery-id': '8812',
        'x-wc-webhook-signature': hmacBase64(EXAMPLE_SHOPS.woocommerce.webhookSecret, woo),
      },
    },
  };
}

const SIGNATURES: Record<Platform, string> = {
  shopify:
    '`X-Shopify-Hmac-Sha256` = base64 HMAC-SHA256 of the raw body with the app secret; `X-Shopify-Webhook-Id` dedupes.',
  bigcommerce:
    'Standard Webhooks: `webhook-signature: v1,<base64 HMAC-SHA256 of "<webhook-id>.<webhook-timestamp>.<raw body>">` with the shop secret (`whsec_<base64 key>` or the plain secret), timestamp within 5 minutes; or, for hooks created with custom headers, the shop secret in `X-Reclaim-Webhook-Secret`. Thin payloads: the cart or order is fetched through the shop `apiUrl`.',
  woocommerce:
    '`X-WC-Webhook-Signature` = base64 HMAC-SHA256 of the raw body with the webhook secret; the shop is `X-WC-Webhook-Source`. The unsigned ping (`webhook_id=<n>`, form-encoded) answers 200.',
};

const ANSWERS = {
  '200': {
    description:
      'durably stored (duplicates and replays too, stored once); `{status:"parked"}` unknown topic, `{status:"quarantined", reason, field}` bad money or timestamps',
  },
  '400': {
    description:
      'malformed JSON (after a valid signature), a structurally invalid payload, or NUL / an unpaired surrogate in an identifier (the body names the field)',
  },
  '401': {
    description:
      'bad or missing signature, or a shop that is not registered (checked on the raw bytes before anything is parsed)',
  },
  '413': {
    description:
      'larger than WEBHOOK_BODY_LIMIT, or JSON nested deeper than MAX_JSON_DEPTH (64); the body names the limit',
  },
  '415': { description: 'missing or wrong Content-Type (application/json; the WooCommerce ping is form-encoded)' },
  '503': { description: 'the database cannot take it: the platform retries (Retry-After)' },
};

/** Adds the webhook routes, with a signed example each, to a generated document. */
export function addWebhookPaths(doc: OpenAPIObject, now: Date): OpenAPIObject {
  const examples = signedWebhookExamples(now);
  const paths = { ...doc.paths };
  for (const platform of Object.keys(examples) as Platform[]) {
    const example = examples[platform];
    const shop = EXAMPLE_SHOPS[platform];
    paths[`/webhooks/${platform}`] = {
      post: {
        tags: ['webhooks'],
        operationId: `webhook_${platform}`,
        summary: `Signed ${platform} webhook delivery (every topic of the platform)`,
        description:
          `${SIGNATURES[platform]}\n\n` +
          `The example is signed for the shop \`${shop.shopDomain}\` registered with the secret \`${shop.webhookSecret}\` ` +
          `(exact body: the example serialised as compact JSON):\n\n` +
          '```\n' +
          Object.entries(example.headers)
            .map(([k, v]) => `${k}: ${v}`)
            .join('\n') +
          `\n\n${example.body}\n` +
          '```',
        parameters: Object.entries(example.headers)
          .filter(([k]) => k !== 'content-type')
          .map(([name, value]) => ({
            name,
            in: 'header' as const,
            required: false,
            schema: { type: 'string' },
            example: value,
          })),
        requestBody: {
          required: true,
          content: { 'application/json': { schema: { type: 'object' }, example: JSON.parse(example.body) as object } },
        },
        responses: ANSWERS,
      },
    };
  }
  paths['/webhooks/woocommerce/cartflows/{token}'] = {
    post: {
      tags: ['webhooks'],
      operationId: 'webhook_woocommerce_cartflows',
      summary: 'CartFlows (WooCommerce) cart activity at the per-shop secret URL',
      description:
        'The CartFlows plugin cannot sign: it posts to the secret URL `POST /api/shops` returned once (`cartflowsUrl`); only the hash of the token is stored.',
      parameters: [
        { name: 'token', in: 'path', required: true, schema: { type: 'string' }, description: 'the secret of the URL' },
      ],
      requestBody: {
        required: true,
        content: {
          'application/json': {
            schema: { type: 'object' },
            example: {
              email: 'emilie@example.com',
              first_name: 'Emilie',
              cart_total: '59.90',
              currency: 'EUR',
              checkout_url: 'https://example-shop.com/checkout/?wcf_ac_token=9f1c2d3e4b5a',
            },
          },
        },
      },
      responses: { ...ANSWERS, '401': { description: 'unknown token' } },
    },
  };
  return { ...doc, paths };
}

/** `/api/shops/:id` (Fastify) → `/api/shops/{id}` (OpenAPI). */
export function openApiPath(fastifyUrl: string): string {
  return fastifyUrl.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
}

/** Registered routes (method + Fastify URL) missing from the document; `/docs` itself aside. */
export function undocumentedRoutes(
  routes: readonly { method: string; url: string }[],
  doc: Pick<OpenAPIObject, 'paths'>,
): string[] {
  const out: string[] = [];
  for (const { method, url } of routes) {
    if (
      method === 'HEAD' ||
      method === 'OPTIONS' ||
      url === '/docs' ||
      url.startsWith('/docs/') ||
      url.startsWith('/docs-')
    )
      continue;
    const item = doc.paths[openApiPath(url)] as Record<string, unknown> | undefined;
    if (item?.[method.toLowerCase()] === undefined) out.push(`${method} ${url}`);
  }
  return [...new Set(out)].sort();
}

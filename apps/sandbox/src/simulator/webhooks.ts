/**
 * Platform webhooks as the stores send them, signed with the shop's secret:
 *
 * - Shopify: JSON, `X-Shopify-Hmac-Sha256` (base64 HMAC-SHA256 of the raw body), `X-Shopify-Topic`,
 *   `X-Shopify-Shop-Domain`, `X-Shopify-Webhook-Id`;
 * - BigCommerce: thin `{scope, store_id, data, hash, created_at, producer}` signed with Standard
 *   Webhooks (`webhook-id`, `webhook-timestamp`, `webhook-signature: v1,…`); the appliance fetches
 *   the cart / order / customer from the store stand-in;
 * - WooCommerce: the REST resource, `X-WC-Webhook-Signature` (base64 HMAC-SHA256), and the
 *   CartFlows plugin's form post to the shop's secret URL for cart activity.
 */
import { createHmac } from 'node:crypto';
import { signStandardWebhook } from '@reclaim/platforms';
import type { Random } from './random';

export interface Delivery {
  readonly path: string;
  readonly body: string;
  readonly headers: Record<string, string>;
}

export interface WebhookShop {
  readonly platform: 'shopify' | 'bigcommerce' | 'woocommerce';
  /** As registered: Shopify host, BigCommerce store hash, WooCommerce site URL. */
  readonly domain: string;
  readonly secret: string;
  /** WooCommerce CartFlows secret URL (path) returned by `POST /api/shops`. */
  cartflowsPath?: string;
}

const hmac = (secret: string, body: string) => createHmac('sha256', secret).update(body, 'utf8').digest('base64');

export function shopifyDelivery(shop: WebhookShop, topic: string, payload: unknown, random: Random): Delivery {
  const body = JSON.stringify(payload);
  return {
    path: '/webhooks/shopify',
    body,
    headers: {
      'content-type': 'application/json',
      'x-shopify-topic': topic,
      'x-shopify-shop-domain': shop.domain,
      'x-shopify-api-version': '2025-10',
      'x-shopify-webhook-id': random.uuid(),
      'x-shopify-triggered-at': new Date().toISOString(),
      'x-shopify-hmac-sha256': hmac(shop.secret, body),
    },
  };
}

export function bigCommerceDelivery(
  shop: WebhookShop,
  scope: string,
  data: Record<string, unknown>,
  random: Random,
): Delivery {
  const now = Math.floor(Date.now() / 1000);
  const body = JSON.stringify({
    scope,
    store_id: '1001',
    data,
    hash: random.hex(40),
    created_at: now,
    producer: `stores/${shop.domain}`,
  });
  const id = `msg_${random.hex(24)}`;
  return {
    path: '/webhooks/bigcommerce',
    body,
    headers: {
      'content-type': 'application/json',
      'webhook-id': id,
      'webhook-timestamp': String(now),
      'webhook-signature': signStandardWebhook(shop.secret, id, now, Buffer.from(body)),
    },
  };
}

export function wooDelivery(shop: WebhookShop, topic: string, payload: unknown, random: Random): Delivery {
  const body = JSON.stringify(payload);
  const [resource, event] = topic.split('.');
  return {
    path: '/webhooks/woocommerce',
    body,
    headers: {
      'content-type': 'application/json',
      'x-wc-webhook-source': `${shop.domain.replace(/\/+$/, '')}/`,
      'x-wc-webhook-topic': topic,
      'x-wc-webhook-resource': resource ?? '',
      'x-wc-webhook-event': event ?? '',
      'x-wc-webhook-delivery-id': String(random.int(1, 1_000_000)),
      'x-wc-webhook-signature': hmac(shop.secret, body),
    },
  };
}

/** The CartFlows plugin's unsigned form post (its secret URL is the authentication). */
export function cartflowsDelivery(shop: WebhookShop, fields: Record<string, string>): Delivery {
  if (shop.cartflowsPath === undefined) throw new Error(`no CartFlows URL for ${shop.domain}`);
  return {
    path: shop.cartflowsPath,
    body: new URLSearchParams(fields).toString(),
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
  };
}

/** BigCommerce v2 dates: RFC 2822 with a numeric zone. */
export function rfc2822(d: Date): string {
  return d.toUTCString().replace('GMT', '+0000');
}

/** WooCommerce `*_gmt` fields: ISO without zone or milliseconds. */
export function wooGmt(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, '');
}

import { createHash } from 'node:crypto';
import type {
  IdentifyResult,
  InspectOk,
  InspectResult,
  MappingContext,
  MappingResult,
  PlatformWebhookAdapter,
  RawWebhook,
  ResolvedDelivery,
  SecretUrlWebhooks,
  StoredDelivery,
  WebhookShop,
} from '@reclaim/ports';
import {
  jsonContentTypeError,
  unsafeIdentifierError,
  commands,
  header,
  isObject,
  mediaType,
  normalizeShopUrl,
  parseJsonBody,
  rootObject,
  safeMap,
  strOf,
  verifyBase64HmacSha256,
  withoutFetch,
  mapStoredJson,
} from '../common';
import { CARTFLOWS_TOPIC, inspectCartflows, mapCartflows } from './cartflows';
import {
  mapWooCustomer,
  mapWooProductStock,
  mapWooOrder,
  mapWooUnpaidOrder,
  WOOCOMMERCE_PURCHASED_STATUSES,
  WOOCOMMERCE_UNPAID_STATUSES,
} from './woocommerce-mappers';

export const WOOCOMMERCE_HEADERS = {
  signature: 'x-wc-webhook-signature',
  topic: 'x-wc-webhook-topic',
  source: 'x-wc-webhook-source',
  resource: 'x-wc-webhook-resource',
  event: 'x-wc-webhook-event',
  deliveryId: 'x-wc-webhook-delivery-id',
  webhookId: 'x-wc-webhook-id',
} as const;

export const WOOCOMMERCE_TOPICS = [
  'order.created',
  'order.updated',
  'customer.created',
  'customer.updated',
  'product.updated',
] as const;

/**
 * Cart action hooks a merchant may point at us. WooCommerce delivers them as
 * `{ action, arg }` where `arg` is only the hook's first argument (for add-to-cart, the cart
 * item key): nothing says whose cart it is. They are acknowledged and ignored with that reason;
 * cart activity comes from the CartFlows endpoint (`mapCartFlowsWebhook`).
 */
export const WOOCOMMERCE_CART_ACTIONS: readonly string[] = [
  'woocommerce_add_to_cart',
  'woocommerce_cart_updated',
  'woocommerce_cart_item_removed',
  'woocommerce_cart_item_restored',
  'woocommerce_after_cart_item_quantity_update',
  'woocommerce_cart_emptied',
  'woocommerce_applied_coupon',
];

const PING = /^webhook_id=(\d{1,20})$/;

function sha256Hex(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

export class WooCommerceWebhookAdapter implements PlatformWebhookAdapter {
  readonly platform = 'woocommerce' as const;

  /** The CartFlows plugin cannot sign: it posts form fields to the shop's secret URL. */
  readonly secretUrl: SecretUrlWebhooks = { inspect: inspectCartflows, map: mapCartflows };

  /** The shop is named in a header; the form-encoded ping is unsigned and names none. */
  identify(raw: RawWebhook): IdentifyResult {
    if (mediaType(raw) === 'application/x-www-form-urlencoded') return { ok: true, ping: true };
    const typeError = jsonContentTypeError(raw);
    if (typeError) return typeError;
    const source = normalizeShopUrl(header(raw, WOOCOMMERCE_HEADERS.source));
    if (source === undefined)
      return { ok: false, status: 400, error: 'missing or malformed source', field: WOOCOMMERCE_HEADERS.source };
    const topic = header(raw, WOOCOMMERCE_HEADERS.topic)?.toLowerCase();
    return topic !== undefined && topic.length <= 200
      ? { ok: true, shopDomain: source, topic }
      : { ok: true, shopDomain: source };
  }

  inspect(raw: RawWebhook): InspectResult {
    try {
      const type = mediaType(raw);
      const source = normalizeShopUrl(header(raw, WOOCOMMERCE_HEADERS.source));
      if (type === 'application/x-www-form-urlencoded') {
        const ping = PING.exec(raw.body.toString('latin1').trim());
        if (ping?.[1] === undefined)
          return { ok: false, status: 400, error: 'form body is not a webhook ping', field: 'body' };
        return {
          ok: true,
          platform: 'woocommerce',
          // The ping carries no source header; the HTTP layer knows the shop from the URL it was sent to.
          shopDomain: source ?? '',
          topic: 'ping',
          deliveryId: `ping:${ping[1]}`,
          isPing: true,
          payload: { webhook_id: ping[1] },
          receivedAt: raw.receivedAt,
        };
      }
      if (source === undefined)
        return { ok: false, status: 400, error: 'missing or malformed source', field: WOOCOMMERCE_HEADERS.source };
      const topic = header(raw, WOOCOMMERCE_HEADERS.topic)?.toLowerCase();
      if (topic === undefined || topic.length > 200)
        return { ok: false, status: 400, error: 'missing topic', field: WOOCOMMERCE_HEADERS.topic };
      const unsafeTopic = unsafeIdentifierError({ [WOOCOMMERCE_HEADERS.topic]: topic });
      if (unsafeTopic) return unsafeTopic;
      const body = parseJsonBody(raw);
      if (!body.ok) return body;
      const deliveryId = wooDeliveryId(topic, body.payload, raw.body);
      // The delivery id is made of the body's `id` and `date_modified_gmt`.
      const unsafe = unsafeIdentifierError({ id: deliveryId });
      if (unsafe) return unsafe;
      return {
        ok: true,
        platform: 'woocommerce',
        shopDomain: source,
        topic,
        deliveryId,
        payload: body.payload,
        receivedAt: raw.receivedAt,
      };
    } catch {
      return { ok: false, status: 400, error: 'unreadable delivery' };
    }
  }

  /** The ping is unsigned: the HTTP layer answers it 200 without calling `verify`. */
  verify(raw: RawWebhook, secrets: readonly string[], _now: Date): boolean {
    try {
      return verifyBase64HmacSha256(raw.body, header(raw, WOOCOMMERCE_HEADERS.signature), secrets);
    } catch {
      return false;
    }
  }

  map(inspected: InspectOk, ctx: MappingContext): MappingResult {
    if (inspected.isPing === true) return { outcome: 'ignored', reason: 'webhook ping' };
    return safeMap(() =>
      mapWooCommerceTopic(inspected.topic, inspected.payload, ctx.shopCurrency, inspected.receivedAt),
    );
  }

  /** WooCommerce payloads are complete; a stored CartFlows delivery is its form body again. */
  resolve(delivery: StoredDelivery, shop: WebhookShop): Promise<ResolvedDelivery> {
    if (delivery.topic !== CARTFLOWS_TOPIC) return Promise.resolve(withoutFetch(mapStoredJson(this, delivery, shop)));
    const inspected = inspectCartflows(
      {
        headers: { 'content-type': delivery.contentType },
        body: Buffer.from(delivery.body, 'utf8'),
        contentType: delivery.contentType,
        receivedAt: delivery.receivedAt,
      },
      shop.shopDomain,
    );
    return Promise.resolve(
      inspected.ok
        ? withoutFetch(mapCartflows(inspected, { shopCurrency: shop.currency }))
        : { outcome: 'invalid', reason: inspected.error, field: inspected.field ?? 'body' },
    );
  }
}

/**
 * `X-WC-Webhook-Delivery-ID` changes on every attempt, so the key is the resource id + its
 * `date_modified_gmt` + the topic; payloads without both (action hooks, deletions) fall back to
 * a digest of the exact body.
 */
export function wooDeliveryId(topic: string, payload: unknown, body: Buffer): string {
  if (isObject(payload)) {
    const id = strOf(payload['id']);
    const modified = strOf(payload['date_modified_gmt']);
    if (id !== undefined && modified !== undefined) return `${topic}:${id}:${modified}`;
  }
  return `${topic}:sha256:${sha256Hex(body)}`;
}

export function mapWooCommerceTopic(
  topic: string,
  payload: unknown,
  shopCurrency: string,
  receivedAt: Date,
): MappingResult {
  if (topic.startsWith('action.')) {
    const action = topic.slice('action.'.length);
    if (!WOOCOMMERCE_CART_ACTIONS.includes(action)) return { outcome: 'unknown-topic', topic };
    rootObject(payload);
    return {
      outcome: 'ignored',
      reason: `${topic} carries no cart or shopper identity; cart activity comes from CartFlows`,
    };
  }
  if (!(WOOCOMMERCE_TOPICS as readonly string[]).includes(topic)) return { outcome: 'unknown-topic', topic };
  const p = rootObject(payload);
  if (topic === 'order.created' || topic === 'order.updated') {
    const status = strOf(p['status']) ?? '';
    if (WOOCOMMERCE_UNPAID_STATUSES.includes(status)) return commands(mapWooUnpaidOrder(p, shopCurrency, receivedAt));
    if (!WOOCOMMERCE_PURCHASED_STATUSES.includes(status)) {
      return { outcome: 'ignored', reason: `order status "${status.slice(0, 40)}" is not a purchase` };
    }
    return commands(mapWooOrder(p, shopCurrency, receivedAt));
  }
  if (topic === 'product.updated') return commands(mapWooProductStock(p, receivedAt));
  return commands(mapWooCustomer(p, receivedAt));
}

export const wooCommerceWebhookAdapter = new WooCommerceWebhookAdapter();

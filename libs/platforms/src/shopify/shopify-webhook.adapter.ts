import type { InboundCommand } from '@reclaim/domain';
import type {
  IdentifyResult,
  InspectOk,
  InspectResult,
  MappingContext,
  MappingResult,
  PlatformWebhookAdapter,
  RawWebhook,
  ResolvedDelivery,
  StoredDelivery,
  WebhookShop,
} from '@reclaim/ports';
import {
  jsonContentTypeError,
  unsafeIdentifierError,
  commands,
  header,
  idOf,
  normalizeShopUrl,
  objOf,
  optionalIdOf,
  optionalTimestampOf,
  parseJsonBody,
  rootObject,
  safeMap,
  strOf,
  verifyBase64HmacSha256,
  withoutFetch,
  mapStoredJson,
} from '../common';
import {
  consentSnapshot,
  idList,
  mapShopifyCart,
  mapShopifyCheckout,
  mapShopifyCustomer,
  mapShopifyProductStock,
  mapShopifyOrder,
} from './shopify-mappers';

export const SHOPIFY_HEADERS = {
  hmac: 'x-shopify-hmac-sha256',
  topic: 'x-shopify-topic',
  shopDomain: 'x-shopify-shop-domain',
  webhookId: 'x-shopify-webhook-id',
  eventId: 'x-shopify-event-id',
  apiVersion: 'x-shopify-api-version',
} as const;

/** Topics this adapter maps; anything else is `unknown-topic` (parked, R15). */
export const SHOPIFY_TOPICS = [
  'checkouts/create',
  'checkouts/update',
  'checkouts/delete',
  'carts/create',
  'carts/update',
  'orders/create',
  'orders/paid',
  'customers/create',
  'customers/update',
  'customers/marketing_consent_update',
  'customers/email_marketing_consent_update',
  'customers/data_request',
  'customers/redact',
  'shop/redact',
  'products/update',
] as const;

/** The GDPR topics Shopify requires every app to serve (401 on a bad signature). */
export const SHOPIFY_COMPLIANCE_TOPICS: readonly string[] = [
  'customers/data_request',
  'customers/redact',
  'shop/redact',
];

export class ShopifyWebhookAdapter implements PlatformWebhookAdapter {
  readonly platform = 'shopify' as const;

  /** The shop is named in a header: nothing of the body is read. */
  identify(raw: RawWebhook): IdentifyResult {
    const typeError = jsonContentTypeError(raw);
    if (typeError) return typeError;
    const shopDomain = normalizeShopUrl(header(raw, SHOPIFY_HEADERS.shopDomain));
    if (shopDomain === undefined) {
      return { ok: false, status: 400, error: 'missing or malformed shop domain', field: SHOPIFY_HEADERS.shopDomain };
    }
    const topic = header(raw, SHOPIFY_HEADERS.topic)?.toLowerCase();
    return topic !== undefined && topic.length <= 200 ? { ok: true, shopDomain, topic } : { ok: true, shopDomain };
  }

  inspect(raw: RawWebhook): InspectResult {
    try {
      const shopDomain = normalizeShopUrl(header(raw, SHOPIFY_HEADERS.shopDomain));
      if (shopDomain === undefined) {
        return { ok: false, status: 400, error: 'missing or malformed shop domain', field: SHOPIFY_HEADERS.shopDomain };
      }
      const topic = header(raw, SHOPIFY_HEADERS.topic)?.toLowerCase();
      if (topic === undefined || topic.length > 200)
        return { ok: false, status: 400, error: 'missing topic', field: SHOPIFY_HEADERS.topic };
      const deliveryId = header(raw, SHOPIFY_HEADERS.webhookId);
      if (deliveryId === undefined || deliveryId.length > 200) {
        return { ok: false, status: 400, error: 'missing webhook id', field: SHOPIFY_HEADERS.webhookId };
      }
      const unsafe = unsafeIdentifierError({
        [SHOPIFY_HEADERS.topic]: topic,
        [SHOPIFY_HEADERS.webhookId]: deliveryId,
        [SHOPIFY_HEADERS.apiVersion]: header(raw, SHOPIFY_HEADERS.apiVersion),
      });
      if (unsafe) return unsafe;
      const body = parseJsonBody(raw);
      if (!body.ok) return body;
      return {
        ok: true,
        platform: 'shopify',
        shopDomain,
        topic,
        deliveryId,
        apiVersion: header(raw, SHOPIFY_HEADERS.apiVersion),
        payload: body.payload,
        receivedAt: raw.receivedAt,
      };
    } catch {
      return { ok: false, status: 400, error: 'unreadable delivery' };
    }
  }

  verify(raw: RawWebhook, secrets: readonly string[], _now: Date): boolean {
    try {
      return verifyBase64HmacSha256(raw.body, header(raw, SHOPIFY_HEADERS.hmac), secrets);
    } catch {
      return false;
    }
  }

  map(inspected: InspectOk, ctx: MappingContext): MappingResult {
    return safeMap(() => mapShopifyTopic(inspected.topic, inspected.payload, ctx.shopCurrency, inspected.receivedAt));
  }

  /** Shopify payloads are complete: the stored body is mapped again. */
  resolve(delivery: StoredDelivery, shop: WebhookShop): Promise<ResolvedDelivery> {
    return Promise.resolve(withoutFetch(mapStoredJson(this, delivery, shop)));
  }
}

/** Maps one Shopify topic's payload (already parsed losslessly). Throws `PayloadFieldError`. */
export function mapShopifyTopic(
  topic: string,
  payload: unknown,
  shopCurrency: string,
  receivedAt: Date,
): MappingResult {
  if (!(SHOPIFY_TOPICS as readonly string[]).includes(topic)) return { outcome: 'unknown-topic', topic };
  const p = rootObject(payload);
  const at = receivedAt.toISOString();
  switch (topic) {
    case 'checkouts/create':
    case 'checkouts/update':
      return commands(...mapShopifyCheckout(p, shopCurrency, receivedAt));
    case 'checkouts/delete': {
      const cartId =
        optionalIdOf(p['cart_token'], 'cart_token') ?? optionalIdOf(p['token'], 'token') ?? idOf(p['id'], 'id');
      return commands({
        type: 'DeleteCart',
        platform: 'shopify',
        platformUpdatedAt: optionalTimestampOf(p['updated_at'], 'updated_at') ?? at,
        cartId,
      });
    }
    case 'carts/create':
    case 'carts/update':
      return commands(mapShopifyCart(p, shopCurrency, receivedAt));
    case 'orders/create':
    case 'orders/paid':
      return commands(mapShopifyOrder(p, shopCurrency, receivedAt));
    case 'customers/create':
    case 'customers/update':
      return commands(mapShopifyCustomer(p, receivedAt));
    case 'customers/marketing_consent_update':
    case 'customers/email_marketing_consent_update': {
      const sms = topic === 'customers/marketing_consent_update';
      const field = sms ? 'sms_marketing_consent' : 'email_marketing_consent';
      const consent = consentSnapshot(p[field], field, 'shopify:consent_update');
      if (consent === undefined) return { outcome: 'ignored', reason: `${field}.state is null or absent` };
      const cmd: InboundCommand = {
        type: 'ChangeMarketingConsent',
        platform: 'shopify',
        platformUpdatedAt: consent.updatedAt ?? at,
        customer: {
          platformCustomerId: idOf(sms ? p['id'] : (p['customer_id'] ?? p['id']), sms ? 'id' : 'customer_id'),
        },
        contact: sms ? { phone: strOf(p['phone']) } : { email: strOf(p['email_address']) },
        channel: sms ? 'sms' : 'email',
        consent,
      };
      return commands(cmd);
    }
    case 'customers/data_request':
    case 'customers/redact': {
      const c = objOf(p['customer']);
      const customer = { platformCustomerId: optionalIdOf(c?.['id'], 'customer.id') };
      const contact = { email: strOf(c?.['email']), phone: strOf(c?.['phone']) };
      if (topic === 'customers/redact') {
        return commands({
          type: 'RedactCustomer',
          platform: 'shopify',
          platformUpdatedAt: at,
          customer,
          contact,
          orderIds: idList(p['orders_to_redact'], 'orders_to_redact'),
        });
      }
      return commands({
        type: 'RequestCustomerData',
        platform: 'shopify',
        platformUpdatedAt: at,
        customer,
        contact,
        dataRequestId: optionalIdOf(objOf(p['data_request'])?.['id'], 'data_request.id'),
        orderIds: idList(p['orders_requested'], 'orders_requested'),
      });
    }
    case 'shop/redact':
      return commands({ type: 'RedactShop', platform: 'shopify', platformUpdatedAt: at });
    case 'products/update':
      return commands(mapShopifyProductStock(p, receivedAt));
    default:
      return { outcome: 'unknown-topic', topic };
  }
}

export const shopifyWebhookAdapter = new ShopifyWebhookAdapter();

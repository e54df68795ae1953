import type {
  IdentifyResult,
  FetchResourceType,
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
import type { ReportProductStock } from '@reclaim/domain';
import {
  jsonContentTypeError,
  unsafeIdentifierError,
  bigCommerceStoreHash,
  commands,
  header,
  idOf,
  isObject,
  objOf,
  optionalCountOf,
  optionalIdOf,
  parseJsonBody,
  type JsonObject,
  rootObject,
  safeMap,
  strOf,
  timestampOf,
  verifySharedSecretHeader,
  mapStoredJson,
  withoutFetch,
} from '../common';
import { BigCommerceApiClient, BigCommerceNotFoundError } from './bigcommerce-api.client';
import { mapBigCommerceResource } from './bigcommerce-api.mappers';
import { STANDARD_WEBHOOKS_TOLERANCE_SECONDS, verifyStandardWebhook } from './standard-webhooks';

export const BIGCOMMERCE_HEADERS = {
  webhookId: 'webhook-id',
  webhookTimestamp: 'webhook-timestamp',
  webhookSignature: 'webhook-signature',
  /** The custom header we ask for on hooks created the older way (a per-shop shared secret). */
  sharedSecret: 'x-reclaim-webhook-secret',
} as const;

/** `"producer": "stores/<hash>"` in the raw body (the first occurrence; `inspect` checks it against the parse). */
const PRODUCER = /"producer"\s*:\s*"(stores\/[A-Za-z0-9]{1,64})"/;

export class BigCommerceWebhookAdapter implements PlatformWebhookAdapter {
  readonly platform = 'bigcommerce' as const;

  constructor(
    private readonly toleranceSeconds = STANDARD_WEBHOOKS_TOLERANCE_SECONDS,
    /** Loads what a thin payload points at. */
    private readonly api: BigCommerceApiClient = new BigCommerceApiClient(),
  ) {}

  /**
   * BigCommerce names the store only in the body (`producer`): it is found by a lexical scan of
   * the raw bytes, not a parse, so the signature is checked before anything is parsed. A body
   * without a recognisable producer cannot be verified against any shop: 401.
   */
  identify(raw: RawWebhook): IdentifyResult {
    const typeError = jsonContentTypeError(raw);
    if (typeError) return typeError;
    const producer = PRODUCER.exec(raw.body.toString('latin1'))?.[1];
    const shopDomain = bigCommerceStoreHash(producer);
    if (shopDomain === undefined) return { ok: false, status: 401, error: 'signature verification failed' };
    return { ok: true, shopDomain };
  }

  inspect(raw: RawWebhook): InspectResult {
    try {
      const body = parseJsonBody(raw);
      if (!body.ok) return body;
      const p = body.payload;
      if (!isObject(p)) return { ok: false, status: 400, error: 'payload is not a JSON object', field: 'body' };
      const shopDomain = bigCommerceStoreHash(strOf(p['producer']));
      if (shopDomain === undefined)
        return { ok: false, status: 400, error: 'missing or malformed producer', field: 'producer' };
      const topic = strOf(p['scope']);
      if (topic === undefined || topic.length > 200)
        return { ok: false, status: 400, error: 'missing scope', field: 'scope' };
      const deliveryId = header(raw, BIGCOMMERCE_HEADERS.webhookId) ?? strOf(p['hash']);
      if (deliveryId === undefined || deliveryId.length > 256) {
        return { ok: false, status: 400, error: 'missing webhook-id and hash', field: BIGCOMMERCE_HEADERS.webhookId };
      }
      const unsafe = unsafeIdentifierError({
        scope: topic,
        [header(raw, BIGCOMMERCE_HEADERS.webhookId) !== undefined ? BIGCOMMERCE_HEADERS.webhookId : 'hash']: deliveryId,
      });
      if (unsafe) return unsafe;
      return {
        ok: true,
        platform: 'bigcommerce',
        shopDomain,
        topic,
        deliveryId,
        payload: p,
        receivedAt: raw.receivedAt,
      };
    } catch {
      return { ok: false, status: 400, error: 'unreadable delivery' };
    }
  }

  /** Standard Webhooks signature when present; otherwise the shared-secret header. */
  verify(raw: RawWebhook, secrets: readonly string[], now: Date): boolean {
    try {
      const signature = header(raw, BIGCOMMERCE_HEADERS.webhookSignature);
      if (signature !== undefined) {
        return verifyStandardWebhook(
          {
            id: header(raw, BIGCOMMERCE_HEADERS.webhookId),
            timestamp: header(raw, BIGCOMMERCE_HEADERS.webhookTimestamp),
            signature,
            body: raw.body,
          },
          secrets,
          now,
          this.toleranceSeconds,
        );
      }
      return verifySharedSecretHeader(header(raw, BIGCOMMERCE_HEADERS.sharedSecret), secrets);
    } catch {
      return false;
    }
  }

  map(inspected: InspectOk, _ctx: MappingContext): MappingResult {
    return safeMap(() => mapBigCommerceScope(inspected.topic, inspected.payload));
  }

  /** Thin payloads: the cart, order or customer is loaded from the store API and mapped. */
  async resolve(delivery: StoredDelivery, shop: WebhookShop): Promise<ResolvedDelivery> {
    const mapping = mapStoredJson(this, delivery, shop);
    return mapping.outcome === 'fetch' ? this.fetch(shop, mapping.resource) : mapping;
  }

  private async fetch(
    shop: WebhookShop,
    resource: { readonly type: FetchResourceType; readonly id: string },
  ): Promise<ResolvedDelivery> {
    try {
      const body = await this.api.get(shop.apiUrl, shop.apiToken, resource.type, resource.id);
      return withoutFetch(mapBigCommerceResource(resource.type, body, { shopCurrency: shop.currency }));
    } catch (err) {
      if (err instanceof BigCommerceNotFoundError && resource.type === 'cart') {
        // The cart is gone on the store: treat as deleted.
        return {
          outcome: 'commands',
          commands: [
            {
              type: 'DeleteCart',
              platform: 'bigcommerce',
              cartId: resource.id,
              platformUpdatedAt: new Date().toISOString(),
            },
          ],
        };
      }
      if (err instanceof BigCommerceNotFoundError)
        return { outcome: 'ignored', reason: `${resource.type} ${resource.id} not found` };
      throw err; // the delivery processor retries with back-off
    }
  }
}

/**
 * BigCommerce payloads are thin: most scopes become `fetch` (`resolve` loads the resource with
 * `BigCommerceApiClient` and maps it with the API mappers); deleted/abandoned/converted carts are
 * mapped directly.
 */
export function mapBigCommerceScope(scope: string, payload: unknown): MappingResult {
  const p = rootObject(payload);
  const data = objOf(p['data']) ?? {};
  const at = (): string => timestampOf(p['created_at'], 'created_at');
  if (scope.startsWith('store/cart/lineItem/')) {
    return { outcome: 'fetch', resource: { type: 'cart', id: idOf(data['cartId'], 'data.cartId') } };
  }
  switch (scope) {
    case 'store/cart/created':
    case 'store/cart/updated':
    case 'store/cart/couponApplied':
      return { outcome: 'fetch', resource: { type: 'cart', id: idOf(data['id'], 'data.id') } };
    case 'store/cart/abandoned':
      return commands({
        type: 'ReportCartAbandoned',
        platform: 'bigcommerce',
        platformUpdatedAt: at(),
        cartId: idOf(data['id'], 'data.id'),
      });
    case 'store/cart/deleted':
      return commands({
        type: 'DeleteCart',
        platform: 'bigcommerce',
        platformUpdatedAt: at(),
        cartId: idOf(data['id'], 'data.id'),
      });
    case 'store/cart/converted': {
      const when = at();
      return commands({
        type: 'CompleteCheckout',
        platform: 'bigcommerce',
        platformUpdatedAt: when,
        cartId: idOf(data['id'], 'data.id'),
        orderId: optionalIdOf(data['orderId'], 'data.orderId'),
        completedAt: when,
      });
    }
    case 'store/order/created':
      return { outcome: 'fetch', resource: { type: 'order', id: idOf(data['id'], 'data.id') } };
    case 'store/customer/deleted':
      return { outcome: 'ignored', reason: 'customer deleted on the store; nothing to fetch' };
    case 'store/product/inventory/updated':
    case 'store/sku/inventory/updated':
      return commands(mapBigCommerceInventory(p));
    default:
      break;
  }
  if (scope.startsWith('store/customer/address/')) {
    const address = objOf(data['address']);
    return {
      outcome: 'fetch',
      resource: { type: 'customer', id: idOf(address?.['customer_id'], 'data.address.customer_id') },
    };
  }
  if (scope.startsWith('store/customer/')) {
    return { outcome: 'fetch', resource: { type: 'customer', id: idOf(data['id'], 'data.id') } };
  }
  return { outcome: 'unknown-topic', topic: scope };
}

/**
 * BigCommerce inventory hooks (thin: ids and the adjustment). An `absolute` level says whether it is
 * in stock; a `relative` adjustment only says it changed (`available` absent: the store is asked).
 */
export function mapBigCommerceInventory(p: JsonObject): ReportProductStock {
  const data = objOf(p['data']) ?? {};
  const inventory = objOf(data['inventory']) ?? {};
  const method = strOf(inventory['method']);
  const value = optionalCountOf(inventory['value']);
  const level = method === 'absolute' && value !== undefined ? value : undefined;
  const productId = idOf(inventory['product_id'] ?? data['id'], 'data.inventory.product_id');
  const variantId = optionalIdOf(inventory['variant_id'], 'data.inventory.variant_id');
  return {
    type: 'ReportProductStock',
    platform: 'bigcommerce',
    platformUpdatedAt: timestampOf(p['created_at'], 'created_at'),
    productId,
    ...(level !== undefined && variantId === undefined ? { available: level > 0 } : {}),
    variants:
      variantId !== undefined && level !== undefined ? [{ variantId, available: level > 0, quantity: level }] : [],
  };
}

export const bigCommerceWebhookAdapter = new BigCommerceWebhookAdapter();

import type {
  InspectOk,
  MappingResult,
  PlatformWebhookAdapter,
  ResolvedDelivery,
  StoredDelivery,
  WebhookShop,
} from '@reclaim/ports';
import { parseJsonLossless } from './lossless-json';

/**
 * A stored JSON delivery in the shape `map` takes. It was inspected and verified when it was
 * received; the body is parsed again (losslessly) from the stored copy.
 */
export function storedJsonInspection(
  platform: PlatformWebhookAdapter['platform'],
  delivery: StoredDelivery,
  shop: WebhookShop,
): InspectOk {
  return {
    ok: true,
    platform,
    shopDomain: shop.shopDomain,
    topic: delivery.topic,
    deliveryId: delivery.deliveryId,
    apiVersion: delivery.apiVersion,
    payload: parseJsonLossless(delivery.body),
    receivedAt: delivery.receivedAt,
  };
}

/** Maps a stored JSON delivery with the adapter's own `map`. */
export function mapStoredJson(
  adapter: Pick<PlatformWebhookAdapter, 'platform' | 'map'>,
  delivery: StoredDelivery,
  shop: WebhookShop,
): MappingResult {
  return adapter.map(storedJsonInspection(adapter.platform, delivery, shop), { shopCurrency: shop.currency });
}

/** For platforms whose payloads are complete: a `fetch` would be a mapper bug, parked visibly rather than lost. */
export function withoutFetch(result: MappingResult): ResolvedDelivery {
  if (result.outcome !== 'fetch') return result;
  return {
    outcome: 'quarantined',
    reason: `no store fetch for a ${result.resource.type} on this platform`,
    field: '$',
  };
}

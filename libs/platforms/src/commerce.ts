import {
  DiscountUnavailableError,
  PermanentProviderError,
  type CatalogPort,
  type CommercePort,
  type StoreProductCategories,
  type DiscountCode,
  type DiscountCodeRequest,
  type RecoveryShop,
} from '@reclaim/ports';
import type { AlternativeCandidate, RecoveryItem, StockLine } from '@reclaim/domain';
import { BigCommerceCommerceAdapter } from './bigcommerce/commerce';
import type { StoreHttpOptions } from './common/store-http';
import { ShopifyCommerceAdapter } from './shopify/commerce';
import { WooCommerceCommerceAdapter } from './woocommerce/commerce';

export * from './shopify/commerce';
export * from './bigcommerce/commerce';
export * from './woocommerce/commerce';
export { discountCodeFor, discountMarkerFor, StoreHttpClient, type StoreHttpOptions } from './common/store-http';

export type CommerceAdapters = Readonly<Record<'shopify' | 'bigcommerce' | 'woocommerce', CommercePort & CatalogPort>>;

/** One adapter per platform, sharing the HTTP options (timeouts, retry budget, injected sleep/clock). */
export function createCommerceAdapters(options: StoreHttpOptions = {}): CommerceAdapters {
  return {
    shopify: new ShopifyCommerceAdapter(options),
    bigcommerce: new BigCommerceCommerceAdapter(options),
    woocommerce: new WooCommerceCommerceAdapter(options),
  };
}

/**
 * The adapter for a shop's platform, or undefined when there is none or the shop has no API
 * address or token (the engine then keeps items as they are and withholds discounts).
 */
export function commerceFor(
  shop: Pick<RecoveryShop, 'platform' | 'apiUrl' | 'apiToken'>,
  adapters: CommerceAdapters = defaultAdapters(),
): (CommercePort & CatalogPort) | undefined {
  if (shop.apiUrl.trim() === '' || shop.apiToken.trim() === '') return undefined;
  const platform = shop.platform;
  if (platform === 'shopify' || platform === 'bigcommerce' || platform === 'woocommerce') return adapters[platform];
  return undefined;
}

let shared: CommerceAdapters | undefined;
function defaultAdapters(): CommerceAdapters {
  shared ??= createCommerceAdapters();
  return shared;
}

/**
 * The engine's single `CommercePort`, dispatching each call by the shop's platform
 * (`createRuntime(config, { adapters: { commerce: new PlatformCommerce() } })`). A shop without
 * an adapter answers no stock (items kept as they are) and `DiscountUnavailableError`.
 */
export class PlatformCommerce implements CommercePort, CatalogPort {
  private readonly adapters: CommerceAdapters;

  constructor(options: StoreHttpOptions | { adapters: CommerceAdapters } = {}) {
    this.adapters = 'adapters' in options ? options.adapters : createCommerceAdapters(options);
  }

  stock(shop: RecoveryShop, items: readonly RecoveryItem[]): Promise<StockLine[]> {
    const port = commerceFor(shop, this.adapters);
    return port ? port.stock(shop, items) : Promise.resolve([]);
  }

  /** A shop without an adapter (no API address or token) cannot be asked: `PermanentProviderError` `no-store-api`. */
  productCategories(shop: RecoveryShop, productIds: readonly string[]): Promise<StoreProductCategories[]> {
    const port = commerceFor(shop, this.adapters);
    if (!port) {
      return Promise.reject(new PermanentProviderError(`no store API for shop ${shop.id}`, 'no-store-api'));
    }
    return port.productCategories(shop, productIds);
  }

  createDiscountCode(request: DiscountCodeRequest): Promise<DiscountCode> {
    const port = commerceFor(request.shop, this.adapters);
    if (!port)
      return Promise.reject(new DiscountUnavailableError(`no store API for platform ${request.shop.platform}`));
    return port.createDiscountCode(request);
  }

  alternatives(shop: RecoveryShop, item: RecoveryItem, limit: number): Promise<AlternativeCandidate[]> {
    const port = commerceFor(shop, this.adapters);
    return port ? port.alternatives(shop, item, limit) : Promise.resolve([]);
  }
}

import type { RecoveryShop } from './commerce';

/** One product's categories as the store names them. */
export interface StoreProductCategories {
  readonly productId: string;
  /** Category names (Shopify: the product type and the collections; BigCommerce and WooCommerce: the product categories). */
  readonly categories: readonly string[];
}

/**
 * The store's catalogue as the segmentation reads it. Adapters: libs/platforms (Shopify GraphQL
 * `nodes(ids:)` on Product, BigCommerce `/v3/catalog/products` + `/v3/catalog/trees/categories`,
 * WooCommerce `/products?include=`). Throws the typed provider errors of `./errors`.
 */
export interface CatalogPort {
  /**
   * The categories of the products the store knows, among `productIds` (the platform's own ids);
   * a product the store does not know is absent from the answer.
   */
  productCategories(shop: RecoveryShop, productIds: readonly string[]): Promise<StoreProductCategories[]>;
}

import type { AlternativeCandidate, RecoveryItem, StockLine } from '@reclaim/domain';

/** The shop facts the engine and the store adapters need. */
export interface RecoveryShop {
  readonly id: string;
  readonly platform: string;
  readonly shopDomain: string;
  readonly currency: string;
  /** IANA time zone. */
  readonly timezone: string;
  readonly apiUrl: string;
  readonly apiToken: string;
}

export interface DiscountCodeRequest {
  /** `<effect key>:discount`: a retry returns the same code. */
  readonly idempotencyKey: string;
  readonly shop: RecoveryShop;
  readonly percent: number;
  readonly expiresAt: string;
  readonly customerKey?: string;
  readonly cartId: string;
  /**
   * The shopper's e-mail, opened from the vault just before the call (like a channel recipient),
   * to restrict the code to them (WooCommerce `email_restrictions`). Never logged.
   */
  readonly customerEmail?: string;
  /** The store's own customer id, when known: the code is restricted to that customer (Shopify). */
  readonly platformCustomerId?: string;
}

export interface DiscountCode {
  readonly code: string;
  /** Which store API made it, when the adapter has more than one path (BigCommerce: `v3-promotions` or `v2-coupons`). */
  readonly via?: string;
}

/**
 * The store API as the recovery engine uses it. Adapters: libs/platforms (Shopify, BigCommerce,
 * WooCommerce). Throws the typed provider errors of `./errors`, `DiscountUnavailableError` when
 * codes cannot be created for the shop.
 */
export interface CommercePort {
  /** Current availability and unit price of the cart's lines; lines missing from the answer are kept as they are. */
  stock(shop: RecoveryShop, items: readonly RecoveryItem[]): Promise<StockLine[]>;
  createDiscountCode(request: DiscountCodeRequest): Promise<DiscountCode>;
  /**
   * The store's own suggestions for a line it cannot sell (Shopify product recommendations,
   * BigCommerce related products, WooCommerce related / up-sell / cross-sell ids), in the store's
   * order, at most `limit`, each with the stock (for `item.quantity`) and price the store answers
   * for it now. An empty list when the store suggests nothing; throws like `stock` when it cannot
   * be asked.
   */
  alternatives(shop: RecoveryShop, item: RecoveryItem, limit: number): Promise<AlternativeCandidate[]>;
}

/**
 * The product stream's vocabulary (`product-<shop>-<product>`): what a store's product or inventory
 * webhook said about a product's stock (Shopify `products/update`, BigCommerce
 * `store/product/inventory/updated`, WooCommerce `product.updated`). Recorded as reported; the
 * recoveries watching a sold-out line of the product hear of it (back-in-stock).
 */
import type { DomainCommandOf } from '../commands/command-context';
import type { Caused, DomainEvent, PlatformTimed } from '../events/envelope';
import type { InboundCommandBase } from '../inbound/inbound-types';

// ---------------------------------------------------------------- inbound command (from a webhook)

/** One variant's stock as the webhook gives it: in stock or not, and the count when it says. */
export interface ReportedVariantStock {
  readonly variantId: string;
  readonly available: boolean;
  readonly quantity?: number;
}

export interface ReportProductStock extends InboundCommandBase {
  readonly type: 'ReportProductStock';
  readonly productId: string;
  /**
   * Whether the product can be bought now, when the payload says (WooCommerce `stock_status`, a
   * BigCommerce absolute level, any Shopify variant in stock); absent when it only says that the
   * stock changed (a relative BigCommerce adjustment): the store is asked before anything is sent.
   */
  readonly available?: boolean;
  readonly variants: readonly ReportedVariantStock[];
}

// ---------------------------------------------------------------- domain command

export type ReportProductStockCommand = DomainCommandOf<ReportProductStock>;
export type ProductCommand = ReportProductStockCommand;

// ---------------------------------------------------------------- event

export interface ProductStockReportedData extends Caused, PlatformTimed {
  readonly productId: string;
  readonly available?: boolean;
  readonly variants: readonly ReportedVariantStock[];
}
/** The store reported a product's stock (a webhook): in stock again, out of stock, or changed. */
export type ProductStockReported = DomainEvent<'product.stock-reported', ProductStockReportedData>;

export type ProductEvent = ProductStockReported;

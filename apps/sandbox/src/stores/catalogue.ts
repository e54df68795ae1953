import Decimal from 'decimal.js';

/**
 * The catalogue every store stand-in serves. Ids are numeric strings (Shopify's may exceed 2^53:
 * they are written to JSON without going through a JS number). Money is a decimal string.
 */
export interface CatalogueItem {
  readonly productId: string;
  /** Shopify / BigCommerce variant, WooCommerce variation; absent = a WooCommerce simple product. */
  readonly variantId?: string;
  readonly title?: string;
  readonly sku?: string;
  /** Regular unit price. */
  readonly price: string;
  /** Sale price, when on sale (the price shoppers pay). */
  readonly salePrice?: string;
  /** Units in stock; `null` = stock not tracked. Default 10. */
  readonly stock?: number | null;
  /** Can be bought at all (Shopify `availableForSale`, BigCommerce `purchasing_disabled`, Woo `purchasable`). Default true. */
  readonly purchasable?: boolean;
  /** Keep selling when out of stock (Shopify `CONTINUE`, Woo backorders). Default false. */
  readonly continueSelling?: boolean;
}

/**
 * What a store suggests for a product, by product id, in the store's order: Shopify's related
 * recommendations and BigCommerce's `related_products` are `related`; WooCommerce answers all three
 * (`related_ids`, `upsell_ids`, `cross_sell_ids`).
 */
export interface ProductRelations {
  readonly related?: readonly string[];
  readonly upsells?: readonly string[];
  readonly crossSells?: readonly string[];
}

export interface ItemRef {
  readonly productId: string;
  readonly variantId?: string;
}

export interface CatalogueEntry {
  productId: string;
  variantId?: string;
  title: string;
  sku: string;
  price: string;
  salePrice?: string;
  stock: number | null;
  purchasable: boolean;
  continueSelling: boolean;
}

export const DEFAULT_CATALOGUE: readonly CatalogueItem[] = [
  { productId: '632910392', variantId: '808950810', title: 'IPod Nano - 8GB', sku: 'IPOD2008PINK', price: '199.00' },
  { productId: '632910393', variantId: '808950811', title: 'Canvas tote', sku: 'TOTE-1', price: '24.50', stock: 3 },
  { productId: '22', variantId: '732', title: 'Ship Your Idea', sku: '', price: '9.00', stock: null },
  { productId: '77', title: 'Gift card', sku: 'GIFT', price: '50.00', stock: null },
];

/**
 * How the store files a product: Shopify's product type and collections; BigCommerce and
 * WooCommerce serve the type and the collections together as the product's categories.
 */
export interface ProductTaxonomy {
  readonly productType?: string;
  readonly categories: readonly string[];
}

export const DEFAULT_TAXONOMY: Readonly<Record<string, ProductTaxonomy>> = {
  '632910392': { productType: 'Electronics', categories: ['Music players'] },
  '632910393': { productType: 'Bags', categories: ['Accessories'] },
  '22': { productType: 'Services', categories: ['Ideas'] },
  '77': { productType: 'Gift cards', categories: [] },
};

/** Every category name of a product (its type first), as BigCommerce and WooCommerce list them. */
export function allCategories(t: ProductTaxonomy): string[] {
  return [...new Set([...(t.productType !== undefined ? [t.productType] : []), ...t.categories])];
}

const key = (r: ItemRef): string => `${r.productId}/${r.variantId ?? ''}`;

function checkId(id: string, field: string): void {
  if (!/^\d{1,20}$/.test(id)) throw new Error(`catalogue: ${field} must be a numeric string, got "${id}"`);
}

function checkPrice(price: string, field: string): string {
  if (!/^\d+(\.\d{1,4})?$/.test(price)) throw new Error(`catalogue: ${field} must be a decimal string, got "${price}"`);
  return price;
}

export class Catalogue {
  private readonly items = new Map<string, CatalogueEntry>();
  private readonly relations = new Map<string, ProductRelations>();

  /** Sets what the stores suggest for `productId` (ids must be numeric strings). */
  setRelations(productId: string, relations: ProductRelations): void {
    checkId(productId, 'productId');
    for (const field of ['related', 'upsells', 'crossSells'] as const) {
      const ids: unknown = relations[field];
      if (ids === undefined) continue;
      if (!Array.isArray(ids)) throw new Error(`catalogue: ${field} must be a list of product ids`);
      ids.forEach((id: unknown, i) => checkId(String(id), `${field}[${i}]`));
    }
    this.relations.set(productId, relations);
  }

  relationsOf(productId: string): ProductRelations {
    return this.relations.get(productId) ?? {};
  }

  private readonly taxonomy = new Map<string, ProductTaxonomy>();
  /** Category ids by name (BigCommerce / WooCommerce), stable for the stand-in's life, from 20 up. */
  private readonly categoryIds = new Map<string, number>();

  constructor(items: readonly CatalogueItem[] = DEFAULT_CATALOGUE) {
    for (const i of items) this.add(i);
    for (const [productId, t] of Object.entries(DEFAULT_TAXONOMY)) {
      if (this.product(productId).length > 0) this.setTaxonomy(productId, t);
    }
  }

  /** Files a product under a type and categories (replacing what it had). */
  setTaxonomy(productId: string, t: ProductTaxonomy): void {
    checkId(productId, 'productId');
    this.taxonomy.set(productId, {
      ...(t.productType !== undefined ? { productType: t.productType } : {}),
      categories: [...t.categories],
    });
    for (const name of allCategories(t)) this.categoryId(name);
  }

  taxonomyOf(productId: string): ProductTaxonomy {
    return this.taxonomy.get(productId) ?? { categories: [] };
  }

  categoryId(name: string): number {
    let id = this.categoryIds.get(name);
    if (id === undefined) {
      id = 20 + this.categoryIds.size;
      this.categoryIds.set(name, id);
    }
    return id;
  }

  categoryName(id: number): string | undefined {
    for (const [name, n] of this.categoryIds) if (n === id) return name;
    return undefined;
  }

  add(i: CatalogueItem): void {
    checkId(i.productId, 'productId');
    if (i.variantId !== undefined) checkId(i.variantId, 'variantId');
    this.items.set(key(i), {
      productId: i.productId,
      ...(i.variantId !== undefined ? { variantId: i.variantId } : {}),
      title: i.title ?? `Product ${i.productId}`,
      sku: i.sku ?? '',
      price: checkPrice(i.price, 'price'),
      ...(i.salePrice !== undefined ? { salePrice: checkPrice(i.salePrice, 'salePrice') } : {}),
      stock: i.stock === undefined ? 10 : i.stock,
      purchasable: i.purchasable ?? true,
      continueSelling: i.continueSelling ?? false,
    });
  }

  get(ref: ItemRef): CatalogueEntry | undefined {
    return this.items.get(key(ref));
  }

  private must(ref: ItemRef): CatalogueEntry {
    const e = this.get(ref);
    if (e === undefined) throw new Error(`catalogue: no item ${key(ref)}`);
    return e;
  }

  setStock(ref: ItemRef, stock: number | null): void {
    this.must(ref).stock = stock;
  }

  setPrice(ref: ItemRef, price: string, salePrice?: string): void {
    const e = this.must(ref);
    e.price = checkPrice(price, 'price');
    if (salePrice !== undefined) e.salePrice = checkPrice(salePrice, 'salePrice');
    else delete e.salePrice;
  }

  setPurchasable(ref: ItemRef, purchasable: boolean): void {
    this.must(ref).purchasable = purchasable;
  }

  /** The variant whose id is `variantId` (Shopify looks up variants alone), or a product without variants. */
  byVariantId(variantId: string): CatalogueEntry | undefined {
    for (const e of this.items.values()) if ((e.variantId ?? e.productId) === variantId) return e;
    return undefined;
  }

  /** Every entry of a product (its variants, or the one simple product). */
  product(productId: string): CatalogueEntry[] {
    return [...this.items.values()].filter((e) => e.productId === productId);
  }

  all(): CatalogueEntry[] {
    return [...this.items.values()];
  }

  /** Takes units out of stock; false when there are not enough (and selling on is not allowed). */
  take(ref: ItemRef, quantity: number): boolean {
    const e = this.get(ref);
    if (e === undefined || !e.purchasable) return false;
    if (e.stock === null) return true;
    if (e.stock < quantity && !e.continueSelling) return false;
    e.stock -= quantity;
    return true;
  }
}

/** The price shoppers pay. */
export function effectivePrice(e: CatalogueEntry): string {
  return e.salePrice !== undefined && new Decimal(e.salePrice).lt(e.price) ? e.salePrice : e.price;
}

export function inStock(e: CatalogueEntry): boolean {
  return e.purchasable && (e.stock === null || e.stock > 0 || e.continueSelling);
}

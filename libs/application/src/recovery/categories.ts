/**
 * The engine's category cache, `engine.product_categories`: the store's categories of each product
 * as the latest `recovery.categories-recorded` of the shop says (a projection of the log, rebuilt
 * with the engine subscriptions). Read by the `categorize` effect (which products to ask the store
 * about: those without a record younger than CATEGORY_CACHE_TTL), by each recovery's start (the
 * cart's categories) and for the categories a customer bought (their orders' products).
 */
import type { ProductCategories, RecoveryItem } from '@reclaim/domain';
import type { Queryable } from './db';

/** The line items' products the store can be asked about (not custom lines), once each. */
export function storeProductIds(items: readonly Pick<RecoveryItem, 'productId'>[]): string[] {
  return [...new Set(items.map((i) => i.productId).filter((id) => id !== '' && !id.startsWith('custom:')))];
}

export const productCategoryCache = {
  /** Products among `productIds` recorded at or after `since` (found or not): no need to ask again. */
  async freshSince(q: Queryable, shopId: string, productIds: readonly string[], since: Date): Promise<Set<string>> {
    if (productIds.length === 0) return new Set();
    const { rows } = await q.query<{ product_id: string }>(
      `SELECT product_id FROM engine.product_categories
        WHERE shop_id = $1 AND product_id = ANY($2::text[]) AND recorded_at >= $3`,
      [shopId, [...productIds], since],
    );
    return new Set(rows.map((r) => r.product_id));
  },

  /** The recorded categories of the products the store knew, whatever their age (a start decides on what was recorded). */
  async categoriesOf(
    q: Queryable,
    shopId: string,
    productIds: readonly string[],
  ): Promise<Record<string, readonly string[]>> {
    if (productIds.length === 0) return {};
    const { rows } = await q.query<{ product_id: string; categories: string[] }>(
      `SELECT product_id, categories FROM engine.product_categories
        WHERE shop_id = $1 AND product_id = ANY($2::text[]) AND found`,
      [shopId, [...productIds]],
    );
    return Object.fromEntries(rows.map((r) => [r.product_id, r.categories]));
  },

  /** {@link categoriesOf} of many carts in one query, in the order of `carts`. */
  async categoriesOfMany(
    q: Queryable,
    carts: readonly { readonly shopId: string; readonly productIds: readonly string[] }[],
  ): Promise<Record<string, readonly string[]>[]> {
    const shopIds: string[] = [];
    const productIds: string[] = [];
    for (const c of carts) {
      for (const p of c.productIds) {
        shopIds.push(c.shopId);
        productIds.push(p);
      }
    }
    if (productIds.length === 0) return carts.map(() => ({}));
    const { rows } = await q.query<{ shop_id: string; product_id: string; categories: string[] }>(
      `SELECT DISTINCT pc.shop_id, pc.product_id, pc.categories FROM engine.product_categories pc
         JOIN unnest($1::text[], $2::text[]) AS w(shop_id, product_id)
           ON pc.shop_id = w.shop_id AND pc.product_id = w.product_id
        WHERE pc.found`,
      [shopIds, productIds],
    );
    const found = new Map(rows.map((r) => [`${r.shop_id}\u0000${r.product_id}`, r.categories]));
    return carts.map((c) => {
      const out: Record<string, readonly string[]> = {};
      for (const p of c.productIds) {
        const categories = found.get(`${c.shopId}\u0000${p}`);
        if (categories !== undefined) out[p] = categories;
      }
      return out;
    });
  },

  /** Projects a `recovery.categories-recorded`: the newer record of a product wins. */
  async record(tx: Queryable, shopId: string, products: readonly ProductCategories[], at: string): Promise<void> {
    if (products.length === 0) return;
    await tx.query(
      `INSERT INTO engine.product_categories (shop_id, product_id, categories, found, recorded_at)
       SELECT $1, p.product_id, ARRAY(SELECT jsonb_array_elements_text(p.categories)), p.found, $3
         FROM jsonb_to_recordset($2::jsonb) AS p(product_id text, categories jsonb, found boolean)
       ON CONFLICT (shop_id, product_id) DO UPDATE
         SET categories = EXCLUDED.categories, found = EXCLUDED.found, recorded_at = EXCLUDED.recorded_at
         WHERE engine.product_categories.recorded_at <= EXCLUDED.recorded_at`,
      [
        shopId,
        JSON.stringify(products.map((p) => ({ product_id: p.productId, categories: p.categories, found: p.found }))),
        at,
      ],
    );
  },
};

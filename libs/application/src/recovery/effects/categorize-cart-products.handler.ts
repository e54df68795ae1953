/**
 * The store's product categories as a recorded fact: while a cart is watched, the products the
 * category cache (`engine.product_categories`) does not know, or knows for longer than
 * CATEGORY_CACHE_TTL, are looked up once through the catalog port and recorded on the recovery
 * stream (`recovery.categories-recorded`), or why they could not be (`recovery.categories-unavailable`,
 * shown in the customer history; the failed store call is counted in `reclaim_provider_errors_total`).
 * Either way the request is settled: the recovery starts with the categories known by then, and a
 * replay or rebuild reads the record, never the store. A later cart update asks again for what failed.
 */
import { Inject } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { parseRecoveryId, type CategoriesUnavailableReason, type ProductCategories } from '@reclaim/domain';
import { describeProviderError } from '@reclaim/ports';
import { productCategoryCache, storeProductIds } from '../categories';
import { loadRecovery } from '../recovery-stream';
import { CategorizeCartProducts, type EffectOutcome } from './effect-commands';
import { EffectContext } from './effect-context';
import { enrichmentFailureOf } from './enrich-recovery.handler';

/** The default of CATEGORY_CACHE_TTL: a product's categories are asked again after a day. */
export const DEFAULT_CATEGORY_CACHE_TTL_MS = 24 * 60 * 60_000;

/** The reason recorded for a failed look-up (the error's code, never its message). */
export function categoriesFailureOf(err: unknown): { reason: CategoriesUnavailableReason; code?: string } {
  const failure = enrichmentFailureOf(err);
  if (failure.code === 'no-store-api') return { reason: 'not-configured', code: failure.code };
  const reason: CategoriesUnavailableReason =
    failure.reason === 'timeout' || failure.reason === 'throttled' || failure.reason === 'refused'
      ? failure.reason
      : 'error';
  return { reason, ...(failure.code !== undefined ? { code: failure.code } : {}) };
}

@CommandHandler(CategorizeCartProducts)
export class CategorizeCartProductsHandler implements ICommandHandler<CategorizeCartProducts> {
  constructor(@Inject(EffectContext) private readonly ctx: EffectContext) {}

  async execute({ request }: CategorizeCartProducts): Promise<EffectOutcome> {
    const { deps } = this.ctx;
    const ids = parseRecoveryId(request.streamId);
    if (ids === undefined) return { kind: 'skipped', reason: 'not-a-recovery' };
    const catalog = deps.catalog;
    if (catalog === undefined) return { kind: 'skipped', reason: 'no-catalog' };
    const { state } = await loadRecovery(deps.store, request.streamId);
    if (state.status === 'idle' || state.status === 'ended' || state.cart === undefined) {
      return { kind: 'skipped', reason: `recovery-${state.status}` };
    }
    const productIds = storeProductIds(state.cart.items);
    const now = this.ctx.now();
    const ttl = deps.categoryCacheTtlMs ?? DEFAULT_CATEGORY_CACHE_TTL_MS;
    const fresh = await productCategoryCache.freshSince(
      deps.pool,
      ids.shopId,
      productIds,
      new Date(now.getTime() - ttl),
    );
    const missing = productIds.filter((id) => !fresh.has(id));
    if (missing.length === 0) return { kind: 'skipped', reason: 'categories-cached' };
    const shop = await deps.shops.get(ids.shopId);
    if (shop === null) return { kind: 'skipped', reason: 'no-shop' };
    let answer;
    try {
      answer = await catalog.productCategories(shop, missing);
    } catch (err) {
      const failure = categoriesFailureOf(err);
      deps.log?.warn(
        { recoveryId: request.streamId, reason: failure.reason, error: describeProviderError(err) },
        'product categories unavailable',
      );
      await this.ctx.feed(
        request,
        {
          type: 'RecordCategoriesUnavailable',
          at: now.toISOString(),
          productIds: missing,
          reason: failure.reason,
          ...(failure.code !== undefined ? { code: failure.code } : {}),
        },
        'categories',
        ids.shopId,
      );
      return { kind: 'skipped', reason: `categories-unavailable:${failure.reason}` };
    }
    const byId = new Map(answer.map((p) => [p.productId, p.categories]));
    const products: ProductCategories[] = missing.map((productId) => {
      const categories = byId.get(productId);
      return { productId, categories: categories ?? [], found: categories !== undefined };
    });
    await this.ctx.feed(
      request,
      { type: 'RecordProductCategories', at: now.toISOString(), products },
      'categories',
      ids.shopId,
    );
    return { kind: 'sent' };
  }
}

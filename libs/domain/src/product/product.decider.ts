import type { ProductCommand, ProductEvent, ProductStockReported } from './product.messages';
import { event } from '../events/catalogue';
import type { IsoTimestamp } from '../inbound/inbound-types';
import { InvalidCommandError, rememberCausation, type Decider } from '../shared/decider';
import { effectivePlatformTime, isAfter } from '../shared/time';
import { validId, validTimestamp } from '../shared/validation';

export interface ProductState {
  readonly lastReportedAt?: IsoTimestamp;
  readonly seenCausationIds: readonly string[];
}

export const initialProductState = (): ProductState => ({ seenCausationIds: [] });

/** Every report is recorded once (by its delivery), except one older than the last (a late retry of a stale webhook). */
export function decideProduct(c: ProductCommand, s: ProductState): ProductEvent[] {
  validId(c.productId, 'productId');
  if (!Array.isArray(c.variants)) throw new InvalidCommandError('must be a list', 'variants');
  c.variants.forEach((v, i) => {
    validId(v.variantId, `variants[${i}].variantId`);
    if (typeof v.available !== 'boolean')
      throw new InvalidCommandError('must be true or false', `variants[${i}].available`);
  });
  if (c.available !== undefined && typeof c.available !== 'boolean') {
    throw new InvalidCommandError('must be true or false', 'available');
  }
  if (s.seenCausationIds.includes(c.causationId)) return [];
  const time = effectivePlatformTime(c.platformUpdatedAt, c.receivedAt);
  if (s.lastReportedAt !== undefined && !isAfter(time.at, s.lastReportedAt) && time.at !== s.lastReportedAt) return [];
  return [
    event<ProductStockReported>('product.stock-reported', {
      shopId: c.shopId,
      causationId: c.causationId,
      receivedAt: validTimestamp(c.receivedAt, 'receivedAt'),
      platform: c.platform,
      platformUpdatedAt: time.at,
      ...(time.anomaly ? { platformTimeAnomaly: time.anomaly } : {}),
      productId: c.productId,
      ...(c.available !== undefined ? { available: c.available } : {}),
      variants: c.variants.map((v) => ({
        variantId: v.variantId,
        available: v.available,
        ...(v.quantity !== undefined ? { quantity: v.quantity } : {}),
      })),
    }),
  ];
}

export function evolveProduct(s: ProductState, e: ProductEvent): ProductState {
  return {
    lastReportedAt: e.data.platformUpdatedAt,
    seenCausationIds: rememberCausation(s.seenCausationIds, e.data.causationId),
  };
}

export const productDecider: Decider<ProductState, ProductCommand, ProductEvent> = {
  decide: decideProduct,
  evolve: evolveProduct,
  initialState: initialProductState,
};

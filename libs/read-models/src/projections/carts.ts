import type { PoolClient } from 'pg';
import type {
  CartAbandonedByPlatformData,
  CartActivityRecordedData,
  CartCheckoutCompletedData,
  CartDeletedData,
  CartPurchasedData,
} from '@reclaim/domain';
import type { RecordedEvent } from '@reclaim/event-store';
import { CARTS } from '../schema';
import {
  purgeShop,
  purgeShopRows,
  shopOfRedaction,
  splitAtShopRedactions,
  SHOP_REDACTED,
  type ApplyOptions,
  type Projection,
} from './projection';
import { alreadyApplied, positionText, RowSet, type Row } from './rows';

type CartData = { shopId: string; cartId: string };

/** Folds one cart event into its row (pure). Returns the new row. */
export function applyCartEvent(row: Row | undefined, e: RecordedEvent): Row {
  const d = e.data as CartData;
  const base: Row = row ?? { shop_id: d.shopId, cart_id: d.cartId, status: 'active', item_count: null };
  const next: Row = { ...base, position: positionText(e) };
  const settled = base.status === 'purchased' || base.status === 'deleted';
  switch (e.type) {
    case 'cart.activity-recorded': {
      const a = e.data as CartActivityRecordedData;
      Object.assign(next, {
        platform: a.platform,
        source: a.source,
        customer_key: a.customerKey ?? base.customer_key ?? null,
        currency: a.currency,
        subtotal: a.subtotal,
        total: a.total,
        item_count: a.lineItems.length,
        device: a.device ?? base.device ?? null,
        reach_email: a.reach.email,
        reach_sms: a.reach.sms,
        first_seen_at: base.first_seen_at ?? a.platformUpdatedAt,
        last_activity_at: a.platformUpdatedAt,
        status: settled ? base.status : 'active',
      });
      break;
    }
    case 'cart.abandoned-by-platform': {
      const a = e.data as CartAbandonedByPlatformData;
      next.platform = a.platform;
      next.abandoned_by_platform_at = a.platformUpdatedAt;
      if (base.status === 'active') next.status = 'abandoned';
      break;
    }
    case 'cart.checkout-completed': {
      const c = e.data as CartCheckoutCompletedData;
      next.checkout_completed_at = c.completedAt;
      next.order_id = base.order_id ?? c.orderId ?? null;
      if (!settled) next.status = 'checkout-completed';
      break;
    }
    case 'cart.purchased': {
      const p = e.data as CartPurchasedData;
      Object.assign(next, { purchased_at: p.placedAt, order_id: p.orderId, status: 'purchased' });
      break;
    }
    case 'cart.deleted': {
      const del = e.data as CartDeletedData;
      next.deleted_at = del.platformUpdatedAt;
      if (base.status !== 'purchased') next.status = 'deleted';
      break;
    }
    default:
      return base;
  }
  return next;
}

export const cartsProjection: Projection = {
  name: 'carts',
  subscription: 'read-models.carts',
  filter: { typePrefixes: ['cart.', SHOP_REDACTED] },
  tables: [CARTS],
  async apply(events: readonly RecordedEvent[], tx: PoolClient, options?: ApplyOptions): Promise<void> {
    // A rebuild folds into its session's rows and touches no table (RebuildSession).
    const kept = options?.session?.state(() => ({ carts: new RowSet(CARTS, { complete: true }) }));
    for (const part of splitAtShopRedactions(events)) {
      if (!Array.isArray(part)) {
        if (kept) purgeShopRows(kept, shopOfRedaction(part));
        else await purgeShop(tx, [CARTS], shopOfRedaction(part));
        continue;
      }
      const rows = kept?.carts ?? new RowSet(CARTS);
      await rows.load(
        tx,
        part.map((e) => ({ shop_id: (e.data as CartData).shopId, cart_id: (e.data as CartData).cartId })),
      );
      for (const e of part) {
        const d = e.data as CartData;
        const key = { shop_id: d.shopId, cart_id: d.cartId };
        const current = rows.get(key);
        if (alreadyApplied(current, e)) continue;
        rows.put(applyCartEvent(current, e));
      }
      await rows.flush(tx);
    }
  },
};

import type { PoolClient } from 'pg';
import type {
  CustomerConsentChangedData,
  CustomerDataRequestedData,
  CustomerRedactedData,
  CustomerUpsertedData,
} from '@reclaim/domain';
import type { RecordedEvent } from '@reclaim/event-store';
import { CUSTOMERS } from '../schema';
import { purgeShop, shopOfRedaction, splitAtShopRedactions, SHOP_REDACTED, type Projection } from './projection';
import { alreadyApplied, positionText, RowSet, type Row } from './rows';

type CustomerData = { shopId: string; customerKey: string; platform: string };

/** Everything about a customer that a redaction erases from the read model (R29). */
const PROFILE_COLUMNS = [
  'orders_count',
  'total_spent',
  'currency',
  'reach_email',
  'reach_sms',
  'email_consent',
  'email_consent_source',
  'email_consent_at',
  'sms_consent',
  'sms_consent_source',
  'sms_consent_at',
  'platform_created_at',
  'profile_updated_at',
] as const;

/**
 * Folds one customer event into its row (pure). No contact details: the events hold them sealed
 * and this table keeps only the pseudonymous customer key, counts, reach flags and consent.
 */
export function applyCustomerEvent(row: Row | undefined, e: RecordedEvent): Row {
  const d = e.data as CustomerData;
  const base: Row = row ?? { shop_id: d.shopId, customer_key: d.customerKey };
  const next: Row = { ...base, platform: d.platform, position: positionText(e) };
  switch (e.type) {
    case 'customer.upserted': {
      const u = e.data as CustomerUpsertedData;
      Object.assign(next, {
        orders_count: u.ordersCount ?? base.orders_count ?? null,
        total_spent: u.totalSpent ?? base.total_spent ?? null,
        currency: u.currency ?? base.currency ?? null,
        reach_email: u.reach.email,
        reach_sms: u.reach.sms,
        platform_created_at: u.createdAt ?? base.platform_created_at ?? null,
        profile_updated_at: u.platformUpdatedAt,
      });
      break;
    }
    case 'customer.consent-changed': {
      const c = e.data as CustomerConsentChangedData;
      const at = base[`${c.channel}_consent_at`];
      // The latest consent by its own time wins (R27), whatever order the events came in.
      if (typeof at === 'string' && Date.parse(at) > Date.parse(c.consentUpdatedAt)) break;
      next[`${c.channel}_consent`] = c.state;
      next[`${c.channel}_consent_source`] = c.source;
      next[`${c.channel}_consent_at`] = c.consentUpdatedAt;
      break;
    }
    case 'customer.redacted': {
      const r = e.data as CustomerRedactedData;
      for (const col of PROFILE_COLUMNS) next[col] = null;
      next.redacted_at = r.redactedAt;
      break;
    }
    case 'customer.data-requested':
      next.data_requested_at = (e.data as CustomerDataRequestedData).requestedAt;
      break;
    default:
      return base;
  }
  return next;
}

export const customersProjection: Projection = {
  name: 'customers',
  subscription: 'read-models.customers',
  filter: { typePrefixes: ['customer.', SHOP_REDACTED] },
  tables: [CUSTOMERS],
  async apply(events: readonly RecordedEvent[], tx: PoolClient): Promise<void> {
    for (const part of splitAtShopRedactions(events)) {
      if (!Array.isArray(part)) {
        await purgeShop(tx, [CUSTOMERS], shopOfRedaction(part));
        continue;
      }
      const rows = new RowSet(CUSTOMERS);
      const keyOf = (e: RecordedEvent) => {
        const d = e.data as CustomerData;
        return { shop_id: d.shopId, customer_key: d.customerKey };
      };
      await rows.load(tx, part.map(keyOf));
      for (const e of part) {
        const current = rows.get(keyOf(e));
        if (alreadyApplied(current, e)) continue;
        rows.put(applyCustomerEvent(current, e));
      }
      await rows.flush(tx);
    }
  },
};

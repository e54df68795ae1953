import type { PoolClient } from 'pg';
import type {
  CartActivityRecordedData,
  CustomerConsentChangedData,
  CustomerDataRequestedData,
  CustomerRedactedData,
  CustomerUpsertedData,
  SealedValue,
} from '@reclaim/domain';
import type { RecordedEvent } from '@reclaim/event-store';
import { comparePositions, parsePosition } from '@reclaim/event-store';
import { CUSTOMER_CONTACTS, CUSTOMERS, qualified } from '../schema';
import { maskContact } from './masking';
import {
  purgeShop,
  purgeShopRows,
  shopOfRedaction,
  splitAtShopRedactions,
  SHOP_REDACTED,
  type ContactVault,
  type Projection,
} from './projection';
import { alreadyApplied, keyOf as rowKey, loadRows, positionText, RowSet, upsertRows, type Row } from './rows';

const CART_ACTIVITY = 'cart.activity-recorded';

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

/** The sealed contact an event carries for a known customer, if any. */
function sealedContactOf(e: RecordedEvent): { shopId: string; customerKey: string; contact: SealedValue } | null {
  if (e.type !== 'customer.upserted' && e.type !== CART_ACTIVITY) return null;
  const d = e.data as CustomerUpsertedData | CartActivityRecordedData;
  if (!d.customerKey || d.contact === undefined) return null;
  return { shopId: d.shopId, customerKey: d.customerKey, contact: d.contact };
}

/**
 * read.customer_contacts for one part of a batch (no shop redaction inside): the latest sealed contact
 * of each customer, opened and masked; a shredded key (`open` → null) or `customer.redacted` removes
 * the row. Without a vault only the redactions are applied. Idempotent by `updated_position`.
 */
async function applyContacts(tx: PoolClient, part: readonly RecordedEvent[], vault?: ContactVault): Promise<void> {
  const relevant = part.filter((e) => e.type === 'customer.redacted' || (vault && sealedContactOf(e)));
  if (relevant.length === 0) return;
  const keyOf = (e: RecordedEvent): Row => {
    const d = e.data as { shopId: string; customerKey: string };
    return { shop_id: d.shopId, customer_key: d.customerKey };
  };
  // Opened concurrently (the vault coalesces key loads); a value that fails authentication masks to nothing.
  const opened = new Map<RecordedEvent, Promise<unknown>>();
  if (vault) {
    for (const e of relevant) {
      const s = sealedContactOf(e);
      if (s) opened.set(e, vault.open(s.shopId, s.contact).catch(tamperedAsNull));
    }
  }
  const current = await loadRows(tx, CUSTOMER_CONTACTS, relevant.map(keyOf));
  const final = new Map<string, Row | null>();
  for (const e of relevant) {
    const k = rowKey(CUSTOMER_CONTACTS, keyOf(e));
    const row = final.has(k) ? final.get(k) : current.get(k);
    const at = row?.updated_position;
    if (typeof at === 'string' && comparePositions(parsePosition(at), e.position) >= 0) continue;
    const contact = e.type === 'customer.redacted' ? null : await opened.get(e);
    final.set(
      k,
      contact === null || contact === undefined
        ? null
        : {
            ...keyOf(e),
            ...maskContact(contact),
            updated_position: positionText(e),
          },
    );
  }
  const gone = [...final].filter(([k, r]) => r === null && current.has(k)).map(([k]) => JSON.parse(k) as string[]);
  if (gone.length > 0) {
    await tx.query(
      `DELETE FROM ${qualified(CUSTOMER_CONTACTS)} t
        USING unnest($1::text[], $2::text[]) AS k(shop_id, customer_key)
        WHERE t.shop_id = k.shop_id AND t.customer_key = k.customer_key`,
      [gone.map((g) => g[0]), gone.map((g) => g[1])],
    );
  }
  await upsertRows(
    tx,
    CUSTOMER_CONTACTS,
    [...final.values()].filter((r): r is Row => r !== null),
  );
}

/** {@link applyContacts} for a rebuild: the same rules on the session's rows, no table touched. */
async function foldContacts(contacts: RowSet, part: readonly RecordedEvent[], vault?: ContactVault): Promise<void> {
  const relevant = part.filter((e) => e.type === 'customer.redacted' || (vault && sealedContactOf(e)));
  if (relevant.length === 0) return;
  const opened = new Map<RecordedEvent, Promise<unknown>>();
  if (vault) {
    for (const e of relevant) {
      const s = sealedContactOf(e);
      if (s) opened.set(e, vault.open(s.shopId, s.contact).catch(tamperedAsNull));
    }
  }
  for (const e of relevant) {
    const d = e.data as { shopId: string; customerKey: string };
    const key = { shop_id: d.shopId, customer_key: d.customerKey };
    const at = contacts.get(key)?.updated_position;
    if (typeof at === 'string' && comparePositions(parsePosition(at), e.position) >= 0) continue;
    const contact = e.type === 'customer.redacted' ? null : await opened.get(e);
    if (contact === null || contact === undefined) contacts.remove(key);
    else contacts.put({ ...key, ...maskContact(contact), updated_position: positionText(e) });
  }
}

function tamperedAsNull(error: unknown): null {
  if (error instanceof Error && error.name === 'SealedValueTamperedError') return null;
  throw error;
}

export const customersProjection: Projection = {
  name: 'customers',
  subscription: 'read-models.customers',
  filter: { typePrefixes: ['customer.', CART_ACTIVITY, SHOP_REDACTED] },
  tables: [CUSTOMERS, CUSTOMER_CONTACTS],
  async apply(events, tx, options): Promise<void> {
    // A rebuild folds into its session's rows and touches no table (RebuildSession).
    const kept = options?.session?.state(() => ({
      customers: new RowSet(CUSTOMERS, { complete: true }),
      contacts: new RowSet(CUSTOMER_CONTACTS, { complete: true }),
    }));
    for (const part of splitAtShopRedactions(events)) {
      if (!Array.isArray(part)) {
        if (kept) purgeShopRows(kept, shopOfRedaction(part));
        else await purgeShop(tx, [CUSTOMERS, CUSTOMER_CONTACTS], shopOfRedaction(part));
        continue;
      }
      if (kept) await foldContacts(kept.contacts, part, options?.vault);
      else await applyContacts(tx, part, options?.vault);
      const customerEvents = part.filter((e) => e.type.startsWith('customer.'));
      const rows = kept?.customers ?? new RowSet(CUSTOMERS);
      const keyOf = (e: RecordedEvent) => {
        const d = e.data as CustomerData;
        return { shop_id: d.shopId, customer_key: d.customerKey };
      };
      await rows.load(tx, customerEvents.map(keyOf));
      for (const e of customerEvents) {
        const current = rows.get(keyOf(e));
        if (alreadyApplied(current, e)) continue;
        rows.put(applyCustomerEvent(current, e));
      }
      await rows.flush(tx);
    }
  },
};

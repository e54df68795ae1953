/**
 * A customer's data export (R29, Shopify `customers/data_request` and any access request): every
 * thing the appliance holds about one customer of one shop, read from the event log and opened
 * from the vault at the moment of the export, never stored in a second place.
 *
 * - `profile`: the customer stream (platform id, consent evidence, reach, order totals, tags, time
 *   zone) with the contact details opened from the vault.
 * - `carts`: the carts of the customer's recoveries (line items, totals, landing page, device) with
 *   the contact given at checkout, opened from the vault.
 * - `recoveries` and `history`: what {@link customerHistory} shows (every message sent, skipped or
 *   deferred, engagement, enrichment facts), in log order.
 *
 * After `customers/redact` the subject keys are shredded: the contact details cannot be opened any
 * more and come out as `null` with `erased: true`; what remains is what the log keeps without
 * personal data (amounts, products, decisions).
 */
import type { EventStore } from '@reclaim/event-store';
import type { CartContents, CartStatus, ContactDetails, CustomerState, IsoTimestamp } from '@reclaim/domain';
import { parseRecoveryId, type SealedValue } from '@reclaim/domain';
import { readCart, readCustomer } from '../facts';
import { customerHistory, type CustomerHistory, type CustomerHistoryOptions } from './customer-history';

/** What the export needs of the vault: opening a sealed value (null once its key is shredded). */
export interface SealedValueOpener {
  open<T = unknown>(shopId: string, sealed: SealedValue): Promise<T | null>;
}

export const CUSTOMER_DATA_EXPORT_FORMAT = 'reclaim.customer-data-export';
export const CUSTOMER_DATA_EXPORT_VERSION = 1;

/** The customer stream's state as recorded, with the contact opened (`null` when erased or never given). */
export type ExportedProfile = Omit<CustomerState, 'contact' | 'seenCausationIds'> & {
  readonly contact: ContactDetails | null;
};

export interface ExportedCart {
  readonly cartId: string;
  readonly status: CartStatus;
  readonly platform?: string;
  readonly contents?: CartContents;
  /** Contact given with the cart or checkout, opened from the vault; `null` when erased or none. */
  readonly contact: ContactDetails | null;
  readonly abandonedAt?: IsoTimestamp;
  readonly checkoutCompletedAt?: IsoTimestamp;
  readonly orderId?: string;
  readonly purchasedAt?: IsoTimestamp;
  readonly deletedAt?: IsoTimestamp;
}

export interface CustomerDataExport {
  readonly format: typeof CUSTOMER_DATA_EXPORT_FORMAT;
  readonly version: number;
  readonly generatedAt: IsoTimestamp;
  readonly shopId: string;
  readonly customerKey: string;
  /** True when the customer was redacted: personal data can no longer be opened (keys shredded). */
  readonly erased: boolean;
  /** Null when the log holds no customer stream (a guest known only from carts). */
  readonly profile: ExportedProfile | null;
  readonly carts: readonly ExportedCart[];
  readonly recoveries: CustomerHistory['recoveries'];
  readonly history: CustomerHistory['entries'];
}

export interface CustomerDataExportDeps {
  readonly store: EventStore;
  readonly vault: SealedValueOpener;
  readonly now: () => Date;
}

async function openOrNull(vault: SealedValueOpener, shopId: string, sealed: SealedValue | undefined) {
  return sealed ? vault.open<ContactDetails>(shopId, sealed) : null;
}

function recordedProfile(customer: CustomerState): Omit<ExportedProfile, 'contact'> {
  const { contact: _sealed, seenCausationIds: _seen, ...recorded } = customer;
  return recorded;
}

export async function customerDataExport(
  deps: CustomerDataExportDeps,
  shopId: string,
  customerKey: string,
  options: CustomerHistoryOptions = {},
): Promise<CustomerDataExport> {
  const [customer, history] = await Promise.all([
    readCustomer(deps.store, shopId, customerKey),
    customerHistory(deps.store, shopId, customerKey, options),
  ]);
  const profile: ExportedProfile | null =
    customer.status === 'none' && customer.seenCausationIds.length === 0
      ? null
      : { ...recordedProfile(customer), contact: await openOrNull(deps.vault, shopId, customer.contact) };
  const cartIds = [
    ...new Set(
      history.recoveries
        .map((r) => parseRecoveryId(r.recoveryId))
        .filter((p): p is NonNullable<typeof p> => p !== undefined && p.shopId === shopId)
        .map((p) => p.cartId),
    ),
  ].sort();
  const carts: ExportedCart[] = [];
  for (const cartId of cartIds) {
    const cart = await readCart(deps.store, shopId, cartId);
    if (cart.status === 'none') continue;
    carts.push({
      cartId,
      status: cart.status,
      platform: cart.platform,
      contents: cart.snapshot,
      contact: await openOrNull(deps.vault, shopId, cart.contact),
      abandonedAt: cart.abandonedAt,
      checkoutCompletedAt: cart.checkoutCompletedAt,
      orderId: cart.orderId,
      purchasedAt: cart.purchasedAt,
      deletedAt: cart.deletedAt,
    });
  }
  return {
    format: CUSTOMER_DATA_EXPORT_FORMAT,
    version: CUSTOMER_DATA_EXPORT_VERSION,
    generatedAt: deps.now().toISOString(),
    shopId,
    customerKey,
    erased: customer.status === 'redacted' || customer.redactedAt !== undefined,
    profile,
    carts,
    recoveries: history.recoveries,
    history: history.entries,
  };
}

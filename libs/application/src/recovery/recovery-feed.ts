/**
 * `engine.recovery-feed` (cart./customer./order.), run with `runCheckpointedSubscription`: maps
 * platform facts to `RecoveryInput`s and runs the recovery process manager on
 * `recovery-<shop>-<cart>`. Orders also go to {@link OrderAttribution}. Its sibling,
 * `RecoveryEventsProjector` (recovery-events-projector.ts), turns the recovery events into timers,
 * effect requests and the engine index.
 */
import type { PoolClient } from 'pg';
import { v5 as uuidv5 } from 'uuid';
import {
  cartDecider,
  cartStream,
  foldEvents,
  fromStoredRecoveryEvent,
  localSlot,
  isCartConverted,
  upcastEvent,
  type CartEvent,
  type CartState,
  type StartContext,
  type RecoveryState,
  type StoredRecoveryEvent,
  recoveryIdFor,
  type CartAbandonedByPlatformData,
  type CartActivityRecordedData,
  type CartCheckoutCompletedData,
  type CartDeletedData,
  type CartPurchasedData,
  type CustomerConsentChangedData,
  type CustomerRedactedData,
  type OrderPlacedData,
  type ProductStockReportedData,
  type RecoveryDecider,
  type RecoveryInput,
} from '@reclaim/domain';
import {
  readStreams,
  WrongExpectedRevisionError,
  type EventFilter,
  type EventStore,
  type NewEvent,
  type RecordedEvent,
} from '@reclaim/event-store';
import { RECLAIM_ID_NAMESPACE } from '../ingestion/ids';
import { engagementHours, engagementZone } from './engagement-hours';
import { attributionInput, clickedMessages, OrderAttribution } from './attribution';
import type { Queryable } from './db';
import { engineIndex } from './engine-index';
import { storeProductIds } from './categories';
import type { ScoringSource } from '../learning/live-models';
import {
  buildStartContext,
  buildStartContexts,
  cartSnapshotOf,
  readCart,
  shopTimeZones,
  type StartContextDeps,
} from './facts';
import type { EngineLog, ShopLookup } from './ports';
import { runRecovery } from './recovery-stream';
import type { SequenceRepository } from './sequences/sequence-repository';
import type { ShopDeciders } from './settings/shop-settings';

export const RECOVERY_FEED = 'engine.recovery-feed';

/** Cart events the feed applies in runs ({@link RecoveryFeed.applyRun}). */
const CART_RUN_TYPES: ReadonlySet<string> = new Set([
  'cart.activity-recorded',
  'cart.abandoned-by-platform',
  'cart.checkout-completed',
  'cart.purchased',
  'cart.deleted',
]);

/** A recovery stream of a run: state folded so far, events decided, the inputs that decided them. */
interface PendingRecovery {
  state: RecoveryState;
  readonly expected: bigint | 'no_stream';
  next: bigint;
  readonly events: NewEvent[];
  readonly inputs: { readonly input: RecoveryInput; readonly causationId: string; readonly shopId: string }[];
}
/** An event of a run; cart events name their cart and recovery. */
interface RunItem {
  readonly e: RecordedEvent;
  readonly shopId: string;
  readonly cartId: string | undefined;
  readonly recoveryId: string | undefined;
}

/** The feed's other events: consent revocations, orders, restock reports (see {@link RecoveryFeed.applyRun}). */
const FEED_OTHER_TYPES: ReadonlySet<string> = new Set([
  'customer.consent-changed',
  'customer.redacted',
  'order.placed',
  'product.stock-reported',
]);

/** The revocation a customer event carries (an unsubscribe, a redaction), if any. */
function revocationOf(
  e: RecordedEvent,
): { shopId: string; customerKey: string; channel: 'email' | 'sms' | 'all'; at: string } | undefined {
  if (e.type === 'customer.consent-changed') {
    const d = e.data as CustomerConsentChangedData;
    if (d.state !== 'unsubscribed' && d.state !== 'redacted') return undefined;
    return { shopId: d.shopId, customerKey: d.customerKey, channel: d.channel, at: d.consentUpdatedAt };
  }
  if (e.type === 'customer.redacted') {
    const d = e.data as CustomerRedactedData;
    return { shopId: d.shopId, customerKey: d.customerKey, channel: 'all', at: d.redactedAt };
  }
  return undefined;
}

function groupBy<T>(rows: readonly T[], key: (row: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const r of rows) {
    const k = key(r);
    const list = out.get(k);
    if (list) list.push(r);
    else out.set(k, [r]);
  }
  return out;
}

/** Code-point order: the index's `ORDER BY recovery_id` under the database's C collation. */
const compareText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

export const RECOVERY_FEED_FILTER: EventFilter = { typePrefixes: ['cart.', 'customer.', 'order.', 'product.'] };

export interface RecoveryFeedDeps {
  readonly store: EventStore;
  readonly pm: RecoveryDecider;
  readonly shops: ShopLookup;
  readonly sequences: SequenceRepository;
  /** Per-shop process managers (shop settings); `pm` for every shop when absent. */
  readonly deciders?: ShopDeciders;
  readonly random?: () => number;
  /** The shops' live recovery-score models: each start records its score. */
  readonly scoring?: ScoringSource;
  /** The shops' experiments of step variants (RFC 0016): each start draws its variants from them. */
  readonly experiments?: StartContextDeps['experiments'];
  readonly log?: EngineLog;
}

/** Subscription handler: platform facts → recovery inputs. Re-applying a batch is harmless (the decider dedupes). */
export class RecoveryFeed {
  private readonly start: StartContextDeps;
  private readonly attribution: OrderAttribution;

  constructor(private readonly deps: RecoveryFeedDeps) {
    this.start = {
      store: deps.store,
      shops: deps.shops,
      sequences: deps.sequences,
      random: deps.random,
      ...(deps.scoring !== undefined ? { scoring: deps.scoring } : {}),
      ...(deps.experiments !== undefined ? { experiments: deps.experiments } : {}),
    };
    this.attribution = new OrderAttribution(deps.store, (shopId) => this.pmFor(shopId));
  }

  /**
   * The events of a batch are applied in runs, see {@link applyRun}. A run ends only before a
   * platform abandonment that follows an order of the run: that recovery's start reads the
   * customer's orders, which the run writes at its end.
   */
  readonly handle = async (events: readonly RecordedEvent[], tx: PoolClient): Promise<void> => {
    let run: RecordedEvent[] = [];
    let ordered = false;
    for (const e of events) {
      if (e.type === 'cart.abandoned-by-platform' && ordered) {
        await this.applyRun(run, tx);
        run = [];
        ordered = false;
      }
      run.push(e);
      if (e.type === 'order.placed') ordered = true;
    }
    if (run.length > 0) await this.applyRun(run, tx);
  };

  /**
   * A run of the feed's events, many per round trip, deciding exactly what {@link apply} decides
   * one by one, in log order:
   * - the customer index rows of the run's consent revocations and orders, and the stock watchers
   *   of its restock reports, in one query each, with the shops' deciders (settings cache) and
   *   zones (registry cache);
   * - the cart and recovery streams in one read (the recoveries those queries named included);
   * - the start contexts of the recoveries the platform's own abandonment starts, at once;
   * - every decision made in memory in log order (several inputs to one recovery fold into one
   *   another; a revocation also reaches the recoveries the run's earlier carts added to the
   *   customer; an order is attributed on the clicks of the customer's recoveries);
   * - the customer index in one INSERT, the orders and their engagement hours in one statement,
   *   and the new events of every recovery appended at once at the revision each was read at (the
   *   store's group commit writes them in one transaction).
   * Event ids are those the one-by-one path derives, so a replay or a retry appends nothing twice.
   * A recovery another writer moved meanwhile (a timer firing) is redone one input at a time on
   * its fresh state.
   */
  async applyRun(run: readonly RecordedEvent[], tx: Queryable): Promise<void> {
    const items = run.flatMap((e): RunItem[] => {
      const d = e.data as { shopId: string };
      if (CART_RUN_TYPES.has(e.type)) {
        const cartId = (e.data as { cartId: string }).cartId;
        return [{ e, shopId: d.shopId, cartId, recoveryId: recoveryIdFor(d.shopId, cartId) }];
      }
      return FEED_OTHER_TYPES.has(e.type) ? [{ e, shopId: d.shopId, cartId: undefined, recoveryId: undefined }] : [];
    });
    if (items.length === 0) return;
    // The customers whose index rows the run needs (revocations, orders), the products whose watchers.
    const customers: { shopId: string; customerKey: string }[] = [];
    const products: { shopId: string; productId: string }[] = [];
    const orderShops: string[] = [];
    for (const { e } of items) {
      const revoked = revocationOf(e);
      if (revoked !== undefined) customers.push({ shopId: revoked.shopId, customerKey: revoked.customerKey });
      else if (e.type === 'order.placed') {
        const d = e.data as OrderPlacedData;
        if (d.customerKey === undefined) continue;
        customers.push({ shopId: d.shopId, customerKey: d.customerKey });
        if (d.timeZone === undefined) orderShops.push(d.shopId);
      } else if (e.type === 'product.stock-reported') {
        const d = e.data as ProductStockReportedData;
        products.push({ shopId: d.shopId, productId: d.productId });
      }
    }
    // The index reads share the transaction's connection: one after the other, beside the caches.
    const indexReads = async () => {
      const indexed = await engineIndex.recoveriesOfMany(tx, customers);
      return [indexed, await engineIndex.watchersOfMany(tx, products)] as const;
    };
    const [[indexed, watchers], pms, zones] = await Promise.all([
      indexReads(),
      this.decidersFor(items.map((i) => i.shopId)),
      orderShops.length > 0 ? shopTimeZones(this.deps.shops, [...new Set(orderShops)]) : new Map<string, string>(),
    ]);
    const customerRecoveries = groupBy(indexed, (r) => `${r.shopId}\u0000${r.customerKey}`);
    const productWatchers = groupBy(watchers, (w) => `${w.shopId}\u0000${w.productId}`);
    const streams = await readStreams(this.deps.store, [
      ...items
        .filter(
          (i) =>
            i.cartId !== undefined &&
            i.e.type !== 'cart.checkout-completed' &&
            i.e.type !== 'cart.purchased' &&
            i.e.type !== 'cart.deleted',
        )
        .map((i) => cartStream(i.shopId, i.cartId!)),
      ...items.flatMap((i) => (i.recoveryId !== undefined ? [i.recoveryId] : [])),
      ...indexed.map((r) => r.recoveryId),
      ...watchers.map((w) => w.recoveryId),
    ]);
    // Recoveries the platform's own abandonment starts: their start contexts for the whole run at once.
    const starting = items.flatMap((item) => {
      if (item.e.type !== 'cart.abandoned-by-platform') return [];
      const cart = this.cartAt(item.e, streams);
      if (isCartConverted(cart)) return [];
      const snapshot = cartSnapshotOf(cart);
      return [{ item, snapshot }];
    });
    const contexts = await buildStartContexts(
      this.start,
      tx,
      starting.map(({ item, snapshot }) => ({
        shopId: item.shopId,
        recoveryId: item.recoveryId!,
        customerKey: snapshot?.customerKey,
        productIds: storeProductIds(snapshot?.items ?? []),
      })),
    );
    const starts = new Map(starting.map(({ item }, i) => [item.e.id, contexts[i]]));
    const watches: { shopId: string; customerKey: string; recoveryId: string }[] = [];
    /** Recoveries the run's carts added to a customer (in log order), as `watches` will index them. */
    const watchedInRun = new Map<string, string[]>();
    const orders: Parameters<typeof engineIndex.ordersWithEngagement>[1][number][] = [];
    const orderKeys = new Set<string>();
    const recoveries = new Map<string, PendingRecovery>();
    const feed = (recoveryId: string, shopId: string, causationId: string, input: RecoveryInput) => {
      const pm = pms.get(shopId) ?? this.deps.pm;
      let r = recoveries.get(recoveryId);
      if (r === undefined) {
        const recorded = streams.get(recoveryId) ?? [];
        const last = recorded.length > 0 ? recorded[recorded.length - 1].revision : undefined;
        r = {
          state: foldEvents(
            pm,
            recorded.map((x) =>
              upcastEvent<StoredRecoveryEvent>({ type: x.type, schemaVersion: x.schemaVersion, data: x.data }),
            ),
          ),
          expected: last ?? 'no_stream',
          next: last === undefined ? 0n : last + 1n,
          events: [],
          inputs: [],
        };
        recoveries.set(recoveryId, r);
      }
      r.inputs.push({ input, causationId, shopId });
      for (const decided of pm.decide(input, r.state)) {
        r.events.push({
          id: uuidv5(`${causationId}|${recoveryId}|${r.next}`, RECLAIM_ID_NAMESPACE),
          type: decided.type,
          schemaVersion: decided.schemaVersion,
          data: decided.data,
          metadata: { shopId, causationId },
        });
        r.next += 1n;
        r.state = pm.evolve(r.state, decided);
      }
    };
    for (const item of items) {
      const e = item.e;
      if (item.recoveryId !== undefined) {
        const input = this.cartInput(e, streams, starts);
        if (input === undefined) continue;
        if (input.type === 'CartActivity' && input.cart.customerKey !== undefined) {
          watches.push({ shopId: item.shopId, customerKey: input.cart.customerKey, recoveryId: item.recoveryId });
          const k = `${item.shopId}\u0000${input.cart.customerKey}`;
          const known = watchedInRun.get(k) ?? [];
          if (!known.includes(item.recoveryId)) watchedInRun.set(k, [...known, item.recoveryId]);
        }
        feed(item.recoveryId, item.shopId, e.id, input);
        continue;
      }
      const revoked = revocationOf(e);
      if (revoked !== undefined) {
        // The customer's recoveries not ended, as the index would read after the run's earlier carts.
        const k = `${revoked.shopId}\u0000${revoked.customerKey}`;
        const rows = customerRecoveries.get(k) ?? [];
        const indexedIds = new Set(rows.map((r) => r.recoveryId));
        const open = [
          ...rows.filter((r) => !r.ended).map((r) => r.recoveryId),
          ...(watchedInRun.get(k) ?? []).filter((id) => !indexedIds.has(id)),
        ].sort(compareText);
        for (const recoveryId of open) {
          feed(recoveryId, revoked.shopId, e.id, { type: 'ConsentRevoked', channel: revoked.channel, at: revoked.at });
        }
        continue;
      }
      if (e.type === 'product.stock-reported') {
        const d = e.data as ProductStockReportedData;
        for (const w of productWatchers.get(`${d.shopId}\u0000${d.productId}`) ?? []) {
          feed(w.recoveryId, d.shopId, e.id, {
            type: 'RestockReported',
            at: d.platformUpdatedAt,
            productId: d.productId,
            ...(d.available !== undefined ? { available: d.available } : {}),
            variants: d.variants.map((v) => ({ variantId: v.variantId, available: v.available })),
          });
        }
        continue;
      }
      if (e.type === 'order.placed') {
        const d = e.data as OrderPlacedData;
        if (d.customerKey === undefined) continue;
        const orderKey = `${d.shopId}\u0000${d.orderId}`;
        if (!orderKeys.has(orderKey)) {
          // An order delivered again in the run is indexed (and counted) once, as one by one.
          orderKeys.add(orderKey);
          const zone = engagementZone(d.timeZone, d.timeZone !== undefined ? undefined : zones.get(d.shopId));
          const { weekday, hour } = localSlot(Date.parse(d.placedAt), zone.timeZone);
          orders.push({
            shopId: d.shopId,
            orderId: d.orderId,
            customerKey: d.customerKey,
            placedAt: d.placedAt,
            total: d.total,
            currency: d.currency,
            discounted: d.discountCodes.length > 0 || (d.totalDiscounts !== undefined && Number(d.totalDiscounts) > 0),
            discountCodes: d.discountCodes,
            categories: [...new Set(d.lineItems.flatMap((i) => i.categories ?? []))].sort(),
            productIds: storeProductIds(d.lineItems),
            ...(d.timeZone !== undefined ? { timeZone: d.timeZone } : {}),
            slot: { weekday, hour, source: zone.source },
          });
        }
        // Last-click attribution over the clicks on the customer's recoveries (read for the run).
        const k = `${d.shopId}\u0000${d.customerKey}`;
        const rows = customerRecoveries.get(k) ?? [];
        const indexedIds = new Set(rows.map((r) => r.recoveryId));
        const ids = [
          ...rows.map((r) => r.recoveryId),
          ...(watchedInRun.get(k) ?? []).filter((id) => !indexedIds.has(id)),
        ].sort(compareText);
        const messages = ids.flatMap((recoveryId) =>
          clickedMessages(
            recoveryId,
            (streams.get(recoveryId) ?? []).map((x) =>
              fromStoredRecoveryEvent(
                upcastEvent<StoredRecoveryEvent>({ type: x.type, schemaVersion: x.schemaVersion, data: x.data }),
              ),
            ),
          ),
        );
        const pm = pms.get(d.shopId) ?? this.deps.pm;
        const attributed = attributionInput(d, messages, pm.config.attributionWindowMs);
        if (attributed !== undefined) feed(attributed.recoveryId, d.shopId, `${e.id}:attribution`, attributed.input);
      }
    }
    await engineIndex.watchMany(tx, watches);
    await engineIndex.ordersWithEngagement(tx, orders);
    const writes = [...recoveries].filter(([, r]) => r.events.length > 0);
    const results = await Promise.allSettled(writes.map(([id, r]) => this.deps.store.append(id, r.events, r.expected)));
    for (const [i, result] of results.entries()) {
      if (result.status === 'fulfilled') continue;
      if (!(result.reason instanceof WrongExpectedRevisionError)) throw result.reason;
      const [recoveryId, r] = writes[i];
      for (const { input, causationId, shopId } of r.inputs) {
        await runRecovery(this.deps.store, await this.pmFor(shopId), recoveryId, input, causationId, shopId);
      }
    }
  }
  /** The cart as of a cart event of a run, from the streams read for the run. */
  private cartAt(e: RecordedEvent, streams: ReadonlyMap<string, RecordedEvent[]>): CartState {
    const d = e.data as { shopId: string; cartId: string };
    return foldEvents(
      cartDecider,
      (streams.get(cartStream(d.shopId, d.cartId)) ?? [])
        .filter((r) => r.revision <= e.revision)
        .map((r) => upcastEvent<CartEvent>({ type: r.type, schemaVersion: r.schemaVersion, data: r.data })),
    );
  }

  /** The recovery input of a cart event of a run (undefined: nothing to do), from the streams read for the run. */
  private cartInput(
    e: RecordedEvent,
    streams: ReadonlyMap<string, RecordedEvent[]>,
    starts: ReadonlyMap<string, StartContext>,
  ): RecoveryInput | undefined {
    switch (e.type) {
      case 'cart.activity-recorded': {
        const d = e.data as CartActivityRecordedData;
        const cart = this.cartAt(e, streams);
        const snapshot = cartSnapshotOf(cart);
        if (snapshot === undefined || isCartConverted(cart)) return undefined;
        return { type: 'CartActivity', shopId: d.shopId, cartId: d.cartId, at: d.platformUpdatedAt, cart: snapshot };
      }
      case 'cart.abandoned-by-platform': {
        const d = e.data as CartAbandonedByPlatformData;
        const start = starts.get(e.id);
        if (start === undefined) return undefined; // converted
        const snapshot = cartSnapshotOf(this.cartAt(e, streams));
        return {
          type: 'CartAbandonedByPlatform',
          shopId: d.shopId,
          cartId: d.cartId,
          at: d.platformUpdatedAt,
          ...(snapshot !== undefined ? { cart: snapshot } : {}),
          start,
        };
      }
      case 'cart.checkout-completed': {
        const d = e.data as CartCheckoutCompletedData;
        return { type: 'CartPurchased', orderId: d.orderId ?? `checkout:${d.cartId}`, at: d.completedAt };
      }
      case 'cart.purchased': {
        const d = e.data as CartPurchasedData;
        return { type: 'CartPurchased', orderId: d.orderId, at: d.placedAt };
      }
      case 'cart.deleted': {
        const d = e.data as CartDeletedData;
        return { type: 'CartDeleted', at: d.platformUpdatedAt };
      }
      default:
        return undefined;
    }
  }

  private async decidersFor(shopIds: readonly string[]): Promise<Map<string, RecoveryDecider>> {
    const { deciders } = this.deps;
    if (deciders === undefined) return new Map();
    if (deciders.forShops) return deciders.forShops(shopIds);
    const ids = [...new Set(shopIds)];
    return new Map(await Promise.all(ids.map(async (id) => [id, await deciders.forShop(id)] as const)));
  }

  async apply(e: RecordedEvent, tx: Queryable): Promise<void> {
    switch (e.type) {
      case 'cart.activity-recorded': {
        const d = e.data as CartActivityRecordedData;
        const cart = await readCart(this.deps.store, d.shopId, d.cartId, e.revision);
        const snapshot = cartSnapshotOf(cart);
        if (snapshot === undefined || isCartConverted(cart)) return;
        const recoveryId = recoveryIdFor(d.shopId, d.cartId);
        if (snapshot.customerKey !== undefined) await engineIndex.watch(tx, d.shopId, snapshot.customerKey, recoveryId);
        await this.run(d.shopId, d.cartId, e.id, {
          type: 'CartActivity',
          shopId: d.shopId,
          cartId: d.cartId,
          at: d.platformUpdatedAt,
          cart: snapshot,
        });
        return;
      }
      case 'cart.abandoned-by-platform': {
        const d = e.data as CartAbandonedByPlatformData;
        const cart = await readCart(this.deps.store, d.shopId, d.cartId, e.revision);
        const snapshot = cartSnapshotOf(cart);
        if (isCartConverted(cart)) return;
        const recoveryId = recoveryIdFor(d.shopId, d.cartId);
        const start = await buildStartContext(
          this.start,
          tx,
          d.shopId,
          recoveryId,
          snapshot?.customerKey,
          storeProductIds(snapshot?.items ?? []),
        );
        await this.run(d.shopId, d.cartId, e.id, {
          type: 'CartAbandonedByPlatform',
          shopId: d.shopId,
          cartId: d.cartId,
          at: d.platformUpdatedAt,
          ...(snapshot !== undefined ? { cart: snapshot } : {}),
          start,
        });
        return;
      }
      case 'cart.checkout-completed': {
        const d = e.data as CartCheckoutCompletedData;
        await this.run(d.shopId, d.cartId, e.id, {
          type: 'CartPurchased',
          orderId: d.orderId ?? `checkout:${d.cartId}`,
          at: d.completedAt,
        });
        return;
      }
      case 'cart.purchased': {
        const d = e.data as CartPurchasedData;
        await this.run(d.shopId, d.cartId, e.id, { type: 'CartPurchased', orderId: d.orderId, at: d.placedAt });
        return;
      }
      case 'cart.deleted': {
        const d = e.data as CartDeletedData;
        await this.run(d.shopId, d.cartId, e.id, { type: 'CartDeleted', at: d.platformUpdatedAt });
        return;
      }
      case 'customer.consent-changed': {
        const d = e.data as CustomerConsentChangedData;
        if (d.state !== 'unsubscribed' && d.state !== 'redacted') return;
        await this.revoke(tx, d.shopId, d.customerKey, e.id, d.channel, d.consentUpdatedAt);
        return;
      }
      case 'customer.redacted': {
        const d = e.data as CustomerRedactedData;
        await this.revoke(tx, d.shopId, d.customerKey, e.id, 'all', d.redactedAt);
        return;
      }
      case 'order.placed': {
        const d = e.data as OrderPlacedData;
        if (d.customerKey === undefined) return;
        const discounted =
          d.discountCodes.length > 0 || (d.totalDiscounts !== undefined && Number(d.totalDiscounts) > 0);
        const placed = await engineIndex.order(tx, {
          shopId: d.shopId,
          orderId: d.orderId,
          customerKey: d.customerKey,
          placedAt: d.placedAt,
          total: d.total,
          currency: d.currency,
          discounted,
          discountCodes: d.discountCodes,
          categories: [...new Set(d.lineItems.flatMap((i) => i.categories ?? []))].sort(),
          productIds: storeProductIds(d.lineItems),
          ...(d.timeZone !== undefined ? { timeZone: d.timeZone } : {}),
        });
        if (placed) {
          // An order is engagement at the hour it was placed (send-time optimisation, RFC 0012).
          // The shop's zone through the cached look-up (no per-order shop read, no secret opened).
          const shopZone =
            d.timeZone !== undefined ? undefined : (await shopTimeZones(this.deps.shops, [d.shopId])).get(d.shopId);
          const zone = engagementZone(d.timeZone, shopZone);
          await engagementHours.record(tx, {
            shopId: d.shopId,
            customerKey: d.customerKey,
            kind: 'order',
            at: d.placedAt,
            timeZone: zone.timeZone,
            source: zone.source,
          });
        }
        await this.attribution.attribute(tx, { ...d, customerKey: d.customerKey }, e.id);
        return;
      }
      case 'product.stock-reported': {
        // The recoveries that told the shopper this product was sold out hear that it may be back.
        const d = e.data as ProductStockReportedData;
        for (const recoveryId of await engineIndex.watchersOf(tx, d.shopId, d.productId)) {
          await runRecovery(
            this.deps.store,
            await this.pmFor(d.shopId),
            recoveryId,
            {
              type: 'RestockReported',
              at: d.platformUpdatedAt,
              productId: d.productId,
              ...(d.available !== undefined ? { available: d.available } : {}),
              variants: d.variants.map((v) => ({ variantId: v.variantId, available: v.available })),
            },
            e.id,
            d.shopId,
          );
        }
        return;
      }
      default:
        return;
    }
  }

  private pmFor(shopId: string): Promise<RecoveryDecider> {
    return this.deps.deciders ? this.deps.deciders.forShop(shopId) : Promise.resolve(this.deps.pm);
  }

  private async revoke(
    tx: Queryable,
    shopId: string,
    customerKey: string,
    causationId: string,
    channel: 'email' | 'sms' | 'all',
    at: string,
  ): Promise<void> {
    for (const recovery_id of await engineIndex.recoveriesOf(tx, shopId, customerKey, { openOnly: true })) {
      await runRecovery(
        this.deps.store,
        await this.pmFor(shopId),
        recovery_id,
        { type: 'ConsentRevoked', channel, at },
        causationId,
        shopId,
      );
    }
  }

  private async run(shopId: string, cartId: string, causationId: string, input: RecoveryInput): Promise<void> {
    await runRecovery(
      this.deps.store,
      await this.pmFor(shopId),
      recoveryIdFor(shopId, cartId),
      input,
      causationId,
      shopId,
    );
  }
}

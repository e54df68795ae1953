/**
 * `engine.recovery-feed` (cart./customer./order.), run with `runCheckpointedSubscription`: maps
 * platform facts to `RecoveryInput`s and runs the recovery process manager on
 * `recovery-<shop>-<cart>`. Orders also go to {@link OrderAttribution}. Its sibling,
 * `RecoveryEventsProjector` (recovery-events-projector.ts), turns the recovery events into timers,
 * effect requests and the engine index.
 */
import type { PoolClient } from 'pg';
import {
  isCartConverted,
  recoveryIdFor,
  type CartAbandonedByPlatformData,
  type CartActivityRecordedData,
  type CartCheckoutCompletedData,
  type CartDeletedData,
  type CartPurchasedData,
  type CustomerConsentChangedData,
  type CustomerRedactedData,
  type OrderPlacedData,
  type RecoveryDecider,
  type RecoveryInput,
} from '@reclaim/domain';
import type { EventFilter, EventStore, RecordedEvent } from '@reclaim/event-store';
import { OrderAttribution } from './attribution';
import type { Queryable } from './db';
import { engineIndex } from './engine-index';
import { buildStartContext, cartSnapshotOf, readCart, type StartContextDeps } from './facts';
import type { EngineLog, ShopLookup } from './ports';
import { runRecovery } from './recovery-stream';
import type { SequenceRepository } from './sequences/sequence-repository';
import type { ShopDeciders } from './settings/shop-settings';

export const RECOVERY_FEED = 'engine.recovery-feed';
export const RECOVERY_FEED_FILTER: EventFilter = { typePrefixes: ['cart.', 'customer.', 'order.'] };

export interface RecoveryFeedDeps {
  readonly store: EventStore;
  readonly pm: RecoveryDecider;
  readonly shops: ShopLookup;
  readonly sequences: SequenceRepository;
  /** Per-shop process managers (shop settings); `pm` for every shop when absent. */
  readonly deciders?: ShopDeciders;
  readonly random?: () => number;
  readonly log?: EngineLog;
}

/** Subscription handler: platform facts → recovery inputs. Re-applying a batch is harmless (the decider dedupes). */
export class RecoveryFeed {
  private readonly start: StartContextDeps;
  private readonly attribution: OrderAttribution;

  constructor(private readonly deps: RecoveryFeedDeps) {
    this.start = { store: deps.store, shops: deps.shops, sequences: deps.sequences, random: deps.random };
    this.attribution = new OrderAttribution(deps.store, (shopId) => this.pmFor(shopId));
  }

  readonly handle = async (events: readonly RecordedEvent[], tx: PoolClient): Promise<void> => {
    for (const e of events) await this.apply(e, tx);
  };

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
        const start = await buildStartContext(this.start, tx, d.shopId, recoveryId, snapshot?.customerKey);
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
        await engineIndex.order(tx, {
          shopId: d.shopId,
          orderId: d.orderId,
          customerKey: d.customerKey,
          placedAt: d.placedAt,
          total: d.total,
          currency: d.currency,
          discounted,
          categories: [...new Set(d.lineItems.flatMap((i) => i.categories ?? []))].sort(),
        });
        await this.attribution.attribute(tx, { ...d, customerKey: d.customerKey }, e.id);
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

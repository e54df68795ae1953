/**
 * The two durable subscriptions of the engine (run with `runCheckpointedSubscription`):
 *
 * - {@link RecoveryFeed} (`engine.recovery-feed`, cart./customer./order.): maps platform facts to
 *   `RecoveryInput`s and runs the recovery process manager on `recovery-<shop>-<cart>`.
 * - {@link RecoveryEventsProjector} (`engine.recovery-events`, recovery.): materialises timers, the
 *   effect queue and the engine's index tables in the subscription's transaction, so all of them
 *   are projections of the log (drop them, reset the checkpoint, replay).
 */
import type { PoolClient } from 'pg';
import {
  attributeOrder,
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
  type AttributableMessage,
  type RecoveryEvent,
  type RecoveryInput,
} from '@reclaim/domain';
import type { EventFilter, EventStore, RecordedEvent } from '@reclaim/event-store';
import type { Queryable } from './db';
import { buildStartContext, cartSnapshotOf, readCart, type StartContextDeps } from './facts';
import type { EngineLog, ShopLookup } from './ports';
import { fromStoredRecoveryEvent, loadRecovery, parseRecoveryId, runRecovery } from './recovery-stream';
import type { SequenceRepository } from './sequences/sequence-repository';
import type { ShopDeciders } from './settings/shop-settings';
import type { TimerStore, TimerToSchedule } from './timers/timer-store';

export const RECOVERY_FEED = 'engine.recovery-feed';
export const RECOVERY_FEED_FILTER: EventFilter = { typePrefixes: ['cart.', 'customer.', 'order.'] };
export const RECOVERY_EVENTS = 'engine.recovery-events';
export const RECOVERY_EVENTS_FILTER: EventFilter = { typePrefixes: ['recovery.'] };

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

  constructor(private readonly deps: RecoveryFeedDeps) {
    this.start = { store: deps.store, shops: deps.shops, sequences: deps.sequences, random: deps.random };
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
        if (snapshot.customerKey !== undefined) {
          await tx.query(
            `INSERT INTO engine.customer_recoveries (shop_id, customer_key, recovery_id, status)
             VALUES ($1, $2, $3, 'watching') ON CONFLICT DO NOTHING`,
            [d.shopId, snapshot.customerKey, recoveryId],
          );
        }
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
        const categories = [...new Set(d.lineItems.flatMap((i) => i.categories ?? []))].sort();
        await tx.query(
          `INSERT INTO engine.customer_orders (shop_id, order_id, customer_key, placed_at, total, currency, discounted, categories)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (shop_id, order_id) DO NOTHING`,
          [d.shopId, d.orderId, d.customerKey, d.placedAt, d.total, d.currency, discounted, categories],
        );
        await this.attribute(tx, d, e.id);
        return;
      }
      default:
        return;
    }
  }

  /**
   * Last-click attribution (ATTRIBUTION_WINDOW): the latest click on one of this customer's recovery
   * messages at or before the order is recorded on that recovery's stream as
   * `recovery.order-attributed`, with the revenue and whether the message's discount was used.
   * Clicks are read from the recovery streams themselves (the log), not from a projection.
   */
  private async attribute(tx: Queryable, d: OrderPlacedData, causationId: string): Promise<void> {
    const { rows } = await tx.query<{ recovery_id: string }>(
      `SELECT recovery_id FROM engine.customer_recoveries WHERE shop_id = $1 AND customer_key = $2 ORDER BY recovery_id`,
      [d.shopId, d.customerKey],
    );
    if (rows.length === 0) return;
    const messages: (AttributableMessage & { discountCode?: string })[] = [];
    for (const { recovery_id } of rows) {
      const { events } = await loadRecovery(this.deps.store, recovery_id);
      const sent = new Map<string, { messageId: string; at: string; discountCode?: string }>();
      for (const ev of events) {
        if (ev.type === 'recovery.message-sent' || (ev.type === 'recovery.late-outcome' && ev.messageId)) {
          const messageId = ev.type === 'recovery.message-sent' ? ev.messageId : (ev.messageId as string);
          sent.set(`${ev.step}:${ev.channel}`, {
            messageId,
            at: ev.at,
            ...(ev.type === 'recovery.message-sent' && ev.discountCode !== undefined
              ? { discountCode: ev.discountCode }
              : {}),
          });
        } else if (ev.type === 'recovery.message-clicked') {
          const m = sent.get(`${ev.step}:${ev.channel}`);
          if (m === undefined) continue;
          messages.push({
            messageId: m.messageId,
            recoveryId: recovery_id,
            step: ev.step,
            channel: ev.channel,
            sentAt: m.at,
            clickedAt: ev.at,
            ...(m.discountCode !== undefined ? { discountCode: m.discountCode } : {}),
          });
        }
      }
    }
    const pm = await this.pmFor(d.shopId);
    const found = attributeOrder(messages, { orderId: d.orderId, placedAt: d.placedAt }, pm.config.attributionWindowMs);
    if (found === undefined) return;
    const message = messages.find((m) => m.messageId === found.messageId && m.recoveryId === found.recoveryId);
    const discountCode = message?.discountCode;
    const used =
      discountCode !== undefined && d.discountCodes.some((c) => c.toUpperCase() === discountCode.toUpperCase());
    await runRecovery(
      this.deps.store,
      pm,
      found.recoveryId,
      {
        type: 'OrderAttributed',
        orderId: d.orderId,
        step: found.step,
        channel: found.channel,
        messageId: found.messageId,
        clickedAt: found.clickedAt,
        placedAt: d.placedAt,
        revenue: d.total,
        currency: d.currency,
        ...(discountCode !== undefined ? { discountCode } : {}),
        discountUsed: used,
        ...(d.landingSite !== undefined ? { landingSite: d.landingSite.slice(0, 2048) } : {}),
        at: d.placedAt,
      },
      `${causationId}:attribution`,
      d.shopId,
    );
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
    const { rows } = await tx.query<{ recovery_id: string }>(
      `SELECT recovery_id FROM engine.customer_recoveries
       WHERE shop_id = $1 AND customer_key = $2 AND status <> 'ended' ORDER BY recovery_id`,
      [shopId, customerKey],
    );
    for (const { recovery_id } of rows) {
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

export interface RecoveryEventsProjectorDeps {
  readonly timers: TimerStore;
  /**
   * A marketing profile sync is configured (Klaviyo): a recovery's segmentation and its end enqueue
   * a `profile` effect, which pushes the recovery context to the customer's profile.
   */
  readonly profileSync?: boolean;
}

/** Subscription handler: recovery events → timers, effect queue, customer index (all in `tx`). */
export class RecoveryEventsProjector {
  constructor(private readonly deps: RecoveryEventsProjectorDeps) {}

  readonly handle = async (events: readonly RecordedEvent[], tx: PoolClient): Promise<void> => {
    const timers: TimerToSchedule[] = [];
    for (const r of events) {
      const ids = parseRecoveryId(r.streamId);
      if (ids === undefined) continue;
      const e = fromStoredRecoveryEvent(r);
      if (e.type === 'recovery.timer-scheduled') {
        timers.push({
          timerId: e.timerId,
          streamId: r.streamId,
          shopId: ids.shopId,
          purpose: e.purpose,
          ...(e.step !== undefined ? { step: e.step } : {}),
          dueAt: e.dueAt,
        });
        continue;
      }
      // Keep timer order relative to the other writes of the batch.
      await this.deps.timers.schedule(tx, timers.splice(0));
      await this.apply(tx, r, e, ids.shopId);
    }
    await this.deps.timers.schedule(tx, timers);
  };

  private async apply(tx: Queryable, r: RecordedEvent, e: RecoveryEvent, shopId: string): Promise<void> {
    const enqueue = (kind: 'step' | 'reconcile' | 'ticket' | 'profile', payload: object) =>
      tx.query(
        `INSERT INTO engine.effect_queue (request_id, kind, stream_id, shop_id, payload, available_at)
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (request_id) DO NOTHING`,
        [r.id, kind, r.streamId, shopId, JSON.stringify(payload), e.at],
      );
    switch (e.type) {
      case 'recovery.activity-recorded':
        if (e.cart.customerKey !== undefined) {
          await tx.query(
            `INSERT INTO engine.customer_recoveries (shop_id, customer_key, recovery_id, status)
             VALUES ($1, $2, $3, 'watching') ON CONFLICT DO NOTHING`,
            [shopId, e.cart.customerKey, e.recoveryId],
          );
        }
        return;
      case 'recovery.started':
        await tx.query(
          `UPDATE engine.customer_recoveries SET status = $2, started_at = COALESCE(started_at, $3)
           WHERE recovery_id = $1 AND status <> 'ended'`,
          [e.recoveryId, e.holdout ? 'holdout' : 'active', e.at],
        );
        return;
      case 'recovery.ended':
        await tx.query(
          `UPDATE engine.customer_recoveries SET status = 'ended', ended_at = $2, end_reason = $3 WHERE recovery_id = $1`,
          [e.recoveryId, e.at, e.reason],
        );
        await this.deps.timers.supersedeStream(tx, r.streamId);
        if (this.deps.profileSync) await enqueue('profile', {});
        return;
      case 'recovery.segmented':
        if (this.deps.profileSync) await enqueue('profile', {});
        return;
      case 'recovery.message-sent':
        await tx.query(
          `INSERT INTO engine.sent_messages (shop_id, customer_key, recovery_id, step, channel, message_id, discount_code, sent_at)
           SELECT shop_id, customer_key, recovery_id, $2, $3, $4, $5, $6 FROM engine.customer_recoveries
           WHERE recovery_id = $1 ORDER BY customer_key LIMIT 1
           ON CONFLICT (recovery_id, step, channel) DO NOTHING`,
          [e.recoveryId, e.step, e.channel, e.messageId, e.discountCode ?? null, e.at],
        );
        return;
      case 'recovery.message-opened':
      case 'recovery.message-clicked': {
        const column = e.type === 'recovery.message-opened' ? 'opened_at' : 'clicked_at';
        await tx.query(
          `UPDATE engine.sent_messages SET ${column} = LEAST(COALESCE(${column}, $4), $4)
           WHERE recovery_id = $1 AND step = $2 AND channel = $3`,
          [e.recoveryId, e.step, e.channel, e.at],
        );
        return;
      }
      case 'recovery.step-due':
        await enqueue('step', { step: e.step, attempt: e.attempt });
        return;
      case 'recovery.reconciliation-requested':
        await enqueue('reconcile', { step: e.step, channel: e.channel, attempt: e.attempt });
        return;
      case 'recovery.ticket-requested':
        await enqueue('ticket', { idempotencyKey: e.idempotencyKey });
        return;
      default:
        return;
    }
  }
}

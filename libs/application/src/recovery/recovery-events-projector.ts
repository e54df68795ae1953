/**
 * `engine.recovery-events` (recovery.): materialises the durable timers, the effect queue and the
 * engine's index tables in the subscription's transaction, so all of them are projections of the
 * log (drop them, reset the checkpoint, replay).
 */
import type { PoolClient } from 'pg';
import { fromStoredRecoveryEvent, parseRecoveryId, responseSegmentOf, type RecoveryEvent } from '@reclaim/domain';
import type { EventFilter, RecordedEvent } from '@reclaim/event-store';
import type { Queryable } from './db';
import { EffectQueue, type EffectKind } from './effects/effect-queue';
import { productCategoryCache, storeProductIds } from './categories';
import { engagementHours } from './engagement-hours';
import { engineIndex } from './engine-index';
import { VARIANT_INDEX_EVENTS, variantIndex } from './experiments';
import type { TimerStore, TimerToSchedule } from './timers/timer-store';

export const RECOVERY_EVENTS = 'engine.recovery-events';
export const RECOVERY_EVENTS_FILTER: EventFilter = { typePrefixes: ['recovery.'] };

export interface RecoveryEventsProjectorDeps {
  readonly timers: TimerStore;
  /**
   * A marketing profile sync is configured (Klaviyo): a recovery's segmentation and its end enqueue
   * a `profile` effect, which pushes the recovery context to the customer's profile.
   */
  readonly profileSync?: boolean;
  /** Enrichment is configured (Klaviyo): every recovery's start enqueues an `enrich` effect. */
  readonly enrichment?: boolean;
  /**
   * Product categories are looked up (a catalog and CATEGORY_CACHE_TTL > 0): cart activity whose
   * products have no record in the category cache younger than `ttlMs` (at the activity's time)
   * enqueues a `categorize` effect.
   */
  readonly categories?: { readonly ttlMs: number };
}

/** Subscription handler: recovery events → timers, effect queue, customer index (all in `tx`). */
export class RecoveryEventsProjector {
  constructor(private readonly deps: RecoveryEventsProjectorDeps) {}

  /**
   * The timers, index rows and ends of a run of events are written together (one statement each, in
   * that order: an end supersedes the timers scheduled before it and closes the row its activity
   * created); any other event first flushes them, so writes keep their order relative to each other
   * (a start updates the row its activity created).
   */
  readonly handle = async (events: readonly RecordedEvent[], tx: PoolClient): Promise<void> => {
    const timers: TimerToSchedule[] = [];
    const watches: { shopId: string; customerKey: string; recoveryId: string; timeZone?: string }[] = [];
    const ends: { recoveryId: string; streamId: string; at: string; reason: string }[] = [];
    const variantEnds: { recoveryId: string; at: string; reason: string; orderId?: string }[] = [];
    const flush = async () => {
      await variantIndex.endedMany(tx, variantEnds.splice(0));
      await engineIndex.watchMany(tx, watches.splice(0));
      await this.deps.timers.schedule(tx, timers.splice(0));
      const ended = ends.splice(0);
      await engineIndex.endedMany(tx, ended);
      await this.deps.timers.supersedeStreams(
        tx,
        ended.map((x) => x.streamId),
      );
    };
    for (const r of events) {
      const ids = parseRecoveryId(r.streamId);
      if (ids === undefined) continue;
      const e = fromStoredRecoveryEvent(r);
      // The experiments' index (RFC 0016) is its own tables: written in order, no flush needed.
      // Ends are written with the run's other rows (one statement); the rest in order.
      if (e.type === 'recovery.ended') {
        variantEnds.push({
          recoveryId: e.recoveryId,
          at: e.at,
          reason: e.reason,
          ...(e.orderId !== undefined ? { orderId: e.orderId } : {}),
        });
      } else if (VARIANT_INDEX_EVENTS.has(e.type)) await variantIndex.apply(tx, e, ids.shopId);
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
      if (e.type === 'recovery.activity-recorded') {
        if (e.cart.customerKey !== undefined) {
          watches.push({
            shopId: ids.shopId,
            customerKey: e.cart.customerKey,
            recoveryId: e.recoveryId,
            ...(e.cart.timeZone !== undefined ? { timeZone: e.cart.timeZone } : {}),
          });
        }
        if (this.deps.categories !== undefined) await this.requestCategories(tx, r, e, ids.shopId);
        continue;
      }
      if (e.type === 'recovery.ended' && !this.deps.profileSync) {
        ends.push({ recoveryId: e.recoveryId, streamId: r.streamId, at: e.at, reason: e.reason });
        continue;
      }
      await flush();
      await this.apply(tx, r, e, ids.shopId);
    }
    await flush();
  };

  /** A `categorize` request when some of the cart's products have no recent record in the category cache. */
  private async requestCategories(
    tx: Queryable,
    r: RecordedEvent,
    e: Extract<RecoveryEvent, { type: 'recovery.activity-recorded' }>,
    shopId: string,
  ): Promise<void> {
    const productIds = storeProductIds(e.cart.items);
    if (productIds.length === 0 || this.deps.categories === undefined) return;
    const since = new Date(Date.parse(e.at) - this.deps.categories.ttlMs);
    const fresh = await productCategoryCache.freshSince(tx, shopId, productIds, since);
    if (productIds.every((id) => fresh.has(id))) return;
    await EffectQueue.enqueue(tx, {
      requestId: `${r.id}:categorize`,
      kind: 'categorize',
      streamId: r.streamId,
      shopId,
      payload: {},
      availableAt: e.at,
    });
  }

  private async apply(tx: Queryable, r: RecordedEvent, e: RecoveryEvent, shopId: string): Promise<void> {
    const enqueue = (kind: EffectKind, payload: object) =>
      EffectQueue.enqueue(tx, { requestId: r.id, kind, streamId: r.streamId, shopId, payload, availableAt: e.at });
    switch (e.type) {
      case 'recovery.started':
        await engineIndex.started(tx, e.recoveryId, e.holdout, e.at, e.shopTimeZone);
        if (this.deps.enrichment) await enqueue('enrich', {});
        return;
      case 'recovery.enriched':
        await engineIndex.enrichment(tx, shopId, e.enrichment.source, { ok: true }, e.at);
        return;
      case 'recovery.enrichment-unavailable':
        await engineIndex.enrichment(tx, shopId, e.source, { ok: false, reason: e.reason }, e.at);
        return;
      case 'recovery.categories-recorded':
        await productCategoryCache.record(tx, shopId, e.products, e.at);
        return;
      case 'recovery.ended':
        await engineIndex.ended(tx, e.recoveryId, e.at, e.reason);
        await this.deps.timers.supersedeStream(tx, r.streamId);
        if (this.deps.profileSync) await enqueue('profile', {});
        return;
      case 'recovery.segmented':
        await engineIndex.segmented(tx, e.recoveryId, responseSegmentOf(e.segmentation.segments));
        if (this.deps.profileSync) await enqueue('profile', {});
        return;
      case 'recovery.incentive-chosen':
        await engineIndex.incentiveChosen(tx, {
          recoveryId: e.recoveryId,
          shopId,
          segment: e.segment,
          percent: e.percent,
          propensity: e.propensity,
          mode: e.mode,
          at: e.at,
        });
        return;
      case 'recovery.message-sent':
        await engineIndex.messageSent(tx, {
          recoveryId: e.recoveryId,
          step: e.step,
          channel: e.channel,
          messageId: e.messageId,
          ...(e.discountCode !== undefined ? { discountCode: e.discountCode } : {}),
          sentAt: e.at,
        });
        return;
      case 'recovery.message-opened':
      case 'recovery.message-clicked':
      case 'recovery.message-replied': {
        const kind =
          e.type === 'recovery.message-opened'
            ? 'opened'
            : e.type === 'recovery.message-clicked'
              ? 'clicked'
              : 'replied';
        await engineIndex.messageEngaged(tx, kind, e.recoveryId, e.step, e.channel, e.at);
        // The customer's engagement hours (send-time optimisation): once per recorded event.
        await engagementHours.messageEngaged(tx, kind, e.recoveryId, e.step, e.channel, e.at);
        return;
      }
      case 'recovery.step-due':
        await enqueue('step', { step: e.step, attempt: e.attempt });
        return;
      case 'recovery.back-in-stock-watched':
        await engineIndex.stockWatch(tx, shopId, e.productId, e.recoveryId);
        return;
      case 'recovery.back-in-stock-due':
        await enqueue('back-in-stock', { lineId: e.lineId });
        return;
      case 'recovery.back-in-stock-sent':
        // Counted like any recovery message by the other recoveries' frequency cap.
        await engineIndex.messageSent(tx, {
          recoveryId: e.recoveryId,
          step: e.step,
          channel: e.channel,
          messageId: e.messageId,
          sentAt: e.at,
        });
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

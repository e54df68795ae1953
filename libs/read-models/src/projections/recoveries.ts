import type { PoolClient } from 'pg';
import Decimal from 'decimal.js';
import {
  BACK_IN_STOCK_FIRST_STEP,
  fromStoredRecoveryEvent,
  OUTSIDE_ERROR_DEFER_REASONS,
  parseRecoveryId,
  type OrderPlacedData,
  type SendSummary,
} from '@reclaim/domain';
import type { RecordedEvent } from '@reclaim/event-store';
import { ATTRIBUTION, DAILY_FUNNEL, MESSAGES, ORDERS, RECOVERIES, SCORES, SEGMENTS } from '../schema';
import { refreshAllFunnel, refreshFunnel } from './funnel';
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

/** The shop and cart of a recovery stream; a stream that is not one is a bug upstream, not data to skip. */
function recoveryIds(recoveryId: string): { shopId: string; cartId: string } {
  const ids = parseRecoveryId(recoveryId);
  if (ids === undefined) throw new Error(`not a recovery id: ${recoveryId}`);
  return ids;
}

/** Discount given on an attributed order: the order's own total_discounts, else estimated from the percent. */
export function discountCost(
  revenue: string,
  discountUsed: boolean,
  orderDiscounts: string | null | undefined,
  percent: number,
): string {
  if (!discountUsed) return '0';
  if (orderDiscounts !== null && orderDiscounts !== undefined) return new Decimal(orderDiscounts).toFixed();
  if (percent <= 0 || percent >= 100) return '0';
  // revenue = full × (1 − p): the discount was revenue × p / (1 − p).
  return new Decimal(revenue)
    .mul(percent)
    .div(100 - percent)
    .toDecimalPlaces(2)
    .toFixed();
}

function fromSummary(s: SendSummary | undefined): Row {
  if (!s) return {};
  return {
    template_kind: s.template.kind,
    template_id: s.template.id,
    discount_percent: s.discount ? String(s.discount.percent) : '0',
    discount_withheld: s.discountWithheld ?? null,
    cart_value: s.cartValue,
    item_count: s.itemCount,
  };
}

interface Tables {
  readonly recoveries: RowSet;
  readonly messages: RowSet;
  readonly segments: RowSet;
  readonly scores: RowSet;
  readonly orders: RowSet;
  readonly attribution: RowSet;
}

/** Applies one recovery event to the rows it touches (recoveries, messages, segments, scores, attribution). */
export function applyRecoveryEvent(t: Tables, e: RecordedEvent): void {
  const ev = fromStoredRecoveryEvent(e); // upcast to the current schema version
  const id = ev.recoveryId;
  const { shopId, cartId } = recoveryIds(id);
  const position = positionText(e);
  const current = t.recoveries.get({ recovery_id: id });
  if (alreadyApplied(current, e)) return;
  // Rows are changed in place (no copy per event): they are this batch's (or this rebuild's) own
  // objects, written back by `put`, and dropped with the batch if it fails.
  const r: Row = current ?? {
    recovery_id: id,
    shop_id: shopId,
    cart_id: cartId,
    status: 'watching',
    paused: false,
    times_abandoned: 0,
    holdout: false,
    segments: [],
    messages_sent: 0,
    recovered: false,
  };
  r.position = position;
  const message = (step: number): Row => {
    const m = t.messages.get({ recovery_id: id, step }) ?? {
      recovery_id: id,
      step,
      shop_id: shopId,
      kind: step >= BACK_IN_STOCK_FIRST_STEP ? 'back-in-stock' : 'step',
      status: 'due',
      attempts: 0,
      deferrals: 0,
      channels_skipped: [],
    };
    m.position = position;
    return m;
  };
  // A back-in-stock message is numbered 1000 + its watch (in the order the lines were watched).
  const watches = () => t.messages.filterBy(id, (m) => m.kind === 'back-in-stock');
  const watchRow = (lineId: string): Row | undefined => {
    const m = watches().find((w) => w.line_id === lineId);
    if (m !== undefined) m.position = position;
    return m;
  };
  // A step blocked by an outside error: since the first of its consecutive outside-error deferrals
  // or retryable send failures (a `step-due` in between keeps it); any other outcome clears it.
  const unblocked = { blocked_since: null, detail: null };
  const skipped = (list: readonly { channel: string; reason: string }[] | undefined) =>
    (list ?? []).map((s) => `${s.channel}:${s.reason}`);

  switch (ev.type) {
    case 'recovery.activity-recorded':
      Object.assign(r, {
        customer_key: ev.cart.customerKey ?? r.customer_key ?? null,
        cart_value: ev.cart.value,
        currency: ev.cart.currency,
        item_count: ev.cart.items.length,
        device: ev.cart.device ?? null,
        first_activity_at: r.first_activity_at ?? ev.at,
        last_activity_at: ev.at,
      });
      break;
    case 'recovery.started':
      Object.assign(r, {
        status: ev.holdout ? 'holdout' : 'active',
        abandoned_at: ev.abandonedAt,
        first_abandoned_at: r.first_abandoned_at ?? ev.abandonedAt,
        abandon_source: ev.source,
        times_abandoned: 1,
        cart_value: ev.cartValue,
        currency: ev.currency,
        holdout: ev.holdout,
        mode: ev.mode.kind,
        mode_reason: ev.mode.kind === 'shadow' ? ev.mode.reason : null,
        arm: ev.arm,
        shop_time_zone: ev.shopTimeZone,
      });
      break;
    case 'recovery.routed':
      // Routing by score: the band and the score it rests on (null score: unscored).
      r.routing_band = ev.band;
      r.routing_score = ev.score === undefined ? null : String(ev.score);
      break;
    case 'recovery.send-time-assigned':
      r.send_time_arm = ev.arm;
      r.send_time_propensity = String(ev.propensity);
      break;
    case 'recovery.policy-arm-assigned':
      r.policy_arm = ev.arm;
      r.policy_arm_propensity = String(ev.propensity);
      break;
    case 'recovery.segmented': {
      const { segments, customer, cart } = ev.segmentation;
      r.segments = [...segments];
      for (const segment of segments) {
        t.segments.put({ recovery_id: id, segment, shop_id: shopId, abandoned_at: r.abandoned_at ?? null, position });
      }
      const score = t.scores.get({ recovery_id: id });
      t.scores.put({
        recovery_id: id,
        shop_id: shopId,
        orders_count: customer.ordersCount,
        total_spent: customer.totalSpent,
        last_purchase_at: customer.lastPurchaseAt ?? null,
        previous_abandonments: customer.previousAbandonments,
        previous_recoveries: customer.previousRecoveries,
        discount_orders_count: customer.discountOrdersCount,
        categories_bought: customer.categoriesBought.length,
        ignored_recovery_messages: customer.ignoredRecoveryMessages ?? null,
        cart_value: cart.value,
        item_count: cart.itemCount,
        cart_categories: [...cart.categories],
        device: cart.device,
        traffic_source: cart.trafficSource ?? null,
        hour_of_day: cart.hourOfDay ?? null,
        checkout_stage: cart.checkoutStage ?? null,
        // Filled by recovery.scored (which follows); kept across replays of the features.
        score: score?.score ?? null,
        scored_by: score?.scored_by ?? null,
        position,
      });
      break;
    }
    case 'recovery.scored': {
      // The score recorded at abandonment with the shop's live model (RFC 0011): `v<version> <scope>`.
      const score = t.scores.get({ recovery_id: id }) ?? { recovery_id: id, shop_id: shopId };
      t.scores.put({ ...score, score: ev.score, scored_by: `v${ev.modelVersion} ${ev.scope}`, position });
      break;
    }
    case 'recovery.enriched':
      // Segments the marketing platform's recorded facts added (e.g. vip from a Klaviyo VIP segment).
      for (const segment of ev.segmentsAdded) {
        if ((r.segments as string[]).includes(segment)) continue;
        r.segments = [...(r.segments as string[]), segment];
        t.segments.put({ recovery_id: id, segment, shop_id: shopId, abandoned_at: r.abandoned_at ?? null, position });
      }
      break;
    case 'recovery.sequence-selected':
      Object.assign(r, {
        sequence_id: ev.sequenceId,
        sequence_version: ev.sequenceVersion,
        catalogue_version: ev.catalogueVersion,
        step_count: ev.steps.length,
      });
      break;
    case 'recovery.assigned-holdout':
      Object.assign(r, { holdout: true, status: 'holdout' });
      break;
    case 'recovery.ticket-requested':
      r.ticket = 'requested';
      break;
    case 'recovery.ticket-opened':
      r.ticket = 'opened';
      break;
    case 'recovery.ticket-closed':
      r.ticket = 'closed';
      break;
    case 'recovery.ticket-skipped':
      r.ticket = `skipped:${ev.reason}`;
      break;
    case 'recovery.paused':
      r.paused = true;
      break;
    case 'recovery.resumed':
      r.paused = false;
      break;
    case 'recovery.abandoned-again':
      Object.assign(r, {
        abandoned_at: ev.abandonedAt,
        abandon_source: ev.source,
        times_abandoned: Number(r.times_abandoned) + 1,
      });
      break;
    case 'recovery.ended': {
      const recovered = ev.reason === 'purchased' && r.first_abandoned_at != null;
      Object.assign(r, {
        status: 'ended',
        ended_at: ev.at,
        outcome: ev.reason,
        order_id: ev.orderId ?? null,
        recovered,
        recovered_at: recovered ? ev.at : null,
      });
      if (ev.reason === 'opted-out') {
        for (const m of t.messages.filterBy(id, (m) => m.sent_at != null && m.unsubscribed_at == null)) {
          t.messages.put({ ...m, unsubscribed_at: ev.at, position });
        }
      }
      break;
    }
    case 'recovery.channel-revoked':
      for (const m of t.messages.filterBy(
        id,
        (m) => m.channel === ev.channel && m.sent_at != null && m.unsubscribed_at == null,
      )) {
        t.messages.put({ ...m, unsubscribed_at: ev.at, position });
      }
      break;
    case 'recovery.step-due': {
      const m = message(ev.step);
      t.messages.put({
        ...m,
        status: m.status === 'sent' ? 'sent' : 'due',
        due_at: m.due_at ?? ev.dueAt,
        attempts: Math.max(Number(m.attempts), ev.attempt),
        mode: ev.mode.kind,
        template_id: m.template_id ?? ev.definition.template,
        discount_percent: m.discount_percent ?? String(ev.definition.discountPercent),
      });
      break;
    }
    case 'recovery.step-skipped':
      t.messages.put({
        ...message(ev.step),
        ...fromSummary(ev.wouldSend),
        ...unblocked,
        status: 'skipped',
        reason: ev.reason,
        channel: ev.channel ?? ev.wouldSend?.channel ?? null,
        channels_skipped: skipped(ev.channelsSkipped),
        would_send: ev.wouldSend !== undefined,
        outcome_at: ev.at,
      });
      break;
    case 'recovery.step-deferred': {
      const m = message(ev.step);
      const outside = OUTSIDE_ERROR_DEFER_REASONS.includes(ev.reason);
      t.messages.put({
        ...m,
        blocked_since: outside ? (m.blocked_since ?? ev.at) : null,
        detail: outside ? (ev.detail ?? null) : null,
        status: 'deferred',
        reason: ev.reason,
        channel: ev.channel ?? m.channel ?? null,
        deferrals: Number(m.deferrals) + 1,
        deferred_until: ev.until,
        outcome_at: ev.at,
      });
      break;
    }
    case 'recovery.message-sent': {
      const m = message(ev.step);
      if (m.status !== 'sent') r.messages_sent = Number(r.messages_sent) + 1;
      t.messages.put({
        ...m,
        ...fromSummary(ev.sent),
        ...unblocked,
        status: 'sent',
        reason: null,
        channel: ev.channel,
        message_id: ev.messageId,
        discount_code: ev.discountCode ?? null,
        reconciled: ev.reconciled,
        channels_skipped: skipped(ev.channelsSkipped),
        sent_at: ev.at,
        outcome_at: ev.at,
      });
      break;
    }
    case 'recovery.message-failed': {
      const m = message(ev.step);
      const retrying = ev.retryable && ev.retryAt !== undefined;
      t.messages.put({
        ...m,
        blocked_since: retrying ? (m.blocked_since ?? ev.at) : null,
        detail: ev.error ?? null,
        status: 'failed',
        reason: ev.retryable ? 'retryable' : 'not-retryable',
        channel: ev.channel,
        attempts: ev.attempt,
        outcome_at: ev.at,
      });
      break;
    }
    case 'recovery.outcome-unknown':
      t.messages.put({
        ...message(ev.step),
        ...unblocked,
        status: 'unknown',
        reason: null,
        channel: ev.channel,
        outcome_at: ev.at,
      });
      break;
    case 'recovery.reconciled': {
      const m = message(ev.step);
      t.messages.put({ ...m, reason: `reconciled-${ev.result}` });
      break;
    }
    case 'recovery.dead-lettered':
      t.messages.put({
        ...message(ev.step),
        blocked_since: null,
        status: 'dead-lettered',
        reason: ev.reason,
        channel: ev.channel,
        attempts: ev.attempts,
        outcome_at: ev.at,
      });
      break;
    case 'recovery.dead-letter-retried':
      // An operator retried the step: it is due again (a fresh attempt budget), no longer dead.
      t.messages.put({
        ...message(ev.step),
        status: 'due',
        reason: `retried-${ev.resume}`,
        channel: ev.channel,
        attempts: 0,
      });
      break;
    case 'recovery.late-outcome': {
      const m = message(ev.step);
      t.messages.put({
        ...m,
        status: ev.outcome === 'sent' ? 'sent' : m.status,
        reason: `late-${ev.outcome}`,
        channel: ev.channel ?? m.channel ?? null,
        message_id: ev.messageId ?? m.message_id ?? null,
        sent_at: ev.outcome === 'sent' ? (m.sent_at ?? ev.at) : (m.sent_at ?? null),
      });
      break;
    }
    case 'recovery.message-opened': {
      const m = message(ev.step);
      t.messages.put({ ...m, opened_at: m.opened_at ?? ev.at });
      break;
    }
    case 'recovery.message-clicked': {
      const m = message(ev.step);
      t.messages.put({ ...m, clicked_at: m.clicked_at ?? ev.at, click_host: m.click_host ?? ev.targetHost ?? null });
      break;
    }
    case 'recovery.back-in-stock-watched': {
      if (watchRow(ev.lineId) !== undefined) break;
      t.messages.put({
        ...message(BACK_IN_STOCK_FIRST_STEP + watches().length),
        kind: 'back-in-stock',
        line_id: ev.lineId,
        status: 'watching',
        template_id: 'back-in-stock',
        discount_percent: '0',
        channel: null,
      });
      break;
    }
    case 'recovery.back-in-stock-due': {
      const m = watchRow(ev.lineId);
      if (m === undefined) break;
      t.messages.put({ ...m, status: m.status === 'sent' ? 'sent' : 'due', due_at: m.due_at ?? ev.at });
      break;
    }
    case 'recovery.back-in-stock-sent': {
      const m = watchRow(ev.lineId) ?? { ...message(ev.step), kind: 'back-in-stock', line_id: ev.lineId };
      if (m.status !== 'sent') r.messages_sent = Number(r.messages_sent) + 1;
      t.messages.put({
        ...m,
        ...unblocked,
        status: 'sent',
        reason: null,
        channel: ev.channel,
        message_id: ev.messageId,
        sent_at: ev.at,
        outcome_at: ev.at,
      });
      break;
    }
    case 'recovery.back-in-stock-skipped': {
      const m = watchRow(ev.lineId);
      if (m === undefined) break;
      t.messages.put({
        ...m,
        ...unblocked,
        // Still sold out: the watch goes on (the reason says what the store answered last).
        status: ev.reason === 'still-sold-out' ? 'watching' : 'skipped',
        reason: ev.reason,
        detail: ev.detail ?? null,
        outcome_at: ev.at,
      });
      break;
    }
    case 'recovery.back-in-stock-deferred': {
      const m = watchRow(ev.lineId);
      if (m === undefined) break;
      const outside = (OUTSIDE_ERROR_DEFER_REASONS as readonly string[]).includes(ev.reason);
      t.messages.put({
        ...m,
        blocked_since: outside ? (m.blocked_since ?? ev.at) : null,
        detail: null,
        status: 'deferred',
        reason: ev.reason,
        deferrals: Number(m.deferrals) + 1,
        deferred_until: ev.until,
        outcome_at: ev.at,
      });
      break;
    }
    case 'recovery.order-attributed': {
      const order = t.orders.get({ shop_id: shopId, order_id: ev.orderId });
      const m = t.messages.get({ recovery_id: id, step: ev.step });
      const percent = Number(m?.discount_percent ?? 0);
      t.attribution.put({
        shop_id: shopId,
        order_id: ev.orderId,
        recovery_id: id,
        step: ev.step,
        channel: ev.channel,
        message_id: ev.messageId,
        clicked_at: ev.clickedAt,
        placed_at: ev.placedAt,
        revenue: ev.revenue,
        currency: ev.currency,
        discount_code: ev.discountCode ?? null,
        discount_used: ev.discountUsed,
        discount_cost: discountCost(ev.revenue, ev.discountUsed, order?.total_discounts as string | null, percent),
        rule: 'last-click',
        position,
      });
      break;
    }
    default:
      // timer-scheduled, reconciliation-requested: engine bookkeeping, not analytics.
      break;
  }
  t.recoveries.put(r);
}

/** Folds an `order.placed` into `read.orders` (needed for holdout revenue and discount cost). */
export function applyOrderPlaced(orders: RowSet, e: RecordedEvent): void {
  const o = e.data as OrderPlacedData;
  const current = orders.get({ shop_id: o.shopId, order_id: o.orderId });
  if (alreadyApplied(current, e)) return;
  orders.put({
    shop_id: o.shopId,
    order_id: o.orderId,
    customer_key: o.customerKey ?? null,
    currency: o.currency,
    total: o.total,
    subtotal: o.subtotal ?? null,
    total_discounts: o.totalDiscounts ?? null,
    discount_codes: o.discountCodes.length,
    cart_ids: [...o.cartIds],
    placed_at: o.placedAt,
    position: positionText(e),
  });
}

/** Fresh row sets; `complete`: a rebuild's, holding every row of the tables (never loaded nor flushed). */
function newTables(complete: boolean): Tables {
  return {
    recoveries: new RowSet(RECOVERIES, { complete }),
    messages: new RowSet(MESSAGES, { complete, groupBy: 'recovery_id' }),
    segments: new RowSet(SEGMENTS, { complete }),
    scores: new RowSet(SCORES, { complete }),
    orders: new RowSet(ORDERS, { complete }),
    attribution: new RowSet(ATTRIBUTION, { complete }),
  };
}

const OWN_TABLES = [RECOVERIES, MESSAGES, SEGMENTS, SCORES, ORDERS, ATTRIBUTION, DAILY_FUNNEL];

export const recoveriesProjection: Projection = {
  name: 'recoveries',
  subscription: 'read-models.recoveries',
  filter: { typePrefixes: ['recovery.', 'order.placed', SHOP_REDACTED] },
  tables: OWN_TABLES,
  async apply(events: readonly RecordedEvent[], tx: PoolClient, options?: ApplyOptions): Promise<void> {
    const session = options?.session;
    const touched: string[] = [];
    const purged: string[] = [];
    for (const part of splitAtShopRedactions(events)) {
      if (!Array.isArray(part)) {
        const shopId = shopOfRedaction(part);
        // A rebuild forgets the shop's rows from its session; the live projection deletes them.
        const kept = session?.state<Tables>(() => newTables(true));
        if (kept) purgeShopRows({ ...kept }, shopId);
        else await purgeShop(tx, OWN_TABLES, shopId);
        purged.push(shopId);
        continue;
      }
      const t = session?.state<Tables>(() => newTables(true)) ?? newTables(false);
      const ids: string[] = [];
      const orderKeys: Row[] = [];
      for (const e of part) {
        if (e.type === 'order.placed') {
          const o = e.data as OrderPlacedData;
          orderKeys.push({ shop_id: o.shopId, order_id: o.orderId });
        } else {
          const id = (e.data as { recoveryId: string }).recoveryId;
          ids.push(id);
          if (e.type === 'recovery.order-attributed') {
            orderKeys.push({ shop_id: recoveryIds(id).shopId, order_id: (e.data as { orderId: string }).orderId });
          }
        }
      }
      await t.recoveries.loadBy(tx, 'recovery_id', ids);
      await t.messages.loadBy(tx, 'recovery_id', ids);
      await t.segments.loadBy(tx, 'recovery_id', ids);
      await t.scores.loadBy(tx, 'recovery_id', ids);
      await t.orders.load(tx, orderKeys);
      await t.attribution.load(tx, orderKeys);
      for (const e of part) {
        if (e.type === 'order.placed') applyOrderPlaced(t.orders, e);
        else applyRecoveryEvent(t, e);
      }
      for (const rows of Object.values(t)) await rows.flush(tx);
      touched.push(...ids);
    }
    if (options?.derived !== false) await refreshFunnel(tx, touched, purged);
  },
  finishRebuild: refreshAllFunnel,
};

/**
 * The engine's index tables (`engine.customer_recoveries`, `engine.customer_orders`,
 * `engine.sent_messages`): projections of the log written in the engine subscriptions'
 * transactions, read by the pre-send facts, attribution and consent revocation.
 */
import type { Queryable } from './db';

export interface IndexedOrder {
  readonly shopId: string;
  readonly orderId: string;
  readonly customerKey: string;
  readonly placedAt: string;
  readonly total: string;
  readonly currency: string;
  readonly discounted: boolean;
  /** The codes the order used (code farmers are found by the recovery codes among them, RFC 0017). */
  readonly discountCodes?: readonly string[];
  readonly categories: readonly string[];
  /** The order's products (their categories in the category cache are the categories bought). */
  readonly productIds?: readonly string[];
  /** IANA zone from the order's address, when the platform sent one that tells it. */
  readonly timeZone?: string;
}

export interface IndexedMessage {
  readonly recoveryId: string;
  readonly step: number;
  readonly channel: string;
  readonly messageId: string;
  readonly discountCode?: string;
  readonly sentAt: string;
}

export const engineIndex = {
  /** A recorded enrichment outcome of a shop's recovery (`enrichment_status`, for the dashboard and /metrics). */
  async enrichment(
    tx: Queryable,
    shopId: string,
    source: string,
    outcome: { readonly ok: true } | { readonly ok: false; readonly reason: string },
    at: string,
  ): Promise<void> {
    await tx.query(
      outcome.ok
        ? `INSERT INTO engine.enrichment_status (shop_id, source, enriched, last_enriched_at) VALUES ($1, $2, 1, $3)
           ON CONFLICT (shop_id, source) DO UPDATE SET enriched = engine.enrichment_status.enriched + 1,
             last_enriched_at = GREATEST(engine.enrichment_status.last_enriched_at, EXCLUDED.last_enriched_at)`
        : `INSERT INTO engine.enrichment_status (shop_id, source, unavailable, last_failed_at, last_failure_reason)
           VALUES ($1, $2, 1, $3, $4)
           ON CONFLICT (shop_id, source) DO UPDATE SET unavailable = engine.enrichment_status.unavailable + 1,
             last_failure_reason = CASE WHEN engine.enrichment_status.last_failed_at IS NULL
               OR EXCLUDED.last_failed_at >= engine.enrichment_status.last_failed_at
               THEN EXCLUDED.last_failure_reason ELSE engine.enrichment_status.last_failure_reason END,
             last_failed_at = GREATEST(engine.enrichment_status.last_failed_at, EXCLUDED.last_failed_at)`,
      outcome.ok ? [shopId, source, at] : [shopId, source, at, outcome.reason],
    );
  },

  /** A cart with a customer: the recovery is known for the customer, `watching` until it starts. */
  async watch(tx: Queryable, shopId: string, customerKey: string, recoveryId: string): Promise<void> {
    await tx.query(
      `INSERT INTO engine.customer_recoveries (shop_id, customer_key, recovery_id, status)
       VALUES ($1, $2, $3, 'watching') ON CONFLICT DO NOTHING`,
      [shopId, customerKey, recoveryId],
    );
  },

  /**
   * {@link watch} for many carts in one statement; the cart's zone (from its address, when it has
   * one) is kept on the row: the zone its engagement hours are read in (RFC 0012).
   */
  async watchMany(
    tx: Queryable,
    rows: readonly {
      readonly shopId: string;
      readonly customerKey: string;
      readonly recoveryId: string;
      readonly timeZone?: string;
    }[],
  ): Promise<void> {
    if (rows.length === 0) return;
    // One row per key (the latest activity's zone): an upsert may not touch a row twice.
    const byKey = new Map(rows.map((r) => [JSON.stringify([r.shopId, r.customerKey, r.recoveryId]), r]));
    const unique = [...byKey.values()];
    await tx.query(
      `INSERT INTO engine.customer_recoveries (shop_id, customer_key, recovery_id, status, time_zone)
       SELECT shop_id, customer_key, recovery_id, 'watching', time_zone
         FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) AS r(shop_id, customer_key, recovery_id, time_zone)
       ON CONFLICT (shop_id, customer_key, recovery_id) DO UPDATE
         SET time_zone = COALESCE(EXCLUDED.time_zone, engine.customer_recoveries.time_zone)
         WHERE EXCLUDED.time_zone IS NOT NULL`,
      [
        unique.map((r) => r.shopId),
        unique.map((r) => r.customerKey),
        unique.map((r) => r.recoveryId),
        unique.map((r) => r.timeZone ?? null),
      ],
    );
  },

  async started(tx: Queryable, recoveryId: string, holdout: boolean, at: string, shopTimeZone?: string): Promise<void> {
    await tx.query(
      `UPDATE engine.customer_recoveries SET status = $2, started_at = COALESCE(started_at, $3),
         shop_time_zone = COALESCE($4, shop_time_zone)
       WHERE recovery_id = $1 AND status <> 'ended'`,
      [recoveryId, holdout ? 'holdout' : 'active', at, shopTimeZone ?? null],
    );
  },

  /** The recovery's response segment (RFC 0013), from `recovery.segmented`. */
  async segmented(tx: Queryable, recoveryId: string, segment: string): Promise<void> {
    await tx.query(`UPDATE engine.customer_recoveries SET response_segment = $2 WHERE recovery_id = $1`, [
      recoveryId,
      segment,
    ]);
  },

  async ended(tx: Queryable, recoveryId: string, at: string, reason: string): Promise<void> {
    await tx.query(
      `UPDATE engine.customer_recoveries SET status = 'ended', ended_at = $2, end_reason = $3 WHERE recovery_id = $1`,
      [recoveryId, at, reason],
    );
    await tx.query(`UPDATE engine.incentive_assignments SET ended_at = $2, end_reason = $3 WHERE recovery_id = $1`, [
      recoveryId,
      at,
      reason,
    ]);
  },

  /** The recovery's incentive level (`recovery.incentive-chosen`): the learned policy's evidence (RFC 0017). */
  async incentiveChosen(
    tx: Queryable,
    a: {
      recoveryId: string;
      shopId: string;
      segment: string;
      percent: number;
      propensity: number;
      mode: string;
      at: string;
    },
  ): Promise<void> {
    await tx.query(
      `INSERT INTO engine.incentive_assignments (shop_id, recovery_id, segment, percent, propensity, mode, decided_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (recovery_id) DO NOTHING`,
      [a.shopId, a.recoveryId, a.segment, a.percent, a.propensity, a.mode, a.at],
    );
  },

  /** {@link ended} for many recoveries in one statement. */
  async endedMany(
    tx: Queryable,
    rows: readonly { readonly recoveryId: string; readonly at: string; readonly reason: string }[],
  ): Promise<void> {
    if (rows.length === 0) return;
    const params = [rows.map((r) => r.recoveryId), rows.map((r) => r.at), rows.map((r) => r.reason)];
    await tx.query(
      `UPDATE engine.customer_recoveries c SET status = 'ended', ended_at = u.at, end_reason = u.reason
       FROM unnest($1::text[], $2::timestamptz[], $3::text[]) AS u(recovery_id, at, reason)
       WHERE c.recovery_id = u.recovery_id`,
      params,
    );
    await tx.query(
      `UPDATE engine.incentive_assignments a SET ended_at = u.at, end_reason = u.reason
       FROM unnest($1::text[], $2::timestamptz[], $3::text[]) AS u(recovery_id, at, reason)
       WHERE a.recovery_id = u.recovery_id`,
      params,
    );
  },

  /** The customer's recoveries, all of them or only those not ended. */
  async recoveriesOf(
    tx: Queryable,
    shopId: string,
    customerKey: string,
    options: { readonly openOnly?: boolean } = {},
  ): Promise<string[]> {
    const { rows } = await tx.query<{ recovery_id: string }>(
      `SELECT recovery_id FROM engine.customer_recoveries
       WHERE shop_id = $1 AND customer_key = $2 ${options.openOnly ? "AND status <> 'ended'" : ''}
       ORDER BY recovery_id`,
      [shopId, customerKey],
    );
    return rows.map((r) => r.recovery_id);
  },

  /**
   * {@link recoveriesOf} for many customers in one query: every recovery of each, with its status
   * (`ended` ones included), ordered by recovery id.
   */
  async recoveriesOfMany(
    q: Queryable,
    customers: readonly { readonly shopId: string; readonly customerKey: string }[],
  ): Promise<{ shopId: string; customerKey: string; recoveryId: string; ended: boolean }[]> {
    if (customers.length === 0) return [];
    const { rows } = await q.query<{ shop_id: string; customer_key: string; recovery_id: string; ended: boolean }>(
      `SELECT c.shop_id, c.customer_key, c.recovery_id, c.status = 'ended' AS ended
         FROM engine.customer_recoveries c
         JOIN (SELECT DISTINCT * FROM unnest($1::text[], $2::text[])) AS k(shop_id, customer_key)
           ON c.shop_id = k.shop_id AND c.customer_key = k.customer_key
        ORDER BY c.recovery_id`,
      [customers.map((c) => c.shopId), customers.map((c) => c.customerKey)],
    );
    return rows.map((r) => ({
      shopId: r.shop_id,
      customerKey: r.customer_key,
      recoveryId: r.recovery_id,
      ended: r.ended,
    }));
  },

  /**
   * Indexes many orders in one statement, and counts each new one as an order engagement in its
   * slot (`engine.engagement_hours` and the shop's totals, as {@link engagementHours.record}).
   * Returns the orders that were new, as `shopId\u0000orderId`. Each order must appear once.
   */
  async ordersWithEngagement(
    tx: Queryable,
    orders: readonly (IndexedOrder & {
      readonly slot: { readonly weekday: number; readonly hour: number; readonly source: string };
    })[],
  ): Promise<Set<string>> {
    if (orders.length === 0) return new Set();
    const { rows } = await tx.query<{ shop_id: string; order_id: string }>(
      `WITH u AS MATERIALIZED (
         SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[], $5::text[], $6::text[],
                              $7::boolean[], $8::jsonb[], $9::text[], $10::jsonb[], $11::smallint[], $12::smallint[], $13::text[],
                              $14::jsonb[])
           AS u(shop_id, order_id, customer_key, placed_at, total, currency, discounted, categories, time_zone, product_ids,
                weekday, hour, zone_source, discount_codes)),
       o AS (
         INSERT INTO engine.customer_orders (shop_id, order_id, customer_key, placed_at, total, currency, discounted, categories, time_zone, product_ids, discount_codes)
         SELECT shop_id, order_id, customer_key, placed_at, total, currency, discounted,
                ARRAY(SELECT jsonb_array_elements_text(u.categories)), time_zone,
                ARRAY(SELECT jsonb_array_elements_text(u.product_ids)),
                ARRAY(SELECT upper(jsonb_array_elements_text(u.discount_codes)))
           FROM u
         ON CONFLICT (shop_id, order_id) DO NOTHING
         RETURNING shop_id, order_id),
       h AS (SELECT u.* FROM u JOIN o ON o.shop_id = u.shop_id AND o.order_id = u.order_id),
       c AS (
         INSERT INTO engine.engagement_hours (shop_id, customer_key, weekday, hour, zone_source, orders, last_at)
         SELECT shop_id, customer_key, weekday, hour, zone_source, count(*), max(placed_at)
           FROM h GROUP BY shop_id, customer_key, weekday, hour, zone_source
         ON CONFLICT (shop_id, customer_key, weekday, hour, zone_source) DO UPDATE
           SET orders = engine.engagement_hours.orders + EXCLUDED.orders,
               last_at = GREATEST(engine.engagement_hours.last_at, EXCLUDED.last_at)),
       s AS (
         INSERT INTO engine.shop_engagement_hours (shop_id, weekday, hour, events)
         SELECT shop_id, weekday, hour, count(*) FROM h GROUP BY shop_id, weekday, hour
         ON CONFLICT (shop_id, weekday, hour) DO UPDATE SET events = engine.shop_engagement_hours.events + EXCLUDED.events)
       SELECT shop_id, order_id FROM o`,
      [
        orders.map((o) => o.shopId),
        orders.map((o) => o.orderId),
        orders.map((o) => o.customerKey),
        orders.map((o) => o.placedAt),
        orders.map((o) => o.total),
        orders.map((o) => o.currency),
        orders.map((o) => o.discounted),
        orders.map((o) => JSON.stringify(o.categories)),
        orders.map((o) => o.timeZone ?? null),
        orders.map((o) => JSON.stringify(o.productIds ?? [])),
        orders.map((o) => o.slot.weekday),
        orders.map((o) => o.slot.hour),
        orders.map((o) => o.slot.source),
        orders.map((o) => JSON.stringify(o.discountCodes ?? [])),
      ],
    );
    return new Set(rows.map((r) => `${r.shop_id}\u0000${r.order_id}`));
  },

  /** Indexes the order; `true` when it is new (an order delivered again is indexed once). */
  async order(tx: Queryable, o: IndexedOrder): Promise<boolean> {
    const { rowCount } = await tx.query(
      `INSERT INTO engine.customer_orders (shop_id, order_id, customer_key, placed_at, total, currency, discounted, categories, time_zone, product_ids, discount_codes)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT (shop_id, order_id) DO NOTHING`,
      [
        o.shopId,
        o.orderId,
        o.customerKey,
        o.placedAt,
        o.total,
        o.currency,
        o.discounted,
        o.categories,
        o.timeZone ?? null,
        [...(o.productIds ?? [])],
        (o.discountCodes ?? []).map((c) => c.toUpperCase()),
      ],
    );
    return (rowCount ?? 0) > 0;
  },

  /** A recovery watches a product for a line it announced as sold out. */
  async stockWatch(tx: Queryable, shopId: string, productId: string, recoveryId: string): Promise<void> {
    await tx.query(
      `INSERT INTO engine.stock_watches (shop_id, product_id, recovery_id) VALUES ($1, $2, $3)
       ON CONFLICT DO NOTHING`,
      [shopId, productId, recoveryId],
    );
  },

  /** The recoveries watching a product of the shop. */
  async watchersOf(q: Queryable, shopId: string, productId: string): Promise<string[]> {
    const { rows } = await q.query<{ recovery_id: string }>(
      `SELECT recovery_id FROM engine.stock_watches WHERE shop_id = $1 AND product_id = $2 ORDER BY recovery_id`,
      [shopId, productId],
    );
    return rows.map((r) => r.recovery_id);
  },

  /** {@link watchersOf} for many products in one query. */
  async watchersOfMany(
    q: Queryable,
    products: readonly { readonly shopId: string; readonly productId: string }[],
  ): Promise<{ shopId: string; productId: string; recoveryId: string }[]> {
    if (products.length === 0) return [];
    const { rows } = await q.query<{ shop_id: string; product_id: string; recovery_id: string }>(
      `SELECT w.shop_id, w.product_id, w.recovery_id FROM engine.stock_watches w
         JOIN (SELECT DISTINCT * FROM unnest($1::text[], $2::text[])) AS k(shop_id, product_id)
           ON w.shop_id = k.shop_id AND w.product_id = k.product_id
        ORDER BY w.recovery_id`,
      [products.map((p) => p.shopId), products.map((p) => p.productId)],
    );
    return rows.map((r) => ({ shopId: r.shop_id, productId: r.product_id, recoveryId: r.recovery_id }));
  },

  async messageSent(tx: Queryable, m: IndexedMessage): Promise<void> {
    await tx.query(
      `INSERT INTO engine.sent_messages (shop_id, customer_key, recovery_id, step, channel, message_id, discount_code, sent_at)
       SELECT shop_id, customer_key, recovery_id, $2, $3, $4, $5, $6 FROM engine.customer_recoveries
       WHERE recovery_id = $1 ORDER BY customer_key LIMIT 1
       ON CONFLICT (recovery_id, step, channel) DO NOTHING`,
      [m.recoveryId, m.step, m.channel, m.messageId, m.discountCode ?? null, m.sentAt],
    );
  },

  /** The first open, click or reply of a message (the earliest wins when events arrive out of order). */
  async messageEngaged(
    tx: Queryable,
    kind: 'opened' | 'clicked' | 'replied',
    recoveryId: string,
    step: number,
    channel: string,
    at: string,
  ): Promise<void> {
    const column = { opened: 'opened_at', clicked: 'clicked_at', replied: 'replied_at' }[kind];
    await tx.query(
      `UPDATE engine.sent_messages SET ${column} = LEAST(COALESCE(${column}, $4), $4)
       WHERE recovery_id = $1 AND step = $2 AND channel = $3`,
      [recoveryId, step, channel, at],
    );
  },
};

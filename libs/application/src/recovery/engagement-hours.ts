/**
 * The engagement-hour profiles of send-time optimisation (RFC 0012): `engine.engagement_hours` per
 * customer and `engine.shop_engagement_hours` per shop, counted once per event in the engine
 * subscriptions' transactions (projections of the log, like the other engine index tables), and read
 * whole (≤ 168 rows each) when a follow-up's send time is chosen.
 */
import {
  defaultRecoveryConfig,
  isValidTimeZone,
  localSlot,
  profileFromCells,
  type EngagementProfile,
  type SendTimeZoneSource,
} from '@reclaim/domain';
import type { Queryable } from './db';

export type EngagementHourKind = 'open' | 'click' | 'reply' | 'order';

const COLUMN: Record<EngagementHourKind, string> = {
  open: 'opens',
  click: 'clicks',
  reply: 'replies',
  order: 'orders',
};

/** Opens this soon after the send are a machine's (the fatigue rule's default): not counted. */
export const MACHINE_OPEN_WITHIN_MS = defaultRecoveryConfig.fatigue.machineOpenWithinMs;

/** The zone to read an hour in: the customer's when known and valid, else the shop's (else UTC). */
export function engagementZone(
  customerZone: string | null | undefined,
  shopZone: string | null | undefined,
): { readonly timeZone: string; readonly source: SendTimeZoneSource } {
  if (customerZone && isValidTimeZone(customerZone)) return { timeZone: customerZone, source: 'address' };
  return { timeZone: shopZone && isValidTimeZone(shopZone) ? shopZone : 'UTC', source: 'shop-default' };
}

export const engagementHours = {
  /** One engagement event of the customer at `at`, counted in its local weekday and hour. */
  async record(
    tx: Queryable,
    e: {
      readonly shopId: string;
      readonly customerKey: string;
      readonly kind: EngagementHourKind;
      readonly at: string;
      readonly timeZone: string;
      readonly source: SendTimeZoneSource;
    },
  ): Promise<void> {
    const { weekday, hour } = localSlot(Date.parse(e.at), e.timeZone);
    const column = COLUMN[e.kind];
    await tx.query(
      `WITH c AS (
         INSERT INTO engine.engagement_hours (shop_id, customer_key, weekday, hour, zone_source, ${column}, last_at)
         VALUES ($1, $2, $3, $4, $5, 1, $6)
         ON CONFLICT (shop_id, customer_key, weekday, hour, zone_source) DO UPDATE
           SET ${column} = engine.engagement_hours.${column} + 1,
               last_at = GREATEST(engine.engagement_hours.last_at, EXCLUDED.last_at))
       INSERT INTO engine.shop_engagement_hours (shop_id, weekday, hour, events) VALUES ($1, $3, $4, 1)
       ON CONFLICT (shop_id, weekday, hour) DO UPDATE SET events = engine.shop_engagement_hours.events + 1`,
      [e.shopId, e.customerKey, weekday, hour, e.source, e.at],
    );
  },

  /**
   * An open, click or reply of a recovery message: counted for the message's customer in the cart's
   * zone, else their latest order's, else the shop's. An open within {@link MACHINE_OPEN_WITHIN_MS}
   * of the send is a machine's and not counted.
   */
  async messageEngaged(
    tx: Queryable,
    kind: 'opened' | 'clicked' | 'replied',
    recoveryId: string,
    step: number,
    channel: string,
    at: string,
  ): Promise<void> {
    const { rows } = await tx.query<{
      shop_id: string;
      customer_key: string;
      sent_at: Date;
      time_zone: string | null;
      shop_time_zone: string | null;
      order_zone: string | null;
    }>(
      `SELECT m.shop_id, m.customer_key, m.sent_at, r.time_zone, r.shop_time_zone,
              (SELECT o.time_zone FROM engine.customer_orders o
                WHERE o.shop_id = m.shop_id AND o.customer_key = m.customer_key AND o.time_zone IS NOT NULL
                ORDER BY o.placed_at DESC LIMIT 1) AS order_zone
         FROM engine.sent_messages m
         LEFT JOIN engine.customer_recoveries r ON r.recovery_id = m.recovery_id AND r.customer_key = m.customer_key
        WHERE m.recovery_id = $1 AND m.step = $2 AND m.channel = $3`,
      [recoveryId, step, channel],
    );
    const m = rows[0];
    if (m === undefined) return;
    if (kind === 'opened' && Date.parse(at) <= m.sent_at.getTime() + MACHINE_OPEN_WITHIN_MS) return;
    const zone = engagementZone(m.time_zone ?? m.order_zone, m.shop_time_zone);
    await this.record(tx, {
      shopId: m.shop_id,
      customerKey: m.customer_key,
      kind: kind === 'opened' ? 'open' : kind === 'clicked' ? 'click' : 'reply',
      at,
      timeZone: zone.timeZone,
      source: zone.source,
    });
  },

  /** The customer's and the shop's profiles (all events, both zone sources). */
  async profiles(
    q: Queryable,
    shopId: string,
    customerKey: string | undefined,
  ): Promise<{ readonly customer: EngagementProfile; readonly shop: EngagementProfile }> {
    const [customer, shop] = await Promise.all([
      customerKey === undefined
        ? Promise.resolve({ rows: [] as { weekday: number; hour: number; events: number }[] })
        : q.query<{ weekday: number; hour: number; events: number }>(
            `SELECT weekday, hour, sum(opens + clicks + replies + orders)::integer AS events
               FROM engine.engagement_hours WHERE shop_id = $1 AND customer_key = $2 GROUP BY weekday, hour`,
            [shopId, customerKey],
          ),
      q.query<{ weekday: number; hour: number; events: number }>(
        `SELECT weekday, hour, events FROM engine.shop_engagement_hours WHERE shop_id = $1`,
        [shopId],
      ),
    ]);
    return { customer: profileFromCells(customer.rows), shop: profileFromCells(shop.rows) };
  },
};

import type { MigrationInterface, QueryRunner } from 'typeorm';
import { ANALYST_ROLE } from './1767225600001-analyst-role';

/** A message engaged with: a click, an open later than a minute after the send, or a purchase after it. */
const ENGAGED = `(m.clicked_at IS NOT NULL OR m.opened_at > m.sent_at + interval '60 seconds'
  OR (r.recovered AND r.recovered_at > m.sent_at))`;

/** The recovery's response segment: its most specific segment (the domain's RESPONSE_SEGMENT_ORDER). */
const RESPONSE_SEGMENT = `CASE
    WHEN 'vip' = ANY(r.segments) THEN 'vip'
    WHEN 'mobile-checkout-friction' = ANY(r.segments) THEN 'mobile-checkout-friction'
    WHEN 'high-value-cart' = ANY(r.segments) THEN 'high-value-cart'
    WHEN 'price-sensitive' = ANY(r.segments) THEN 'price-sensitive'
    WHEN 'returning-exploring-new-category' = ANY(r.segments) THEN 'returning-exploring-new-category'
    WHEN 'returning' = ANY(r.segments) THEN 'returning'
    WHEN 'new' = ANY(r.segments) THEN 'new'
    ELSE 'unsegmented' END`;

/**
 * The analyst's view of what the engagement score and the channel choice learn (RFC 0013), as views
 * over `read.recoveries` and `read.messages` (nothing to rebuild):
 *
 * - `read.channel_response_rates`: per shop × response segment × channel, the messages of the last
 *   180 days, those engaged with, the observed rate, and the learned rate the channel choice uses by
 *   default (posterior mean shrunk to the shop's rate with 10 pseudo-messages).
 * - `read.customer_responsiveness`: per shop × customer, the messages of the last 30 days, those
 *   engaged with, and the default estimate (posterior mean shrunk to the shop's rate with 4
 *   pseudo-messages) with its level at the default thresholds (unknown below 4 messages,
 *   unresponsive below 12 %, engaged from 50 %). Shops with other settings: the exact numbers of each
 *   decision are on its event (`responsiveness`, `channelChoice`) and in the customer history.
 */
export class ResponseRates1767225600013 implements MigrationInterface {
  readonly name = 'ResponseRates1767225600013';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE VIEW read.channel_response_rates AS
      WITH msgs AS (
        SELECT r.shop_id, ${RESPONSE_SEGMENT} AS segment, m.channel, ${ENGAGED} AS engaged
          FROM read.recoveries r
          JOIN read.messages m ON m.recovery_id = r.recovery_id
         WHERE m.sent_at IS NOT NULL AND m.channel IS NOT NULL AND m.sent_at > now() - interval '180 days'),
      shop AS (
        SELECT shop_id, (count(*) FILTER (WHERE engaged) + 1)::numeric / (count(*) + 2) AS shop_rate
          FROM msgs GROUP BY shop_id)
      SELECT g.shop_id, g.segment, g.channel, g.sent, g.engaged,
             round(g.engaged::numeric / g.sent, 4) AS observed_rate,
             round((s.shop_rate * 10 + g.engaged) / (10 + g.sent), 4) AS learned_rate,
             round(s.shop_rate, 4) AS shop_rate
        FROM (SELECT shop_id, segment, channel, count(*)::int AS sent, count(*) FILTER (WHERE engaged)::int AS engaged
                FROM msgs GROUP BY shop_id, segment, channel) g
        JOIN shop s ON s.shop_id = g.shop_id`);
    await q.query(`
      CREATE VIEW read.customer_responsiveness AS
      WITH msgs AS (
        SELECT r.shop_id, r.customer_key, ${ENGAGED} AS engaged
          FROM read.recoveries r
          JOIN read.messages m ON m.recovery_id = r.recovery_id
         WHERE m.sent_at IS NOT NULL AND r.customer_key IS NOT NULL AND m.sent_at > now() - interval '30 days'),
      shop AS (
        SELECT shop_id, (count(*) FILTER (WHERE engaged) + 1)::numeric / (count(*) + 2) AS shop_rate
          FROM msgs GROUP BY shop_id),
      est AS (
        SELECT c.shop_id, c.customer_key, c.sent, c.engaged, s.shop_rate,
               (s.shop_rate * 4 + c.engaged) / (4 + c.sent) AS estimate
          FROM (SELECT shop_id, customer_key, count(*)::int AS sent, count(*) FILTER (WHERE engaged)::int AS engaged
                  FROM msgs GROUP BY shop_id, customer_key) c
          JOIN shop s ON s.shop_id = c.shop_id)
      SELECT shop_id, customer_key, sent, engaged, round(estimate, 4) AS estimate, round(shop_rate, 4) AS shop_rate,
             CASE WHEN sent < 4 THEN 'unknown' WHEN estimate < 0.12 THEN 'unresponsive'
                  WHEN estimate >= 0.5 THEN 'engaged' ELSE 'neutral' END AS level
        FROM est`);
    await q.query(`GRANT SELECT ON read.channel_response_rates, read.customer_responsiveness TO ${ANALYST_ROLE}`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP VIEW IF EXISTS read.customer_responsiveness`);
    await q.query(`DROP VIEW IF EXISTS read.channel_response_rates`);
  }
}

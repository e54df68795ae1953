/**
 * SMS replies as engagement. A shopper who answers a recovery SMS with anything but a keyword
 * (STOP/START/HELP families, handled elsewhere) engaged with it: the reply is recorded on the
 * recovery of the latest SMS the number received from that shop within {@link REPLY_WINDOW_MS}
 * (`recovery.message-replied`), and the fatigue rule counts it like a click. The reply's text is
 * never stored or logged. A reply can come before the appliance has recorded the send (the SMS
 * reached the phone while the outcome was still being fed back): then the SMS being sent is found
 * in the crash-safe send record (`engine.effects`, written before the provider call) and the reply
 * is held until the send is recorded (`HeldEngagement`), never dropped.
 */
import type { Queryable } from '../db';
import type { EngagementSubject } from '../../messages/ports';

/** A reply later than this after the SMS is not taken as an answer to it. */
export const REPLY_WINDOW_MS = 7 * 24 * 60 * 60 * 1000;

export interface PhoneCustomers {
  customersOfPhone(phone: string): Promise<readonly { shopId: string; customerKey: string }[]>;
}

export interface ReplyRecorder {
  recordReplied(s: EngagementSubject): Promise<void>;
}

export interface SmsReplyResult {
  /** Customers (across shops) the number belongs to. */
  readonly customers: number;
  /** Replies recorded on a recovery message (0 when no recovery SMS went to the number lately). */
  readonly recorded: number;
}

export class SmsReplies {
  constructor(
    private readonly deps: {
      readonly pool: Queryable;
      readonly phones: PhoneCustomers;
      readonly engagement: ReplyRecorder;
    },
  ) {}

  async recordReply(phone: string, at: Date): Promise<SmsReplyResult> {
    const customers = await this.deps.phones.customersOfPhone(phone);
    let recorded = 0;
    for (const c of customers) {
      const { rows } = await this.deps.pool.query<{ recovery_id: string; step: number; at: Date }>(
        `SELECT recovery_id, step, sent_at AS at FROM engine.sent_messages
         WHERE shop_id = $1 AND customer_key = $2 AND channel = 'sms' AND sent_at <= $3 AND sent_at > $4
         ORDER BY sent_at DESC LIMIT 1`,
        [c.shopId, c.customerKey, at, new Date(at.getTime() - REPLY_WINDOW_MS)],
      );
      // The latest SMS the number received: recorded as sent, or still being recorded.
      const inFlight = await this.sendInFlight(c.shopId, c.customerKey, at);
      const message =
        inFlight !== undefined && (rows[0] === undefined || inFlight.at > rows[0].at) ? inFlight : rows[0];
      if (message === undefined) continue;
      await this.deps.engagement.recordReplied({
        shopId: c.shopId,
        customerKey: c.customerKey,
        channel: 'sms',
        recoveryId: message.recovery_id,
        step: message.step,
        at,
      });
      recorded++;
    }
    return { customers: customers.length, recorded };
  }

  /** The latest recovery SMS to the customer whose send was started but is not recorded as sent yet. */
  private async sendInFlight(
    shopId: string,
    customerKey: string,
    at: Date,
  ): Promise<{ recovery_id: string; step: number; at: Date } | undefined> {
    const { rows } = await this.deps.pool.query<{ recovery_id: string; step: number; at: Date }>(
      `SELECT e.recovery_id, e.step, e.started_at AS at
         FROM engine.effects e
         JOIN engine.customer_recoveries c ON c.recovery_id = e.recovery_id
        WHERE c.shop_id = $1 AND c.customer_key = $2 AND e.channel = 'sms'
          AND e.started_at <= $3 AND e.started_at > $4
          AND NOT EXISTS (SELECT 1 FROM engine.sent_messages s
                           WHERE s.recovery_id = e.recovery_id AND s.step = e.step AND s.channel = 'sms')
        ORDER BY e.started_at DESC LIMIT 1`,
      [shopId, customerKey, at, new Date(at.getTime() - REPLY_WINDOW_MS)],
    );
    return rows[0];
  }
}

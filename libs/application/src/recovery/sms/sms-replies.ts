/**
 * SMS replies as engagement. A shopper who answers a recovery SMS with anything but a keyword
 * (STOP/START/HELP families, handled elsewhere) engaged with it: the reply is recorded on the
 * recovery of the latest SMS the number received from that shop within {@link REPLY_WINDOW_MS}
 * (`recovery.message-replied`), and the fatigue rule counts it like a click. The reply's text is
 * never stored or logged.
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
      const { rows } = await this.deps.pool.query<{ recovery_id: string; step: number }>(
        `SELECT recovery_id, step FROM engine.sent_messages
         WHERE shop_id = $1 AND customer_key = $2 AND channel = 'sms' AND sent_at <= $3 AND sent_at > $4
         ORDER BY sent_at DESC LIMIT 1`,
        [c.shopId, c.customerKey, at, new Date(at.getTime() - REPLY_WINDOW_MS)],
      );
      const message = rows[0];
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
}

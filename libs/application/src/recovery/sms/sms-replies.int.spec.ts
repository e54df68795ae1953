/**
 * SMS replies find the message they answer on PostgreSQL: the latest SMS recorded as sent, or —
 * when the reply beats the send record — the SMS whose send was started (`engine.effects`), so the
 * reply is recorded (held until the send is recorded) instead of being dropped.
 */
import { Pool } from 'pg';
import { createTestDatabase, type TestDatabase } from '@reclaim/database';
import type { EngagementSubject } from '../../messages/ports';
import { migrateRecoveryEngine } from '../schema';
import { SmsReplies } from './sms-replies';

const SHOP = 'shop-1';
const CUSTOMER = 't-customer';
const RECOVERY = `recovery-${SHOP}-cart-1`;
const T = new Date('2026-11-20T12:00:00.000Z');
const ago = (ms: number) => new Date(T.getTime() - ms);

describe('SmsReplies (PostgreSQL)', () => {
  let db: TestDatabase;
  let pool: Pool;
  const replied: EngagementSubject[] = [];
  let replies: SmsReplies;

  beforeAll(async () => {
    db = await createTestDatabase('reclaim_sms_replies');
    pool = new Pool({ connectionString: db.url, max: 2 });
    await migrateRecoveryEngine(pool);
    await pool.query(
      `INSERT INTO engine.customer_recoveries (shop_id, customer_key, recovery_id, status) VALUES ($1, $2, $3, 'active')`,
      [SHOP, CUSTOMER, RECOVERY],
    );
    replies = new SmsReplies({
      pool,
      phones: { customersOfPhone: async () => [{ shopId: SHOP, customerKey: CUSTOMER }] },
      engagement: { recordReplied: async (s) => void replied.push(s) },
    });
  });

  afterAll(async () => {
    await pool?.end();
    await db?.drop();
  });

  const sent = (step: number, at: Date) =>
    pool.query(
      `INSERT INTO engine.sent_messages (shop_id, customer_key, recovery_id, step, channel, message_id, sent_at)
       VALUES ($1, $2, $3, $4, 'sms', $5, $6)`,
      [SHOP, CUSTOMER, RECOVERY, step, `SM${step}`, at],
    );
  const started = (step: number, at: Date) =>
    pool.query(
      `INSERT INTO engine.effects (idempotency_key, recovery_id, step, channel, request_id, status, started_at)
       VALUES ($1, $2, $3, 'sms', $4, 'started', $5)`,
      [`${RECOVERY}:step-${step}:sms`, RECOVERY, step, `req-${step}`, at],
    );

  it('answers the latest SMS: one recorded as sent, or a later one whose send record is still on its way', async () => {
    await started(0, ago(3_600_000));
    await sent(0, ago(3_599_000));
    expect(await replies.recordReply('+447700900123', T)).toEqual({ customers: 1, recorded: 1 });
    expect(replied.pop()).toMatchObject({ recoveryId: RECOVERY, step: 0, channel: 'sms', at: T });

    // Step 1 reached the phone; the appliance has not recorded the send yet.
    await started(1, ago(2_000));
    expect(await replies.recordReply('+447700900123', T)).toEqual({ customers: 1, recorded: 1 });
    expect(replied.pop()).toMatchObject({ recoveryId: RECOVERY, step: 1, channel: 'sms' });

    // Once recorded, the same answer comes from the send record.
    await sent(1, ago(1_000));
    expect(await replies.recordReply('+447700900123', T)).toEqual({ customers: 1, recorded: 1 });
    expect(replied.pop()).toMatchObject({ step: 1 });
    // A send started after the reply is not what it answers.
    await started(2, new Date(T.getTime() + 1_000));
    await replies.recordReply('+447700900123', T);
    expect(replied.pop()).toMatchObject({ step: 1 });
  });
});

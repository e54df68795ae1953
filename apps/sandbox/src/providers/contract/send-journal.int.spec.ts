import { Pool } from 'pg';
import type { ChannelMessage } from '@reclaim/ports';
import { createTestDatabase, type TestDatabase } from '@reclaim/database';
import { migrateEngineTables } from '@reclaim/application';
import { PostgresSendJournal, SEND_JOURNAL_SQL } from '@reclaim/providers/common';
import { SmtpChannel } from '@reclaim/providers/smtp';
import { TwilioSmsChannel } from '@reclaim/providers/twilio';
import { type ProviderSandbox, startProviderSandbox } from '../sandbox';
import { captureLog } from './contract-kit';

/** R2 across a restart: a new adapter instance reconciles what the previous one sent. */
describe('durable send journal (engine.send_journal)', () => {
  let db: TestDatabase;
  let pool: Pool;
  let sandbox: ProviderSandbox;
  const closers: (() => unknown)[] = [];

  beforeAll(async () => {
    db = await createTestDatabase('reclaim_send_journal');
    pool = new Pool({ connectionString: db.url, max: 4 });
    await Promise.all([migrateEngineTables(pool, SEND_JOURNAL_SQL), migrateEngineTables(pool, SEND_JOURNAL_SQL)]);
    sandbox = await startProviderSandbox();
  });
  afterAll(async () => {
    await Promise.all(closers.map(async (c) => c()));
    await sandbox.stop();
    await pool.end();
    await db.drop();
  });

  const smtp = () => {
    const c = new SmtpChannel(
      { url: sandbox.urls.smtp, from: 'Shop <shop@shop.example>' },
      { log: captureLog(), journal: new PostgresSendJournal(pool, 'smtp') },
    );
    closers.push(() => c.close());
    return c;
  };
  const twilio = () => {
    const c = new TwilioSmsChannel(
      {
        accountSid: sandbox.credentials.twilioAccountSid,
        authToken: sandbox.credentials.twilioAuthToken,
        from: sandbox.credentials.twilioFrom,
        apiUrl: sandbox.urls.twilio,
      },
      { log: captureLog(), journal: new PostgresSendJournal(pool, 'twilio') },
    );
    closers.push(() => c.close());
    return c;
  };

  it('SMTP: a new instance answers sent with the Message-ID, and not-sent for a key never attempted', async () => {
    const mail: ChannelMessage = {
      idempotencyKey: 'rec-j1:step-0:email',
      channel: 'email',
      to: 'shopper.journal@example.org',
      subject: 'Your cart',
      html: '<p>Your cart</p>',
      text: 'Your cart',
      headers: { 'List-Unsubscribe': '<https://reclaim.example/u/t>' },
    };
    const { messageId } = await smtp().send(mail);
    const restarted = smtp();
    expect(await restarted.lookup(mail.idempotencyKey)).toEqual({ status: 'sent', messageId });
    expect(await restarted.lookup('rec-j1:step-1:email')).toEqual({ status: 'not-sent' });
    const { rows } = await pool.query(`SELECT provider, status FROM engine.send_journal WHERE idempotency_key = $1`, [
      mail.idempotencyKey,
    ]);
    expect(rows).toEqual([{ provider: 'smtp', status: 'accepted' }]);
  });

  it('Twilio: a new instance answers sent with the SID; an attempt with no answer stays unknown', async () => {
    const key = 'rec-j2:step-1:sms';
    const { messageId } = await twilio().send({ idempotencyKey: key, channel: 'sms', to: '+14155550123', body: 'hi' });
    expect(messageId).toMatch(/^SM/);
    const restarted = twilio();
    expect(await restarted.lookup(key)).toEqual({ status: 'sent', messageId });
    expect(await restarted.lookup('rec-j2:step-2:sms')).toEqual({ status: 'not-sent' });

    const journal = new PostgresSendJournal(pool, 'twilio');
    await journal.record('rec-j3:step-1:sms', { state: 'attempted', at: Date.now() });
    expect(await twilio().lookup('rec-j3:step-1:sms')).toEqual({ status: 'unknown' });
  });

  it('never downgrades an accepted entry', async () => {
    const journal = new PostgresSendJournal(pool, 'smtp');
    await journal.record('k-accepted', { state: 'accepted', messageId: '<m@x>', at: 1_700_000_000_000 });
    await journal.record('k-accepted', { state: 'attempted', at: 1_700_000_001_000 });
    await journal.record('k-accepted', { state: 'refused', at: 1_700_000_002_000 });
    expect(await journal.get('k-accepted')).toEqual({ state: 'accepted', messageId: '<m@x>', at: 1_700_000_000_000 });
    await journal.record('k-refused', { state: 'refused', at: 1_700_000_000_000 });
    await journal.record('k-refused', { state: 'accepted', messageId: 'SM1', at: 1_700_000_003_000 });
    expect(await journal.get('k-refused')).toEqual({ state: 'accepted', messageId: 'SM1', at: 1_700_000_003_000 });
  });
});

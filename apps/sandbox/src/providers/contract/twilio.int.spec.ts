import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PermanentProviderError, ProviderOutcomeUnknownError, type ChannelMessage } from '@reclaim/ports';
import { RecipientOptedOutError } from '@reclaim/providers/common';
import { parseFormParams, TwilioSmsChannel, type TwilioConfig } from '@reclaim/providers/twilio';
import { type ProviderSandbox, startProviderSandbox } from '../sandbox';
import { captureLog, expectNoLeak, fakeTime } from './contract-kit';

const PHONE = '+14155550123';

function sms(key: string, overrides: Partial<ChannelMessage> = {}): ChannelMessage {
  return {
    idempotencyKey: key,
    channel: 'sms',
    to: PHONE,
    body: 'Your cart is waiting: https://shop.example/c/1',
    ...overrides,
  };
}

describe('Twilio SMS adapter against its stand-in', () => {
  let sandbox: ProviderSandbox;
  const channels: TwilioSmsChannel[] = [];

  beforeAll(async () => {
    sandbox = await startProviderSandbox();
  });
  afterAll(async () => {
    await Promise.all(channels.map((c) => c.close()));
    await sandbox.stop();
  });
  afterEach(() => sandbox.clearFaults());

  function setup(overrides: Partial<TwilioConfig> & { maxAttempts?: number } = {}) {
    const time = fakeTime();
    const log = captureLog();
    const { maxAttempts, ...config } = overrides;
    const channel = new TwilioSmsChannel(
      {
        accountSid: sandbox.credentials.twilioAccountSid,
        authToken: sandbox.credentials.twilioAuthToken,
        from: sandbox.credentials.twilioFrom,
        apiUrl: sandbox.urls.twilio,
        ...config,
      },
      { log, sleep: time.sleep, now: time.now, random: () => 0.5, retry: { maxAttempts: maxAttempts ?? 3 } },
    );
    channels.push(channel);
    return { channel, time, log };
  }

  const sentWith = (text: string) => sandbox.stores.twilio.messages.filter((m) => m.body.includes(text));

  it('creates a message (form-encoded, basic auth) and lookup finds it', async () => {
    const { channel, log } = setup();
    const { messageId } = await channel.send(sms('rec-1:step-1:sms', { body: 'happy path' }));
    expect(messageId).toMatch(/^SM[0-9a-f]{32}$/);
    const [msg] = sentWith('happy path');
    expect(msg).toMatchObject({ sid: messageId, to: PHONE, from: sandbox.credentials.twilioFrom });
    expect(sandbox.received('twilio').at(-1)!.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(await channel.lookup('rec-1:step-1:sms')).toEqual({ status: 'sent', messageId });
    expectNoLeak(log.lines, [PHONE, sandbox.credentials.twilioAuthToken]);
  });

  it('a wrong auth token is a permanent 20003 error', async () => {
    const { channel } = setup({ authToken: 'wrong-token' });
    const err = await channel.send(sms('rec-2:step-1:sms')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PermanentProviderError);
    expect((err as PermanentProviderError).code).toBe('20003');
  });

  it('a body over 1600 characters is refused for good (21617)', async () => {
    const { channel } = setup();
    const err = await channel.send(sms('rec-3:step-1:sms', { body: 'x'.repeat(1700) })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PermanentProviderError);
    expect((err as PermanentProviderError).code).toBe('21617');
    expect(await channel.lookup('rec-3:step-1:sms')).toEqual({ status: 'not-sent' });
  });

  it('21610 (recipient replied STOP) is a RecipientOptedOutError, without the number in logs or message', async () => {
    const { channel, log } = setup();
    sandbox.stores.twilio.optOut('+14155550999');
    const err = await channel.send(sms('rec-4:step-1:sms', { to: '+14155550999' })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RecipientOptedOutError);
    expect(err).toBeInstanceOf(PermanentProviderError);
    expect((err as RecipientOptedOutError).code).toBe('21610');
    expect((err as Error).message).not.toContain('+14155550999');
    expectNoLeak(log.lines, ['+14155550999']);
  });

  it('honours Retry-After on 429 and sends once', async () => {
    const { channel, time } = setup();
    sandbox.injectFault({ provider: 'twilio', method: 'POST', kind: 'status', status: 429, retryAfter: '2' });
    await channel.send(sms('rec-5:step-1:sms', { body: 'after 429' }));
    expect(time.sleeps).toEqual([2000]);
    expect(sentWith('after 429')).toHaveLength(1);
  });

  it('retries 503 (refused before processing) but not 500 on a create (no idempotency key: outcome unknown)', async () => {
    const { channel, time } = setup();
    sandbox.injectFault({ provider: 'twilio', method: 'POST', kind: 'status', status: 503 });
    await channel.send(sms('rec-6:step-1:sms', { body: 'after 503' }));
    expect(time.sleeps).toHaveLength(1);
    expect(sentWith('after 503')).toHaveLength(1);
    sandbox.injectFault({ provider: 'twilio', method: 'POST', kind: 'status', status: 500 });
    await expect(channel.send(sms('rec-7:step-1:sms'))).rejects.toBeInstanceOf(ProviderOutcomeUnknownError);
    expect(time.sleeps).toHaveLength(1);
  });

  it('a timeout after sending is unknown; lookup finds the message by its body marker instead of resending', async () => {
    const { channel } = setup({ timeoutMs: 300, bodyMarker: true, maxAttempts: 1 });
    sandbox.injectFault({ provider: 'twilio', method: 'POST', kind: 'process-then-hang' });
    await expect(channel.send(sms('rec-8:step-1:sms', { body: 'marker test' }))).rejects.toBeInstanceOf(
      ProviderOutcomeUnknownError,
    );
    const [msg] = sentWith('marker test');
    expect(msg!.body).toMatch(/Ref R-[0-9a-f]{10}$/);
    expect(await channel.lookup('rec-8:step-1:sms')).toEqual({ status: 'sent', messageId: msg!.sid });
    expect(await channel.lookup('rec-never:step-1:sms')).toEqual({ status: 'not-sent' });
  });

  it('without a marker an unconfirmed send is unknown, and a signed status callback resolves it', async () => {
    const callbacks: { url: string; params: Record<string, string | string[]>; signature: string | undefined }[] = [];
    let notify: () => void = () => undefined;
    const arrived = new Promise<void>((resolve) => (notify = resolve));
    const receiver: Server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const sig = req.headers['x-twilio-signature'];
        callbacks.push({
          url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}${req.url}`,
          params: parseFormParams(Buffer.concat(chunks).toString('utf8')),
          signature: typeof sig === 'string' ? sig : undefined,
        });
        res.end();
        notify();
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    try {
      const port = (receiver.address() as AddressInfo).port;
      const { channel } = setup({
        timeoutMs: 300,
        maxAttempts: 1,
        statusCallbackUrl: `http://127.0.0.1:${port}/twilio/status`,
      });
      sandbox.injectFault({ provider: 'twilio', method: 'POST', kind: 'process-then-hang' });
      await expect(channel.send(sms('rec-9:step-1:sms', { body: 'callback test' }))).rejects.toBeInstanceOf(
        ProviderOutcomeUnknownError,
      );
      expect(await channel.lookup('rec-9:step-1:sms')).toEqual({ status: 'unknown' });
      await arrived;
      const cb = callbacks[0]!;
      expect(
        await channel.handleStatusCallback(cb.url, { ...cb.params, MessageStatus: 'delivered' }, cb.signature),
      ).toEqual({
        valid: false,
      });
      const handled = await channel.handleStatusCallback(cb.url, cb.params, cb.signature);
      expect(handled).toMatchObject({ valid: true, idempotencyKey: 'rec-9:step-1:sms', status: 'sent' });
      const [msg] = sentWith('callback test');
      expect(await channel.lookup('rec-9:step-1:sms')).toEqual({ status: 'sent', messageId: msg!.sid });
    } finally {
      await new Promise((r) => receiver.close(r));
    }
  });

  it('the rate limiter makes callers wait instead of failing', async () => {
    const waits: number[] = [];
    const time = fakeTime();
    const channel = new TwilioSmsChannel(
      {
        accountSid: sandbox.credentials.twilioAccountSid,
        authToken: sandbox.credentials.twilioAuthToken,
        from: sandbox.credentials.twilioFrom,
        apiUrl: sandbox.urls.twilio,
        ratePerSecond: 3,
      },
      { sleep: time.sleep, now: time.now, onRateLimitWait: (w) => waits.push(w.waitedMs) },
    );
    channels.push(channel);
    const results = await Promise.all(
      [0, 1, 2, 3, 4].map((i) => channel.send(sms(`rate-${i}:step-1:sms`, { body: `rate ${i}` }))),
    );
    expect(results).toHaveLength(5);
    expect(waits.length).toBe(2);
    expect(time.now() - Date.parse('2026-03-01T12:00:00Z')).toBeGreaterThanOrEqual(666);
  });
});

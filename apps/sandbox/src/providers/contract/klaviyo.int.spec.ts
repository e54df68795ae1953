import {
  PermanentProviderError,
  ProviderOutcomeUnknownError,
  RetryableProviderError,
  type ChannelMessage,
} from '@reclaim/ports';
import { KlaviyoApi, KlaviyoFlowChannel, KlaviyoProfiles, recoveryProfileProperties } from '@reclaim/providers/klaviyo';
import { type ProviderSandbox, startProviderSandbox } from '../sandbox';
import { captureLog, expectNoLeak, fakeTime } from './contract-kit';

const EMAIL = 'shopper.klaviyo@example.org';

function message(key: string, overrides: Partial<ChannelMessage> = {}): ChannelMessage {
  return {
    idempotencyKey: key,
    channel: 'email',
    to: EMAIL,
    subject: 'You left something behind',
    html: '<p>Your cart</p>',
    text: 'Your cart',
    headers: {
      'List-Unsubscribe': '<https://reclaim.example/u/tok>',
      'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
    },
    context: { shopId: 'shop-1', recoveryId: 'rec-1', step: 0 },
    ...overrides,
  };
}

describe('Klaviyo adapter against its stand-in', () => {
  let sandbox: ProviderSandbox;
  const apis: KlaviyoApi[] = [];

  beforeAll(async () => {
    sandbox = await startProviderSandbox({
      klaviyoProfiles: [
        {
          email: 'vip@example.org',
          emailConsent: 'SUBSCRIBED',
          smsConsent: 'UNSUBSCRIBED',
          properties: { plan: 'gold' },
        },
      ],
    });
  });
  afterAll(async () => {
    await Promise.all(apis.map((a) => a.close()));
    await sandbox.stop();
  });
  afterEach(() => sandbox.clearFaults());

  function setup(overrides: { apiKey?: string; timeoutMs?: number; maxAttempts?: number } = {}) {
    const time = fakeTime();
    const log = captureLog();
    const api = new KlaviyoApi(
      {
        apiKey: overrides.apiKey ?? sandbox.credentials.klaviyoApiKey,
        apiUrl: sandbox.urls.klaviyo,
        timeoutMs: overrides.timeoutMs,
      },
      { log, sleep: time.sleep, now: time.now, random: () => 0.5, retry: { maxAttempts: overrides.maxAttempts ?? 3 } },
    );
    apis.push(api);
    return { api, channel: new KlaviyoFlowChannel(api, time.now), profiles: new KlaviyoProfiles(api), time, log };
  }

  const eventsFor = (key: string) => sandbox.stores.klaviyo.events.filter((e) => e.uniqueId === key);

  it('creates an event with unique_id = the idempotency key, revision and JSON:API headers', async () => {
    const { channel, log } = setup();
    const result = await channel.send(message('rec-1:step-0:email'));
    expect(result.messageId).toBe('klaviyo-event:rec-1:step-0:email');
    const [event] = eventsFor('rec-1:step-0:email');
    expect(event).toMatchObject({ metric: 'Reclaim Cart Recovery' });
    expect(event!.properties).toMatchObject({
      subject: 'You left something behind',
      unsubscribe_url: 'https://reclaim.example/u/tok',
    });
    const req = sandbox.received('klaviyo').at(-1)!;
    expect(req.headers.revision).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(req.headers['content-type']).toBe('application/vnd.api+json');
    expect(await channel.lookup('rec-1:step-0:email')).toEqual({ status: 'not-sent' });
    expectNoLeak(log.lines, [EMAIL, sandbox.credentials.klaviyoApiKey]);
  });

  it('a retried send is deduplicated by unique_id (one event)', async () => {
    const { channel } = setup();
    await channel.send(message('rec-2:step-0:email'));
    await channel.send(message('rec-2:step-0:email'));
    expect(eventsFor('rec-2:step-0:email')).toHaveLength(1);
    expect(sandbox.stores.klaviyo.duplicatesIgnored).toBeGreaterThanOrEqual(1);
  });

  it('a wrong API key is a permanent not_authenticated error', async () => {
    const { channel, log } = setup({ apiKey: 'pk_wrong' });
    const err = await channel.send(message('rec-3:step-0:email')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PermanentProviderError);
    expect((err as PermanentProviderError).code).toBe('not_authenticated');
    expectNoLeak(log.lines, ['pk_wrong', EMAIL]);
  });

  it('an invalid profile identifier is a permanent invalid error, without the address in the message', async () => {
    const { channel } = setup();
    const err = await channel
      .send(message('rec-4:step-0:sms', { channel: 'sms', to: '555-CALL-ME' }))
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PermanentProviderError);
    expect((err as PermanentProviderError).code).toBe('invalid');
    expect((err as Error).message).not.toContain('555-CALL-ME');
  });

  it('honours Retry-After on 429, then succeeds', async () => {
    const { channel, time, log } = setup();
    sandbox.injectFault({
      provider: 'klaviyo',
      method: 'POST',
      path: '/api/events',
      kind: 'status',
      status: 429,
      retryAfter: '7',
    });
    await channel.send(message('rec-5:step-0:email'));
    expect(time.sleeps).toEqual([7000]);
    expect(eventsFor('rec-5:step-0:email')).toHaveLength(1);
    expect(log.lines.join()).toContain('"status":429');
    expectNoLeak(log.lines, [EMAIL, sandbox.credentials.klaviyoApiKey]);
  });

  it('hands a long Retry-After back to the engine instead of sleeping', async () => {
    const { channel, time } = setup();
    sandbox.injectFault({ provider: 'klaviyo', path: '/api/events', kind: 'status', status: 429, retryAfter: '120' });
    const err = await channel.send(message('rec-6:step-0:email')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RetryableProviderError);
    expect((err as RetryableProviderError).retryAfterMs).toBe(120_000);
    expect((err as RetryableProviderError).code).toBe('throttled');
    expect(time.sleeps).toEqual([]);
  });

  it('retries a 5xx (the event is deduplicated, so it is safe)', async () => {
    const { channel, time } = setup();
    sandbox.injectFault({ provider: 'klaviyo', path: '/api/events', kind: 'status', status: 502 });
    await channel.send(message('rec-7:step-0:email'));
    expect(time.sleeps).toHaveLength(1);
    expect(eventsFor('rec-7:step-0:email')).toHaveLength(1);
  });

  it('a timeout after sending is an unknown outcome; the resend does not duplicate', async () => {
    const { channel } = setup({ timeoutMs: 300, maxAttempts: 1 });
    sandbox.injectFault({ provider: 'klaviyo', path: '/api/events', kind: 'process-then-hang' });
    await expect(channel.send(message('rec-8:step-0:email'))).rejects.toBeInstanceOf(ProviderOutcomeUnknownError);
    await channel.send(message('rec-8:step-0:email'));
    expect(eventsFor('rec-8:step-0:email')).toHaveLength(1);
  });

  it('upserts recovery context as profile properties and reads it back with consent', async () => {
    const { profiles, log } = setup();
    const props = recoveryProfileProperties({
      segments: ['vip', 'high-value-cart'],
      recoveryId: 'rec-9',
      recoveryStatus: 'active',
      step: 1,
      cartValue: '249.90',
      currency: 'EUR',
      at: new Date('2026-03-01T12:00:00Z'),
    });
    const { profileId } = await profiles.upsert('vip@example.org', props);
    const profile = await profiles.lookup('vip@example.org');
    expect(profile?.id).toBe(profileId);
    expect(profile?.properties).toMatchObject({ plan: 'gold', reclaim_segment: 'vip', reclaim_cart_value: '249.90' });
    expect(await profiles.consent('vip@example.org')).toEqual({
      email: expect.objectContaining({ consent: 'SUBSCRIBED', canReceive: true }),
      sms: expect.objectContaining({ consent: 'UNSUBSCRIBED', canReceive: false }),
    });
    expect(await profiles.lookup('nobody@example.org')).toBeNull();
    expectNoLeak(log.lines, ['vip@example.org']);
  });
});

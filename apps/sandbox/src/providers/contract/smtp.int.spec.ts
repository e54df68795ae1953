import { generateKeyPairSync } from 'node:crypto';
import {
  PermanentProviderError,
  ProviderOutcomeUnknownError,
  RetryableProviderError,
  type ChannelMessage,
} from '@reclaim/ports';
import { SmtpChannel, smtpConfigFromEnv, smtpMessageId, type SmtpConfig } from '@reclaim/providers/smtp';
import { type ProviderSandbox, startProviderSandbox } from '../sandbox';
import { captureLog, expectNoLeak } from './contract-kit';

const TO = 'shopper.smtp@example.org';

function mail(key: string, overrides: Partial<ChannelMessage> = {}): ChannelMessage {
  return {
    idempotencyKey: key,
    channel: 'email',
    to: TO,
    subject: 'Ton panier t’attend 🛒',
    html: '<p>Bonjour, <b>ton panier</b> est là.</p>',
    text: 'Bonjour, ton panier est là.',
    headers: {
      'List-Unsubscribe': '<https://reclaim.example/u/signed-token>',
      'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
    },
    ...overrides,
  };
}

describe('SMTP adapter against the sink', () => {
  let sandbox: ProviderSandbox;
  const channels: SmtpChannel[] = [];

  beforeAll(async () => {
    sandbox = await startProviderSandbox();
  });
  afterAll(async () => {
    channels.forEach((c) => c.close());
    await sandbox.stop();
  });
  afterEach(() => sandbox.clearFaults());

  function setup(overrides: Partial<SmtpConfig> = {}) {
    const log = captureLog();
    const channel = new SmtpChannel(
      { url: sandbox.urls.smtp, from: 'Shop <shop@shop.example>', ...overrides },
      { log },
    );
    channels.push(channel);
    return { channel, log };
  }
  const received = (messageId: string) => sandbox.stores.mail.filter((m) => m.headers['message-id'] === messageId);

  it('reads SMTP_URL, MAIL_FROM and the DKIM variables', () => {
    expect(smtpConfigFromEnv({})).toBeUndefined();
    expect(() => smtpConfigFromEnv({ SMTP_URL: 'http://x', MAIL_FROM: 'a@b.c' })).toThrow(/smtp/);
    expect(() => smtpConfigFromEnv({ SMTP_URL: 'smtp://h', MAIL_FROM: 'a@b.c', DKIM_DOMAIN: 'b.c' })).toThrow(/DKIM/);
    expect(
      smtpConfigFromEnv({
        SMTP_URL: 'smtps://u:p@h:465',
        MAIL_FROM: 'a@b.c',
        DKIM_DOMAIN: 'b.c',
        DKIM_SELECTOR: 's',
        DKIM_PRIVATE_KEY: 'a\\nb',
      }),
    ).toEqual({
      url: 'smtps://u:p@h:465',
      from: 'a@b.c',
      dkim: { domainName: 'b.c', keySelector: 's', privateKey: 'a\nb' },
    });
  });

  it('sends multipart HTML + text with the unsubscribe headers and a Message-ID derived from the key', async () => {
    const { channel, log } = setup();
    const { messageId } = await channel.send(mail('rec-1:step-0:email'));
    expect(messageId).toBe(smtpMessageId('rec-1:step-0:email', 'shop.example'));
    expect(messageId).toBe(smtpMessageId('rec-1:step-0:email', 'shop.example'));
    const [m] = received(messageId);
    expect(m!.to).toEqual([TO]);
    expect(m!.headers['list-unsubscribe']).toBe('<https://reclaim.example/u/signed-token>');
    expect(m!.headers['list-unsubscribe-post']).toBe('List-Unsubscribe=One-Click');
    expect(m!.headers['content-type']).toMatch(/^multipart\/alternative/);
    expect(m!.raw).toMatch(/Content-Type: text\/plain/);
    expect(m!.raw).toMatch(/Content-Type: text\/html/);
    expect(await channel.lookup('rec-1:step-0:email')).toEqual({ status: 'sent', messageId });
    expectNoLeak(log.lines, [TO, sandbox.credentials.smtpPassword]);
  });

  it('signs with DKIM when configured', async () => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const { channel } = setup({
      dkim: {
        domainName: 'shop.example',
        keySelector: 'reclaim',
        privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      },
    });
    const { messageId } = await channel.send(mail('rec-2:step-0:email'));
    const sig = received(messageId)[0]!.headers['dkim-signature'];
    expect(sig).toMatch(/d=shop\.example/);
    expect(sig).toMatch(/s=reclaim/);
  });

  it('a wrong password is a permanent error', async () => {
    const url = new URL(sandbox.urls.smtp);
    url.password = 'wrong';
    const { channel, log } = setup({ url: url.toString() });
    const err = await channel.send(mail('rec-3:step-0:email')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PermanentProviderError);
    expect((err as PermanentProviderError).code).toBe('smtp-535');
    expectNoLeak(log.lines, ['wrong', TO]);
  });

  it('a refused recipient (550) is permanent and lookup says not-sent; 451 is retryable', async () => {
    const { channel } = setup();
    const bounced = await channel
      .send(mail('rec-4:step-0:email', { to: 'bounce-me@example.org' }))
      .catch((e: unknown) => e);
    expect(bounced).toBeInstanceOf(PermanentProviderError);
    expect((bounced as PermanentProviderError).code).toBe('smtp-550');
    expect(await channel.lookup('rec-4:step-0:email')).toEqual({ status: 'not-sent' });
    const deferred = await channel
      .send(mail('rec-5:step-0:email', { to: 'defer-me@example.org' }))
      .catch((e: unknown) => e);
    expect(deferred).toBeInstanceOf(RetryableProviderError);
    expect((deferred as RetryableProviderError).code).toBe('smtp-451');
  });

  it('no answer after DATA is an unknown outcome, and lookup stays unknown (never a blind resend)', async () => {
    const { channel } = setup({ socketTimeoutMs: 300 });
    sandbox.injectFault({ provider: 'smtp', path: 'DATA', kind: 'process-then-hang' });
    await expect(channel.send(mail('rec-6:step-0:email'))).rejects.toBeInstanceOf(ProviderOutcomeUnknownError);
    expect(await channel.lookup('rec-6:step-0:email')).toEqual({ status: 'unknown' });
    expect(await channel.lookup('never-attempted')).toEqual({ status: 'unknown' });
  });

  it('serves an HTML page listing the received mail', async () => {
    const res = await fetch(sandbox.urls.mailPage);
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain('Sandbox mail');
    expect(html).toContain('Ton panier t’attend 🛒');
    expect(html).not.toContain('<b>ton panier</b>');
  });
});

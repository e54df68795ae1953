/**
 * E-mail over SMTP (nodemailer, pooled connections, optional DKIM).
 *
 * `SMTP_URL` = `smtp://user:pass@host:587` (STARTTLS when offered) or `smtps://…:465` (TLS); user and
 * password percent-encoded in the URL. `MAIL_FROM` is the From address. DKIM signs when
 * `DKIM_DOMAIN`, `DKIM_SELECTOR` and `DKIM_PRIVATE_KEY` (PEM; `\n` escapes allowed) are all set.
 *
 * Every message gets a `Message-ID` derived from the idempotency key ({@link smtpMessageId}), so a
 * mailbox or the server's logs can be searched for it; it is the returned `messageId`.
 *
 * Limits, honestly: SMTP has no idempotency and no way to ask a server "did you accept this?".
 * `lookup` answers from what this adapter recorded in its {@link SendJournal}: `sent` only when
 * the server accepted the message (250 after DATA); `not-sent` when it refused it or when a durable
 * journal never saw the key; `unknown` otherwise (a connection lost after DATA, or an in-memory
 * journal after a restart). A server that accepts and then loses the mail is invisible to us.
 */
import { createHash } from 'node:crypto';
import nodemailer, { type Transporter } from 'nodemailer';
import type SMTPPool from 'nodemailer/lib/smtp-pool';
import type { ChannelLookupResult, ChannelMessage, ChannelPort } from '@reclaim/ports';
import { PermanentProviderError, ProviderOutcomeUnknownError, RetryableProviderError } from '@reclaim/ports';
import { InMemorySendJournal, optionalEnv, type ProviderLog, requireEnv, type SendJournal, silentLog } from '../common';

export interface DkimConfig {
  readonly domainName: string;
  readonly keySelector: string;
  readonly privateKey: string;
}

export interface SmtpConfig {
  readonly url: string;
  readonly from: string;
  readonly dkim?: DkimConfig;
  /** Domain of generated Message-IDs; default the DKIM domain, else the From address's domain. */
  readonly messageIdDomain?: string;
  readonly maxConnections?: number;
  readonly connectionTimeoutMs?: number;
  readonly greetingTimeoutMs?: number;
  readonly socketTimeoutMs?: number;
  /** Accept self-signed certificates (the local sink only). */
  readonly allowSelfSigned?: boolean;
}

export interface SmtpDeps {
  readonly log?: ProviderLog;
  readonly journal?: SendJournal;
  readonly now?: () => number;
}

/** `SMTP_URL`, `MAIL_FROM`, `DKIM_DOMAIN`, `DKIM_SELECTOR`, `DKIM_PRIVATE_KEY`; `undefined` without `SMTP_URL`. */
export function smtpConfigFromEnv(env: Readonly<Record<string, string | undefined>>): SmtpConfig | undefined {
  const url = optionalEnv(env, 'SMTP_URL');
  if (url === undefined) return undefined;
  const parsed = new URL(url);
  if (parsed.protocol !== 'smtp:' && parsed.protocol !== 'smtps:')
    throw new Error('SMTP_URL must be smtp:// or smtps://');
  const dkimParts = ['DKIM_DOMAIN', 'DKIM_SELECTOR', 'DKIM_PRIVATE_KEY'].map((n) => optionalEnv(env, n));
  if (dkimParts.some((p) => p !== undefined) && dkimParts.some((p) => p === undefined)) {
    throw new Error('DKIM_DOMAIN, DKIM_SELECTOR and DKIM_PRIVATE_KEY must be set together');
  }
  const [domainName, keySelector, privateKey] = dkimParts;
  return {
    url,
    from: requireEnv(env, 'MAIL_FROM'),
    dkim:
      domainName !== undefined && keySelector !== undefined && privateKey !== undefined
        ? { domainName, keySelector, privateKey: privateKey.replace(/\\n/g, '\n') }
        : undefined,
  };
}

/** `<hex.reclaim@domain>`: the same key always gives the same Message-ID (searchable), no personal data. */
export function smtpMessageId(idempotencyKey: string, domain: string): string {
  const hash = createHash('sha256').update(idempotencyKey, 'utf8').digest('hex').slice(0, 40);
  return `<${hash}.reclaim@${domain}>`;
}

function domainOf(address: string): string | undefined {
  return address.match(/@([A-Za-z0-9.-]+)>?\s*$/)?.[1]?.toLowerCase();
}

/** SMTP commands before DATA: a failure there means the message was not handed over. */
const BEFORE_DATA = /^(CONN|EHLO|HELO|LHLO|STARTTLS|AUTH|MAIL|RCPT)/i;

/** Nodemailer error → typed provider error (code and SMTP reply code only; the reply text may echo the address). */
export function smtpErrorToProviderError(err: unknown): Error {
  const e = (typeof err === 'object' && err !== null ? err : {}) as {
    code?: unknown;
    responseCode?: unknown;
    command?: unknown;
  };
  const responseCode = typeof e.responseCode === 'number' ? e.responseCode : undefined;
  const code = typeof e.code === 'string' ? e.code : 'UNKNOWN';
  const command = typeof e.command === 'string' ? e.command : '';
  if (responseCode !== undefined && responseCode >= 500) {
    return new PermanentProviderError(`smtp: refused (${responseCode})`, `smtp-${responseCode}`);
  }
  if (responseCode !== undefined && responseCode >= 400) {
    return new RetryableProviderError(`smtp: deferred (${responseCode})`, undefined, `smtp-${responseCode}`);
  }
  if (code === 'EAUTH' || code === 'ENOAUTH')
    return new PermanentProviderError('smtp: authentication failed', 'smtp-auth');
  if (code === 'EENVELOPE' || code === 'EMESSAGE') return new PermanentProviderError(`smtp: ${code}`, `smtp-${code}`);
  // Nodemailer labels a socket timeout at any stage "CONN"; only its connect/greeting timeouts and
  // refused connections prove that nothing was handed over.
  const text = err instanceof Error ? err.message : '';
  const notConnected =
    code === 'ECONNECTION' ||
    code === 'EDNS' ||
    code === 'ETLS' ||
    (code === 'ETIMEDOUT' && /connection timeout|greeting never received/i.test(text)) ||
    (code === 'ESOCKET' && /ECONNREFUSED|ENOTFOUND|EHOSTUNREACH|ENETUNREACH|EAI_AGAIN/.test(text)) ||
    (command !== 'CONN' && BEFORE_DATA.test(command));
  if (notConnected) return new RetryableProviderError(`smtp: ${code}`, undefined, `smtp-${code}`);
  return new ProviderOutcomeUnknownError(`smtp: ${code} after the message may have been handed over`);
}

export class SmtpChannel implements ChannelPort {
  private readonly transport: Transporter<SMTPPool.SentMessageInfo>;
  private readonly journal: SendJournal;
  private readonly log: ProviderLog;
  private readonly now: () => number;
  private readonly domain: string;

  constructor(
    private readonly config: SmtpConfig,
    deps: SmtpDeps = {},
  ) {
    const url = new URL(config.url);
    if (url.protocol !== 'smtp:' && url.protocol !== 'smtps:') throw new Error('SMTP_URL must be smtp:// or smtps://');
    const secure = url.protocol === 'smtps:';
    const domain = config.messageIdDomain ?? config.dkim?.domainName ?? domainOf(config.from);
    if (domain === undefined) throw new Error('MAIL_FROM must contain an address with a domain');
    this.domain = domain;
    this.journal = deps.journal ?? new InMemorySendJournal();
    this.log = deps.log ?? silentLog;
    this.now = deps.now ?? Date.now;
    const options: SMTPPool.Options = {
      pool: true,
      host: url.hostname.replace(/^\[|\]$/g, ''),
      port: url.port !== '' ? Number(url.port) : secure ? 465 : 587,
      secure,
      auth:
        url.username !== ''
          ? { user: decodeURIComponent(url.username), pass: decodeURIComponent(url.password) }
          : undefined,
      maxConnections: config.maxConnections ?? 5,
      connectionTimeout: config.connectionTimeoutMs ?? 10_000,
      greetingTimeout: config.greetingTimeoutMs ?? 10_000,
      socketTimeout: config.socketTimeoutMs ?? 60_000,
      tls: config.allowSelfSigned ? { rejectUnauthorized: false } : undefined,
      logger: false,
      debug: false,
      dkim: config.dkim
        ? {
            domainName: config.dkim.domainName,
            keySelector: config.dkim.keySelector,
            privateKey: config.dkim.privateKey,
          }
        : undefined,
    };
    this.transport = nodemailer.createTransport(options);
  }

  close(): void {
    this.transport.close();
  }

  async send(message: ChannelMessage): Promise<{ readonly messageId: string }> {
    if (message.html === undefined && message.text === undefined) {
      throw new PermanentProviderError('smtp: a message needs html or text', 'empty-body');
    }
    const messageId = smtpMessageId(message.idempotencyKey, this.domain);
    await this.journal.record(message.idempotencyKey, { state: 'attempted', at: this.now() });
    try {
      await this.transport.sendMail({
        from: this.config.from,
        to: message.to,
        subject: message.subject ?? '',
        html: message.html,
        text: message.text,
        messageId,
        headers: { ...message.headers },
      });
    } catch (err) {
      const typed = smtpErrorToProviderError(err);
      if (!(typed instanceof ProviderOutcomeUnknownError)) {
        await this.journal.record(message.idempotencyKey, { state: 'refused', at: this.now() });
      }
      this.log.warn(
        { provider: 'smtp', operation: 'send', error: typed.name, code: (typed as { code?: string }).code },
        'smtp send failed',
      );
      throw typed;
    }
    await this.journal.record(message.idempotencyKey, { state: 'accepted', messageId, at: this.now() });
    return { messageId };
  }

  async lookup(idempotencyKey: string): Promise<ChannelLookupResult> {
    const entry = await this.journal.get(idempotencyKey);
    if (entry?.state === 'accepted') return { status: 'sent', messageId: entry.messageId };
    if (entry?.state === 'refused') return { status: 'not-sent' };
    if (entry === undefined && this.journal.durable) return { status: 'not-sent' };
    return { status: 'unknown' };
  }
}

/**
 * Twilio Programmable Messaging: `POST /2010-04-01/Accounts/{Sid}/Messages.json`, form-encoded,
 * basic auth (account SID : auth token).
 *
 * Twilio has no idempotency key on create, so a create is never retried blindly: a timeout or 5xx
 * after sending is `ProviderOutcomeUnknownError` and the engine reconciles with `lookup`, which
 * answers from, in order:
 * 1. the send journal (the SID Twilio returned, or the one a status callback reported: our key
 *    travels in the StatusCallback URL query `reclaim_key`, and the Message resource does not echo
 *    StatusCallback, so the callback is the only way Twilio hands it back);
 * 2. with `bodyMarker` on, the Messages list (newest first, filtered by From, `lookupPages` pages)
 *    searched for the marker appended to the body ("Ref R-xxxxxxxx"); not found → `not-sent`.
 * Otherwise `unknown` (the in-memory journal forgets on restart). Error 21610 (recipient replied
 * STOP) → {@link RecipientOptedOutError}.
 */
import { createHash } from 'node:crypto';
import type { ChannelLookupResult, ChannelMessage, ChannelPort } from '@reclaim/ports';
import { PermanentProviderError } from '@reclaim/ports';
import {
  basicAuth,
  InMemorySendJournal,
  isRecord,
  jsonOf,
  optionalEnv,
  PROVIDER_LIMITS,
  ProviderHttpClient,
  type ProviderErrorDetail,
  type ProviderLog,
  type ProviderResponse,
  RateLimiter,
  type RateLimitWait,
  RecipientOptedOutError,
  requireEnv,
  type RetryPolicy,
  type SendJournal,
  type Sleep,
} from '../common';
import { verifyTwilioSignature, type TwilioParams } from './signature';

export const TWILIO_DEFAULT_URL = 'https://api.twilio.com';
export const STATUS_CALLBACK_KEY_PARAM = 'reclaim_key';

export interface TwilioConfig {
  readonly accountSid: string;
  readonly authToken: string;
  /** E.164 sender; or use `messagingServiceSid`. */
  readonly from?: string;
  readonly messagingServiceSid?: string;
  readonly apiUrl?: string;
  /** Public URL of the appliance's status-callback endpoint; our key is added as `reclaim_key`. */
  readonly statusCallbackUrl?: string;
  /** Append "Ref R-xxxxxxxx" to each SMS so `lookup` can find it in the Messages list. */
  readonly bodyMarker?: boolean;
  /** Pages (of 100) searched by `lookup`; default 5. */
  readonly lookupPages?: number;
  /** Messages-create requests per second (Twilio's default queue: 100/s). */
  readonly ratePerSecond?: number;
  readonly timeoutMs?: number;
}

export interface TwilioDeps {
  readonly log?: ProviderLog;
  readonly sleep?: Sleep;
  readonly now?: () => number;
  readonly random?: () => number;
  readonly retry?: Partial<RetryPolicy>;
  readonly onRateLimitWait?: (wait: RateLimitWait) => void;
  readonly journal?: SendJournal;
}

/**
 * `TWILIO_ACCOUNT_SID`, `TWILIO_AUTH_TOKEN`, `TWILIO_FROM` (E.164 or an `MG…` messaging service
 * SID), `TWILIO_MESSAGING_SERVICE_SID`, `TWILIO_API_URL`, `TWILIO_STATUS_CALLBACK_URL`,
 * `TWILIO_BODY_MARKER` (`1`/`true`); `undefined` without an account SID.
 */
export function twilioConfigFromEnv(env: Readonly<Record<string, string | undefined>>): TwilioConfig | undefined {
  if (optionalEnv(env, 'TWILIO_ACCOUNT_SID') === undefined) return undefined;
  const from = optionalEnv(env, 'TWILIO_FROM');
  const service = optionalEnv(env, 'TWILIO_MESSAGING_SERVICE_SID') ?? (from?.startsWith('MG') ? from : undefined);
  const sender = from?.startsWith('MG') ? undefined : from;
  if (sender === undefined && service === undefined)
    throw new Error('TWILIO_FROM or TWILIO_MESSAGING_SERVICE_SID is required');
  return {
    accountSid: requireEnv(env, 'TWILIO_ACCOUNT_SID'),
    authToken: requireEnv(env, 'TWILIO_AUTH_TOKEN'),
    from: sender,
    messagingServiceSid: service,
    apiUrl: optionalEnv(env, 'TWILIO_API_URL'),
    statusCallbackUrl: optionalEnv(env, 'TWILIO_STATUS_CALLBACK_URL'),
    bodyMarker: /^(1|true|yes)$/i.test(optionalEnv(env, 'TWILIO_BODY_MARKER') ?? ''),
  };
}

/** Twilio error body `{code, message, more_info, status}`: the numeric code, never the message (it echoes numbers). */
export function describeTwilioError(res: ProviderResponse): ProviderErrorDetail {
  const body = jsonOf(res);
  if (!isRecord(body) || (typeof body.code !== 'number' && typeof body.code !== 'string')) return {};
  const code = String(body.code).replace(/\D/g, '').slice(0, 8);
  if (code === '21610') {
    return { code, error: new RecipientOptedOutError('twilio messages.create: recipient has opted out (21610)', code) };
  }
  return { code };
}

/** "Ref R-1a2b3c4d": short, stable, no personal data; what `lookup` searches for. */
export function twilioBodyMarker(idempotencyKey: string): string {
  return `Ref R-${createHash('sha256').update(idempotencyKey).digest('hex').slice(0, 10)}`;
}

const E164 = /^\+[1-9]\d{6,14}$/;

export class TwilioSmsChannel implements ChannelPort {
  private readonly http: ProviderHttpClient;
  private readonly journal: SendJournal;
  private readonly now: () => number;
  private readonly messagesPath: string;

  constructor(
    private readonly config: TwilioConfig,
    deps: TwilioDeps = {},
  ) {
    if (!/^AC[0-9a-fA-F]{32}$/.test(config.accountSid))
      throw new Error('TWILIO_ACCOUNT_SID must look like AC + 32 hex digits');
    if (config.from === undefined && config.messagingServiceSid === undefined) {
      throw new Error('twilio: a From number or a messaging service SID is required');
    }
    this.journal = deps.journal ?? new InMemorySendJournal();
    this.now = deps.now ?? Date.now;
    this.messagesPath = `/2010-04-01/Accounts/${config.accountSid}/Messages.json`;
    const rate = config.ratePerSecond;
    this.http = new ProviderHttpClient({
      provider: 'twilio',
      baseUrl: config.apiUrl ?? TWILIO_DEFAULT_URL,
      timeoutMs: config.timeoutMs,
      retry: deps.retry,
      sleep: deps.sleep,
      now: deps.now,
      random: deps.random,
      log: deps.log,
      headers: { authorization: basicAuth(config.accountSid, config.authToken) },
      describeError: describeTwilioError,
      limiter: new RateLimiter(
        'twilio',
        rate !== undefined ? [{ capacity: rate, intervalMs: 1_000 }] : PROVIDER_LIMITS.twilio,
        { now: deps.now, sleep: deps.sleep, onWait: deps.onRateLimitWait },
      ),
    });
  }

  close(): Promise<void> {
    return this.http.close();
  }

  async send(message: ChannelMessage): Promise<{ readonly messageId: string }> {
    const text = message.body ?? message.text;
    if (text === undefined || text.trim() === '')
      throw new PermanentProviderError('twilio: empty SMS body', 'empty-body');
    if (!E164.test(message.to)) throw new PermanentProviderError('twilio: recipient is not E.164', 'invalid-phone');
    const form = new URLSearchParams();
    form.set('To', message.to);
    form.set('Body', this.config.bodyMarker ? `${text}\n${twilioBodyMarker(message.idempotencyKey)}` : text);
    if (this.config.messagingServiceSid !== undefined) form.set('MessagingServiceSid', this.config.messagingServiceSid);
    else if (this.config.from !== undefined) form.set('From', this.config.from);
    if (this.config.statusCallbackUrl !== undefined) {
      const cb = new URL(this.config.statusCallbackUrl);
      cb.searchParams.set(STATUS_CALLBACK_KEY_PARAM, message.idempotencyKey);
      form.set('StatusCallback', cb.toString());
    }
    await this.journal.record(message.idempotencyKey, { state: 'attempted', at: this.now() });
    let res: ProviderResponse;
    try {
      res = await this.http.request({
        method: 'POST',
        path: this.messagesPath,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: form.toString(),
        operation: 'messages.create',
        idempotent: false,
      });
    } catch (err) {
      if (err instanceof PermanentProviderError)
        await this.journal.record(message.idempotencyKey, { state: 'refused', at: this.now() });
      throw err;
    }
    const body = jsonOf(res);
    const sid = isRecord(body) && typeof body.sid === 'string' ? body.sid : undefined;
    if (sid === undefined) {
      // Accepted (2xx) but unreadable: it may well go out.
      throw new PermanentProviderError('twilio messages.create: 2xx without a message SID', 'bad-response');
    }
    await this.journal.record(message.idempotencyKey, { state: 'accepted', messageId: sid, at: this.now() });
    return { messageId: sid };
  }

  async lookup(idempotencyKey: string): Promise<ChannelLookupResult> {
    const entry = await this.journal.get(idempotencyKey);
    if (entry?.state === 'accepted') return { status: 'sent', messageId: entry.messageId };
    if (entry?.state === 'refused') return { status: 'not-sent' };
    if (!this.config.bodyMarker)
      return entry === undefined && this.journal.durable ? { status: 'not-sent' } : { status: 'unknown' };
    const marker = twilioBodyMarker(idempotencyKey);
    const query: Record<string, string | undefined> = { PageSize: '100', From: this.config.from };
    let path: string | undefined = this.messagesPath;
    for (let page = 0; page < (this.config.lookupPages ?? 5) && path !== undefined; page++) {
      const res = await this.http.request({
        method: 'GET',
        path,
        query: page === 0 ? query : undefined,
        operation: 'messages.list',
        idempotent: true,
      });
      const body = jsonOf(res);
      if (!isRecord(body) || !Array.isArray(body.messages)) return { status: 'unknown' };
      for (const m of body.messages) {
        if (isRecord(m) && typeof m.body === 'string' && m.body.includes(marker) && typeof m.sid === 'string') {
          await this.journal.record(idempotencyKey, { state: 'accepted', messageId: m.sid, at: this.now() });
          return { status: 'sent', messageId: m.sid };
        }
      }
      // R22: the next page is a path the answer supplies; only our own Messages list is followed.
      const next = typeof body.next_page_uri === 'string' ? body.next_page_uri : undefined;
      if (next !== undefined && !next.startsWith(`${this.messagesPath}?`)) return { status: 'unknown' };
      path = next;
    }
    return path === undefined ? { status: 'not-sent' } : { status: 'unknown' };
  }

  /**
   * A status callback (POST from Twilio): verifies `X-Twilio-Signature` over the full public URL
   * and the form parameters, then records the SID against our key from the URL query.
   */
  async handleStatusCallback(
    fullUrl: string,
    params: TwilioParams,
    signature: string | undefined,
  ): Promise<{
    readonly valid: boolean;
    readonly idempotencyKey?: string;
    readonly status?: string;
    readonly errorCode?: string;
  }> {
    if (!verifyTwilioSignature(this.config.authToken, fullUrl, params, signature)) return { valid: false };
    const one = (k: string): string | undefined => {
      const v = params[k];
      return typeof v === 'string' ? v : v?.[0];
    };
    const key = new URL(fullUrl).searchParams.get(STATUS_CALLBACK_KEY_PARAM) ?? undefined;
    const sid = one('MessageSid') ?? one('SmsSid');
    const status = one('MessageStatus') ?? one('SmsStatus');
    if (key !== undefined && sid !== undefined && status !== 'failed' && status !== 'undelivered') {
      await this.journal.record(key, { state: 'accepted', messageId: sid, at: this.now() });
    }
    return { valid: true, idempotencyKey: key, status, errorCode: one('ErrorCode') };
  }
}

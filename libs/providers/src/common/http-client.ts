/**
 * The one HTTP helper every provider adapter uses (undici): per-request timeout, a token-bucket
 * rate limiter, bounded retries with exponential backoff that honour `Retry-After`, and the
 * engine's typed errors:
 *
 * - 429 / 503, connection refused before sending → retried here, then `RetryableProviderError`
 *   (with `retryAfterMs`) so the engine reschedules;
 * - other 5xx, 408, a timeout or reset after the request went out → retried only for requests the
 *   provider dedupes (`idempotent`); otherwise, or when the budget is spent, `ProviderOutcomeUnknownError`
 *   for a write (the engine reconciles through `lookup`) and `RetryableProviderError` for a read;
 * - other 4xx → `PermanentProviderError` (the code comes from the provider's error body).
 *
 * Logs carry the provider, an operation name, status, provider code and waits: never URLs (they
 * can hold ids or addresses), bodies or headers.
 */
import { Agent, type Dispatcher } from 'undici';
import { PermanentProviderError, ProviderOutcomeUnknownError, RetryableProviderError } from '@reclaim/ports';
import { RateLimiter, realSleep, type Sleep } from './rate-limiter';

export interface ProviderLog {
  warn(obj: object, msg: string): void;
  info?(obj: object, msg: string): void;
  debug?(obj: object, msg: string): void;
}

export const silentLog: ProviderLog = { warn: () => undefined };

export interface ProviderResponse {
  readonly status: number;
  /** Lower-case names. */
  readonly headers: Readonly<Record<string, string>>;
  readonly text: string;
}

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface ProviderRequest {
  readonly method: HttpMethod;
  /** Appended to the base URL (which may carry a path prefix). */
  readonly path: string;
  readonly query?: Readonly<Record<string, string | undefined>>;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string;
  /** A stable name for logs and metrics ("events.create"): never the path. */
  readonly operation: string;
  /** The provider dedupes a repeat of this request (a read, Klaviyo `unique_id`, Zendesk `Idempotency-Key`). */
  readonly idempotent: boolean;
  /** Statuses handed back to the caller instead of being turned into errors (e.g. 404 on a lookup). */
  readonly accept?: readonly number[];
  /** Overrides the client's limiter for this call (Klaviyo: events and profiles have their own limits). */
  readonly limiter?: RateLimiter;
}

export interface RetryPolicy {
  /** Attempts in this call, the first included. */
  readonly maxAttempts: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  /** A longer `Retry-After` is not slept here: the typed error goes back to the engine at once. */
  readonly maxInlineWaitMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = {
  maxAttempts: 3,
  baseDelayMs: 500,
  maxDelayMs: 10_000,
  maxInlineWaitMs: 30_000,
};

/** What a provider's error body says, for the typed error: `error` replaces the default mapping. */
export interface ProviderErrorDetail {
  readonly code?: string;
  readonly error?: Error;
}

export interface ProviderHttpClientOptions {
  /** "klaviyo", "twilio"…: in error messages and logs. */
  readonly provider: string;
  readonly baseUrl: string;
  /** Per attempt: connect, response headers and body each. Default 10 s. */
  readonly timeoutMs?: number;
  readonly retry?: Partial<RetryPolicy>;
  readonly limiter?: RateLimiter;
  readonly sleep?: Sleep;
  readonly now?: () => number;
  /** 0..1, for backoff jitter; injected by tests. */
  readonly random?: () => number;
  readonly log?: ProviderLog;
  /** Sent with every request (auth, revision…). */
  readonly headers?: Readonly<Record<string, string>>;
  /** Reads the provider's error body; must not put personal data in codes or messages. */
  readonly describeError?: (res: ProviderResponse) => ProviderErrorDetail;
  readonly dispatcher?: Dispatcher;
}

const NOT_SENT_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'UND_ERR_CONNECT_TIMEOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
]);

/** `Retry-After` as milliseconds from `now`: delta-seconds or an HTTP date; `undefined` when absent or unreadable. */
export function parseRetryAfter(value: string | undefined, now: number): number | undefined {
  if (value === undefined) return undefined;
  const v = value.trim();
  if (/^\d+(\.\d+)?$/.test(v)) return Math.round(Number(v) * 1000);
  const at = Date.parse(v);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now);
}

function errorCodeOf(err: unknown): string {
  let e: unknown = err;
  for (let depth = 0; depth < 4 && e !== null && typeof e === 'object'; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    e = (e as { cause?: unknown }).cause;
  }
  return err instanceof Error ? err.name : 'UnknownError';
}

export class ProviderHttpClient {
  private readonly retry: RetryPolicy;
  private readonly sleep: Sleep;
  private readonly now: () => number;
  private readonly random: () => number;
  private readonly log: ProviderLog;
  private readonly dispatcher: Dispatcher;
  private readonly ownsDispatcher: boolean;
  private readonly baseUrl: string;

  constructor(private readonly options: ProviderHttpClientOptions) {
    this.retry = { ...DEFAULT_RETRY, ...options.retry };
    this.sleep = options.sleep ?? realSleep;
    this.now = options.now ?? Date.now;
    this.random = options.random ?? Math.random;
    this.log = options.log ?? silentLog;
    const timeout = options.timeoutMs ?? 10_000;
    this.ownsDispatcher = options.dispatcher === undefined;
    this.dispatcher =
      options.dispatcher ??
      new Agent({ connect: { timeout }, headersTimeout: timeout, bodyTimeout: timeout, keepAliveTimeout: 4_000 });
    const base = new URL(options.baseUrl);
    if (base.protocol !== 'https:' && base.protocol !== 'http:')
      throw new Error(`${options.provider}: base URL must be http(s)`);
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
  }

  get provider(): string {
    return this.options.provider;
  }

  async close(): Promise<void> {
    if (this.ownsDispatcher) await this.dispatcher.close();
  }

  /** Sends with retries; answers a 2xx/3xx (or an accepted status) or throws a typed provider error. */
  async request(req: ProviderRequest): Promise<ProviderResponse> {
    const { provider } = this.options;
    for (let attempt = 1; ; attempt++) {
      const last = attempt >= this.retry.maxAttempts;
      await (req.limiter ?? this.options.limiter)?.acquire();
      let res: ProviderResponse;
      try {
        res = await this.send(req);
      } catch (err) {
        const code = errorCodeOf(err);
        const notSent = NOT_SENT_CODES.has(code);
        if (!last && (notSent || req.idempotent)) {
          await this.pause(req, attempt, this.backoff(attempt), { code });
          continue;
        }
        if (notSent || req.method === 'GET') {
          throw new RetryableProviderError(`${provider} ${req.operation}: ${code}`, undefined, code);
        }
        throw new ProviderOutcomeUnknownError(`${provider} ${req.operation}: no answer after sending (${code})`);
      }
      if (res.status < 400 || req.accept?.includes(res.status)) return res;

      const error = this.toError(req, res);
      const maybeProcessed = error instanceof ProviderOutcomeUnknownError;
      const retryable = error instanceof RetryableProviderError || (maybeProcessed && req.idempotent);
      if (!retryable) throw error;
      const retryAfter = error instanceof RetryableProviderError ? error.retryAfterMs : undefined;
      const wait = Math.max(retryAfter ?? 0, this.backoff(attempt));
      if (last || wait > this.retry.maxInlineWaitMs) {
        if (maybeProcessed) throw new RetryableProviderError(error.message, retryAfter, String(res.status));
        throw error;
      }
      await this.pause(req, attempt, wait, { status: res.status, code: (error as { code?: string }).code });
    }
  }

  private async pause(req: ProviderRequest, attempt: number, waitMs: number, why: object): Promise<void> {
    this.log.warn(
      { provider: this.options.provider, operation: req.operation, attempt, retryInMs: waitMs, ...why },
      'provider call retried',
    );
    await this.sleep(waitMs);
  }

  private backoff(attempt: number): number {
    const exp = Math.min(this.retry.maxDelayMs, this.retry.baseDelayMs * 2 ** (attempt - 1));
    return Math.round(exp / 2 + (exp / 2) * this.random());
  }

  private toError(req: ProviderRequest, res: ProviderResponse): Error {
    const { provider } = this.options;
    const detail = this.describe(res);
    if (detail.error) return detail.error;
    const code = detail.code ?? String(res.status);
    const what = `${provider} ${req.operation}: HTTP ${res.status}`;
    if (res.status === 429 || res.status === 503) {
      return new RetryableProviderError(what, parseRetryAfter(res.headers['retry-after'], this.now()), code);
    }
    if (res.status >= 500 || res.status === 408) {
      return req.method === 'GET'
        ? new RetryableProviderError(what, parseRetryAfter(res.headers['retry-after'], this.now()), code)
        : new ProviderOutcomeUnknownError(what);
    }
    return new PermanentProviderError(what, code);
  }

  private describe(res: ProviderResponse): ProviderErrorDetail {
    try {
      return this.options.describeError?.(res) ?? {};
    } catch {
      return {};
    }
  }

  private async send(req: ProviderRequest): Promise<ProviderResponse> {
    const url = new URL(this.baseUrl + req.path);
    for (const [k, v] of Object.entries(req.query ?? {})) if (v !== undefined) url.searchParams.append(k, v);
    const res = await this.dispatcher.request({
      origin: url.origin,
      path: url.pathname + url.search,
      method: req.method,
      headers: { accept: 'application/json', ...this.options.headers, ...req.headers },
      body: req.body,
    });
    const text = await res.body.text();
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(res.headers)) {
      if (typeof v === 'string') headers[k.toLowerCase()] = v;
      else if (Array.isArray(v)) headers[k.toLowerCase()] = v.join(', ');
    }
    return { status: res.statusCode, headers, text };
  }
}

/** JSON body of a response, or `undefined` when it is not JSON. */
export function jsonOf(res: ProviderResponse): unknown {
  if (res.text.trim() === '') return undefined;
  try {
    return JSON.parse(res.text) as unknown;
  } catch {
    return undefined;
  }
}

export function basicAuth(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`, 'utf8').toString('base64')}`;
}

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Reads a required environment variable; the message names it, never its value. */
export function requireEnv(env: Readonly<Record<string, string | undefined>>, name: string): string {
  const v = env[name]?.trim();
  if (v === undefined || v === '') throw new Error(`${name} is required`);
  return v;
}

export function optionalEnv(env: Readonly<Record<string, string | undefined>>, name: string): string | undefined {
  const v = env[name]?.trim();
  return v === undefined || v === '' ? undefined : v;
}

/** The `id` of a list response's first item, as a string (ticket lookups by external id). */
export function firstIdOf(list: readonly unknown[]): string | undefined {
  const first: unknown = list[0];
  return isRecord(first) && (typeof first.id === 'number' || typeof first.id === 'string')
    ? String(first.id)
    : undefined;
}

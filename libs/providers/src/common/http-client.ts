/**
 * The provider (e-mail, SMS, help desk, marketing) face of the one outside-call helper
 * (`@reclaim/http`, undici): per-request timeout, a token-bucket rate limiter, bounded retries
 * with exponential backoff that honour `Retry-After`, and the engine's typed errors:
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
import {
  errorCodeOf,
  GUARDED_CONNECT,
  neverSent,
  retryAfterMs,
  sendHttp,
  withRetries,
  type RetryableFailure,
} from '@reclaim/http';
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

/** A failed attempt and the typed error to throw if retrying stops there. */
type ProviderFailure = RetryableFailure & { readonly error: Error };

export class ProviderHttpClient {
  private readonly retry: RetryPolicy;
  private readonly sleep: Sleep;
  private readonly now: () => number;
  private readonly random: () => number;
  private readonly log: ProviderLog;
  private readonly dispatcher: Dispatcher;
  private readonly ownsDispatcher: boolean;
  private readonly baseUrl: string;
  private readonly timeoutMs: number;

  constructor(private readonly options: ProviderHttpClientOptions) {
    this.retry = { ...DEFAULT_RETRY, ...options.retry };
    this.sleep = options.sleep ?? realSleep;
    this.now = options.now ?? Date.now;
    this.random = options.random ?? Math.random;
    this.log = options.log ?? silentLog;
    const timeout = options.timeoutMs ?? 10_000;
    this.timeoutMs = timeout;
    this.ownsDispatcher = options.dispatcher === undefined;
    this.dispatcher =
      options.dispatcher ??
      new Agent({
        connect: { timeout, ...GUARDED_CONNECT },
        headersTimeout: timeout,
        bodyTimeout: timeout,
        keepAliveTimeout: 4_000,
      });
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
  request(req: ProviderRequest): Promise<ProviderResponse> {
    const { provider } = this.options;
    return withRetries<ProviderResponse>(
      async () => {
        await (req.limiter ?? this.options.limiter)?.acquire();
        let res: ProviderResponse;
        try {
          res = await this.send(req);
        } catch (err) {
          const code = errorCodeOf(err) ?? (err instanceof Error ? err.name : 'UnknownError');
          const notSent = neverSent(err);
          const error =
            notSent || req.method === 'GET'
              ? new RetryableProviderError(`${provider} ${req.operation}: ${code}`, undefined, code)
              : new ProviderOutcomeUnknownError(`${provider} ${req.operation}: no answer after sending (${code})`);
          if (!notSent && !req.idempotent) throw error;
          return { ok: false, failure: { problem: code, error } satisfies ProviderFailure };
        }
        if (res.status < 400 || req.accept?.includes(res.status)) return { ok: true, value: res };

        const error = this.toError(req, res);
        const maybeProcessed = error instanceof ProviderOutcomeUnknownError;
        if (!(error instanceof RetryableProviderError) && !(maybeProcessed && req.idempotent)) throw error;
        const waitMs = error instanceof RetryableProviderError ? error.retryAfterMs : undefined;
        const failure: ProviderFailure = {
          problem: (error as { code?: string }).code ?? String(res.status),
          status: res.status,
          waitMs,
          // A repeatable request the provider may have processed: retrying later is safe.
          error: maybeProcessed ? new RetryableProviderError(error.message, waitMs, String(res.status)) : error,
        };
        return { ok: false, failure };
      },
      {
        policy: {
          maxAttempts: this.retry.maxAttempts,
          baseDelayMs: this.retry.baseDelayMs,
          maxDelayMs: this.retry.maxDelayMs,
          maxWaitMs: this.retry.maxInlineWaitMs,
        },
        timing: { sleep: this.sleep, random: this.random },
        giveUp: (g) => (g.last as ProviderFailure).error,
        onRetry: (failure, attempt, waitMs) =>
          this.log.warn(
            {
              provider,
              operation: req.operation,
              attempt,
              retryInMs: waitMs,
              ...(failure.status !== undefined ? { status: failure.status } : {}),
              code: failure.problem,
            },
            'provider call retried',
          ),
      },
    );
  }

  private toError(req: ProviderRequest, res: ProviderResponse): Error {
    const { provider } = this.options;
    const detail = this.describe(res);
    if (detail.error) return detail.error;
    const code = detail.code ?? String(res.status);
    const what = `${provider} ${req.operation}: HTTP ${res.status}`;
    if (res.status === 429 || res.status === 503) {
      return new RetryableProviderError(what, retryAfterMs(res.headers['retry-after'], this.now()), code);
    }
    if (res.status >= 500 || res.status === 408) {
      return req.method === 'GET'
        ? new RetryableProviderError(what, retryAfterMs(res.headers['retry-after'], this.now()), code)
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

  private send(req: ProviderRequest): Promise<ProviderResponse> {
    const url = new URL(this.baseUrl + req.path);
    for (const [k, v] of Object.entries(req.query ?? {})) if (v !== undefined) url.searchParams.append(k, v);
    return sendHttp(
      {
        method: req.method,
        url: url.toString(),
        headers: { accept: 'application/json', ...this.options.headers, ...req.headers },
        body: req.body,
      },
      { timeoutMs: this.timeoutMs, dispatcher: this.dispatcher },
    );
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

/**
 * Whether a help-desk ticket is one the appliance opened itself (its `external_id` is our key
 * `recovery-<shop>-<cart>:ticket`): never read as the customer's own question.
 */
export function isOwnTicket(externalId: unknown): boolean {
  return typeof externalId === 'string' && /^recovery-.+:ticket$/.test(externalId);
}

/**
 * A lookup with one attempt and a short timeout: a retryable failure without an HTTP status that
 * came after (about) the whole timeout is named `timeout`, whatever the transport called it.
 */
export async function timedLookup<T>(timeoutMs: number, call: () => Promise<T>): Promise<T> {
  const started = Date.now();
  try {
    return await call();
  } catch (err) {
    if (
      err instanceof RetryableProviderError &&
      !/^\d{3}$/.test(err.code ?? '') &&
      Date.now() - started >= timeoutMs * 0.9
    ) {
      throw new RetryableProviderError(err.message, err.retryAfterMs, 'timeout');
    }
    throw err;
  }
}

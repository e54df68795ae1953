import { createHash } from 'node:crypto';
import {
  errorCodeOf,
  neverSent,
  realSleep,
  retryAfterMs,
  sendHttp,
  withRetries,
  type GiveUp,
  type HttpResponse,
  type Sleep,
} from '@reclaim/http';
import { PermanentProviderError, ProviderOutcomeUnknownError, RetryableProviderError } from '@reclaim/ports';

/**
 * The store-API (commerce, connection, thin-webhook) face of the one outside-call helper
 * (`@reclaim/http`): per-attempt timeout, retries of 429 / 5xx / connection failures with
 * exponential backoff that never waits less than `Retry-After`, a bounded total wait, and the
 * engine's typed provider errors. Nothing here logs; error messages carry the operation name and
 * status only (never a URL with credentials, a token or a body).
 */
export interface StoreHttpOptions {
  /** Per attempt: connect + headers + body. Default 10 s. */
  readonly timeoutMs?: number;
  /** Attempts in all, the first included. Default 4. */
  readonly maxAttempts?: number;
  /** Total time we are willing to wait between attempts of one call. Default 30 s. */
  readonly maxTotalDelayMs?: number;
  /** First backoff step (doubles each time, with jitter). Default 250 ms. */
  readonly baseDelayMs?: number;
  /** Injected for tests; defaults to a real timer. */
  readonly sleep?: Sleep;
  readonly random?: () => number;
  readonly now?: () => Date;
}

export interface StoreHttpRequest {
  readonly method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: string;
  /** Safe to send again after a timeout (reads, GraphQL queries). Writes that time out are `ProviderOutcomeUnknownError`. */
  readonly idempotent: boolean;
  /** Operation name for error messages: never personal data. */
  readonly what: string;
}

export type StoreHttpResponse = HttpResponse;

/** What a 2xx body may still say: "throttled, come back in N ms" (Shopify's `THROTTLED`). */
export type BodyRetry = { readonly retryAfterMs?: number; readonly code: string } | undefined;

export interface StoreHttpHooks {
  /** Milliseconds to hold the next request back (a quota known to be exhausted), or 0. */
  readonly holdFor?: (url: string, now: Date) => number;
  /** Sees every response (quota headers). */
  readonly observe?: (url: string, res: StoreHttpResponse, now: Date) => void;
  /** A 2xx answer that is a throttle in disguise. */
  readonly bodyRetry?: (res: StoreHttpResponse) => BodyRetry;
  /** The wait a 429/5xx asks for when it sends no `Retry-After` (e.g. a quota reset header). */
  readonly serverWait?: (res: StoreHttpResponse, now: Date) => number | undefined;
}

export class StoreHttpClient {
  private readonly timeoutMs: number;
  private readonly maxAttempts: number;
  private readonly maxTotalDelayMs: number;
  private readonly baseDelayMs: number;
  private readonly sleep: Sleep;
  private readonly random: () => number;
  readonly now: () => Date;

  constructor(
    options: StoreHttpOptions = {},
    private readonly hooks: StoreHttpHooks = {},
  ) {
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.maxAttempts = Math.max(1, options.maxAttempts ?? 4);
    this.maxTotalDelayMs = options.maxTotalDelayMs ?? 30_000;
    this.baseDelayMs = options.baseDelayMs ?? 250;
    this.sleep = options.sleep ?? realSleep;
    this.random = options.random ?? Math.random;
    this.now = options.now ?? (() => new Date());
  }

  /**
   * Sends until an answer that is neither 429 nor 5xx (returned as is, whatever its status), or
   * throws: `RetryableProviderError` (budget used up, or a `Retry-After` beyond it — carrying the
   * wait), `ProviderOutcomeUnknownError` (a non-idempotent request sent without an answer).
   * `giveUp` replaces the first of these with the caller's own error.
   */
  send(
    req: StoreHttpRequest,
    giveUp: (g: GiveUp) => Error = (g) => storeGiveUp(req.what, g),
  ): Promise<StoreHttpResponse> {
    return withRetries<StoreHttpResponse>(
      async ({ hold }) => {
        const holdMs = this.hooks.holdFor?.(req.url, this.now()) ?? 0;
        if (!(await hold(holdMs))) {
          throw new RetryableProviderError(`${req.what}: request quota exhausted`, holdMs, 'quota-exhausted');
        }
        let res: StoreHttpResponse;
        try {
          res = await sendHttp(req, { timeoutMs: this.timeoutMs });
        } catch (err) {
          const code = errorCodeOf(err);
          // Sent (or possibly sent) and no answer: a write may have been applied.
          if (!neverSent(err) && !req.idempotent) {
            throw new ProviderOutcomeUnknownError(`${req.what}: no answer (${code ?? 'timeout'})`);
          }
          return { ok: false, failure: { problem: code ?? 'timeout' } };
        }
        this.hooks.observe?.(req.url, res, this.now());
        const status = res.status;
        if (status >= 200 && status < 300) {
          const again = this.hooks.bodyRetry?.(res);
          if (again === undefined) return { ok: true, value: res };
          return { ok: false, failure: { problem: again.code, waitMs: again.retryAfterMs, status } };
        }
        if (status === 429 || status >= 500) {
          const waitMs =
            retryAfterMs(res.headers['retry-after'], this.now()) ?? this.hooks.serverWait?.(res, this.now());
          return { ok: false, failure: { problem: `${status}`, waitMs, status } };
        }
        return { ok: true, value: res };
      },
      {
        policy: { maxAttempts: this.maxAttempts, baseDelayMs: this.baseDelayMs, maxTotalWaitMs: this.maxTotalDelayMs },
        timing: { sleep: this.sleep, random: this.random },
        giveUp,
      },
    );
  }
}

/** The store client's error when retrying stops: retryable later, with the wait when one is known. */
function storeGiveUp(what: string, g: GiveUp): RetryableProviderError {
  const { problem, waitMs } = g.last;
  return g.why === 'attempts'
    ? new RetryableProviderError(`${what}: still failing after ${g.attempts} attempt(s) (${problem})`, waitMs, problem)
    : new RetryableProviderError(`${what}: ${problem}, next wait beyond the budget`, g.nextWaitMs, problem);
}

/** 401 / 403 and other refusals every store answers alike. */
export function authError(what: string, status: number): PermanentProviderError {
  return new PermanentProviderError(`${what}: the store refused the API credentials (${status})`, `auth-${status}`);
}

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/**
 * The discount code for an idempotency key: `RECLAIM-` + 16 base32 characters (80 bits) of its
 * SHA-256. Deterministic, so a retry after an unknown outcome looks up the code it may already
 * have created instead of creating a second one; unguessable from outside without the key.
 */
export function discountCodeFor(idempotencyKey: string): string {
  const digest = createHash('sha256').update(idempotencyKey, 'utf8').digest();
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of digest) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5 && out.length < 16) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
    value &= 0xff;
    if (out.length >= 16) break;
  }
  return `RECLAIM-${out}`;
}

/** Title / name / description Reclaim gives the discounts it creates: how a found code is known to be ours. */
export function discountMarkerFor(code: string): string {
  return `Reclaim recovery ${code}`;
}

/** The platform's customer id behind a `p-<id>` customer key, when the key is one. */
export function platformCustomerIdOf(customerKey: string | undefined): string | undefined {
  const m = customerKey !== undefined ? /^p-([0-9]{1,20})$/.exec(customerKey) : null;
  return m?.[1];
}

/** A whole percentage in (0, 100]; anything else is refused before any call. */
export function checkPercent(percent: number): void {
  if (!Number.isFinite(percent) || percent <= 0 || percent > 100) {
    throw new PermanentProviderError(`discount percent out of range (${String(percent)})`, 'invalid-percent');
  }
}

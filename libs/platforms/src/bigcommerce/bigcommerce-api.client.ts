import { request } from 'undici';
import { arrOf, isObject, parseJsonLossless } from '../common';

export class BigCommerceApiError extends Error {
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'BigCommerceApiError';
  }
}
/** The resource does not exist (a cart that is gone → DeleteCart). */
export class BigCommerceNotFoundError extends BigCommerceApiError {
  constructor(readonly resource: string) {
    super(`${resource} not found`, 404);
    this.name = 'BigCommerceNotFoundError';
  }
}
/** 401/403: the token is wrong or lacks a scope. Not retried. */
export class BigCommerceAuthError extends BigCommerceApiError {
  constructor(status: number) {
    super(`BigCommerce refused the token (${status})`, status);
    this.name = 'BigCommerceAuthError';
  }
}
/** Retries (429, 5xx, timeouts, network errors) used up the budget. */
export class BigCommerceRetryBudgetExhaustedError extends BigCommerceApiError {
  constructor(
    readonly attempts: number,
    readonly lastProblem: string,
    status?: number,
  ) {
    super(`BigCommerce still failing after ${attempts} attempt(s): ${lastProblem}`, status);
    this.name = 'BigCommerceRetryBudgetExhaustedError';
  }
}
/** Any other 4xx, or a body that is not the JSON we expect. */
export class BigCommerceBadResponseError extends BigCommerceApiError {
  constructor(message: string, status?: number) {
    super(message, status);
    this.name = 'BigCommerceBadResponseError';
  }
}

export interface BigCommerceApiClientOptions {
  /** Per attempt: connect + headers + body. Default 10 s. */
  readonly timeoutMs?: number;
  /** Attempts in all, the first included. Default 4. */
  readonly maxAttempts?: number;
  /** Total time we are willing to wait between attempts. Default 30 s. */
  readonly maxTotalDelayMs?: number;
  /** First backoff step for 5xx/timeouts (doubles each time, with jitter). Default 250 ms. */
  readonly baseDelayMs?: number;
  /** Injected for tests; defaults to a real timer. */
  readonly sleep?: (ms: number) => Promise<void>;
  readonly random?: () => number;
  readonly now?: () => Date;
}

export const BIGCOMMERCE_CART_INCLUDE =
  'line_items.physical_items.options,line_items.digital_items.options,redirect_urls';

const defaultSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Milliseconds to wait from `Retry-After` (seconds or HTTP date) or `X-Rate-Limit-Time-Reset-Ms`. */
export function retryDelayFromHeaders(
  headers: Record<string, string | string[] | undefined>,
  now: Date,
): number | undefined {
  const first = (v: string | string[] | undefined): string | undefined => (Array.isArray(v) ? v[0] : v)?.trim();
  const resetMs = first(headers['x-rate-limit-time-reset-ms']);
  if (resetMs !== undefined && /^\d{1,9}$/.test(resetMs)) return Number(resetMs);
  const retryAfter = first(headers['retry-after']);
  if (retryAfter === undefined) return undefined;
  if (/^\d{1,9}$/.test(retryAfter)) return Number(retryAfter) * 1000;
  const at = Date.parse(retryAfter);
  return Number.isFinite(at) ? Math.max(0, at - now.getTime()) : undefined;
}

/**
 * BigCommerce REST client for the webhook follow-up fetches. `apiUrl` is
 * `https://api.bigcommerce.com/stores/<store hash>`. Bodies are parsed losslessly.
 */
export class BigCommerceApiClient {
  private readonly timeoutMs: number;
  private readonly maxAttempts: number;
  private readonly maxTotalDelayMs: number;
  private readonly baseDelayMs: number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly random: () => number;
  private readonly now: () => Date;

  constructor(options: BigCommerceApiClientOptions = {}) {
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.maxAttempts = Math.max(1, options.maxAttempts ?? 4);
    this.maxTotalDelayMs = options.maxTotalDelayMs ?? 30_000;
    this.baseDelayMs = options.baseDelayMs ?? 250;
    this.sleep = options.sleep ?? defaultSleep;
    this.random = options.random ?? Math.random;
    this.now = options.now ?? (() => new Date());
  }

  /** Fetches what a thin webhook points at: cart body, `{ order, products }`, or the customer object. */
  get(apiUrl: string, token: string, type: 'cart' | 'order' | 'customer', id: string): Promise<unknown> {
    if (type === 'cart') return this.getCart(apiUrl, token, id);
    if (type === 'order') return this.getOrder(apiUrl, token, id);
    return this.getCustomer(apiUrl, token, id);
  }

  /** `GET /v3/carts/{id}` with line item options and redirect URLs: the full `{ data, meta }` body. */
  getCart(apiUrl: string, token: string, cartId: string): Promise<unknown> {
    return this.getJson(
      apiUrl,
      token,
      `/v3/carts/${encodeURIComponent(cartId)}?include=${BIGCOMMERCE_CART_INCLUDE}`,
      `cart ${cartId}`,
    );
  }

  /** `GET /v2/orders/{id}` plus `/v2/orders/{id}/products`: `{ order, products }`. */
  async getOrder(apiUrl: string, token: string, orderId: string): Promise<{ order: unknown; products: unknown[] }> {
    const id = encodeURIComponent(orderId);
    const order = await this.getJson(apiUrl, token, `/v2/orders/${id}`, `order ${orderId}`);
    const products = await this.getJson(apiUrl, token, `/v2/orders/${id}/products`, `order ${orderId} products`);
    return { order, products: arrOf(products) };
  }

  /** `GET /v3/customers?id:in={id}`: the one customer object (NotFound when the list is empty). */
  async getCustomer(apiUrl: string, token: string, customerId: string): Promise<unknown> {
    const body = await this.getJson(
      apiUrl,
      token,
      `/v3/customers?id:in=${encodeURIComponent(customerId)}`,
      `customer ${customerId}`,
    );
    const list = isObject(body) ? arrOf(body['data']) : [];
    if (list.length === 0) throw new BigCommerceNotFoundError(`customer ${customerId}`);
    return list[0];
  }

  private async getJson(apiUrl: string, token: string, path: string, what: string): Promise<unknown> {
    const url = `${apiUrl.replace(/\/+$/, '')}${path}`;
    let waited = 0;
    let lastProblem = 'no attempt made';
    let lastStatus: number | undefined;
    for (let attempt = 1; attempt <= this.maxAttempts; attempt++) {
      let retryAfterMs: number | undefined;
      try {
        const res = await request(url, {
          method: 'GET',
          headers: { 'x-auth-token': token, accept: 'application/json' },
          headersTimeout: this.timeoutMs,
          bodyTimeout: this.timeoutMs,
          signal: AbortSignal.timeout(this.timeoutMs),
        });
        const text = await res.body.text();
        const status = res.statusCode;
        if (status >= 200 && status < 300) {
          if (text.trim() === '') return null;
          try {
            return parseJsonLossless(text);
          } catch {
            throw new BigCommerceBadResponseError(`${what}: response is not JSON`, status);
          }
        }
        if (status === 404) throw new BigCommerceNotFoundError(what);
        if (status === 401 || status === 403) throw new BigCommerceAuthError(status);
        if (status !== 429 && status < 500)
          throw new BigCommerceBadResponseError(`${what}: unexpected status ${status}`, status);
        lastStatus = status;
        lastProblem = `status ${status}`;
        retryAfterMs = retryDelayFromHeaders(res.headers, this.now());
      } catch (err) {
        if (err instanceof BigCommerceApiError) throw err;
        lastStatus = undefined;
        lastProblem = err instanceof Error && err.name ? `${err.name}` : 'network error';
      }
      if (attempt === this.maxAttempts) break;
      const backoff = this.baseDelayMs * 2 ** (attempt - 1) * (0.5 + this.random() / 2);
      const delay = Math.ceil(Math.max(retryAfterMs ?? 0, backoff));
      if (waited + delay > this.maxTotalDelayMs) {
        throw new BigCommerceRetryBudgetExhaustedError(
          attempt,
          `${lastProblem}; next wait ${delay} ms exceeds the budget`,
          lastStatus,
        );
      }
      waited += delay;
      await this.sleep(delay);
    }
    throw new BigCommerceRetryBudgetExhaustedError(this.maxAttempts, lastProblem, lastStatus);
  }
}

import { arrOf, isObject, parseJsonLossless } from '../common';
import { StoreHttpClient, type StoreHttpOptions, type StoreHttpResponse } from '../common/store-http';

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

/** Timeouts and retry budget of the store HTTP client (defaults: 10 s, 4 attempts, 30 s of waits, 250 ms first step). */
export type BigCommerceApiClientOptions = StoreHttpOptions;

export const BIGCOMMERCE_CART_INCLUDE =
  'line_items.physical_items.options,line_items.digital_items.options,redirect_urls';

/** The wait a BigCommerce 429 asks for in `X-Rate-Limit-Time-Reset-Ms` (used when there is no `Retry-After`). */
export function bigCommerceResetWait(res: StoreHttpResponse): number | undefined {
  const reset = res.headers['x-rate-limit-time-reset-ms']?.trim();
  return reset !== undefined && /^\d{1,9}$/.test(reset) ? Number(reset) : undefined;
}

/**
 * BigCommerce REST client for the webhook follow-up fetches. `apiUrl` is
 * `https://api.bigcommerce.com/stores/<store hash>`. Bodies are parsed losslessly.
 */
export class BigCommerceApiClient {
  private readonly http: StoreHttpClient;

  constructor(options: BigCommerceApiClientOptions = {}) {
    this.http = new StoreHttpClient(options, { serverWait: bigCommerceResetWait });
  }

  /** Fetches what a thin webhook points at: cart body, `{ order, products }`, or the customer object. */
  get(apiUrl: string, token: string, type: 'cart' | 'order' | 'customer', id: string): Promise<unknown> {
    if (type === 'cart') return this.getCart(apiUrl, token, id);
    if (type === 'order') return this.getOrder(apiUrl, token, id);
    return this.getCustomer(apiUrl, token, id);
  }

  /**
   * `GET /v3/carts/{id}` with line item options and redirect URLs: the full `{ data, meta }` body,
   * plus the cart's checkout (`GET /v3/checkouts/{id}`, the same id) as `checkout` when the store
   * gives it: its billing address and consignments (shipping address, chosen shipping option) tell
   * how far the shopper got. A checkout the token may not read (no `store_checkouts_read_only`
   * scope) or that does not exist yet leaves `checkout` out; the cart alone is mapped then.
   */
  async getCart(apiUrl: string, token: string, cartId: string): Promise<unknown> {
    const id = encodeURIComponent(cartId);
    const cart = await this.getJson(
      apiUrl,
      token,
      `/v3/carts/${id}?include=${BIGCOMMERCE_CART_INCLUDE}`,
      `cart ${cartId}`,
    );
    if (!isObject(cart)) return cart;
    try {
      const checkout = await this.getJson(apiUrl, token, `/v3/checkouts/${id}`, `checkout ${cartId}`);
      return isObject(checkout) ? { ...cart, checkout } : cart;
    } catch (err) {
      if (err instanceof BigCommerceNotFoundError || err instanceof BigCommerceAuthError) return cart;
      throw err;
    }
  }

  /** `GET /v2/orders/{id}` plus `/v2/orders/{id}/products`: `{ order, products }`. */
  async getOrder(apiUrl: string, token: string, orderId: string): Promise<{ order: unknown; products: unknown[] }> {
    const id = encodeURIComponent(orderId);
    const order = await this.getJson(apiUrl, token, `/v2/orders/${id}`, `order ${orderId}`);
    const products = await this.getJson(apiUrl, token, `/v2/orders/${id}/products`, `order ${orderId} products`);
    return { order, products: arrOf(products) };
  }

  /** `GET /v3/customers?id:in={id}&include=addresses`: the one customer object, with its addresses (time zone) (NotFound when the list is empty). */
  async getCustomer(apiUrl: string, token: string, customerId: string): Promise<unknown> {
    const body = await this.getJson(
      apiUrl,
      token,
      `/v3/customers?id:in=${encodeURIComponent(customerId)}&include=addresses`,
      `customer ${customerId}`,
    );
    const list = isObject(body) ? arrOf(body['data']) : [];
    if (list.length === 0) throw new BigCommerceNotFoundError(`customer ${customerId}`);
    return list[0];
  }

  private async getJson(apiUrl: string, token: string, path: string, what: string): Promise<unknown> {
    const res = await this.http.send(
      {
        method: 'GET',
        url: `${apiUrl.replace(/\/+$/, '')}${path}`,
        headers: { 'x-auth-token': token, accept: 'application/json' },
        idempotent: true,
        what,
      },
      (g) =>
        new BigCommerceRetryBudgetExhaustedError(
          g.attempts,
          g.why === 'attempts'
            ? problemOf(g.last)
            : `${problemOf(g.last)}; next wait ${g.nextWaitMs} ms exceeds the budget`,
          g.last.status,
        ),
    );
    const status = res.status;
    if (status >= 200 && status < 300) {
      if (res.text.trim() === '') return null;
      try {
        return parseJsonLossless(res.text);
      } catch {
        throw new BigCommerceBadResponseError(`${what}: response is not JSON`, status);
      }
    }
    if (status === 404) throw new BigCommerceNotFoundError(what);
    if (status === 401 || status === 403) throw new BigCommerceAuthError(status);
    throw new BigCommerceBadResponseError(`${what}: unexpected status ${status}`, status);
  }
}

function problemOf(f: { readonly problem: string; readonly status?: number }): string {
  return f.status !== undefined ? `status ${f.status}` : f.problem;
}

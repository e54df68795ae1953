import { timingSafeEqual } from 'node:crypto';
import {
  StoreConnectionError,
  type CredentialCheck,
  type PlatformSubscription,
  type StoreAccess,
  type StoreConnectionPort,
  type WantedSubscription,
} from '@reclaim/ports';
import { CONNECTION_HTTP_OPTIONS, expectFromStore, sendJsonToStore } from '../../common/connection-http';
import { arrOf, objOf, strOf, type JsonObject } from '../../common/lossless-json';
import { StoreHttpClient, type StoreHttpOptions, type StoreHttpResponse } from '../../common/store-http';
import { BIGCOMMERCE_HEADERS } from '../bigcommerce-webhook.adapter';
import { bigCommerceStoreBase } from '../commerce/bigcommerce-commerce.adapter';

/** Webhook scopes the appliance subscribes to (`/v3/hooks`). */
export const BIGCOMMERCE_HOOK_SCOPES = [
  'store/cart/*',
  'store/cart/lineItem/*',
  'store/order/created',
  'store/customer/*',
  // Back in stock: inventory of products and variants (SKUs).
  'store/product/inventory/updated',
  'store/sku/inventory/updated',
] as const;

/**
 * OAuth scopes of the API account, each proven by a request that changes nothing: BigCommerce
 * has no endpoint listing a token's scopes, and answers 403 to a request outside them.
 */
export const BIGCOMMERCE_SCOPE_PROBES: readonly {
  readonly scope: string;
  readonly method: 'GET' | 'POST';
  readonly path: string;
  /** Statuses proving the scope (a 404 or a validation error came after the scope check). */
  readonly ok: readonly number[];
}[] = [
  { scope: 'store_v2_products_read_only', method: 'GET', path: '/v3/catalog/products?limit=1', ok: [200] },
  { scope: 'store_cart_read_only', method: 'GET', path: `/v3/carts/00000000-0000-4000-8000-000000000000`, ok: [404] },
  // The cart's checkout (GET /v3/checkouts/{id}) tells the checkout stage (address, shipping option).
  {
    scope: 'store_checkouts_read_only',
    method: 'GET',
    path: `/v3/checkouts/00000000-0000-4000-8000-000000000000`,
    ok: [404],
  },
  { scope: 'store_v2_orders_read_only', method: 'GET', path: '/v2/orders?limit=1', ok: [200, 204] },
  { scope: 'store_v2_customers_read_only', method: 'GET', path: '/v3/customers?limit=1', ok: [200] },
  // An empty coupon is refused by validation (400) only once the modify scope is granted.
  { scope: 'store_v2_marketing', method: 'POST', path: '/v2/coupons', ok: [400] },
];

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * BigCommerce store API: scopes probed one by one, hooks managed with `/v3/hooks`. Each hook
 * carries the shop's webhook secret as the custom header the webhook route accepts
 * (`X-Reclaim-Webhook-Secret`), so a rotated secret shows as drift and a repair updates it.
 */
export class BigCommerceConnectionAdapter implements StoreConnectionPort {
  private readonly http: StoreHttpClient;

  constructor(options: StoreHttpOptions = CONNECTION_HTTP_OPTIONS) {
    this.http = new StoreHttpClient(options);
  }

  wanted(_access: StoreAccess, publicUrl: string): WantedSubscription[] {
    const address = `${publicUrl}/webhooks/bigcommerce`;
    return BIGCOMMERCE_HOOK_SCOPES.map((topic) => ({ topic, address }));
  }

  async verify(access: StoreAccess): Promise<CredentialCheck> {
    const granted: string[] = [];
    const missing: string[] = [];
    for (const probe of BIGCOMMERCE_SCOPE_PROBES) {
      const res = await this.send(access, probe.method, probe.path, probe.method === 'POST' ? {} : undefined);
      if (probe.ok.includes(res.status)) granted.push(probe.scope);
      else if (res.status === 403) missing.push(probe.scope);
      else if (res.status === 404) {
        throw new StoreConnectionError('unreachable', 'bigcommerce store API not found at apiUrl (404)');
      } else {
        throw new StoreConnectionError(
          'bad-response',
          `bigcommerce ${probe.method} ${probe.path.split('?')[0]} answered ${res.status}`,
        );
      }
    }
    if (missing.length > 0) {
      throw new StoreConnectionError('missing-scope', `missing scope ${missing.join(', ')}`, missing);
    }
    return { required: BIGCOMMERCE_SCOPE_PROBES.map((p) => p.scope), granted };
  }

  async list(access: StoreAccess): Promise<PlatformSubscription[]> {
    const out: PlatformSubscription[] = [];
    for (let page = 1; page <= 20; page++) {
      const res = await this.send(access, 'GET', `/v3/hooks?limit=250&page=${page}`);
      const body = objOf(this.expect(res, [200], 'list hooks'));
      for (const hook of arrOf(body?.['data'])) out.push(this.toSubscription(access, objOf(hook)));
      const pagination = objOf(objOf(body?.['meta'])?.['pagination']);
      const total = Number(strOf(pagination?.['total_pages']) ?? '1');
      if (!Number.isFinite(total) || page >= total) break;
    }
    return out;
  }

  async create(access: StoreAccess, wanted: WantedSubscription): Promise<PlatformSubscription> {
    const res = await this.send(access, 'POST', '/v3/hooks', this.body(access, wanted));
    const body = objOf(this.expect(res, [200, 201], `create hook ${wanted.topic}`));
    return this.toSubscription(access, objOf(body?.['data']));
  }

  async update(access: StoreAccess, id: string, wanted: WantedSubscription): Promise<PlatformSubscription> {
    const res = await this.send(access, 'PUT', `/v3/hooks/${encodeURIComponent(id)}`, this.body(access, wanted));
    const body = objOf(this.expect(res, [200], `update hook ${wanted.topic}`));
    return this.toSubscription(access, objOf(body?.['data']));
  }

  async remove(access: StoreAccess, id: string): Promise<void> {
    const res = await this.send(access, 'DELETE', `/v3/hooks/${encodeURIComponent(id)}`);
    if (res.status === 404) return;
    this.expect(res, [200, 204], `delete hook ${id}`);
  }

  private body(access: StoreAccess, wanted: WantedSubscription): Record<string, unknown> {
    return {
      scope: wanted.topic,
      destination: wanted.address,
      is_active: true,
      headers: { [BIGCOMMERCE_HEADERS.sharedSecret]: access.webhookSecret },
    };
  }

  private toSubscription(access: StoreAccess, hook: JsonObject | undefined): PlatformSubscription {
    const id = strOf(hook?.['id']);
    const scope = strOf(hook?.['scope']);
    if (id === undefined || scope === undefined) {
      throw new StoreConnectionError('bad-response', 'bigcommerce hook without id or scope');
    }
    const headers = objOf(hook?.['headers']) ?? {};
    const secretKey = Object.keys(headers).find((k) => k.toLowerCase() === BIGCOMMERCE_HEADERS.sharedSecret);
    const secret = secretKey !== undefined ? strOf(headers[secretKey]) : undefined;
    return {
      id,
      topic: scope,
      address: strOf(hook?.['destination']) ?? '',
      format: 'json',
      active: hook?.['is_active'] !== false,
      secret: secret !== undefined && sameSecret(secret, access.webhookSecret) ? 'current' : 'other',
    };
  }

  private expect(res: StoreHttpResponse, ok: readonly number[], what: string): unknown {
    return expectFromStore(res, ok, `bigcommerce ${what}`, { refusedStatuses: [400, 409, 422] });
  }

  private send(
    access: StoreAccess,
    method: 'GET' | 'POST' | 'PUT' | 'DELETE',
    path: string,
    body?: unknown,
  ): Promise<StoreHttpResponse> {
    const url = `${bigCommerceStoreBase(access.apiUrl)}${path}`;
    return sendJsonToStore(this.http, 'bigcommerce', { method, url, auth: { 'x-auth-token': access.apiToken }, body });
  }
}

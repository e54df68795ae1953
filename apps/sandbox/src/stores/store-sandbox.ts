import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { timingSafeEqual } from 'node:crypto';
import {
  handleBigCommerce,
  newBigCommerceState,
  type BigCommerceConfig,
  type BigCommerceState,
} from './bigcommerce-api';
import { BIGCOMMERCE_SANDBOX_SCOPES } from './bigcommerce-hooks';
import { Catalogue, type CatalogueItem, type ItemRef, type ProductRelations } from './catalogue';
import {
  handleShopify,
  handleShopifyOrderCreate,
  newShopifyState,
  SHOPIFY_SANDBOX_SCOPES,
  shopifyOperationOf,
  type ShopifyConfig,
  type ShopifyState,
} from './shopify-admin';
import {
  FaultBook,
  faultReply,
  matches,
  plainHeaders,
  readBody,
  redactHeaders,
  send,
  type ReceivedFilter,
  type ReceivedRequest,
  type StoreCall,
  type StoreFault,
  type StorePlatform,
  type StoreReply,
} from './store-http';
import { handleShopifyStorefront } from './shopify-storefront';
import { handleWooCommerce, newWooState, type WooConfig, type WooState } from './woocommerce-api';

/** Credentials the stand-ins accept unless told otherwise (sandbox only: not secrets). */
export const SANDBOX_CREDENTIALS = {
  shopify: 'shpat_sandbox_0000000000000000',
  bigcommerce: 'sandbox-bigcommerce-token',
  woocommerce: 'ck_sandbox0000000000:cs_sandbox0000000000',
} as const;

export const SANDBOX_SHOPIFY_API_VERSION = '2025-10';
export const SANDBOX_BIGCOMMERCE_STORE_HASH = 'sandbox1';

export interface StoreSandboxOptions {
  readonly catalogue?: readonly CatalogueItem[];
  /** 0 (default) = a free port. */
  readonly port?: number;
  readonly host?: string;
  readonly credentials?: Partial<Record<StorePlatform, string>>;
  /** The stores' clock (expiry checks, quota windows, cost bucket). Default: real time. */
  readonly now?: () => Date;
  readonly shopify?: Partial<Pick<ShopifyConfig, 'maximumAvailable' | 'restoreRate' | 'scopes'>>;
  readonly bigcommerce?: Partial<Pick<BigCommerceConfig, 'quota' | 'windowMs' | 'scopes' | 'promotions'>>;
  readonly woocommerce?: Partial<Pick<WooConfig, 'permissions'>>;
}

export interface StoreSandbox {
  /** Each is a shop's `apiUrl` for that platform. */
  readonly urls: { readonly shopify: string; readonly bigcommerce: string; readonly woocommerce: string };
  readonly base: string;
  readonly catalogue: Catalogue;
  readonly credentials: Readonly<Record<StorePlatform, string>>;
  setStock(ref: ItemRef, stock: number | null): void;
  setPrice(ref: ItemRef, price: string, salePrice?: string): void;
  /** What the stores suggest for a product (Shopify recommendations, BigCommerce related, WooCommerce related/up-sell/cross-sell). */
  setRelations(productId: string, relations: ProductRelations): void;
  /** What the stand-ins received (credentials redacted), oldest first. */
  received(filter?: ReceivedFilter): ReceivedRequest[];
  fault(fault: StoreFault): void;
  clearFaults(): void;
  /** BigCommerce resources for the webhook side's follow-up fetches. */
  seedBigCommerce(seed: {
    carts?: Record<string, unknown>;
    /** `GET /v3/checkouts/{id}` bodies (`{ data: { billing_address, consignments, … } }`) by cart id. */
    checkouts?: Record<string, unknown>;
    orders?: Record<string, { order: unknown; products: unknown[] }>;
    customers?: Record<string, unknown>;
  }): void;
  readonly state: {
    readonly shopify: ShopifyState;
    readonly bigcommerce: BigCommerceState;
    readonly woocommerce: WooState;
  };
  stop(): Promise<void>;
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

interface Routed {
  platform: StorePlatform;
  path: string;
  version?: string;
  /** Shopify's Storefront API (`/api/<version>/graphql.json` on the shop's domain), not the Admin API. */
  storefront?: boolean;
}

function routeOf(pathname: string): Routed | undefined {
  let m = /^\/shopify\/admin\/api\/(\d{4}-\d{2}|unstable)(\/.*)$/.exec(pathname);
  if (m) return { platform: 'shopify', version: m[1] as string, path: m[2] as string };
  m = /^\/shopify\/api\/(\d{4}-\d{2}|unstable)(\/.*)$/.exec(pathname);
  if (m) return { platform: 'shopify', version: m[1] as string, path: m[2] as string, storefront: true };
  m = new RegExp(`^/bigcommerce/stores/${SANDBOX_BIGCOMMERCE_STORE_HASH}(/.*)$`).exec(pathname);
  if (m) return { platform: 'bigcommerce', path: m[1] as string };
  m = /^\/woocommerce\/wp-json\/wc\/v3(\/.*)$/.exec(pathname);
  if (m) return { platform: 'woocommerce', path: m[1] as string };
  return undefined;
}

/**
 * Starts the Shopify Admin (GraphQL and REST `orders.json`), BigCommerce and WooCommerce stand-ins on one local HTTP
 * server (each under its own prefix; `urls` are the shops' `apiUrl`s). Control endpoints:
 * `GET /__sandbox/requests`, `POST /__sandbox/faults` (a {@link StoreFault}), `DELETE /__sandbox/faults`,
 * `POST /__sandbox/stock` `{ productId, variantId?, stock }`, `POST /__sandbox/relations` `{ productId, related?, upsells?, crossSells? }`, `POST /__sandbox/price` `{ productId, variantId?, price, salePrice? }`.
 */
export async function startStoreSandbox(options: StoreSandboxOptions = {}): Promise<StoreSandbox> {
  const catalogue = new Catalogue(options.catalogue);
  const now = options.now ?? (() => new Date());
  const credentials: Record<StorePlatform, string> = { ...SANDBOX_CREDENTIALS, ...(options.credentials ?? {}) };
  const shopifyConfig: ShopifyConfig = {
    accessToken: credentials.shopify,
    maximumAvailable: options.shopify?.maximumAvailable ?? 1000,
    restoreRate: options.shopify?.restoreRate ?? 50,
    scopes: options.shopify?.scopes ?? SHOPIFY_SANDBOX_SCOPES,
  };
  const bigcommerceConfig: BigCommerceConfig = {
    accessToken: credentials.bigcommerce,
    quota: options.bigcommerce?.quota ?? 150,
    windowMs: options.bigcommerce?.windowMs ?? 30_000,
    scopes: options.bigcommerce?.scopes ?? BIGCOMMERCE_SANDBOX_SCOPES,
    storeHash: SANDBOX_BIGCOMMERCE_STORE_HASH,
    ...(options.bigcommerce?.promotions !== undefined ? { promotions: options.bigcommerce.promotions } : {}),
  };
  const state = {
    shopify: newShopifyState(shopifyConfig),
    bigcommerce: newBigCommerceState(),
    woocommerce: newWooState(),
  };
  const faults = new FaultBook();
  const log: ReceivedRequest[] = [];
  const sockets = new Set<Socket>();
  let base = '';

  const authorized = (platform: StorePlatform, headers: Record<string, string>): boolean => {
    if (platform === 'shopify') return safeEqual(headers['x-shopify-access-token'] ?? '', credentials.shopify);
    if (platform === 'bigcommerce') return safeEqual(headers['x-auth-token'] ?? '', credentials.bigcommerce);
    const auth = /^Basic ([A-Za-z0-9+/=]+)$/.exec(headers['authorization'] ?? '')?.[1];
    return auth !== undefined && safeEqual(Buffer.from(auth, 'base64').toString('utf8'), credentials.woocommerce);
  };

  const control = async (req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> => {
    const text = req.method === 'POST' ? await readBody(req) : '';
    let body: Record<string, unknown> = {};
    try {
      body = text === '' ? {} : (JSON.parse(text) as Record<string, unknown>);
    } catch {
      return send(res, { status: 400, body: { error: 'invalid JSON' } });
    }
    try {
      if (url.pathname === '/__sandbox/requests' && req.method === 'GET') {
        const filter: ReceivedFilter = {
          ...(url.searchParams.get('platform') ? { platform: url.searchParams.get('platform') as StorePlatform } : {}),
          ...(url.searchParams.get('path') ? { path: url.searchParams.get('path') as string } : {}),
          ...(url.searchParams.get('operation') ? { operation: url.searchParams.get('operation') as string } : {}),
        };
        return send(res, { status: 200, body: log.filter((r) => matches(r, filter)) });
      }
      if (url.pathname === '/__sandbox/faults' && req.method === 'POST') {
        faults.add(body as unknown as StoreFault);
        return send(res, { status: 201, body: { ok: true } });
      }
      if (url.pathname === '/__sandbox/faults' && req.method === 'DELETE') {
        faults.clear();
        return send(res, { status: 204 });
      }
      if (url.pathname === '/__sandbox/stock' && req.method === 'POST') {
        catalogue.setStock(body as unknown as ItemRef, (body['stock'] ?? null) as number | null);
        return send(res, { status: 200, body: { ok: true } });
      }
      if (url.pathname === '/__sandbox/relations' && req.method === 'POST') {
        const { productId, ...relations } = body;
        catalogue.setRelations(String(productId), relations as ProductRelations);
        return send(res, { status: 200, body: { ok: true } });
      }
      if (url.pathname === '/__sandbox/price' && req.method === 'POST') {
        catalogue.setPrice(body as unknown as ItemRef, String(body['price']), body['salePrice'] as string | undefined);
        return send(res, { status: 200, body: { ok: true } });
      }
    } catch (err) {
      return send(res, { status: 400, body: { error: err instanceof Error ? err.message : 'bad request' } });
    }
    send(res, { status: 404, body: { error: 'unknown sandbox endpoint' } });
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://sandbox.local');
    if (url.pathname.startsWith('/__sandbox/')) return control(req, res, url);
    const routed = routeOf(url.pathname);
    if (routed === undefined) return send(res, { status: 404, body: { error: 'no such store API' } });
    const rawBody = await readBody(req);
    let json: unknown;
    if (rawBody !== '') {
      try {
        json = JSON.parse(rawBody);
      } catch (err) {
        json = err instanceof SyntaxError ? err : new SyntaxError('invalid JSON');
      }
    }
    const headers = plainHeaders(req.headers);
    const call: StoreCall = {
      platform: routed.platform,
      method: (req.method ?? 'GET').toUpperCase(),
      path: routed.path,
      query: Object.fromEntries(url.searchParams.entries()),
      headers,
      rawBody,
      json,
      authorized: authorized(routed.platform, headers),
    };
    if (routed.platform === 'shopify') {
      const op = shopifyOperationOf(json);
      if (op !== undefined) call.operation = op;
    }
    const record = (status: number): void => {
      log.push({
        platform: call.platform,
        method: call.method,
        path: call.path,
        query: call.query,
        headers: redactHeaders(req.headers),
        body: json instanceof SyntaxError ? rawBody : json,
        ...(call.operation !== undefined ? { operation: call.operation } : {}),
        authorized: call.authorized,
        status,
        at: now().toISOString(),
      });
    };
    const fault = faults.take(call);
    if (fault?.kind === 'latency') await new Promise((r) => setTimeout(r, Math.max(0, fault.latencyMs ?? 0)));
    if (fault?.kind === 'reset' || (fault?.kind === 'hang' && fault.when !== 'after')) {
      record(0);
      if (fault.kind === 'reset') req.socket.destroy();
      return; // hang: never answer; the socket is closed by stop()
    }
    if (fault?.kind === 'status') {
      const reply = faultReply(fault);
      record(reply.status);
      return send(res, reply);
    }
    const ctxNow = now();
    let reply: StoreReply;
    if (routed.platform === 'shopify' && routed.storefront === true) {
      reply =
        routed.path === '/graphql.json'
          ? handleShopifyStorefront(call, { catalogue, shopUrl: `${base}/shopify` })
          : { status: 404, body: { errors: 'Not Found' } };
    } else if (routed.platform === 'shopify') {
      if (routed.path === '/orders.json') {
        reply = handleShopifyOrderCreate(call, { catalogue, state: state.shopify, now: ctxNow });
      } else if (!/^\/graphql\.json$/.test(routed.path)) reply = { status: 404, body: { errors: 'Not Found' } };
      else
        reply = handleShopify(call, routed.version ?? SANDBOX_SHOPIFY_API_VERSION, {
          catalogue,
          state: state.shopify,
          config: shopifyConfig,
          now: ctxNow,
        });
    } else if (routed.platform === 'bigcommerce') {
      reply = handleBigCommerce(call, { catalogue, state: state.bigcommerce, config: bigcommerceConfig, now: ctxNow });
    } else {
      reply = handleWooCommerce(call, {
        catalogue,
        state: state.woocommerce,
        config: {
          siteUrl: `${base}/woocommerce`,
          permissions: options.woocommerce?.permissions ?? 'read_write',
        } satisfies WooConfig,
        now: ctxNow,
      });
    }
    record(reply.status);
    if (fault?.kind === 'hang') return; // applied, then never answered
    send(res, reply);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) send(res, { status: 500, body: { error: 'sandbox error' } });
      else res.destroy();
    });
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('store sandbox: no TCP address');
  base = `http://${options.host ?? '127.0.0.1'}:${address.port}`;

  return {
    base,
    urls: {
      shopify: `${base}/shopify/admin/api/${SANDBOX_SHOPIFY_API_VERSION}`,
      bigcommerce: `${base}/bigcommerce/stores/${SANDBOX_BIGCOMMERCE_STORE_HASH}`,
      woocommerce: `${base}/woocommerce`,
    },
    catalogue,
    credentials,
    setStock: (ref, stock) => catalogue.setStock(ref, stock),
    setPrice: (ref, price, salePrice) => catalogue.setPrice(ref, price, salePrice),
    setRelations: (productId, relations) => catalogue.setRelations(productId, relations),
    received: (filter = {}) => log.filter((r) => matches(r, filter)),
    fault: (f) => faults.add(f),
    clearFaults: () => faults.clear(),
    seedBigCommerce: (seed) => {
      for (const [id, cart] of Object.entries(seed.carts ?? {})) state.bigcommerce.carts.set(id, cart);
      for (const [id, c] of Object.entries(seed.checkouts ?? {})) state.bigcommerce.checkouts.set(id, c);
      for (const [id, order] of Object.entries(seed.orders ?? {})) state.bigcommerce.orders.set(id, order);
      for (const [id, customer] of Object.entries(seed.customers ?? {})) state.bigcommerce.customers.set(id, customer);
    },
    state,
    stop: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

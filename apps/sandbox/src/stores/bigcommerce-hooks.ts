import { LosslessNumber } from 'lossless-json';
import type { StoreCall, StoreReply } from './store-http';
import { acceptsDestination } from './webhook-destinations';

/**
 * BigCommerce `/v3/hooks` and OAuth scopes in the stand-in. A token's scopes are checked per
 * endpoint (403 outside them, as BigCommerce answers); a modify scope includes its read-only one.
 * Hooks need the scope of the resource they watch; `destination` must be https (plain http to a
 * loopback host is also taken, for local runs); one hook per scope and destination (422).
 */
export interface BigCommerceHook {
  readonly id: number;
  scope: string;
  destination: string;
  is_active: boolean;
  headers: Record<string, string>;
  readonly created_at: number;
  updated_at: number;
}

/** Every scope the appliance and the simulator use: the stand-in's default grant. */
export const BIGCOMMERCE_SANDBOX_SCOPES = [
  'store_v2_products_read_only',
  'store_cart_read_only',
  'store_checkouts_read_only',
  'store_v2_orders',
  'store_v2_customers_read_only',
  'store_v2_marketing',
] as const;

const DOCS = 'https://developer.bigcommerce.com/api-docs/getting-started/api-status-codes';

function v3Error(status: number, title: string, errors: Record<string, string> = {}): StoreReply {
  return { status, body: { status, title, type: DOCS, errors } };
}

/** `store_v2_orders` grants `store_v2_orders_read_only`. */
function granted(scopes: readonly string[], scope: string): boolean {
  return (
    scopes.includes(scope) || (scope.endsWith('_read_only') && scopes.includes(scope.slice(0, -'_read_only'.length)))
  );
}

function resourceScope(resource: string, write: boolean): string | undefined {
  const base =
    resource === 'catalog'
      ? 'store_v2_products'
      : resource === 'carts' || resource === 'cart'
        ? 'store_cart'
        : resource === 'checkouts'
          ? 'store_checkouts'
          : resource === 'orders' || resource === 'order'
            ? 'store_v2_orders'
            : resource === 'customers' || resource === 'customer'
              ? 'store_v2_customers'
              : resource === 'coupons' || resource === 'promotions'
                ? 'store_v2_marketing'
                : undefined;
  return base === undefined ? undefined : write ? base : `${base}_read_only`;
}

/** 403 when the token lacks the scope the call needs; undefined when allowed. */
export function bigCommerceScopeCheck(call: StoreCall, scopes: readonly string[]): StoreReply | undefined {
  const m = /^\/v[23]\/(catalog|carts|checkouts|orders|customers|coupons|promotions)\b/.exec(call.path);
  const needed = m ? resourceScope(m[1] as string, call.method !== 'GET') : undefined;
  if (needed === undefined || granted(scopes, needed)) return undefined;
  return v3Error(403, "You don't have a required scope to access the endpoint");
}

function hookBody(h: BigCommerceHook, storeHash: string): Record<string, unknown> {
  return {
    id: new LosslessNumber(String(h.id)),
    client_id: 'sandboxclientid0000000000000000',
    store_hash: storeHash,
    scope: h.scope,
    destination: h.destination,
    is_active: h.is_active,
    headers: h.headers,
    created_at: h.created_at,
    updated_at: h.updated_at,
  };
}

const SCOPE = /^store\/[A-Za-z]+(\/[A-Za-z]+)*(\/\*)?$/;

function validate(
  b: Record<string, unknown>,
  partial: boolean,
):
  | { errors: Record<string, string> }
  | { scope?: string; destination?: string; is_active?: boolean; headers?: Record<string, string> } {
  const errors: Record<string, string> = {};
  const scope = b['scope'];
  const destination = b['destination'];
  if (scope === undefined && !partial) errors['scope'] = 'error.path.missing.';
  else if (scope !== undefined && (typeof scope !== 'string' || !SCOPE.test(scope)))
    errors['scope'] = 'error.scope.invalid';
  if (destination === undefined && !partial) errors['destination'] = 'error.path.missing.';
  else if (destination !== undefined) {
    if (typeof destination !== 'string') errors['destination'] = 'error.expected.string';
    else if (acceptsDestination(destination) !== undefined) errors['destination'] = 'error.destination.https.required';
  }
  if (b['is_active'] !== undefined && typeof b['is_active'] !== 'boolean')
    errors['is_active'] = 'error.expected.jsboolean';
  const headers = b['headers'];
  if (
    headers !== undefined &&
    headers !== null &&
    (typeof headers !== 'object' || Array.isArray(headers) || Object.values(headers).some((v) => typeof v !== 'string'))
  ) {
    errors['headers'] = 'error.expected.jsobject';
  }
  if (Object.keys(errors).length > 0) return { errors };
  return {
    ...(typeof scope === 'string' ? { scope } : {}),
    ...(typeof destination === 'string' ? { destination } : {}),
    ...(typeof b['is_active'] === 'boolean' ? { is_active: b['is_active'] } : {}),
    ...(headers !== undefined && headers !== null ? { headers: headers as Record<string, string> } : {}),
  };
}

export function handleBigCommerceHooks(
  call: StoreCall,
  ctx: {
    hooks: Map<number, BigCommerceHook>;
    nextId: () => number;
    scopes: readonly string[];
    storeHash: string;
    now: Date;
  },
): StoreReply | undefined {
  const m = /^\/v3\/hooks(?:\/(\d+))?$/.exec(call.path);
  if (m === null) return undefined;
  const id = m[1] !== undefined ? Number(m[1]) : undefined;
  const { hooks } = ctx;
  const seconds = Math.floor(ctx.now.getTime() / 1000);
  if (call.method === 'GET' && id === undefined) {
    const limit = Math.min(250, Math.max(1, Number(call.query['limit'] ?? '50') || 50));
    const page = Math.max(1, Number(call.query['page'] ?? '1') || 1);
    const all = [...hooks.values()];
    const data = all.slice((page - 1) * limit, page * limit).map((h) => hookBody(h, ctx.storeHash));
    const totalPages = Math.max(1, Math.ceil(all.length / limit));
    return {
      status: 200,
      body: {
        data,
        meta: {
          pagination: {
            total: all.length,
            count: data.length,
            per_page: limit,
            current_page: page,
            total_pages: totalPages,
            links: { current: `?page=${page}&limit=${limit}` },
          },
        },
      },
    };
  }
  const found = id !== undefined ? hooks.get(id) : undefined;
  if (id !== undefined && found === undefined) return v3Error(404, 'The requested resource was not found.');
  if (call.method === 'GET' && found) return { status: 200, body: { data: hookBody(found, ctx.storeHash), meta: {} } };
  if (call.method === 'DELETE' && found) {
    hooks.delete(found.id);
    return { status: 200, body: { data: hookBody(found, ctx.storeHash), meta: {} } };
  }
  if ((call.method === 'POST' && id === undefined) || (call.method === 'PUT' && found)) {
    if (!(call.headers['content-type'] ?? '').startsWith('application/json'))
      return v3Error(415, 'The request content type is not supported. Use application/json.');
    if (
      call.json instanceof SyntaxError ||
      typeof call.json !== 'object' ||
      call.json === null ||
      Array.isArray(call.json)
    )
      return v3Error(422, 'JSON data is missing or invalid', { body: 'error.expected.jsobject' });
    const checked = validate(call.json as Record<string, unknown>, call.method === 'PUT');
    if ('errors' in checked) return v3Error(422, 'JSON data is missing or invalid', checked.errors);
    const scope = checked.scope ?? found?.scope ?? '';
    const resource = /^store\/([A-Za-z]+)/.exec(scope)?.[1] ?? '';
    const needed = resourceScope(resource, false);
    if (needed !== undefined && !granted(ctx.scopes, needed)) {
      return v3Error(403, "You don't have a required scope to access the endpoint");
    }
    const destination = checked.destination ?? found?.destination ?? '';
    if ([...hooks.values()].some((h) => h !== found && h.scope === scope && h.destination === destination)) {
      return v3Error(422, 'A webhook with this scope and destination already exists.', { scope: 'error.duplicate' });
    }
    if (found) {
      found.scope = scope;
      found.destination = destination;
      if (checked.is_active !== undefined) found.is_active = checked.is_active;
      if (checked.headers !== undefined) found.headers = checked.headers;
      found.updated_at = seconds;
      return { status: 200, body: { data: hookBody(found, ctx.storeHash), meta: {} } };
    }
    const hook: BigCommerceHook = {
      id: ctx.nextId(),
      scope,
      destination,
      is_active: checked.is_active ?? true,
      headers: checked.headers ?? {},
      created_at: seconds,
      updated_at: seconds,
    };
    hooks.set(hook.id, hook);
    return { status: 200, body: { data: hookBody(hook, ctx.storeHash), meta: {} } };
  }
  return v3Error(405, 'Method Not Allowed');
}

import { LosslessNumber } from 'lossless-json';
import Decimal from 'decimal.js';
import { allCategories, effectivePrice, type Catalogue, type CatalogueEntry } from './catalogue';
import { bigCommerceScopeCheck, handleBigCommerceHooks, type BigCommerceHook } from './bigcommerce-hooks';
import type { StoreCall, StoreReply } from './store-http';
import {
  handlePromotions,
  promotionAsCoupon,
  promotionRedemptionRefusal,
  type PromotionCode,
  type PromotionsState,
} from './bigcommerce-promotions';

/**
 * BigCommerce stand-in (`/stores/<hash>/v2|v3/...`, `X-Auth-Token`): catalog products with
 * variants, carts / orders / customers for the webhook side's follow-up fetches, v3 promotions with
 * their codes (unique names and codes, 422 naming the field, `max_uses` and `end_date` enforced on
 * redemption; `promotions: false` plays a store without the promotions API, 404) and the legacy v2
 * coupons. Every answer carries the per-window quota headers; an exhausted window answers 429 with
 * `Retry-After`.
 */
export interface BigCommerceState extends PromotionsState {
  readonly coupons: Map<string, Record<string, unknown>>;
  readonly carts: Map<string, unknown>;
  /** `GET /v3/checkouts/{id}` bodies by cart id (a cart without one answers its bare checkout). */
  readonly checkouts: Map<string, unknown>;
  readonly orders: Map<string, { order: unknown; products: unknown[] }>;
  readonly customers: Map<string, unknown>;
  readonly hooks: Map<number, BigCommerceHook>;
  nextHookId: number;
  window: { start: number; used: number };
  nextCouponId: number;
  nextOrderId: number;
}

export interface BigCommerceConfig {
  readonly accessToken: string;
  /** Requests per window and window length (BigCommerce Standard: 150 per 30 s). */
  readonly quota: number;
  readonly windowMs: number;
  /** OAuth scopes of the API account (default {@link BIGCOMMERCE_SANDBOX_SCOPES}). */
  readonly scopes: readonly string[];
  readonly storeHash: string;
  /** False: the store has no promotions API (`/v3/promotions*` answer 404). Default true. */
  readonly promotions?: boolean;
}

export function newBigCommerceState(): BigCommerceState {
  return {
    coupons: new Map(),
    promotions: new Map(),
    promotionCodes: new Map(),
    nextPromotionId: 1,
    carts: new Map(),
    checkouts: new Map(),
    orders: new Map(),
    customers: new Map(),
    hooks: new Map(),
    nextHookId: 18_048_287,
    window: { start: 0, used: 0 },
    nextCouponId: 1,
    nextOrderId: 100,
  };
}

const DOCS = 'https://developer.bigcommerce.com/api-docs/getting-started/api-status-codes';
const num = (s: string): LosslessNumber => new LosslessNumber(s);
const money = (s: string): LosslessNumber => num(new Decimal(s).toFixed(2));

function v3Error(status: number, title: string, errors: Record<string, string> = {}): StoreReply {
  return { status, body: { status, title, type: DOCS, errors } };
}
function v2Error(status: number, message: string): StoreReply {
  return { status, body: [{ status, message }] };
}

function variantBody(e: CatalogueEntry): Record<string, unknown> {
  return {
    id: num(e.variantId ?? e.productId),
    product_id: num(e.productId),
    sku: e.sku,
    price: money(e.price),
    sale_price: e.salePrice !== undefined ? money(e.salePrice) : null,
    calculated_price: money(effectivePrice(e)),
    inventory_level: e.stock ?? 0,
    purchasing_disabled: !e.purchasable,
    purchasing_disabled_message: '',
    option_values: [],
  };
}

function productBody(
  entries: CatalogueEntry[],
  withVariants: boolean,
  related: readonly string[] | undefined,
  catalogue: Catalogue,
): Record<string, unknown> {
  const first = entries[0] as CatalogueEntry;
  const tracked = entries.some((e) => e.stock !== null);
  return {
    id: num(first.productId),
    name: first.title,
    // Category ids, as the catalog API lists them (`GET /v3/catalog/products`, `include_fields=categories`).
    categories: allCategories(catalogue.taxonomyOf(first.productId)).map((n) => catalogue.categoryId(n)),
    type: 'physical',
    sku: entries.length === 1 ? first.sku : '',
    price: money(first.price),
    sale_price: money(first.salePrice ?? '0'),
    calculated_price: money(effectivePrice(first)),
    inventory_tracking: !tracked ? 'none' : entries.length > 1 || first.variantId !== undefined ? 'variant' : 'product',
    inventory_level: entries.reduce((n, e) => n + (e.stock ?? 0), 0),
    availability: entries.every((e) => !e.purchasable) ? 'disabled' : 'available',
    is_visible: true,
    // BigCommerce's default `[-1]` means "related automatically" (chosen by the storefront, not listed).
    related_products: related !== undefined && related.length > 0 ? related.map(num) : [-1],
    ...(withVariants ? { variants: entries.map(variantBody) } : {}),
  };
}

function pagination(total: number, perPage: number): Record<string, unknown> {
  return {
    pagination: {
      total,
      count: total,
      per_page: perPage,
      current_page: 1,
      total_pages: 1,
      links: { current: '?page=1' },
    },
  };
}

const COUPON_TYPES = new Set([
  'per_item_discount',
  'per_total_discount',
  'shipping_discount',
  'free_shipping',
  'percentage_discount',
  'promotion',
]);
const RFC2822 = /^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} [+-]\d{4}$/;

function createCoupon(state: BigCommerceState, body: unknown, now: Date): StoreReply {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    return v2Error(400, 'The request body is not a JSON object.');
  const b = body as Record<string, unknown>;
  for (const field of ['name', 'code', 'type', 'amount', 'applies_to']) {
    if (b[field] === undefined || b[field] === '')
      return v2Error(400, `The required field '${field}' was not supplied.`);
  }
  const code = String(b['code']);
  const name = String(b['name']);
  if (code.length > 50 || !/^[\x21-\x7e]+$/.test(code)) return v2Error(400, "The field 'code' is invalid.");
  if (name.length > 100) return v2Error(400, "The field 'name' is invalid.");
  if (!COUPON_TYPES.has(String(b['type']))) return v2Error(400, "The field 'type' is invalid.");
  const amount = String(b['amount']);
  if (!/^\d+(\.\d+)?$/.test(amount) || (b['type'] === 'percentage_discount' && new Decimal(amount).gt(100))) {
    return v2Error(400, "The field 'amount' is invalid.");
  }
  const appliesTo = b['applies_to'] as Record<string, unknown>;
  if (!['categories', 'products'].includes(String(appliesTo?.['entity'])) || !Array.isArray(appliesTo?.['ids'])) {
    return v2Error(400, "The field 'applies_to' is invalid.");
  }
  for (const f of ['max_uses', 'max_uses_per_customer']) {
    if (b[f] !== undefined && (!Number.isInteger(b[f]) || (b[f] as number) < 0))
      return v2Error(400, `The field '${f}' is invalid.`);
  }
  const expires = b['expires'];
  if (expires !== undefined && expires !== '') {
    if (typeof expires !== 'string' || !RFC2822.test(expires) || !Number.isFinite(Date.parse(expires))) {
      return v2Error(400, "The field 'expires' is invalid.");
    }
    if (Date.parse(expires) <= now.getTime()) return v2Error(400, "The field 'expires' must be a date in the future.");
  }
  for (const c of state.coupons.values()) {
    if (String(c['code']).toLowerCase() === code.toLowerCase())
      return v2Error(409, 'The coupon code is already in use.');
    if (c['name'] === name) return v2Error(409, 'The coupon name is already in use.');
  }
  const coupon: Record<string, unknown> = {
    id: state.nextCouponId++,
    name,
    type: b['type'],
    amount: new Decimal(amount).toFixed(4),
    min_purchase: '0.0000',
    expires: expires ?? '',
    enabled: b['enabled'] !== false,
    code,
    applies_to: appliesTo,
    num_uses: 0,
    max_uses: b['max_uses'] ?? 0,
    max_uses_per_customer: b['max_uses_per_customer'] ?? 0,
    restricted_to: {},
    shipping_methods: [],
    date_created: now.toUTCString().replace(/GMT$/, '+0000'),
  };
  state.coupons.set(code.toLowerCase(), coupon);
  return { status: 201, body: coupon };
}

export function handleBigCommerce(
  call: StoreCall,
  ctx: { catalogue: Catalogue; state: BigCommerceState; config: BigCommerceConfig; now: Date },
): StoreReply {
  const { state, config } = ctx;
  const p = call.path;
  const nowMs = ctx.now.getTime();
  if (state.window.start === 0 || nowMs - state.window.start >= config.windowMs)
    state.window = { start: nowMs, used: 0 };
  const quotaHeaders = (): Record<string, string> => ({
    'x-rate-limit-requests-quota': String(config.quota),
    'x-rate-limit-requests-left': String(Math.max(0, config.quota - state.window.used)),
    'x-rate-limit-time-window-ms': String(config.windowMs),
    'x-rate-limit-time-reset-ms': String(Math.max(0, state.window.start + config.windowMs - nowMs)),
  });
  if (!call.authorized) return { ...v3Error(401, 'No valid credential was found.'), headers: quotaHeaders() };
  if (state.window.used >= config.quota) {
    const waitS = Math.max(1, Math.ceil((state.window.start + config.windowMs - nowMs) / 1000));
    return {
      ...v3Error(429, 'Too many requests: the request quota of the window is used up.'),
      headers: { ...quotaHeaders(), 'retry-after': String(waitS) },
    };
  }
  state.window.used += 1;
  const reply =
    bigCommerceScopeCheck(call, config.scopes) ??
    handleBigCommerceHooks(call, {
      hooks: state.hooks,
      nextId: () => state.nextHookId++,
      scopes: config.scopes,
      storeHash: config.storeHash,
      now: ctx.now,
    }) ??
    (p.startsWith('/v3/promotions') ? handlePromotions(call, ctx) : route(call, ctx));
  return { ...reply, headers: { ...quotaHeaders(), ...(reply.headers ?? {}) } };
}

function route(call: StoreCall, ctx: { catalogue: Catalogue; state: BigCommerceState; now: Date }): StoreReply {
  const { catalogue, state } = ctx;
  const p = call.path;
  let m: RegExpExecArray | null;
  if (call.method === 'GET' && p === '/v3/catalog/products') {
    const idIn = call.query['id:in'];
    const ids =
      idIn !== undefined
        ? idIn.split(',').filter((s) => s !== '')
        : [...new Set(catalogue.all().map((e) => e.productId))];
    if (!ids.every((id) => /^\d+$/.test(id))) return v3Error(422, 'Invalid filter', { 'id:in': 'must be integers' });
    const limit = Number(call.query['limit'] ?? '50');
    if (!Number.isInteger(limit) || limit < 1 || limit > 250) return v3Error(422, 'Invalid limit', { limit: '1..250' });
    const include = (call.query['include'] ?? '').split(',');
    const data = ids
      .map((id) => catalogue.product(id))
      .filter((entries) => entries.length > 0)
      .slice(0, limit)
      .map((entries) =>
        productBody(
          entries,
          include.includes('variants'),
          catalogue.relationsOf((entries[0] as CatalogueEntry).productId).related,
          catalogue,
        ),
      );
    return { status: 200, body: { data, meta: pagination(data.length, limit) } };
  }
  if (call.method === 'GET' && p === '/v3/catalog/trees/categories') {
    // "Get all categories" of the category trees (the v3 /catalog/categories successor), filtered by `category_id:in`.
    const idIn = call.query['category_id:in'];
    if (idIn === undefined) return v3Error(422, 'Invalid filter', { 'category_id:in': 'required by this stand-in' });
    const ids = idIn.split(',').filter((s) => s !== '');
    if (!ids.every((id) => /^\d+$/.test(id)))
      return v3Error(422, 'Invalid filter', { 'category_id:in': 'must be integers' });
    const limit = Number(call.query['limit'] ?? '50');
    if (!Number.isInteger(limit) || limit < 1 || limit > 250) return v3Error(422, 'Invalid limit', { limit: '1..250' });
    const data = ids
      .map((id) => ({ id: Number(id), name: catalogue.categoryName(Number(id)) }))
      .filter((c): c is { id: number; name: string } => c.name !== undefined)
      .slice(0, limit)
      .map((c) => ({
        category_id: c.id,
        parent_id: 0,
        tree_id: 1,
        name: c.name,
        is_visible: true,
        url: { path: `/${c.name.toLowerCase().replace(/[^a-z0-9]+/g, '-')}/`, is_customized: false },
      }));
    return { status: 200, body: { data, meta: pagination(data.length, limit) } };
  }
  if (call.method === 'GET' && (m = /^\/v3\/catalog\/products\/(\d+)$/.exec(p))) {
    const entries = catalogue.product(m[1] as string);
    if (entries.length === 0) return v3Error(404, 'The requested product was not found.');
    const include = (call.query['include'] ?? '').split(',');
    return {
      status: 200,
      body: {
        data: productBody(
          entries,
          include.includes('variants'),
          catalogue.relationsOf(m[1] as string).related,
          catalogue,
        ),
        meta: {},
      },
    };
  }
  if (call.method === 'GET' && (m = /^\/v3\/catalog\/products\/(\d+)\/variants(?:\/(\d+))?$/.exec(p))) {
    const entries = catalogue.product(m[1] as string);
    if (entries.length === 0) return v3Error(404, 'The requested product was not found.');
    if (m[2] === undefined)
      return { status: 200, body: { data: entries.map(variantBody), meta: pagination(entries.length, 50) } };
    const e = entries.find((x) => (x.variantId ?? x.productId) === m?.[2]);
    return e
      ? { status: 200, body: { data: variantBody(e), meta: {} } }
      : v3Error(404, 'The requested variant was not found.');
  }
  if (call.method === 'GET' && (m = /^\/v3\/checkouts\/([^/]+)$/.exec(p))) {
    // A cart's checkout (same id): seeded as it is, else the cart's own with no address or shipping yet.
    const id = decodeURIComponent(m[1] as string);
    const seeded = state.checkouts.get(id);
    if (seeded !== undefined) return { status: 200, body: seeded };
    const cart = state.carts.get(id) as { data?: Record<string, unknown> } | undefined;
    if (cart?.data === undefined) return v3Error(404, 'Checkout not found');
    return {
      status: 200,
      body: {
        data: {
          id,
          cart: cart.data,
          billing_address: { email: cart.data['email'] ?? '' },
          consignments: [],
          order_id: null,
        },
        meta: {},
      },
    };
  }
  if (call.method === 'GET' && (m = /^\/v3\/carts\/([^/]+)$/.exec(p))) {
    const cart = state.carts.get(decodeURIComponent(m[1] as string));
    return cart !== undefined ? { status: 200, body: cart } : v3Error(404, 'Cart not found');
  }
  if (call.method === 'GET' && p === '/v2/orders') {
    const limit = Number(call.query['limit'] ?? '50');
    const list = [...state.orders.values()]
      .slice(0, Number.isInteger(limit) && limit > 0 ? limit : 50)
      .map((o) => o.order);
    return list.length === 0 ? { status: 204 } : { status: 200, body: list };
  }
  if (call.method === 'GET' && (m = /^\/v2\/orders\/(\d+)(\/products)?$/.exec(p))) {
    const order = state.orders.get(m[1] as string);
    if (order === undefined) return v2Error(404, 'The requested resource was not found.');
    return { status: 200, body: m[2] ? order.products : order.order };
  }
  if (call.method === 'GET' && p === '/v3/customers') {
    const ids = (call.query['id:in'] ?? '').split(',').filter((s) => s !== '');
    const data = ids.flatMap((id) => (state.customers.has(id) ? [state.customers.get(id)] : []));
    return { status: 200, body: { data, meta: pagination(data.length, 50) } };
  }
  if (call.method === 'GET' && p === '/v2/coupons') {
    const code = call.query['code'];
    const list = [...state.coupons.values()].filter(
      (c) => code === undefined || String(c['code']).toLowerCase() === code.toLowerCase(),
    );
    return list.length === 0 ? { status: 204 } : { status: 200, body: list };
  }
  if (call.method === 'POST' && p === '/v2/coupons') {
    if (!(call.headers['content-type'] ?? '').startsWith('application/json'))
      return v2Error(415, 'Use application/json.');
    if (call.json instanceof SyntaxError) return v2Error(400, 'The request body is not valid JSON.');
    return createCoupon(state, call.json, ctx.now);
  }
  if (call.method === 'POST' && p === '/v2/orders') {
    if (!(call.headers['content-type'] ?? '').startsWith('application/json'))
      return v2Error(415, 'Use application/json.');
    if (call.json instanceof SyntaxError) return v2Error(400, 'The request body is not valid JSON.');
    return createOrder(catalogue, state, call.json, ctx.now);
  }
  return v3Error(404, 'The requested resource was not found.');
}

/** Fields of a new order kept as given (`cart_id`: the stand-in's way to say which cart converted). */
const ORDER_PASSTHROUGH = [
  'customer_id',
  'status_id',
  'status',
  'payment_status',
  'currency_code',
  'default_currency_code',
  'ip_address',
  'cart_id',
  'external_id',
];

/**
 * `POST /v2/orders`: `products: [{ product_id, variant_id?, quantity }]` and `billing_address` are
 * required. Every line must be purchasable and in stock (422, nothing taken otherwise). The stand-in
 * also takes `coupon_code`: it must exist, be enabled, unexpired and not used up (`max_uses`, 422);
 * it is redeemed (`num_uses`) only when the order is created. Answers 201 with the order.
 */
function createOrder(catalogue: Catalogue, state: BigCommerceState, body: unknown, now: Date): StoreReply {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    return v2Error(400, 'The request body is not a JSON object.');
  const b = body as Record<string, unknown>;
  const billing = b['billing_address'];
  if (typeof billing !== 'object' || billing === null || Array.isArray(billing))
    return v2Error(400, "The required field 'billing_address' was not supplied.");
  const email = (billing as Record<string, unknown>)['email'];
  if (email !== undefined && (typeof email !== 'string' || !/^[^@\s]+@[^@\s]+$/.test(email)))
    return v2Error(400, "The field 'billing_address.email' is invalid.");
  const products = b['products'];
  if (!Array.isArray(products) || products.length === 0)
    return v2Error(400, "The required field 'products' was not supplied.");
  const lines: { entry: CatalogueEntry; quantity: number }[] = [];
  for (const raw of products as unknown[]) {
    const l = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
    const quantity = l['quantity'];
    if (!Number.isInteger(quantity) || (quantity as number) < 1)
      return v2Error(400, "The field 'products.quantity' is invalid.");
    const entries = catalogue.product(String(l['product_id'] ?? ''));
    const variantId = l['variant_id'];
    const entry =
      variantId !== undefined && variantId !== null
        ? entries.find((e) => (e.variantId ?? e.productId) === String(variantId))
        : entries.length === 1
          ? entries[0]
          : undefined;
    if (entry === undefined) return v2Error(400, `The product ${String(l['product_id'])} was not found.`);
    lines.push({ entry, quantity: quantity as number });
  }
  for (const { entry } of lines) {
    const wanted = lines.filter((x) => x.entry === entry).reduce((n, x) => n + x.quantity, 0);
    const enough = entry.stock === null || entry.continueSelling || entry.stock >= wanted;
    if (!entry.purchasable || !enough) return v2Error(422, `The product ${entry.title} is out of stock.`);
  }
  let coupon: Record<string, unknown> | undefined;
  let promoCode: PromotionCode | undefined;
  const code = b['coupon_code'];
  if (code !== undefined && code !== null && code !== '' && state.promotionCodes.has(String(code).toLowerCase())) {
    promoCode = state.promotionCodes.get(String(code).toLowerCase()) as PromotionCode;
    const refusal = promotionRedemptionRefusal(state, promoCode, now);
    if (refusal !== undefined) return v2Error(422, `The coupon code ${String(code)} ${refusal}.`);
    coupon = promotionAsCoupon(state, promoCode);
  } else if (code !== undefined && code !== null && code !== '') {
    coupon = state.coupons.get(String(code).toLowerCase());
    if (coupon === undefined || coupon['enabled'] === false)
      return v2Error(422, `The coupon code ${String(code)} is invalid.`);
    const max = Number(coupon['max_uses'] ?? 0);
    if (max > 0 && Number(coupon['num_uses'] ?? 0) >= max)
      return v2Error(422, `The coupon code ${String(code)} has reached its usage limit.`);
    const expires = String(coupon['expires'] ?? '');
    if (expires !== '' && Date.parse(expires) <= now.getTime())
      return v2Error(422, `The coupon code ${String(code)} has expired.`);
  }
  for (const { entry, quantity } of lines) catalogue.take(entry, quantity);
  if (promoCode !== undefined) promoCode.current_uses += 1;
  else if (coupon !== undefined) coupon['num_uses'] = Number(coupon['num_uses'] ?? 0) + 1;
  const subtotal = lines.reduce(
    (sum, l) => sum.plus(new Decimal(effectivePrice(l.entry)).mul(l.quantity)),
    new Decimal(0),
  );
  let discount = new Decimal(0);
  if (b['discount_amount'] !== undefined && /^\d+(\.\d+)?$/.test(String(b['discount_amount']))) {
    discount = new Decimal(String(b['discount_amount']));
  } else if (coupon !== undefined && coupon['type'] === 'percentage_discount') {
    discount = subtotal.mul(String(coupon['amount'])).div(100).toDecimalPlaces(2);
  } else if (coupon !== undefined && coupon['type'] === 'per_total_discount') {
    discount = new Decimal(String(coupon['amount']));
  }
  discount = Decimal.min(discount, subtotal);
  while (state.orders.has(String(state.nextOrderId))) state.nextOrderId += 1;
  const id = state.nextOrderId++;
  const createdAt =
    typeof b['date_created'] === 'string' && b['date_created'] !== ''
      ? b['date_created']
      : now.toUTCString().replace(/GMT$/, '+0000');
  const passthrough = Object.fromEntries(ORDER_PASSTHROUGH.filter((k) => b[k] !== undefined).map((k) => [k, b[k]]));
  const order: Record<string, unknown> = {
    id,
    customer_id: 0,
    status: 'Pending',
    ...passthrough,
    subtotal_ex_tax: subtotal.toFixed(4),
    subtotal_inc_tax: subtotal.toFixed(4),
    discount_amount: discount.toFixed(4),
    coupon_discount: coupon !== undefined ? discount.toFixed(4) : '0.0000',
    total_ex_tax: subtotal.minus(discount).toFixed(4),
    total_inc_tax: subtotal.minus(discount).toFixed(4),
    items_total: lines.reduce((n, l) => n + l.quantity, 0),
    date_created: createdAt,
    date_modified: createdAt,
    billing_address: billing,
  };
  const lineBodies = lines.map((l, i) => ({
    id: i + 1,
    order_id: id,
    product_id: num(l.entry.productId),
    variant_id: num(l.entry.variantId ?? l.entry.productId),
    sku: l.entry.sku,
    name: l.entry.title,
    quantity: l.quantity,
    base_price: money(effectivePrice(l.entry)),
  }));
  state.orders.set(String(id), { order, products: lineBodies });
  return { status: 201, body: order };
}

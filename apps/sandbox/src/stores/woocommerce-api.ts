import { LosslessNumber } from 'lossless-json';
import Decimal from 'decimal.js';
import { allCategories, effectivePrice, type Catalogue, type CatalogueEntry, type ProductRelations } from './catalogue';
import type { StoreCall, StoreReply } from './store-http';
import { handleWooWebhooks, wooPermissionCheck, type WooPermissions, type WooWebhook } from './woocommerce-webhooks';

/**
 * WooCommerce REST v3 stand-in (`/wp-json/wc/v3/...`, basic auth with a consumer key and secret):
 * products, variations, coupons (codes unique and lower-cased like WooCommerce, `usage_limit`
 * enforced on orders) and orders (stock taken, coupons redeemed). Errors use WordPress's
 * `{ code, message, data: { status } }` shape.
 */
export interface WooCoupon extends Record<string, unknown> {
  id: number;
  code: string;
  usage_count: number;
  used_by: string[];
}

export interface WooState {
  readonly coupons: Map<string, WooCoupon>;
  readonly orders: Map<string, Record<string, unknown>>;
  readonly webhooks: Map<number, WooWebhook>;
  nextId: number;
}

export interface WooConfig {
  /** Base of `_links` and permalinks. */
  readonly siteUrl: string;
  /** The REST key's permissions (default `read_write`). */
  readonly permissions: WooPermissions;
}

export function newWooState(): WooState {
  return { coupons: new Map(), orders: new Map(), webhooks: new Map(), nextId: 1000 };
}

function wpError(status: number, code: string, message: string, extra: Record<string, unknown> = {}): StoreReply {
  return { status, body: { code, message, data: { status, ...extra } } };
}

const num = (s: string): LosslessNumber => new LosslessNumber(s);
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const DATE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$/;

function stockFields(e: CatalogueEntry): Record<string, unknown> {
  const managed = e.stock !== null;
  return {
    manage_stock: managed,
    stock_quantity: managed ? e.stock : null,
    stock_status: !managed || (e.stock ?? 0) > 0 ? 'instock' : e.continueSelling ? 'onbackorder' : 'outofstock',
    backorders: e.continueSelling ? 'yes' : 'no',
    backorders_allowed: e.continueSelling,
    backordered: false,
    purchasable: e.purchasable,
  };
}

function priceFields(e: CatalogueEntry): Record<string, unknown> {
  const onSale = effectivePrice(e) !== e.price;
  return {
    price: effectivePrice(e),
    regular_price: e.price,
    sale_price: onSale ? (e.salePrice ?? '') : '',
    on_sale: onSale,
  };
}

function links(site: string, self: string, collection: string, up?: string): Record<string, unknown> {
  return {
    self: [{ href: `${site}/wp-json/wc/v3${self}` }],
    collection: [{ href: `${site}/wp-json/wc/v3${collection}` }],
    ...(up !== undefined ? { up: [{ href: `${site}/wp-json/wc/v3${up}` }] } : {}),
  };
}

function variationBody(e: CatalogueEntry, site: string): Record<string, unknown> {
  const id = e.variantId as string;
  return {
    id: num(id),
    date_created: '2024-01-01T00:00:00',
    date_created_gmt: '2024-01-01T00:00:00',
    date_modified: '2024-01-01T00:00:00',
    date_modified_gmt: '2024-01-01T00:00:00',
    description: '',
    permalink: `${site}/product/${e.productId}/?variation_id=${id}`,
    sku: e.sku,
    ...priceFields(e),
    status: 'publish',
    virtual: false,
    downloadable: false,
    tax_status: 'taxable',
    tax_class: '',
    ...stockFields(e),
    attributes: [],
    menu_order: 0,
    meta_data: [],
    _links: links(
      site,
      `/products/${e.productId}/variations/${id}`,
      `/products/${e.productId}/variations`,
      `/products/${e.productId}`,
    ),
  };
}

function productBody(
  entries: CatalogueEntry[],
  site: string,
  catalogue: Catalogue,
  relations: ProductRelations = {},
): Record<string, unknown> {
  const first = entries[0] as CatalogueEntry;
  const variable = entries.some((e) => e.variantId !== undefined);
  const cheapest = [...entries].sort((a, b) =>
    new Decimal(effectivePrice(a)).cmp(effectivePrice(b)),
  )[0] as CatalogueEntry;
  return {
    id: num(first.productId),
    name: first.title,
    slug: `product-${first.productId}`,
    permalink: `${site}/product/product-${first.productId}/`,
    type: variable ? 'variable' : 'simple',
    status: 'publish',
    sku: variable ? '' : first.sku,
    ...priceFields(cheapest),
    ...(variable
      ? {
          manage_stock: false,
          stock_quantity: null,
          stock_status: entries.some((e) => stockFields(e)['stock_status'] !== 'outofstock') ? 'instock' : 'outofstock',
          purchasable: entries.some((e) => e.purchasable),
          variations: entries.map((e) => num(e.variantId as string)),
        }
      : { ...stockFields(first), variations: [] }),
    related_ids: (relations.related ?? []).map(num),
    upsell_ids: (relations.upsells ?? []).map(num),
    cross_sell_ids: (relations.crossSells ?? []).map(num),
    images: [],
    categories: allCategories(catalogue.taxonomyOf(first.productId)).map((name) => ({
      id: catalogue.categoryId(name),
      name,
      slug: name.toLowerCase().replace(/[^a-z0-9]+/g, '-'),
    })),
    meta_data: [],
    _links: links(site, `/products/${first.productId}`, '/products'),
  };
}

function couponFromBody(b: Record<string, unknown>, id: number, site: string, now: Date): StoreReply | WooCoupon {
  const allowed = new Set([
    'code',
    'amount',
    'discount_type',
    'description',
    'date_expires',
    'date_expires_gmt',
    'individual_use',
    'product_ids',
    'excluded_product_ids',
    'usage_limit',
    'usage_limit_per_user',
    'limit_usage_to_x_items',
    'free_shipping',
    'product_categories',
    'excluded_product_categories',
    'exclude_sale_items',
    'minimum_amount',
    'maximum_amount',
    'email_restrictions',
    'meta_data',
  ]);
  const invalid: Record<string, string> = {};
  const code = typeof b['code'] === 'string' ? b['code'].trim() : '';
  if (code === '') return wpError(400, 'woocommerce_rest_empty_coupon_code', 'The coupon code cannot be empty.');
  const type = b['discount_type'] ?? 'fixed_cart';
  if (!['percent', 'fixed_cart', 'fixed_product'].includes(String(type))) {
    invalid['discount_type'] = 'discount_type is not one of percent, fixed_cart, and fixed_product.';
  }
  if (b['amount'] !== undefined && (typeof b['amount'] !== 'string' || !/^\d+(\.\d+)?$/.test(b['amount']))) {
    invalid['amount'] = 'amount is not of type string.';
  }
  for (const f of ['usage_limit', 'usage_limit_per_user', 'limit_usage_to_x_items']) {
    if (b[f] !== undefined && b[f] !== null && !Number.isInteger(b[f])) invalid[f] = `${f} is not of type integer.`;
  }
  for (const f of ['date_expires', 'date_expires_gmt']) {
    if (b[f] !== undefined && b[f] !== null && (typeof b[f] !== 'string' || !DATE.test(b[f] as string))) {
      invalid[f] = `Invalid date.`;
    }
  }
  const emails = b['email_restrictions'];
  if (
    emails !== undefined &&
    (!Array.isArray(emails) || !emails.every((e) => typeof e === 'string' && EMAIL.test(e)))
  ) {
    invalid['email_restrictions'] = 'email_restrictions[0] is not a valid email address.';
  }
  for (const k of Object.keys(b))
    if (!allowed.has(k) && !['id', 'date_created'].includes(k)) invalid[k] = `${k} is not a known parameter.`;
  if (Object.keys(invalid).length > 0) {
    return wpError(400, 'rest_invalid_param', `Invalid parameter(s): ${Object.keys(invalid).join(', ')}`, {
      params: invalid,
    });
  }
  if (type === 'percent' && new Decimal(String(b['amount'] ?? '0')).gt(100)) {
    return wpError(400, 'woocommerce_rest_invalid_coupon_amount', 'Percentage discounts cannot exceed 100%.');
  }
  const expiresGmt = (b['date_expires_gmt'] ?? b['date_expires'] ?? null) as string | null;
  const stamp = now.toISOString().replace(/\.\d{3}Z$/, '');
  return {
    id,
    code: code.toLowerCase(),
    amount: new Decimal(String(b['amount'] ?? '0')).toFixed(2),
    date_created: stamp,
    date_created_gmt: stamp,
    date_modified: stamp,
    date_modified_gmt: stamp,
    discount_type: type,
    description: b['description'] ?? '',
    date_expires: expiresGmt,
    date_expires_gmt: expiresGmt,
    usage_count: 0,
    individual_use: b['individual_use'] === true,
    product_ids: b['product_ids'] ?? [],
    excluded_product_ids: b['excluded_product_ids'] ?? [],
    usage_limit: b['usage_limit'] ?? null,
    usage_limit_per_user: b['usage_limit_per_user'] ?? null,
    limit_usage_to_x_items: b['limit_usage_to_x_items'] ?? null,
    free_shipping: b['free_shipping'] === true,
    product_categories: b['product_categories'] ?? [],
    excluded_product_categories: b['excluded_product_categories'] ?? [],
    exclude_sale_items: b['exclude_sale_items'] === true,
    minimum_amount: b['minimum_amount'] ?? '0.00',
    maximum_amount: b['maximum_amount'] ?? '0.00',
    email_restrictions: emails ?? [],
    used_by: [],
    meta_data: [],
    _links: links(site, `/coupons/${id}`, '/coupons'),
  };
}

function isReply(v: StoreReply | WooCoupon): v is StoreReply {
  return typeof (v as StoreReply).status === 'number' && !('code' in v && 'usage_count' in v);
}

function createOrder(call: StoreCall, ctx: WooCtx): StoreReply {
  const b = call.json as Record<string, unknown>;
  const lines = Array.isArray(b['line_items']) ? (b['line_items'] as Record<string, unknown>[]) : [];
  if (lines.length === 0)
    return wpError(400, 'rest_invalid_param', 'Invalid parameter(s): line_items', {
      params: { line_items: 'required' },
    });
  const refs = lines.map((l) => ({
    productId: String(l['product_id'] ?? ''),
    ...(l['variation_id'] !== undefined && String(l['variation_id']) !== '0'
      ? { variantId: String(l['variation_id']) }
      : {}),
    quantity: Number(l['quantity'] ?? 1),
  }));
  for (const r of refs) {
    if (ctx.catalogue.get(r) === undefined)
      return wpError(400, 'woocommerce_rest_invalid_product_id', 'Invalid product ID.');
    if (!Number.isInteger(r.quantity) || r.quantity < 1)
      return wpError(400, 'rest_invalid_param', 'Invalid parameter(s): quantity');
  }
  const couponCodes = (Array.isArray(b['coupon_lines']) ? (b['coupon_lines'] as Record<string, unknown>[]) : []).map(
    (c) => String(c['code'] ?? '').toLowerCase(),
  );
  const email = String((b['billing'] as Record<string, unknown> | undefined)?.['email'] ?? '').toLowerCase();
  for (const code of couponCodes) {
    const c = ctx.state.coupons.get(code);
    if (c === undefined) return wpError(400, 'woocommerce_rest_invalid_coupon', `Coupon "${code}" does not exist!`);
    if (typeof c['usage_limit'] === 'number' && c.usage_count >= c['usage_limit']) {
      return wpError(400, 'woocommerce_rest_invalid_coupon', 'Coupon usage limit has been reached.');
    }
    const expires = c['date_expires_gmt'];
    if (typeof expires === 'string' && Date.parse(`${expires}Z`) <= ctx.now.getTime()) {
      return wpError(400, 'woocommerce_rest_invalid_coupon', 'This coupon has expired.');
    }
    const restricted = c['email_restrictions'] as string[];
    if (restricted.length > 0 && !restricted.map((e) => e.toLowerCase()).includes(email)) {
      return wpError(400, 'woocommerce_rest_invalid_coupon', 'Sorry, it seems the coupon is not yours.');
    }
  }
  for (const r of refs) {
    if (!ctx.catalogue.take(r, r.quantity)) return wpError(400, 'woocommerce_rest_invalid_stock', 'Not enough stock.');
  }
  for (const code of couponCodes) {
    const c = ctx.state.coupons.get(code) as WooCoupon;
    c.usage_count += 1;
    if (email !== '') c.used_by.push(email);
  }
  const id = String(ctx.state.nextId++);
  const order = {
    id: num(id),
    status: String(b['status'] ?? 'processing'),
    currency: String(b['currency'] ?? 'USD'),
    line_items: refs.map((r, i) => {
      const e = ctx.catalogue.get(r) as CatalogueEntry;
      return {
        id: i + 1,
        name: e.title,
        product_id: num(r.productId),
        variation_id: num(r.variantId ?? '0'),
        quantity: r.quantity,
        price: effectivePrice(e),
        subtotal: new Decimal(effectivePrice(e)).mul(r.quantity).toFixed(2),
        sku: e.sku,
      };
    }),
    coupon_lines: couponCodes.map((code, i) => ({ id: i + 1, code })),
    date_created_gmt: ctx.now.toISOString().replace(/\.\d{3}Z$/, ''),
  };
  ctx.state.orders.set(id, order);
  return { status: 201, body: order };
}

interface WooCtx {
  catalogue: Catalogue;
  state: WooState;
  config: WooConfig;
  now: Date;
}

export function handleWooCommerce(call: StoreCall, ctx: WooCtx): StoreReply {
  if (!call.authorized) {
    return wpError(401, 'woocommerce_rest_authentication_error', 'Consumer key is invalid.');
  }
  const denied = wooPermissionCheck(call, ctx.config.permissions);
  if (denied !== undefined) return denied;
  const site = ctx.config.siteUrl;
  const p = call.path;
  let m: RegExpExecArray | null;
  const isJsonWrite = call.method === 'POST' || call.method === 'PUT';
  if (isJsonWrite) {
    if (!(call.headers['content-type'] ?? '').startsWith('application/json')) {
      return wpError(415, 'rest_invalid_content_type', 'Use application/json.');
    }
    if (call.json instanceof SyntaxError || typeof call.json !== 'object' || call.json === null) {
      return wpError(400, 'rest_invalid_json', 'Invalid JSON body passed.');
    }
  }
  const hooks = handleWooWebhooks(call, {
    webhooks: ctx.state.webhooks,
    nextId: () => ctx.state.nextId++,
    site,
    now: ctx.now,
  });
  if (hooks !== undefined) return hooks;
  if (call.method === 'GET' && (m = /^\/products\/(\d+)$/.exec(p))) {
    const entries = ctx.catalogue.product(m[1] as string);
    return entries.length > 0
      ? { status: 200, body: productBody(entries, site, ctx.catalogue, ctx.catalogue.relationsOf(m[1] as string)) }
      : wpError(404, 'woocommerce_rest_product_invalid_id', 'Invalid ID.');
  }
  if (call.method === 'GET' && (m = /^\/products\/(\d+)\/variations\/(\d+)$/.exec(p))) {
    const e = ctx.catalogue.get({ productId: m[1] as string, variantId: m[2] as string });
    return e
      ? { status: 200, body: variationBody(e, site) }
      : wpError(404, 'woocommerce_rest_product_variation_invalid_id', 'Invalid ID.');
  }
  if (call.method === 'GET' && p === '/products') {
    const include = (call.query['include'] ?? '').split(',').filter((s) => s !== '');
    const ids = include.length > 0 ? include : [...new Set(ctx.catalogue.all().map((e) => e.productId))];
    const list = ids
      .map((id) => ctx.catalogue.product(id))
      .filter((e) => e.length > 0)
      .map((e) => productBody(e, site, ctx.catalogue, ctx.catalogue.relationsOf((e[0] as CatalogueEntry).productId)));
    return { status: 200, headers: { 'x-wp-total': String(list.length), 'x-wp-totalpages': '1' }, body: list };
  }
  if (call.method === 'GET' && p === '/coupons') {
    const code = call.query['code']?.toLowerCase();
    const list = [...ctx.state.coupons.values()].filter((c) => code === undefined || c.code === code);
    return { status: 200, headers: { 'x-wp-total': String(list.length), 'x-wp-totalpages': '1' }, body: list };
  }
  if (call.method === 'GET' && (m = /^\/coupons\/(\d+)$/.exec(p))) {
    const c = [...ctx.state.coupons.values()].find((x) => String(x.id) === m?.[1]);
    return c ? { status: 200, body: c } : wpError(404, 'woocommerce_rest_shop_coupon_invalid_id', 'Invalid ID.');
  }
  if (call.method === 'POST' && p === '/coupons') {
    const b = call.json as Record<string, unknown>;
    const code = typeof b['code'] === 'string' ? b['code'].trim().toLowerCase() : '';
    if (code !== '' && ctx.state.coupons.has(code)) {
      return wpError(400, 'woocommerce_rest_coupon_code_already_exists', 'The coupon code already exists');
    }
    const coupon = couponFromBody(b, ctx.state.nextId, site, ctx.now);
    if (isReply(coupon)) return coupon;
    ctx.state.nextId += 1;
    ctx.state.coupons.set(coupon.code, coupon);
    return { status: 201, body: coupon };
  }
  if (call.method === 'POST' && p === '/orders') return createOrder(call, ctx);
  if (call.method === 'GET' && (m = /^\/orders\/(\d+)$/.exec(p))) {
    const o = ctx.state.orders.get(m[1] as string);
    return o ? { status: 200, body: o } : wpError(404, 'woocommerce_rest_shop_order_invalid_id', 'Invalid ID.');
  }
  return wpError(404, 'rest_no_route', 'No route was found matching the URL and request method.');
}

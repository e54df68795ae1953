import Decimal from 'decimal.js';
import {
  DiscountUnavailableError,
  PermanentProviderError,
  type CatalogPort,
  type CommercePort,
  type StoreProductCategories,
  type DiscountCodeRequest,
  type RecoveryShop,
} from '@reclaim/ports';
import type { AlternativeCandidate, AlternativeSource, RecoveryItem, StockLine } from '@reclaim/domain';
import { arrOf, objOf, parseJsonLossless, strOf, type JsonObject } from '../../common/lossless-json';
import { validateMoney } from '../../common/money';
import {
  authError,
  checkPercent,
  discountCodeFor,
  discountMarkerFor,
  StoreHttpClient,
  type StoreHttpOptions,
  type StoreHttpResponse,
} from '../../common/store-http';

/** `https://shop.example` or `…/wp-json/wc/v3` → the REST v3 base. */
export function wooCommerceApiBase(apiUrl: string): string {
  const base = apiUrl.trim().replace(/\/+$/, '');
  return base.endsWith('/wp-json/wc/v3') ? base : `${base}/wp-json/wc/v3`;
}

/** `ck_…:cs_…` → the Basic authorization header value. */
export function wooCommerceAuthorization(apiToken: string): string {
  const m = /^(ck_[A-Za-z0-9_]+):(cs_[A-Za-z0-9_]+)$/.exec(apiToken.trim());
  if (m === null) {
    throw new PermanentProviderError('woocommerce apiToken is not "ck_…:cs_…"', 'bad-credentials');
  }
  return `Basic ${Buffer.from(`${m[1]}:${m[2]}`, 'utf8').toString('base64')}`;
}

/** A UTC instant as WooCommerce's `*_gmt` fields write it (no offset). */
export function wooGmt(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, '');
}

function errorCodeOf(res: StoreHttpResponse): string | undefined {
  try {
    return strOf(objOf(parseJsonLossless(res.text))?.['code']);
  } catch {
    return undefined;
  }
}

const WOO_PRODUCTS_PER_PAGE = 100;

/** A `/products` list (or one product) → each product's category names. */
export function wooProductCategoriesOf(body: unknown): StoreProductCategories[] {
  const list = Array.isArray(body) ? body : [body];
  return list.flatMap((raw) => {
    const p = objOf(raw);
    const id = strOf(p?.['id']);
    if (p === undefined || id === undefined) return [];
    const categories = arrOf(p['categories'])
      .map((c) => strOf(objOf(c)?.['name']))
      .filter((n): n is string => n !== undefined);
    return [{ productId: id, categories: [...new Set(categories)] }];
  });
}

/** Availability of one product or variation body for a wanted quantity. */
export function wooAvailable(body: JsonObject, quantity: number): boolean {
  if (body['purchasable'] === false) return false;
  const status = strOf(body['status']);
  if (status !== undefined && status !== 'publish') return false;
  if (strOf(body['stock_status']) === 'outofstock') return false;
  const managed = body['manage_stock'] === true || body['manage_stock'] === 'parent';
  const raw = body['stock_quantity'];
  const stock = typeof raw === 'number' ? raw : strOf(raw) !== undefined ? Number(strOf(raw)) : undefined;
  if (!managed || stock === undefined || body['backorders_allowed'] === true) return true;
  return stock >= quantity;
}

/**
 * WooCommerce REST v3 store API (basic auth with the shop's `ck_…:cs_…` key): stock and price
 * from `/products/{id}` or `/products/{id}/variations/{vid}`, and single-use percentage coupons
 * (`POST /coupons`, looked up with `GET /coupons?code=` first). The port carries no customer email,
 * so `email_restrictions` is not set: the code is single-use (`usage_limit: 1`) and unguessable.
 */
export class WooCommerceCommerceAdapter implements CommercePort, CatalogPort {
  private readonly http: StoreHttpClient;

  constructor(options: StoreHttpOptions = {}) {
    this.http = new StoreHttpClient(options);
  }

  async stock(shop: RecoveryShop, items: readonly RecoveryItem[]): Promise<StockLine[]> {
    const bodies = new Map<string, JsonObject | null>();
    const pathOf = (i: RecoveryItem): string | undefined => {
      if (!/^\d{1,20}$/.test(i.productId)) return undefined;
      if (i.variantId === undefined || i.variantId === i.productId) return `/products/${i.productId}`;
      return /^\d{1,20}$/.test(i.variantId) ? `/products/${i.productId}/variations/${i.variantId}` : undefined;
    };
    for (const path of new Set(items.map(pathOf))) {
      if (path === undefined || bodies.has(path)) continue;
      const res = await this.call(shop, 'GET', path, 'product stock', true);
      if (res.status === 404) {
        bodies.set(path, null);
        continue;
      }
      if (res.status < 200 || res.status >= 300) throw this.refusal('product stock', res);
      bodies.set(path, objOf(this.parse(res, 'product stock')) ?? null);
    }
    const lines: StockLine[] = [];
    for (const item of items) {
      const path = pathOf(item);
      if (path === undefined || !bodies.has(path)) continue;
      const body = bodies.get(path) ?? null;
      if (body === null) {
        lines.push({ lineId: item.lineId, available: false });
        continue;
      }
      const price = strOf(body['price']) !== undefined ? validateMoney(body['price']) : undefined;
      lines.push({
        lineId: item.lineId,
        available: wooAvailable(body, item.quantity),
        ...(price?.ok ? { currentUnitPrice: price.value } : {}),
      });
    }
    return lines;
  }

  /**
   * The product's up-sells (what the merchant recommends instead), then its related products
   * (WooCommerce's own, from shared categories and tags), then its cross-sells, each id once, read
   * in one `GET /products?include=…` for their stock and price. A variable product is listed but
   * unusable: it has no single variation to suggest.
   */
  async alternatives(shop: RecoveryShop, item: RecoveryItem, limit: number): Promise<AlternativeCandidate[]> {
    if (!/^\d{1,20}$/.test(item.productId)) return [];
    const res = await this.call(shop, 'GET', `/products/${item.productId}`, 'related products', true);
    if (res.status === 404) return [];
    if (res.status < 200 || res.status >= 300) throw this.refusal('related products', res);
    const product = objOf(this.parse(res, 'related products')) ?? {};
    const sources = new Map<string, AlternativeSource>();
    for (const [field, source] of [
      ['upsell_ids', 'upsell'],
      ['related_ids', 'related'],
      ['cross_sell_ids', 'cross-sell'],
    ] as const) {
      for (const raw of arrOf(product[field])) {
        const id = strOf(raw);
        if (id !== undefined && /^\d{1,20}$/.test(id) && !sources.has(id)) sources.set(id, source);
      }
    }
    const ids = [...sources.keys()].slice(0, Math.max(0, Math.min(limit, 100)));
    if (ids.length === 0) return [];
    const listRes = await this.call(
      shop,
      'GET',
      `/products?include=${ids.join(',')}&per_page=${ids.length}`,
      'related products',
      true,
    );
    if (listRes.status < 200 || listRes.status >= 300) throw this.refusal('related products', listRes);
    const bodies = new Map<string, JsonObject>();
    for (const raw of arrOf(this.parse(listRes, 'related products'))) {
      const body = objOf(raw);
      const id = strOf(body?.['id']);
      if (body !== undefined && id !== undefined) bodies.set(id, body);
    }
    return ids.flatMap((id): AlternativeCandidate[] => {
      const body = bodies.get(id);
      if (body === undefined) return [];
      const price = strOf(body['price']) !== undefined ? validateMoney(body['price']) : undefined;
      const url = strOf(body['permalink']);
      const image = strOf(objOf(arrOf(body['images'])[0])?.['src']);
      return [
        {
          productId: id,
          title: strOf(body['name']) ?? `Product ${id}`,
          available: wooAvailable(body, item.quantity),
          ...(price?.ok ? { unitPrice: price.value } : {}),
          ...(url !== undefined ? { productUrl: url } : {}),
          ...(image !== undefined ? { imageUrl: image } : {}),
          source: sources.get(id) ?? 'related',
          ...(strOf(body['type']) === 'variable' ? { unusable: 'variable-product' } : {}),
        },
      ];
    });
  }

  /** Each product's categories, 100 products per `GET /products?include=…`. */
  async productCategories(shop: RecoveryShop, productIds: readonly string[]): Promise<StoreProductCategories[]> {
    const ids = [...new Set(productIds.filter((id) => /^\d{1,20}$/.test(id)))];
    const out: StoreProductCategories[] = [];
    for (let i = 0; i < ids.length; i += WOO_PRODUCTS_PER_PAGE) {
      const page = ids.slice(i, i + WOO_PRODUCTS_PER_PAGE);
      const path = `/products?include=${page.join(',')}&per_page=${WOO_PRODUCTS_PER_PAGE}`;
      const res = await this.call(shop, 'GET', path, 'product categories', true);
      if (res.status < 200 || res.status >= 300) throw this.refusal('product categories', res);
      out.push(...wooProductCategoriesOf(this.parse(res, 'product categories')));
    }
    return out;
  }

  async createDiscountCode(request: DiscountCodeRequest): Promise<{ code: string }> {
    checkPercent(request.percent);
    const code = discountCodeFor(request.idempotencyKey);
    const found = await this.findOurs(request.shop, code);
    if (found !== undefined) return { code: found };
    const res = await this.call(request.shop, 'POST', '/coupons', 'coupon create', false, {
      code,
      description: discountMarkerFor(code),
      discount_type: 'percent',
      amount: new Decimal(request.percent).toFixed(2),
      individual_use: true,
      usage_limit: 1,
      usage_limit_per_user: 1,
      date_expires_gmt: wooGmt(new Date(request.expiresAt)),
      // Only the shopper it was made for can use it (WooCommerce checks the billing e-mail).
      ...(request.customerEmail !== undefined && request.customerEmail.trim() !== ''
        ? { email_restrictions: [request.customerEmail.trim()] }
        : {}),
    });
    if (res.status === 201 || res.status === 200) {
      return { code: strOf(objOf(this.parse(res, 'coupon create'))?.['code']) ?? code };
    }
    if (res.status === 400 && errorCodeOf(res) === 'woocommerce_rest_coupon_code_already_exists') {
      const again = await this.findOurs(request.shop, code);
      if (again !== undefined) return { code: again };
      throw new PermanentProviderError('coupon create: the code exists and is not ours', 'code-conflict');
    }
    if (res.status === 403) throw new DiscountUnavailableError('the WooCommerce key cannot write coupons');
    throw this.refusal('coupon create', res);
  }

  /** The store's spelling of our code (WooCommerce lower-cases codes), or undefined. */
  private async findOurs(shop: RecoveryShop, code: string): Promise<string | undefined> {
    const res = await this.call(shop, 'GET', `/coupons?code=${encodeURIComponent(code)}`, 'coupon lookup', true);
    if (res.status < 200 || res.status >= 300) throw this.refusal('coupon lookup', res);
    const found = arrOf(this.parse(res, 'coupon lookup'))
      .map((c) => objOf(c))
      .find((c) => strOf(c?.['code'])?.toLowerCase() === code.toLowerCase());
    if (found === undefined) return undefined;
    if (strOf(found['description']) !== discountMarkerFor(code)) {
      throw new PermanentProviderError('coupon lookup: the code exists and is not ours', 'code-conflict');
    }
    return strOf(found['code']) ?? code;
  }

  private parse(res: StoreHttpResponse, what: string): unknown {
    try {
      return parseJsonLossless(res.text);
    } catch {
      throw new PermanentProviderError(`woocommerce ${what}: response is not JSON`, 'bad-response');
    }
  }

  private refusal(what: string, res: StoreHttpResponse): Error {
    if (res.status === 401 || res.status === 403) return authError(`woocommerce ${what}`, res.status);
    return new PermanentProviderError(
      `woocommerce ${what}: refused (${res.status})`,
      errorCodeOf(res) ?? `${res.status}`,
    );
  }

  private call(
    shop: RecoveryShop,
    method: 'GET' | 'POST',
    path: string,
    what: string,
    idempotent: boolean,
    body?: object,
  ): Promise<StoreHttpResponse> {
    return this.http.send({
      method,
      url: `${wooCommerceApiBase(shop.apiUrl)}${path}`,
      headers: {
        authorization: wooCommerceAuthorization(shop.apiToken),
        accept: 'application/json',
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      idempotent,
      what: `woocommerce ${what}`,
    });
  }
}

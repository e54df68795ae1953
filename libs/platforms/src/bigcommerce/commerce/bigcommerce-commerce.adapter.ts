import Decimal from 'decimal.js';
import {
  DiscountUnavailableError,
  PermanentProviderError,
  RetryableProviderError,
  type CatalogPort,
  type CommercePort,
  type StoreProductCategories,
  type DiscountCodeRequest,
  type RecoveryShop,
} from '@reclaim/ports';
import type { AlternativeCandidate, RecoveryItem, StockLine } from '@reclaim/domain';
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
import { bigCommerceResetWait } from '../bigcommerce-api.client';

/**
 * Stock and price of one variant (or the product itself) for a wanted quantity: the product's
 * `inventory_tracking` says whose `inventory_level` counts; `availability: disabled` and the
 * variant's `purchasing_disabled` rule it out; the price is the `calculated_price`.
 */
export function bigCommerceVariantStock(
  product: JsonObject,
  variant: JsonObject | undefined,
  quantity: number,
): { available: boolean; currentUnitPrice?: string } {
  const tracking = strOf(product['inventory_tracking']) ?? 'none';
  const level =
    tracking === 'product'
      ? strOf(product['inventory_level'])
      : tracking === 'variant'
        ? strOf(variant?.['inventory_level'])
        : undefined;
  const enough = level === undefined || Number(level) >= quantity;
  const purchasable = strOf(product['availability']) !== 'disabled' && variant?.['purchasing_disabled'] !== true;
  const price = validateMoney(variant?.['calculated_price'] ?? product['calculated_price']);
  return { available: purchasable && enough, ...(price.ok ? { currentUnitPrice: price.value } : {}) };
}

/** Products per catalog request (`id:in` list kept short enough for any URL limit). */
const PRODUCTS_PER_REQUEST = 50;

/** `https://api.bigcommerce.com/stores/<hash>` without trailing slash; `/v3` or `/v2` suffixes are dropped. */
const CATEGORIES_PER_REQUEST = 250;

/** `/v3/catalog/trees/categories` (or the older `/v3/catalog/categories`) body → category id → name. */
export function bigCommerceCategoryNames(body: unknown): Map<string, string> {
  const names = new Map<string, string>();
  for (const raw of arrOf(objOf(body)?.['data'])) {
    const c = objOf(raw);
    const id = strOf(c?.['category_id']) ?? strOf(c?.['id']);
    const name = strOf(c?.['name']);
    if (id !== undefined && name !== undefined) names.set(id, name);
  }
  return names;
}

/** Catalog products (with `categories`: category ids) and the category names → each product's category names. */
export function bigCommerceProductCategoriesOf(
  products: readonly JsonObject[],
  names: ReadonlyMap<string, string>,
): StoreProductCategories[] {
  return products.flatMap((p) => {
    const id = strOf(p['id']);
    if (id === undefined) return [];
    const categories = arrOf(p['categories'])
      .map((c) => names.get(strOf(c) ?? ''))
      .filter((n): n is string => n !== undefined);
    return [{ productId: id, categories: [...new Set(categories)] }];
  });
}

export function bigCommerceStoreBase(apiUrl: string): string {
  return apiUrl
    .trim()
    .replace(/\/+$/, '')
    .replace(/\/v[23]$/, '');
}

/** RFC 2822 in UTC, as the v2 API writes dates ("Tue, 13 Mar 2018 16:18:59 +0000"). */
export function rfc2822(date: Date): string {
  return date.toUTCString().replace(/GMT$/, '+0000');
}

/** Which API made a code: the promotions engine, or the legacy coupons of stores without it. */
export type BigCommerceCodePath = 'v3-promotions' | 'v2-coupons';

export interface BigCommerceDiscountCode {
  readonly code: string;
  readonly via: BigCommerceCodePath;
}

const PROMOTION_PREFIX = 'Reclaim recovery ';

/**
 * Promotion codes carry no expiry of their own (only the promotion's `end_date`), so the codes of
 * one level are grouped by the UTC day their expiry falls on: the promotion ends at the end of that
 * day, at most one day after the expiry the message promised.
 */
export function promotionExpiry(expiresAt: string): Date {
  const at = new Date(expiresAt);
  if (!Number.isFinite(at.getTime())) throw new PermanentProviderError('discount expiry is not a date', 'bad-request');
  return new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), at.getUTCDate(), 23, 59, 59));
}

/** The shop's promotion for one level and expiry day, found again by this name. */
export function promotionNameFor(percent: number, expiry: Date): string {
  return `${PROMOTION_PREFIX}${new Decimal(percent).toFixed()}% until ${expiry.toISOString().slice(0, 10)}`;
}

interface Quota {
  left: number;
  resetAt: number;
}

/** Promotion ids kept (store × discount level × expiry day: a new key every day, so bounded). */
const MAX_CACHED_PROMOTIONS = 1_000;

/** Per-store request quota from `X-Rate-Limit-Requests-Left` / `X-Rate-Limit-Time-Reset-Ms`. */
export class BigCommerceQuota {
  private readonly stores = new Map<string, Quota>();

  private static keyOf(url: string): string {
    return url.replace(/\/v[23]\/.*$/, '');
  }

  holdFor(url: string, now: Date): number {
    const q = this.stores.get(BigCommerceQuota.keyOf(url));
    if (q === undefined || q.left > 0) return 0;
    return Math.max(0, q.resetAt - now.getTime());
  }

  observe(url: string, res: StoreHttpResponse, now: Date): void {
    const left = res.headers['x-rate-limit-requests-left']?.trim();
    const reset = res.headers['x-rate-limit-time-reset-ms']?.trim();
    if (left === undefined || !/^\d{1,9}$/.test(left)) return;
    const resetMs = reset !== undefined && /^\d{1,9}$/.test(reset) ? Number(reset) : 0;
    this.stores.set(BigCommerceQuota.keyOf(url), {
      left: res.status === 429 ? 0 : Number(left),
      resetAt: now.getTime() + resetMs,
    });
  }
}

/**
 * BigCommerce store API: stock and price from the catalog (`/v3/catalog/products?id:in=…&include=variants`,
 * which carries the product's `inventory_tracking` next to each variant's `inventory_level`,
 * `purchasing_disabled` and `calculated_price`), and single-use percentage codes from the promotions
 * engine (`/v3/promotions`, one promotion per level and expiry day; legacy `/v2/coupons` only for
 * stores without it) whose code is derived from the idempotency key, so a retry finds it again. The per-window
 * quota headers are honoured: once `X-Rate-Limit-Requests-Left` reaches 0 the next request waits
 * for `X-Rate-Limit-Time-Reset-Ms`.
 */
export class BigCommerceCommerceAdapter implements CommercePort, CatalogPort {
  private readonly http: StoreHttpClient;
  private readonly quota = new BigCommerceQuota();
  /** Promotion ids by store and name (a promotion is never renamed by Reclaim). */
  private readonly promotions = new Map<string, string>();

  constructor(options: StoreHttpOptions = {}) {
    this.http = new StoreHttpClient(options, {
      holdFor: (url, now) => this.quota.holdFor(url, now),
      observe: (url, res, now) => this.quota.observe(url, res, now),
      serverWait: bigCommerceResetWait,
    });
  }

  async stock(shop: RecoveryShop, items: readonly RecoveryItem[]): Promise<StockLine[]> {
    const productIds = [...new Set(items.map((i) => i.productId).filter((id) => /^\d{1,20}$/.test(id)))];
    const products = new Map<string, JsonObject>();
    for (let i = 0; i < productIds.length; i += PRODUCTS_PER_REQUEST) {
      const ids = productIds.slice(i, i + PRODUCTS_PER_REQUEST);
      const body = await this.json(
        shop,
        'GET',
        `/v3/catalog/products?id:in=${ids.join(',')}&include=variants&limit=${PRODUCTS_PER_REQUEST}`,
        'catalog products',
      );
      for (const p of arrOf(objOf(body)?.['data'])) {
        const product = objOf(p);
        const id = strOf(product?.['id']);
        if (product !== undefined && id !== undefined) products.set(id, product);
      }
    }
    const lines: StockLine[] = [];
    for (const item of items) {
      if (!/^\d{1,20}$/.test(item.productId)) continue;
      const product = products.get(item.productId);
      if (product === undefined) {
        lines.push({ lineId: item.lineId, available: false });
        continue;
      }
      const variants = arrOf(product['variants']).map((v) => objOf(v) ?? {});
      const variant =
        item.variantId !== undefined
          ? variants.find((v) => strOf(v['id']) === item.variantId)
          : variants.length === 1
            ? variants[0]
            : undefined;
      if (item.variantId !== undefined && variant === undefined) {
        lines.push({ lineId: item.lineId, available: false });
        continue;
      }
      lines.push({ lineId: item.lineId, ...bigCommerceVariantStock(product, variant, item.quantity) });
    }
    return lines;
  }

  /**
   * The product's `related_products` (the merchant's picks; BigCommerce's `[-1]` means "chosen
   * automatically by the storefront" and names none), then those products with their variants in
   * one catalog read: per product the first variant that can be bought in the line's quantity
   * (else the first), with its stock and `calculated_price`, in the merchant's order.
   */
  async alternatives(shop: RecoveryShop, item: RecoveryItem, limit: number): Promise<AlternativeCandidate[]> {
    if (!/^\d{1,20}$/.test(item.productId)) return [];
    const body = await this.json(
      shop,
      'GET',
      `/v3/catalog/products/${item.productId}?include_fields=related_products`,
      'related products',
    );
    const related = arrOf(objOf(objOf(body)?.['data'])?.['related_products'])
      .map((id) => strOf(id))
      .filter((id): id is string => id !== undefined && /^\d{1,20}$/.test(id))
      .slice(0, Math.max(0, Math.min(limit, PRODUCTS_PER_REQUEST)));
    if (related.length === 0) return [];
    const list = await this.json(
      shop,
      'GET',
      `/v3/catalog/products?id:in=${related.join(',')}&include=variants,images&limit=${PRODUCTS_PER_REQUEST}`,
      'catalog products',
    );
    const products = new Map<string, JsonObject>();
    for (const p of arrOf(objOf(list)?.['data'])) {
      const product = objOf(p);
      const id = strOf(product?.['id']);
      if (product !== undefined && id !== undefined) products.set(id, product);
    }
    return related.flatMap((id): AlternativeCandidate[] => {
      const product = products.get(id);
      if (product === undefined) return [];
      const variants = arrOf(product['variants']).map((v) => objOf(v) ?? {});
      const checked = variants.map((v) => ({ v, stock: bigCommerceVariantStock(product, v, item.quantity) }));
      const pick = checked.find((c) => c.stock.available) ?? checked[0];
      const stock = pick?.stock ?? bigCommerceVariantStock(product, undefined, item.quantity);
      const variantId = variants.length > 1 ? strOf(pick?.v['id']) : undefined;
      const path = strOf(objOf(product['custom_url'])?.['url']);
      const image = arrOf(product['images'])
        .map((i) => objOf(i) ?? {})
        .find((i) => i['is_thumbnail'] === true);
      const imageUrl = strOf(image?.['url_standard']);
      return [
        {
          productId: id,
          ...(variantId !== undefined ? { variantId } : {}),
          title: strOf(product['name']) ?? `Product ${id}`,
          available: stock.available,
          ...(stock.currentUnitPrice !== undefined ? { unitPrice: stock.currentUnitPrice } : {}),
          ...(path !== undefined && shop.shopDomain !== '' ? { productUrl: `https://${shop.shopDomain}${path}` } : {}),
          ...(imageUrl !== undefined ? { imageUrl } : {}),
          source: 'related',
        },
      ];
    });
  }

  /**
   * Each product's category names: the products' category ids (`/v3/catalog/products?id:in=…&include_fields=categories`),
   * then those categories' names from the category trees (`/v3/catalog/trees/categories?category_id:in=…`).
   */
  async productCategories(shop: RecoveryShop, productIds: readonly string[]): Promise<StoreProductCategories[]> {
    const ids = [...new Set(productIds.filter((id) => /^\d{1,20}$/.test(id)))];
    const products: JsonObject[] = [];
    for (let i = 0; i < ids.length; i += PRODUCTS_PER_REQUEST) {
      const page = ids.slice(i, i + PRODUCTS_PER_REQUEST);
      const body = await this.json(
        shop,
        'GET',
        `/v3/catalog/products?id:in=${page.join(',')}&include_fields=categories&limit=${PRODUCTS_PER_REQUEST}`,
        'catalog product categories',
      );
      products.push(...arrOf(objOf(body)?.['data']).flatMap((p) => (objOf(p) ? [objOf(p) as JsonObject] : [])));
    }
    const categoryIds = [...new Set(products.flatMap((p) => arrOf(p['categories']).map((c) => strOf(c))))].filter(
      (c): c is string => c !== undefined && /^\d{1,20}$/.test(c),
    );
    const names = new Map<string, string>();
    for (let i = 0; i < categoryIds.length; i += CATEGORIES_PER_REQUEST) {
      const page = categoryIds.slice(i, i + CATEGORIES_PER_REQUEST);
      const body = await this.json(
        shop,
        'GET',
        `/v3/catalog/trees/categories?category_id:in=${page.join(',')}&limit=${CATEGORIES_PER_REQUEST}`,
        'catalog categories',
      );
      for (const [id, name] of bigCommerceCategoryNames(body)) names.set(id, name);
    }
    return bigCommerceProductCategoriesOf(products, names);
  }

  /**
   * A single-use code from the promotions engine (v3): the shop's promotion for this level and expiry
   * day is found by name or created, then the code derived from the idempotency key is added to it
   * (`max_uses` 1, `max_uses_per_customer` 1). A store without the promotions API (404 on
   * `/v3/promotions`) gets a legacy v2 coupon instead; `via` says which path made the code.
   */
  async createDiscountCode(request: DiscountCodeRequest): Promise<BigCommerceDiscountCode> {
    checkPercent(request.percent);
    const code = discountCodeFor(request.idempotencyKey);
    const promotion = await this.promotionFor(request);
    if (promotion === 'unavailable') return { code: await this.createCoupon(request, code), via: 'v2-coupons' };
    const res = await this.call(
      request.shop,
      'POST',
      `/v3/promotions/${promotion}/codes`,
      'promotion code create',
      false,
      {
        code,
        max_uses: 1,
        max_uses_per_customer: 1,
      },
    );
    if (res.status === 201 || res.status === 200) return { code, via: 'v3-promotions' };
    if (res.status === 409 || res.status === 422) {
      // Answered before (a lost answer, a retry) or a code that belongs to someone else.
      if (await this.promotionCodeIsOurs(request.shop, code)) return { code, via: 'v3-promotions' };
      if (res.status === 409) {
        throw new PermanentProviderError('promotion code create: the code exists and is not ours', 'code-conflict');
      }
    }
    if (res.status === 403) throw new DiscountUnavailableError('the BigCommerce token lacks the marketing scope');
    if (res.status === 404) {
      // The promotion was deleted in the store admin: the next attempt finds or makes it again.
      this.promotions.clear();
      throw new RetryableProviderError('bigcommerce promotion code create: the promotion is gone', undefined, '404');
    }
    throw this.refusal('promotion code create', res);
  }

  /** Keeps a promotion id: one per store, level and expiry day, so the oldest are evicted beyond the bound. */
  private remember(cacheKey: string, id: string): void {
    this.promotions.delete(cacheKey);
    this.promotions.set(cacheKey, id);
    while (this.promotions.size > MAX_CACHED_PROMOTIONS)
      this.promotions.delete(this.promotions.keys().next().value as string);
  }

  /** The promotion id for the request's level and expiry day, or `unavailable` (no promotions API). */
  private async promotionFor(request: DiscountCodeRequest): Promise<string | 'unavailable'> {
    const expiry = promotionExpiry(request.expiresAt);
    const name = promotionNameFor(request.percent, expiry);
    const cacheKey = `${bigCommerceStoreBase(request.shop.apiUrl)} ${name}`;
    const cached = this.promotions.get(cacheKey);
    if (cached !== undefined) {
      this.remember(cacheKey, cached); // most recently used last
      return cached;
    }
    const found = await this.findPromotion(request.shop, name);
    if (found === 'unavailable') return found;
    if (found !== undefined) {
      this.remember(cacheKey, found);
      return found;
    }
    const res = await this.call(request.shop, 'POST', '/v3/promotions', 'promotion create', false, {
      name,
      redemption_type: 'COUPON',
      status: 'ENABLED',
      end_date: expiry.toISOString().replace(/\.\d{3}Z$/, '+00:00'),
      currency_code: '*',
      can_be_used_with_other_promotions: false,
      rules: [{ action: { cart_value: { discount: { percentage_amount: new Decimal(request.percent).toFixed(2) } } } }],
    });
    let id: string | undefined;
    if (res.status === 201 || res.status === 200) {
      id = strOf(objOf(objOf(this.parse(res, 'promotion create'))?.['data'])?.['id']);
    } else if (res.status === 409 || res.status === 422) {
      // Another worker made it meanwhile (names are unique), or our earlier create's answer was lost.
      const again = await this.findPromotion(request.shop, name);
      if (again !== 'unavailable') id = again;
      if (id === undefined) throw this.refusal('promotion create', res);
    } else if (res.status === 403) {
      throw new DiscountUnavailableError('the BigCommerce token lacks the marketing scope');
    } else {
      throw this.refusal('promotion create', res);
    }
    if (id === undefined)
      throw new PermanentProviderError('bigcommerce promotion create: no id in the answer', 'bad-response');
    this.remember(cacheKey, id);
    return id;
  }

  private async findPromotion(shop: RecoveryShop, name: string): Promise<string | undefined | 'unavailable'> {
    const res = await this.call(
      shop,
      'GET',
      `/v3/promotions?name=${encodeURIComponent(name)}&redemption_type=COUPON`,
      'promotion lookup',
      true,
    );
    if (res.status === 404) return 'unavailable';
    if (res.status < 200 || res.status >= 300) {
      if (res.status === 403) throw new DiscountUnavailableError('the BigCommerce token lacks the marketing scope');
      throw this.refusal('promotion lookup', res);
    }
    const found = arrOf(objOf(this.parse(res, 'promotion lookup'))?.['data'])
      .map((p) => objOf(p))
      .find((p) => strOf(p?.['name']) === name);
    return strOf(found?.['id']);
  }

  /** True when the code belongs to one of Reclaim's promotions (looked up by code). */
  private async promotionCodeIsOurs(shop: RecoveryShop, code: string): Promise<boolean> {
    const body = await this.json(shop, 'GET', `/v3/promotions?code=${encodeURIComponent(code)}`, 'promotion lookup');
    return arrOf(objOf(body)?.['data']).some((p) => (strOf(objOf(p)?.['name']) ?? '').startsWith(PROMOTION_PREFIX));
  }

  /** The legacy path for stores without the promotions API: one v2 coupon per code. */
  private async createCoupon(request: DiscountCodeRequest, code: string): Promise<string> {
    if (await this.findOurs(request.shop, code)) return code;
    const res = await this.call(request.shop, 'POST', '/v2/coupons', 'coupon create', false, {
      name: discountMarkerFor(code),
      code,
      type: 'percentage_discount',
      amount: new Decimal(request.percent).toFixed(4),
      enabled: true,
      applies_to: { entity: 'categories', ids: [0] },
      max_uses: 1,
      max_uses_per_customer: 1,
      expires: rfc2822(new Date(request.expiresAt)),
    });
    if (res.status === 201 || res.status === 200) return code;
    if (res.status === 409) {
      if (await this.findOurs(request.shop, code)) return code;
      throw new PermanentProviderError('coupon create: the code exists and is not ours', 'code-conflict');
    }
    if (res.status === 403) throw new DiscountUnavailableError('the BigCommerce token lacks the marketing scope');
    throw this.refusal('coupon create', res);
  }

  private async findOurs(shop: RecoveryShop, code: string): Promise<boolean> {
    const body = await this.json(shop, 'GET', `/v2/coupons?code=${encodeURIComponent(code)}`, 'coupon lookup');
    const found = arrOf(body)
      .map((c) => objOf(c))
      .find((c) => strOf(c?.['code']) === code);
    if (found === undefined) return false;
    if (strOf(found['name']) !== discountMarkerFor(code)) {
      throw new PermanentProviderError('coupon lookup: the code exists and is not ours', 'code-conflict');
    }
    return true;
  }

  private refusal(what: string, res: StoreHttpResponse): Error {
    if (res.status === 401 || res.status === 403) return authError(`bigcommerce ${what}`, res.status);
    return new PermanentProviderError(`bigcommerce ${what}: refused (${res.status})`, `${res.status}`);
  }

  /** A read: 2xx JSON (204 → null) or a typed error. */
  private async json(shop: RecoveryShop, method: 'GET', path: string, what: string): Promise<unknown> {
    const res = await this.call(shop, method, path, what, true);
    if (res.status === 204) return null;
    if (res.status < 200 || res.status >= 300) throw this.refusal(what, res);
    return this.parse(res, what);
  }

  private parse(res: StoreHttpResponse, what: string): unknown {
    try {
      return res.text.trim() === '' ? null : parseJsonLossless(res.text);
    } catch {
      throw new PermanentProviderError(`bigcommerce ${what}: response is not JSON`, 'bad-response');
    }
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
      url: `${bigCommerceStoreBase(shop.apiUrl)}${path}`,
      headers: {
        'x-auth-token': shop.apiToken,
        accept: 'application/json',
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      idempotent,
      what: `bigcommerce ${what}`,
    });
  }
}

import Decimal from 'decimal.js';
import {
  DiscountUnavailableError,
  PermanentProviderError,
  RetryableProviderError,
  type CatalogPort,
  type CommercePort,
  type DiscountCodeRequest,
  type RecoveryShop,
  type StoreProductCategories,
} from '@reclaim/ports';
import type { AlternativeCandidate, RecoveryItem, StockLine } from '@reclaim/domain';
import { arrOf, isObject, objOf, parseJsonLossless, strOf, type JsonObject } from '../../common/lossless-json';
import { validateMoney } from '../../common/money';
import {
  authError,
  checkPercent,
  discountCodeFor,
  discountMarkerFor,
  platformCustomerIdOf,
  StoreHttpClient,
  type BodyRetry,
  type StoreHttpOptions,
  type StoreHttpResponse,
} from '../../common/store-http';

/** `nodes(ids:)` takes at most 250 ids per query. */
const MAX_NODES = 250;

export const SHOPIFY_VARIANT_STOCK_QUERY = `query ReclaimVariantStock($ids: [ID!]!) {
  nodes(ids: $ids) {
    __typename
    ... on ProductVariant { id price availableForSale inventoryQuantity inventoryPolicy inventoryItem { tracked } }
  }
}`;

/** A product's type and its collections (the first 25: a product in more is rare, and they are only segmentation inputs). */
export const SHOPIFY_PRODUCT_CATEGORIES_QUERY = `query ReclaimProductCategories($ids: [ID!]!) {
  nodes(ids: $ids) {
    __typename
    ... on Product { id productType collections(first: 25) { nodes { title } } }
  }
}`;

export function shopifyProductGid(productId: string): string | undefined {
  if (/^gid:\/\/shopify\/Product\/\d+$/.test(productId)) return productId;
  return /^\d{1,20}$/.test(productId) ? `gid://shopify/Product/${productId}` : undefined;
}

/**
 * The `nodes` of a ReclaimProductCategories answer → each product's categories: its product type
 * (when set) and the titles of its collections. Null nodes (unknown products) are left out.
 */
export function shopifyProductCategoriesOf(data: JsonObject): StoreProductCategories[] {
  const out: StoreProductCategories[] = [];
  for (const raw of arrOf(data['nodes'])) {
    const node = objOf(raw);
    if (node === undefined || strOf(node['__typename']) !== 'Product') continue;
    const id = /^gid:\/\/shopify\/Product\/(\d+)$/.exec(strOf(node['id']) ?? '')?.[1];
    if (id === undefined) continue;
    const type = strOf(node['productType']);
    const collections = arrOf(objOf(node['collections'])?.['nodes'])
      .map((c) => strOf(objOf(c)?.['title']))
      .filter((t): t is string => t !== undefined);
    out.push({ productId: id, categories: [...new Set([...(type !== undefined ? [type] : []), ...collections])] });
  }
  return out;
}

export const SHOPIFY_DISCOUNT_BY_CODE_QUERY = `query ReclaimDiscountByCode($code: String!) {
  codeDiscountNodeByCode(code: $code) {
    id
    codeDiscount { __typename ... on DiscountCodeBasic { title codes(first: 1) { nodes { code } } } }
  }
}`;

export const SHOPIFY_DISCOUNT_CREATE_MUTATION = `mutation ReclaimDiscountCreate($basicCodeDiscount: DiscountCodeBasicInput!) {
  discountCodeBasicCreate(basicCodeDiscount: $basicCodeDiscount) {
    codeDiscountNode { id }
    userErrors { field code message }
  }
}`;

/**
 * The Storefront API's recommendations for a product (RELATED: "you may also like", Shopify's own
 * or set in Search & Discovery), with each product's variants as the storefront sells them.
 */
export const SHOPIFY_RECOMMENDATIONS_QUERY = `query ReclaimRecommendations($productId: ID!, $intent: ProductRecommendationIntent) {
  productRecommendations(productId: $productId, intent: $intent) {
    id title onlineStoreUrl featuredImage { url }
    variants(first: 10) { nodes { id title availableForSale } }
  }
}`;

/** `https://shop/admin/api/2025-01` → the shop's Storefront API endpoint `https://shop/api/2025-01/graphql.json`. */
export function shopifyStorefrontUrl(apiUrl: string): string {
  const base = apiUrl
    .trim()
    .replace(/\/+$/, '')
    .replace(/\/graphql\.json$/, '');
  const m = /^(.*)\/admin\/api\/([^/]+)$/.exec(base);
  if (m === null)
    throw new PermanentProviderError('shopify apiUrl does not end in /admin/api/<version>', 'bad-api-url');
  return `${m[1]}/api/${m[2]}/graphql.json`;
}

function numericIdOf(gid: string | undefined): string | undefined {
  return gid === undefined ? undefined : /\/(\d{1,20})$/.exec(gid)?.[1];
}

/** `https://shop/admin/api/2025-01` → its `/graphql.json` endpoint (an apiUrl already ending so is kept). */
export function shopifyGraphqlUrl(apiUrl: string): string {
  const base = apiUrl.trim().replace(/\/+$/, '');
  return base.endsWith('/graphql.json') ? base : `${base}/graphql.json`;
}

/** `YYYY-MM` API version in the apiUrl; `context` replaced `customerSelection` in 2025-10. */
export function shopifyUsesDiscountContext(apiUrl: string): boolean {
  const version = /\/admin\/api\/(\d{4}-\d{2})(\/|$)/.exec(apiUrl)?.[1];
  return version === undefined || version === 'unstable' || version >= '2025-10';
}

export function shopifyVariantGid(variantId: string): string | undefined {
  if (/^gid:\/\/shopify\/ProductVariant\/\d+$/.test(variantId)) return variantId;
  return /^\d{1,20}$/.test(variantId) ? `gid://shopify/ProductVariant/${variantId}` : undefined;
}

/** Wait for a `THROTTLED` answer: the missing points at the restore rate. */
export function shopifyThrottleWaitMs(body: unknown): number | undefined {
  const cost = objOf(objOf(objOf(body)?.['extensions'])?.['cost']);
  const status = objOf(cost?.['throttleStatus']);
  const requested = Number(strOf(cost?.['requestedQueryCost']));
  const available = Number(strOf(status?.['currentlyAvailable']));
  const rate = Number(strOf(status?.['restoreRate']));
  if (![requested, available, rate].every(Number.isFinite) || rate <= 0) return undefined;
  return Math.max(0, Math.ceil(((requested - available) / rate) * 1000));
}

function graphqlErrorCodes(body: unknown): string[] {
  return arrOf(objOf(body)?.['errors']).map((e) => strOf(objOf(objOf(e)?.['extensions'])?.['code']) ?? 'GRAPHQL_ERROR');
}

function throttled(res: StoreHttpResponse): BodyRetry {
  if (!res.text.includes('THROTTLED')) return undefined;
  let body: unknown;
  try {
    body = parseJsonLossless(res.text);
  } catch {
    return undefined;
  }
  if (!graphqlErrorCodes(body).includes('THROTTLED')) return undefined;
  const wait = shopifyThrottleWaitMs(body);
  return { code: 'THROTTLED', ...(wait !== undefined ? { retryAfterMs: wait } : {}) };
}

/**
 * Shopify Admin GraphQL store API: variant stock and price in one `nodes(ids:)` query, and unique,
 * single-use percentage codes with `discountCodeBasicCreate`. The code is derived from the
 * idempotency key and looked up (`codeDiscountNodeByCode`) before and after creating, so a retry
 * never creates a second discount.
 */
export class ShopifyCommerceAdapter implements CommercePort, CatalogPort {
  private readonly http: StoreHttpClient;

  constructor(options: StoreHttpOptions = {}) {
    this.http = new StoreHttpClient(options, { bodyRetry: throttled });
  }

  async stock(shop: RecoveryShop, items: readonly RecoveryItem[]): Promise<StockLine[]> {
    const gids = [
      ...new Set(
        items.flatMap((i) => {
          const gid = i.variantId !== undefined ? shopifyVariantGid(i.variantId) : undefined;
          return gid !== undefined ? [gid] : [];
        }),
      ),
    ];
    const nodes = new Map<string, JsonObject | null>();
    for (let i = 0; i < gids.length; i += MAX_NODES) {
      const ids = gids.slice(i, i + MAX_NODES);
      const data = await this.graphql(shop, 'ReclaimVariantStock', SHOPIFY_VARIANT_STOCK_QUERY, { ids }, true);
      const list = arrOf(data['nodes']);
      if (list.length !== ids.length) {
        throw new PermanentProviderError('variant stock: nodes answer does not match the ids asked', 'bad-response');
      }
      ids.forEach((id, n) => nodes.set(id, objOf(list[n]) ?? null));
    }
    const lines: StockLine[] = [];
    for (const item of items) {
      const gid = item.variantId !== undefined ? shopifyVariantGid(item.variantId) : undefined;
      if (gid === undefined || !nodes.has(gid)) continue;
      const node = nodes.get(gid) ?? null;
      if (node === null || node['__typename'] !== 'ProductVariant') {
        lines.push({ lineId: item.lineId, available: false });
        continue;
      }
      const quantity = strOf(node['inventoryQuantity']);
      const tracked = objOf(node['inventoryItem'])?.['tracked'] !== false;
      const enough =
        !tracked ||
        node['inventoryPolicy'] === 'CONTINUE' ||
        quantity === undefined ||
        Number(quantity) >= item.quantity;
      const price = validateMoney(node['price']);
      lines.push({
        lineId: item.lineId,
        available: node['availableForSale'] === true && enough,
        ...(price.ok ? { currentUnitPrice: price.value } : {}),
      });
    }
    return lines;
  }

  /**
   * Recommendations from the Storefront API (tokenless, as its public product reads allow), then
   * the stock and price of each suggested variant from the Admin API (`nodes`, like `stock`): the
   * storefront's own answer is never trusted for either. Per product the first variant the
   * storefront sells is suggested (else the first one, which the Admin answer then rules out).
   */
  async alternatives(shop: RecoveryShop, item: RecoveryItem, limit: number): Promise<AlternativeCandidate[]> {
    const productGid = shopifyProductGid(item.productId);
    if (productGid === undefined) return [];
    const data = await this.graphql(
      shop,
      'ReclaimRecommendations',
      SHOPIFY_RECOMMENDATIONS_QUERY,
      { productId: productGid, intent: 'RELATED' },
      true,
      { url: shopifyStorefrontUrl(shop.apiUrl), headers: {} },
    );
    const products = arrOf(data['productRecommendations'])
      .map((p) => objOf(p))
      .filter((p): p is JsonObject => p !== undefined)
      .slice(0, Math.max(0, limit));
    const suggested = products.flatMap((p) => {
      const productId = numericIdOf(strOf(p['id']));
      if (productId === undefined) return [];
      const variants = arrOf(objOf(p['variants'])?.['nodes']).map((v) => objOf(v) ?? {});
      const variant = variants.find((v) => v['availableForSale'] === true) ?? variants[0];
      const variantId = numericIdOf(strOf(variant?.['id']));
      const title = strOf(p['title']) ?? `Product ${productId}`;
      const variantTitle = strOf(variant?.['title']);
      const url = strOf(p['onlineStoreUrl']);
      const image = strOf(objOf(p['featuredImage'])?.['url']);
      return [
        {
          productId,
          ...(variantId !== undefined ? { variantId } : {}),
          title,
          ...(variantTitle !== undefined && variantTitle !== 'Default Title' ? { variantTitle } : {}),
          ...(url !== undefined ? { productUrl: url } : {}),
          ...(image !== undefined ? { imageUrl: image } : {}),
        },
      ];
    });
    const checkable = suggested.filter((c) => c.variantId !== undefined);
    const lines = await this.stock(
      shop,
      checkable.map((c) => ({
        lineId: c.variantId as string,
        productId: c.productId,
        variantId: c.variantId,
        quantity: item.quantity,
        unitPrice: item.unitPrice,
      })),
    );
    const byVariant = new Map(lines.map((l) => [l.lineId, l]));
    return suggested.map((c): AlternativeCandidate => {
      const line = c.variantId !== undefined ? byVariant.get(c.variantId) : undefined;
      return {
        ...c,
        available: line?.available === true,
        ...(line?.currentUnitPrice !== undefined ? { unitPrice: line.currentUnitPrice } : {}),
        source: 'recommendations',
        ...(c.variantId === undefined ? { unusable: 'no-variant' } : {}),
      };
    });
  }

  /** Product type and collections of each product, up to 250 products per `nodes(ids:)` query. */
  async productCategories(shop: RecoveryShop, productIds: readonly string[]): Promise<StoreProductCategories[]> {
    const gids = [...new Set(productIds.map(shopifyProductGid).filter((g): g is string => g !== undefined))];
    const out: StoreProductCategories[] = [];
    for (let i = 0; i < gids.length; i += MAX_NODES) {
      const ids = gids.slice(i, i + MAX_NODES);
      const data = await this.graphql(
        shop,
        'ReclaimProductCategories',
        SHOPIFY_PRODUCT_CATEGORIES_QUERY,
        { ids },
        true,
      );
      out.push(...shopifyProductCategoriesOf(data));
    }
    return out;
  }

  async createDiscountCode(request: DiscountCodeRequest): Promise<{ code: string }> {
    checkPercent(request.percent);
    const code = discountCodeFor(request.idempotencyKey);
    const existing = await this.findOurs(request.shop, code);
    if (existing) return { code };

    // Restricted to the shopper when the store's customer id is known.
    const customerId =
      request.platformCustomerId !== undefined && /^[0-9]{1,20}$/.test(request.platformCustomerId)
        ? request.platformCustomerId
        : platformCustomerIdOf(request.customerKey);
    const eligibility = customerId
      ? { customers: { add: [`gid://shopify/Customer/${customerId}`] } }
      : shopifyUsesDiscountContext(request.shop.apiUrl)
        ? { all: 'ALL' }
        : { all: true };
    const input = {
      title: discountMarkerFor(code),
      code,
      startsAt: this.http.now().toISOString(),
      endsAt: new Date(request.expiresAt).toISOString(),
      usageLimit: 1,
      appliesOncePerCustomer: true,
      customerGets: {
        value: { percentage: new Decimal(request.percent).div(100).toNumber() },
        items: { all: true },
      },
      ...(shopifyUsesDiscountContext(request.shop.apiUrl)
        ? { context: eligibility }
        : { customerSelection: eligibility }),
    };
    const data = await this.graphql(
      request.shop,
      'ReclaimDiscountCreate',
      SHOPIFY_DISCOUNT_CREATE_MUTATION,
      { basicCodeDiscount: input },
      false,
    );
    const payload = objOf(data['discountCodeBasicCreate']);
    if (payload === undefined) throw new PermanentProviderError('discount create: no payload', 'bad-response');
    const userErrors = arrOf(payload['userErrors']).map((e) => objOf(e) ?? {});
    if (userErrors.length === 0) {
      if (objOf(payload['codeDiscountNode']) === undefined) {
        throw new PermanentProviderError('discount create: no discount in the answer', 'bad-response');
      }
      return { code };
    }
    const codes = userErrors.map((e) => strOf(e['code']) ?? 'INVALID');
    if (codes.includes('TAKEN')) {
      // Created by an earlier attempt whose answer we never saw, or someone else's code.
      if (await this.findOurs(request.shop, code)) return { code };
      throw new PermanentProviderError('discount create: the code exists and is not ours', 'code-conflict');
    }
    throw new PermanentProviderError(`discount create refused: ${codes.join(', ')}`, codes[0]);
  }

  private async findOurs(shop: RecoveryShop, code: string): Promise<boolean> {
    const data = await this.graphql(shop, 'ReclaimDiscountByCode', SHOPIFY_DISCOUNT_BY_CODE_QUERY, { code }, true);
    const node = objOf(data['codeDiscountNodeByCode']);
    if (node === undefined) return false;
    const title = strOf(objOf(node['codeDiscount'])?.['title']);
    if (title !== discountMarkerFor(code)) {
      throw new PermanentProviderError('discount lookup: the code exists and is not ours', 'code-conflict');
    }
    return true;
  }

  private async graphql(
    shop: RecoveryShop,
    operationName: string,
    query: string,
    variables: Record<string, unknown>,
    isQuery: boolean,
    /** Another endpoint than the Admin API (the Storefront API, tokenless). */
    endpoint?: { readonly url: string; readonly headers: Record<string, string> },
  ): Promise<JsonObject> {
    const what = `shopify ${operationName}`;
    const res = await this.http.send({
      method: 'POST',
      url: endpoint?.url ?? shopifyGraphqlUrl(shop.apiUrl),
      headers: {
        'content-type': 'application/json',
        accept: 'application/json',
        ...(endpoint?.headers ?? { 'x-shopify-access-token': shop.apiToken }),
      },
      body: JSON.stringify({ query, variables, operationName }),
      idempotent: isQuery,
      what,
    });
    if (res.status === 401) throw authError(what, 401);
    if (res.status === 403) {
      if (!isQuery) throw new DiscountUnavailableError('the Shopify token lacks the write_discounts scope');
      throw authError(what, 403);
    }
    if (res.status === 402 || res.status === 423) {
      throw new PermanentProviderError(`${what}: shop unavailable (${res.status})`, `shop-${res.status}`);
    }
    if (res.status < 200 || res.status >= 300) {
      throw new PermanentProviderError(`${what}: unexpected status ${res.status}`, `${res.status}`);
    }
    let body: unknown;
    try {
      body = parseJsonLossless(res.text);
    } catch {
      throw new PermanentProviderError(`${what}: response is not JSON`, 'bad-response');
    }
    const errors = graphqlErrorCodes(body);
    if (errors.length > 0) {
      if (errors.includes('ACCESS_DENIED')) {
        if (!isQuery) throw new DiscountUnavailableError('the Shopify token lacks the write_discounts scope');
        throw authError(what, 403);
      }
      if (errors.includes('INTERNAL_SERVER_ERROR')) {
        throw new RetryableProviderError(`${what}: internal error`, undefined, 'INTERNAL_SERVER_ERROR');
      }
      throw new PermanentProviderError(`${what}: GraphQL errors ${errors.join(', ')}`, errors[0]);
    }
    const data = objOf(isObject(body) ? body['data'] : undefined);
    if (data === undefined) throw new PermanentProviderError(`${what}: no data`, 'bad-response');
    return data;
  }
}

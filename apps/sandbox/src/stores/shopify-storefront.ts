import { effectivePrice, inStock, type Catalogue } from './catalogue';
import type { StoreCall, StoreReply } from './store-http';

/**
 * Shopify Storefront GraphQL stand-in (`POST /api/<version>/graphql.json` on the shop's domain),
 * for the one query Reclaim asks of it: `productRecommendations(productId:, intent:)`, answered
 * from the catalogue's `related` ids. Tokenless like the real API's public product reads (a
 * `X-Shopify-Storefront-Access-Token`, when sent, is not checked). An unknown product answers
 * `null`, as Shopify does; a malformed id or intent is a GraphQL error.
 */
export function handleShopifyStorefront(call: StoreCall, ctx: { catalogue: Catalogue; shopUrl: string }): StoreReply {
  if (call.method !== 'POST') return { status: 405, body: { errors: 'Method Not Allowed' } };
  if (!(call.headers['content-type'] ?? '').toLowerCase().startsWith('application/json')) {
    return { status: 415, body: { errors: 'Unsupported Media Type: use application/json' } };
  }
  const json = call.json;
  const body = (typeof json === 'object' && json !== null && !(json instanceof SyntaxError) ? json : {}) as {
    query?: unknown;
    variables?: unknown;
  };
  if (typeof body.query !== 'string' || body.query.trim() === '') {
    return { status: 400, body: { errors: [{ message: 'No query string was present' }] } };
  }
  const error = (message: string, code: string): StoreReply => ({
    status: 200,
    body: { errors: [{ message, extensions: { code } }] },
  });
  if (!/\bproductRecommendations\s*\(/.test(body.query)) {
    return error(
      'Field doesn’t exist on type QueryRoot (the stand-in answers productRecommendations only)',
      'undefinedField',
    );
  }
  const vars = (typeof body.variables === 'object' && body.variables !== null ? body.variables : {}) as Record<
    string,
    unknown
  >;
  const gid = vars['productId'];
  const productId = typeof gid === 'string' ? /^gid:\/\/shopify\/Product\/(\d+)$/.exec(gid)?.[1] : undefined;
  if (productId === undefined) {
    return error(`Variable $productId of type ID! was provided invalid value`, 'INVALID_VARIABLE');
  }
  const intent = vars['intent'] ?? 'RELATED';
  if (intent !== 'RELATED' && intent !== 'COMPLEMENTARY') {
    return error('Variable $intent of type ProductRecommendationIntent was provided invalid value', 'INVALID_VARIABLE');
  }
  if (ctx.catalogue.product(productId).length === 0)
    return { status: 200, body: { data: { productRecommendations: null } } };
  // Complementary products are set up by hand in Search & Discovery: none in the stand-in.
  const ids = intent === 'RELATED' ? (ctx.catalogue.relationsOf(productId).related ?? []) : [];
  const products = ids
    .map((id) => ctx.catalogue.product(id))
    .filter((entries) => entries.length > 0)
    .map((entries) => {
      const first = entries[0];
      return {
        id: `gid://shopify/Product/${first?.productId ?? ''}`,
        title: first?.title ?? '',
        handle: `product-${first?.productId ?? ''}`,
        onlineStoreUrl: `${ctx.shopUrl}/products/product-${first?.productId ?? ''}`,
        featuredImage: null,
        variants: {
          nodes: entries.map((e) => ({
            id: `gid://shopify/ProductVariant/${e.variantId ?? e.productId}`,
            title: e.variantId !== undefined ? e.title : 'Default Title',
            availableForSale: inStock(e),
            price: { amount: effectivePrice(e), currencyCode: 'USD' },
          })),
        },
      };
    });
  return { status: 200, body: { data: { productRecommendations: products } } };
}

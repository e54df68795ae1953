import { validate as isUuid } from 'uuid';
import type { Platform } from '../inbound/inbound-types';

/**
 * Stream names: `<category>-<shopId>-<id>` (and `delivery-<platform>-<shopId>-<deliveryId>`,
 * `shop-<shopId>`). The recovery process manager's stream is `recovery-<shopId>-<cartId>`: its
 * name is also the recovery id (`recoveryIdFor`).
 *
 * Why this is unambiguous although ids are used verbatim (and may themselves contain "-"):
 * the category and platform are fixed words without "-", and the shop id is a UUID, which is
 * exactly 36 characters long. So a parser reads the category up to the first "-", (the platform
 * up to the next "-"), then exactly 36 characters of shop id and one "-"; everything after is
 * the id, whatever it contains. The first "-" is also where EventStoreDB's `$by_category`
 * projection splits, so `$ce-cart` holds all carts.
 */
export const StreamCategories = {
  cart: 'cart',
  customer: 'customer',
  order: 'order',
  shop: 'shop',
  delivery: 'delivery',
  recovery: 'recovery',
  product: 'product',
  model: 'model',
  experiment: 'experiment',
} as const;

export type StreamCategory = (typeof StreamCategories)[keyof typeof StreamCategories];

const PLATFORMS: readonly Platform[] = ['shopify', 'bigcommerce', 'woocommerce'];

export class InvalidStreamNameError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidStreamNameError';
  }
}

function checkShopId(shopId: string): string {
  if (!isUuid(shopId)) throw new InvalidStreamNameError('shopId must be a UUID');
  return shopId.toLowerCase();
}

function checkId(id: string, what: string): string {
  if (typeof id !== 'string' || id.length === 0) throw new InvalidStreamNameError(`${what} must be a non-empty string`);
  return id;
}

export const cartStream = (shopId: string, cartId: string): string =>
  `cart-${checkShopId(shopId)}-${checkId(cartId, 'cartId')}`;

export const customerStream = (shopId: string, customerKey: string): string =>
  `customer-${checkShopId(shopId)}-${checkId(customerKey, 'customerKey')}`;

export const orderStream = (shopId: string, orderId: string): string =>
  `order-${checkShopId(shopId)}-${checkId(orderId, 'orderId')}`;

/** A product's stock as the store reports it (`product.stock-reported`). */
export const productStream = (shopId: string, productId: string): string =>
  `product-${checkShopId(shopId)}-${checkId(productId, 'productId')}`;

/** The shop's recovery-score models (`model.*`, RFC 0011). */
export const modelStream = (shopId: string): string => `model-${checkShopId(shopId)}`;

/** One experiment of step variants (`experiment.*`, RFC 0016): `experiment-<shop>-<sequence>@<v>.s<step>.<segment>`. */
export const experimentStream = (shopId: string, experimentId: string): string =>
  `experiment-${checkShopId(shopId)}-${checkId(experimentId, 'experimentId')}`;

/** One stream per shop for shop-level facts (`shop.redacted`). */
export const shopStream = (shopId: string): string => `shop-${checkShopId(shopId)}`;

export const deliveryStream = (platform: Platform, shopId: string, deliveryId: string): string => {
  if (!PLATFORMS.includes(platform)) throw new InvalidStreamNameError(`unknown platform ${String(platform)}`);
  return `delivery-${platform}-${checkShopId(shopId)}-${checkId(deliveryId, 'deliveryId')}`;
};

type KeyedCategory = 'cart' | 'customer' | 'order' | 'recovery' | 'product' | 'experiment';
const KEYED: readonly string[] = [
  'cart',
  'customer',
  'order',
  'recovery',
  'product',
  'experiment',
] satisfies KeyedCategory[];

export type ParsedStreamName =
  | { readonly category: KeyedCategory; readonly shopId: string; readonly id: string }
  | { readonly category: 'shop' | 'model'; readonly shopId: string }
  | { readonly category: 'delivery'; readonly platform: Platform; readonly shopId: string; readonly id: string };

/** Inverse of the helpers above; undefined for a name that is not one of ours. */
export function parseStreamName(name: string): ParsedStreamName | undefined {
  const dash = name.indexOf('-');
  if (dash < 0) return undefined;
  const category = name.slice(0, dash);
  let rest = name.slice(dash + 1);
  let platform: Platform | undefined;
  if (category === 'delivery') {
    const d = rest.indexOf('-');
    const p = rest.slice(0, d) as Platform;
    if (d < 0 || !PLATFORMS.includes(p)) return undefined;
    platform = p;
    rest = rest.slice(d + 1);
  }
  const shopId = rest.slice(0, 36);
  if (!isUuid(shopId)) return undefined;
  if (category === 'shop' || category === 'model') return rest.length === 36 ? { category, shopId } : undefined;
  if (rest[36] !== '-' || rest.length < 38) return undefined;
  const id = rest.slice(37);
  if (category === 'delivery' && platform) return { category, platform, shopId, id };
  if (KEYED.includes(category)) return { category: category as KeyedCategory, shopId, id };
  return undefined;
}

/** The shop and cart of a recovery id (= its stream name); undefined for anything else. */
export function parseRecoveryId(recoveryId: string): { shopId: string; cartId: string } | undefined {
  const parsed = parseStreamName(recoveryId);
  return parsed?.category === 'recovery' ? { shopId: parsed.shopId, cartId: parsed.id } : undefined;
}

import type { Platform } from '@reclaim/domain';
import { normalizeShopUrl } from './http';

export class InvalidShopDomainError extends Error {
  constructor(readonly platform: Platform) {
    super(`not a valid ${platform} shop identifier`);
    this.name = 'InvalidShopDomainError';
  }
}

const STORE_HASH = /^[a-z0-9]{1,64}$/;

/**
 * BigCommerce's store hash from `stores/<hash>` (the webhook `producer`), a bare hash, or a
 * `store-<hash>.mybigcommerce.com` host. Lower-cased; `undefined` when none can be read.
 */
export function bigCommerceStoreHash(input: string | undefined): string | undefined {
  if (input === undefined) return undefined;
  const s = input.trim().toLowerCase();
  const m =
    /^stores\/([^/\s]{1,64})$/.exec(s) ?? /^(?:https?:\/\/)?store-([a-z0-9]{1,64})\.mybigcommerce\.com\/?$/.exec(s);
  if (m?.[1] !== undefined) return m[1];
  return STORE_HASH.test(s) ? s : undefined;
}

/**
 * The one key a shop is known by, the same at registration and on every delivery:
 * Shopify/WooCommerce → host (+ path for WordPress in a sub-folder), lower-case, no scheme or
 * trailing slash; BigCommerce → store hash. Throws `InvalidShopDomainError`.
 */
export function normalizeShopDomain(platform: Platform, input: string): string {
  const key = platform === 'bigcommerce' ? bigCommerceStoreHash(input) : normalizeShopUrl(input);
  if (key === undefined) throw new InvalidShopDomainError(platform);
  return key;
}

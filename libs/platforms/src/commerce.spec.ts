import { retryAfterMs } from '@reclaim/http';
import {
  bigCommerceStoreBase,
  commerceFor,
  discountCodeFor,
  rfc2822,
  shopifyGraphqlUrl,
  shopifyThrottleWaitMs,
  shopifyUsesDiscountContext,
  shopifyVariantGid,
  wooAvailable,
  wooCommerceApiBase,
  wooCommerceAuthorization,
} from './commerce';
import { parseJsonLossless } from './common';

describe('commerce adapters: pure helpers', () => {
  it('derives one unguessable code per idempotency key', () => {
    const a = discountCodeFor('recovery-s-c:step-1:email:discount');
    expect(a).toMatch(/^RECLAIM-[A-Z2-7]{16}$/);
    expect(discountCodeFor('recovery-s-c:step-1:email:discount')).toBe(a);
    expect(discountCodeFor('recovery-s-c:step-2:email:discount')).not.toBe(a);
  });

  it('computes the THROTTLED wait from the missing points and the restore rate', () => {
    const body = parseJsonLossless(
      '{"errors":[{"message":"Throttled","extensions":{"code":"THROTTLED"}}],"extensions":{"cost":{"requestedQueryCost":252,"actualQueryCost":null,"throttleStatus":{"maximumAvailable":1000.0,"currentlyAvailable":2,"restoreRate":50.0}}}}',
    );
    expect(shopifyThrottleWaitMs(body)).toBe(5000);
    expect(shopifyThrottleWaitMs({})).toBeUndefined();
  });

  it('reads Retry-After as seconds or an HTTP date', () => {
    const now = new Date('2030-01-01T00:00:00Z');
    expect(retryAfterMs('7', now)).toBe(7000);
    expect(retryAfterMs('Tue, 01 Jan 2030 00:00:30 GMT', now)).toBe(30_000);
    expect(retryAfterMs('soon', now)).toBeUndefined();
  });

  it('builds endpoints from the shop apiUrl', () => {
    expect(shopifyGraphqlUrl('https://s.myshopify.com/admin/api/2025-01/')).toBe(
      'https://s.myshopify.com/admin/api/2025-01/graphql.json',
    );
    expect(shopifyUsesDiscountContext('https://s.myshopify.com/admin/api/2025-01')).toBe(false);
    expect(shopifyUsesDiscountContext('https://s.myshopify.com/admin/api/2026-01')).toBe(true);
    expect(shopifyVariantGid('9007199254740993')).toBe('gid://shopify/ProductVariant/9007199254740993');
    expect(shopifyVariantGid('abc')).toBeUndefined();
    expect(bigCommerceStoreBase('https://api.bigcommerce.com/stores/abc/v3/')).toBe(
      'https://api.bigcommerce.com/stores/abc',
    );
    expect(wooCommerceApiBase('https://shop.example')).toBe('https://shop.example/wp-json/wc/v3');
    expect(wooCommerceApiBase('https://shop.example/wp-json/wc/v3/')).toBe('https://shop.example/wp-json/wc/v3');
    expect(wooCommerceAuthorization('ck_a:cs_b')).toBe(`Basic ${Buffer.from('ck_a:cs_b').toString('base64')}`);
    expect(() => wooCommerceAuthorization('token')).toThrow('ck_');
    expect(rfc2822(new Date('2030-01-08T12:00:00Z'))).toBe('Tue, 08 Jan 2030 12:00:00 +0000');
  });

  it('judges WooCommerce availability from stock management, backorders and status', () => {
    const base = { status: 'publish', purchasable: true, stock_status: 'instock' };
    expect(wooAvailable({ ...base, manage_stock: true, stock_quantity: 2 }, 3)).toBe(false);
    expect(wooAvailable({ ...base, manage_stock: 'parent', stock_quantity: 3 }, 3)).toBe(true);
    expect(wooAvailable({ ...base, manage_stock: true, stock_quantity: 0, backorders_allowed: true }, 3)).toBe(true);
    expect(wooAvailable({ ...base, stock_status: 'outofstock' }, 1)).toBe(false);
    expect(wooAvailable({ ...base, status: 'draft' }, 1)).toBe(false);
  });

  it('chooses no adapter for unknown platforms or shops without API credentials', () => {
    const shop = { platform: 'shopify', apiUrl: 'https://s/admin/api/2025-10', apiToken: 't' };
    expect(commerceFor(shop)).toBeDefined();
    expect(commerceFor({ ...shop, apiToken: ' ' })).toBeUndefined();
    expect(commerceFor({ ...shop, platform: 'magento' })).toBeUndefined();
  });
});

import { PermanentProviderError } from '@reclaim/ports';
import type { RecoveryItem } from '@reclaim/domain';
import {
  BigCommerceCommerceAdapter,
  PlatformCommerce,
  ShopifyCommerceAdapter,
  shopifyStorefrontUrl,
  WooCommerceCommerceAdapter,
} from '@reclaim/platforms/commerce';
import { adapterOptions, FIXTURES, hasFixtures, readFixture, TestClock, testShop } from './contract-kit';
import { startStoreSandbox, type StoreSandbox } from './store-sandbox';

/**
 * The store's suggestions for a sold-out line, from each platform's own API as the stand-ins serve
 * it: Shopify Storefront `productRecommendations` (then the Admin API for stock and price),
 * BigCommerce `related_products`, WooCommerce `upsell_ids` / `related_ids` / `cross_sell_ids`.
 */
const CATALOGUE = [
  { productId: '100', title: 'Canvas tote', price: '24.50', stock: 0 },
  { productId: '101', title: 'Linen tote', price: '26.00', stock: 0 },
  { productId: '102', title: 'Leather tote', price: '80.00', stock: 5 },
  { productId: '103', title: 'Jute tote', price: '25.00', salePrice: '22.00', stock: 5 },
  { productId: '104', title: 'Tote strap', price: '9.00', stock: 1 },
];

const tote: RecoveryItem = { lineId: 'l1', productId: '100', quantity: 2, unitPrice: '24.50' };

describe('alternatives for a sold-out line, from the stores’ own suggestion APIs (stand-ins)', () => {
  let sandbox: StoreSandbox;
  let clock: TestClock;

  beforeEach(async () => {
    clock = new TestClock();
    sandbox = await startStoreSandbox({ now: clock.now, catalogue: CATALOGUE });
    sandbox.setRelations('100', { related: ['101', '102', '103'], upsells: ['102'], crossSells: ['104'] });
  });
  afterEach(() => sandbox.stop());

  it('Shopify: Storefront recommendations (tokenless), stock and price checked through the Admin API', async () => {
    const shop = testShop('shopify', sandbox.urls.shopify, sandbox.credentials.shopify);
    const adapter = new ShopifyCommerceAdapter(adapterOptions(clock));
    const candidates = await adapter.alternatives(shop, tote, 8);
    expect(candidates).toEqual([
      expect.objectContaining({ productId: '101', variantId: '101', title: 'Linen tote', available: false }),
      expect.objectContaining({ productId: '102', available: true, unitPrice: '80.00' }),
      expect.objectContaining({ productId: '103', available: true, unitPrice: '22.00', source: 'recommendations' }),
    ]);
    expect(candidates[2]?.productUrl).toMatch(/\/products\/product-103$/);
    const storefront = sandbox.received({ platform: 'shopify', operation: 'ReclaimRecommendations' });
    expect(storefront).toHaveLength(1);
    expect(storefront[0]?.path).toBe('/graphql.json');
    expect(storefront[0]?.headers['x-shopify-access-token']).toBeUndefined();
    expect(storefront[0]?.body).toMatchObject({
      variables: { productId: 'gid://shopify/Product/100', intent: 'RELATED' },
    });
    // The storefront's availability is not trusted: one Admin nodes query for all three variants.
    const admin = sandbox.received({ platform: 'shopify', operation: 'ReclaimVariantStock' });
    expect(admin).toHaveLength(1);
    expect(admin[0]?.body).toMatchObject({
      variables: {
        ids: [
          'gid://shopify/ProductVariant/101',
          'gid://shopify/ProductVariant/102',
          'gid://shopify/ProductVariant/103',
        ],
      },
    });
    expect(await adapter.alternatives(shop, { ...tote, productId: 'custom-line' }, 8)).toEqual([]);
    expect(await adapter.alternatives(shop, { ...tote, productId: '103' }, 8)).toEqual([]);
  });

  it('Shopify: the Storefront endpoint is the Admin apiUrl’s shop with /api/<version>', () => {
    expect(shopifyStorefrontUrl('https://demo.myshopify.com/admin/api/2025-10')).toBe(
      'https://demo.myshopify.com/api/2025-10/graphql.json',
    );
    expect(shopifyStorefrontUrl('https://demo.myshopify.com/admin/api/2025-10/graphql.json/')).toBe(
      'https://demo.myshopify.com/api/2025-10/graphql.json',
    );
    expect(() => shopifyStorefrontUrl('https://demo.myshopify.com/')).toThrow(PermanentProviderError);
  });

  it('BigCommerce: the product’s related_products, then one catalog read with variants', async () => {
    const shop = testShop('bigcommerce', sandbox.urls.bigcommerce, sandbox.credentials.bigcommerce);
    const adapter = new BigCommerceCommerceAdapter(adapterOptions(clock));
    const candidates = await adapter.alternatives(shop, tote, 8);
    expect(candidates.map((c) => [c.productId, c.available, c.unitPrice, c.source])).toEqual([
      ['101', false, '26.00', 'related'],
      ['102', true, '80.00', 'related'],
      ['103', true, '22.00', 'related'],
    ]);
    const reads = sandbox.received({ platform: 'bigcommerce' }).map((r) => r.path);
    expect(reads).toEqual(['/v3/catalog/products/100', '/v3/catalog/products']);
    // `[-1]`: "related automatically" by the storefront: nothing the API can name.
    sandbox.setRelations('100', {});
    expect(await adapter.alternatives(shop, tote, 8)).toEqual([]);
  });

  it('WooCommerce: up-sells first, then related, then cross-sells, in one products read', async () => {
    const shop = testShop('woocommerce', sandbox.urls.woocommerce, sandbox.credentials.woocommerce);
    const adapter = new WooCommerceCommerceAdapter(adapterOptions(clock));
    const candidates = await adapter.alternatives(shop, tote, 8);
    expect(candidates.map((c) => [c.productId, c.source, c.available, c.unitPrice])).toEqual([
      ['102', 'upsell', true, '80.00'],
      ['101', 'related', false, '26.00'],
      ['103', 'related', true, '22.00'],
      ['104', 'cross-sell', false, '9.00'], // one left, two wanted
    ]);
    const reads = sandbox.received({ platform: 'woocommerce' });
    expect(reads.map((r) => r.path)).toEqual(['/products/100', '/products']);
    expect(reads[1]?.query['include']).toBe('102,101,103,104');
  });

  it('PlatformCommerce dispatches by platform, and a refusing store throws a typed error', async () => {
    const commerce = new PlatformCommerce(adapterOptions(clock));
    const shop = testShop('woocommerce', sandbox.urls.woocommerce, sandbox.credentials.woocommerce);
    expect((await commerce.alternatives(shop, tote, 2)).map((c) => c.productId)).toEqual(['102', '101']);
    sandbox.fault({ platform: 'woocommerce', path: '/products/100', kind: 'status', status: 401 });
    await expect(commerce.alternatives(shop, tote, 2)).rejects.toBeInstanceOf(PermanentProviderError);
  });

  const fixtures = hasFixtures ? it : it.skip;
  if (!hasFixtures) console.warn(`[alternatives] ../shared/fixtures not found at ${FIXTURES}: fixture cases skipped`);

  fixtures('reads the documented product payloads (BigCommerce catalog product, WooCommerce product)', async () => {
    const bcShop = testShop('bigcommerce', sandbox.urls.bigcommerce, sandbox.credentials.bigcommerce);
    sandbox.fault({
      platform: 'bigcommerce',
      path: '/v3/catalog/products/100',
      kind: 'status',
      status: 200,
      body: readFixture('bigcommerce/catalog_v3_product_get_200.json'),
    });
    // The sample's `related_products: [-1]`: chosen automatically, none named.
    expect(await new BigCommerceCommerceAdapter(adapterOptions(clock)).alternatives(bcShop, tote, 8)).toEqual([]);

    const wooShop = testShop('woocommerce', sandbox.urls.woocommerce, sandbox.credentials.woocommerce);
    const sample = readFixture('woocommerce/api_v3_product_retrieve_response.json') as { related_ids: number[] };
    sandbox.fault({ platform: 'woocommerce', path: '/products/100', kind: 'status', status: 200, body: sample });
    await new WooCommerceCommerceAdapter(adapterOptions(clock)).alternatives(wooShop, tote, 8);
    const list = sandbox.received({ platform: 'woocommerce' }).filter((r) => r.path === '/products');
    expect(list[0]?.query['include']).toBe(sample.related_ids.join(','));
  });
});

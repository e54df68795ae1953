/**
 * The stores' product categories through each platform's real adapter against its stand-in:
 * Shopify `nodes(ids:)` on Product (product type and collections), BigCommerce
 * `/v3/catalog/products?id:in=…&include_fields=categories` then `/v3/catalog/trees/categories?category_id:in=…`,
 * WooCommerce `/products?include=…`. An unknown product is left out; a refused token is a typed error.
 */
import { PermanentProviderError } from '@reclaim/ports';
import {
  BigCommerceCommerceAdapter,
  PlatformCommerce,
  ShopifyCommerceAdapter,
  WooCommerceCommerceAdapter,
} from '@reclaim/platforms/commerce';
import { BigCommerceApiClient, mapBigCommerceCart } from '@reclaim/platforms';
import { adapterOptions, TestClock, testShop } from './contract-kit';
import { startStoreSandbox, type StoreSandbox } from './store-sandbox';

describe('product categories from the store stand-ins', () => {
  let sandbox: StoreSandbox;
  let clock: TestClock;

  beforeEach(async () => {
    clock = new TestClock();
    sandbox = await startStoreSandbox({ now: clock.now });
    sandbox.catalogue.setTaxonomy('632910393', { productType: 'Bags', categories: ['Accessories', 'Summer sale'] });
  });
  afterEach(() => sandbox.stop());

  it('Shopify: the product type and the collections, in one query; unknown products are left out', async () => {
    const adapter = new ShopifyCommerceAdapter(adapterOptions(clock));
    const shop = testShop('shopify', sandbox.urls.shopify, sandbox.credentials.shopify);
    const answer = await adapter.productCategories(shop, ['632910392', '632910393', '999', 'custom:1']);
    expect(answer).toEqual([
      { productId: '632910392', categories: ['Electronics', 'Music players'] },
      { productId: '632910393', categories: ['Bags', 'Accessories', 'Summer sale'] },
    ]);
    expect(sandbox.received({ platform: 'shopify', operation: 'ReclaimProductCategories' })).toHaveLength(1);
  });

  it('BigCommerce: category ids from the catalog, their names from the category trees', async () => {
    const adapter = new BigCommerceCommerceAdapter(adapterOptions(clock));
    const shop = testShop('bigcommerce', sandbox.urls.bigcommerce, sandbox.credentials.bigcommerce);
    const answer = await adapter.productCategories(shop, ['632910393', '22', '999']);
    expect(answer).toEqual([
      { productId: '632910393', categories: ['Bags', 'Accessories', 'Summer sale'] },
      { productId: '22', categories: ['Services', 'Ideas'] },
    ]);
    const paths = sandbox.received({ platform: 'bigcommerce' }).map((r) => r.path);
    expect(paths).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/\/v3\/catalog\/products$/),
        expect.stringMatching(/\/v3\/catalog\/trees\/categories$/),
      ]),
    );
  });

  it('WooCommerce: the categories of each product of one /products?include= page', async () => {
    const adapter = new WooCommerceCommerceAdapter(adapterOptions(clock));
    const shop = testShop('woocommerce', sandbox.urls.woocommerce, sandbox.credentials.woocommerce);
    const answer = await adapter.productCategories(shop, ['632910392', '77', '999']);
    expect(answer).toEqual([
      { productId: '632910392', categories: ['Electronics', 'Music players'] },
      { productId: '77', categories: ['Gift cards'] },
    ]);
    expect(sandbox.received({ platform: 'woocommerce' }).filter((r) => r.path.endsWith('/products'))).toHaveLength(1);
  });

  it('a refused token is a permanent error; a shop without an API address cannot be asked', async () => {
    const commerce = new PlatformCommerce(adapterOptions(clock));
    await expect(
      commerce.productCategories(testShop('woocommerce', sandbox.urls.woocommerce, 'ck_wrong0000:cs_wrong0000'), [
        '77',
      ]),
    ).rejects.toBeInstanceOf(PermanentProviderError);
    await expect(
      commerce.productCategories({ ...testShop('shopify', '', ''), apiUrl: '' }, ['1']),
    ).rejects.toMatchObject({
      code: 'no-store-api',
    });
  });

  it("BigCommerce: the cart's checkout from GET /v3/checkouts/{id} gives the stage; without a seeded one the bare checkout says contact", async () => {
    const cart = (id: string) => ({
      data: {
        id,
        customer_id: 0,
        email: 'jane@example.com',
        currency: { code: 'USD' },
        base_amount: 10,
        cart_amount: 10,
        line_items: {},
      },
      meta: {},
    });
    sandbox.seedBigCommerce({
      carts: { 'cart-a': cart('cart-a'), 'cart-b': cart('cart-b') },
      checkouts: {
        'cart-a': {
          data: {
            id: 'cart-a',
            billing_address: { email: 'jane@example.com' },
            consignments: [
              { id: 'k1', shipping_address: { address1: '1 Main St', city: 'Austin' }, selected_shipping_option: null },
            ],
          },
          meta: {},
        },
      },
    });
    const client = new BigCommerceApiClient(adapterOptions(clock));
    const stage = async (id: string) =>
      mapBigCommerceCart(await client.getCart(sandbox.urls.bigcommerce, sandbox.credentials.bigcommerce, id), {
        shopCurrency: 'USD',
        receivedAt: clock.now(),
      }).checkoutStage;
    expect(await stage('cart-a')).toBe('shipping');
    expect(await stage('cart-b')).toBe('contact');
  });
});

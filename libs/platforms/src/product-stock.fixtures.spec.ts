/**
 * Product and inventory webhooks → `ReportProductStock` (back in stock), from each platform's sample
 * payloads (../shared/fixtures): BigCommerce `store/product/inventory/updated` and
 * `store/sku/inventory/updated`, WooCommerce's REST product (the `product.updated` body), and a
 * Shopify `products/update` body built around the REST variant sample.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseJsonLossless, PayloadFieldError, type JsonObject } from './common';
import { mapBigCommerceInventory, mapBigCommerceScope } from './bigcommerce/bigcommerce-webhook.adapter';
import { mapShopifyTopic } from './shopify/shopify-webhook.adapter';
import { mapShopifyProductStock } from './shopify/shopify-mappers';
import { mapWooProductStock } from './woocommerce/woocommerce-mappers';
import { mapWooCommerceTopic } from './woocommerce/woocommerce-webhook.adapter';

const FIXTURES = path.resolve(__dirname, '../../..', '../shared/fixtures');
const NOW = new Date('2026-03-01T12:00:00Z');
const present = existsSync(FIXTURES);
if (!present) console.warn(`product-stock fixtures: skipped, ${FIXTURES} is missing`);
const describeIfFixtures = present ? describe : describe.skip;
const lossless = (rel: string): JsonObject =>
  parseJsonLossless(readFileSync(path.join(FIXTURES, rel)).toString('utf8')) as JsonObject;

describeIfFixtures('product stock from the platforms’ sample payloads', () => {
  it('BigCommerce: an absolute product level says in stock; a SKU level names its variant', () => {
    expect(
      mapBigCommerceScope(
        'store/product/inventory/updated',
        lossless('bigcommerce/webhooks/store_product_inventory_updated.json'),
      ),
    ).toEqual({
      outcome: 'commands',
      commands: [
        {
          type: 'ReportProductStock',
          platform: 'bigcommerce',
          platformUpdatedAt: '2019-06-25T16:07:23.000Z',
          productId: '167',
          available: true,
          variants: [],
        },
      ],
    });
    expect(mapBigCommerceInventory(lossless('bigcommerce/webhooks/store_sku_inventory_updated.json'))).toMatchObject({
      productId: '206',
      variants: [{ variantId: '509', available: true, quantity: 5 }],
    });
  });

  it('BigCommerce: a relative adjustment only says it changed; zero is sold out', () => {
    const sample = lossless('bigcommerce/webhooks/store_product_inventory_updated.json');
    const data = sample['data'] as JsonObject;
    const relative = { ...sample, data: { ...data, inventory: { product_id: '167', method: 'relative', value: '3' } } };
    expect(mapBigCommerceInventory(relative)).not.toHaveProperty('available');
    const none = { ...sample, data: { ...data, inventory: { product_id: '167', method: 'absolute', value: '0' } } };
    expect(mapBigCommerceInventory(none).available).toBe(false);
  });

  it('WooCommerce: the REST product as product.updated; a variation reports under its parent', () => {
    const product = lossless('woocommerce/api_v3_product_retrieve_response.json');
    const result = mapWooCommerceTopic('product.updated', product, 'USD', NOW);
    expect(result).toMatchObject({
      outcome: 'commands',
      commands: [
        { type: 'ReportProductStock', platform: 'woocommerce', productId: '794', available: true, variants: [] },
      ],
    });
    const variation = lossless('woocommerce/api_v3_product_variation_retrieve_response.json');
    const mapped = mapWooProductStock({ ...variation, parent_id: '22', stock_status: 'outofstock' }, NOW);
    expect(mapped).toMatchObject({ productId: '22', variants: [{ available: false }] });
    expect(mapped).not.toHaveProperty('available');
  });

  it('Shopify: products/update, per variant by tracking, policy and quantity; a draft sells nothing', () => {
    const variant = lossless('shopify/admin_rest/variant.json')['variant'] as JsonObject;
    const body: JsonObject = {
      id: parseJsonLossless('632910392') as JsonObject[string],
      status: 'active',
      updated_at: '2026-02-28T10:00:00-05:00',
      variants: [
        { ...variant, inventory_policy: 'deny', inventory_quantity: '0' },
        { ...variant, id: '808950811', inventory_policy: 'continue', inventory_quantity: '0' },
        { ...variant, id: '808950812', inventory_management: null, inventory_quantity: '0' },
      ],
    };
    const result = mapShopifyTopic('products/update', body, 'USD', NOW);
    expect(result).toEqual({
      outcome: 'commands',
      commands: [
        {
          type: 'ReportProductStock',
          platform: 'shopify',
          platformUpdatedAt: '2026-02-28T15:00:00.000Z',
          productId: '632910392',
          available: true,
          variants: [
            { variantId: '808950810', available: false, quantity: 0 },
            { variantId: '808950811', available: true, quantity: 0 },
            { variantId: '808950812', available: true, quantity: 0 },
          ],
        },
      ],
    });
    const draft = mapShopifyProductStock({ ...body, status: 'draft' }, NOW);
    expect(draft.available).toBe(false);
    expect(() => mapShopifyProductStock({ ...body, id: undefined }, NOW)).toThrow(PayloadFieldError);
  });
});

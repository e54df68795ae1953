import type { ShopLookup } from '@reclaim/application/recovery';
import type { RecoveryShop } from '@reclaim/ports';

/** Shops in memory (the real one is ShopRegistry). */
export class InMemoryShops implements ShopLookup {
  private readonly shops = new Map<string, RecoveryShop>();

  add(shop: Partial<RecoveryShop> & { id: string }): RecoveryShop {
    const full: RecoveryShop = {
      platform: 'shopify',
      shopDomain: 'example.myshopify.com',
      currency: 'EUR',
      timezone: 'Europe/Berlin',
      apiUrl: 'https://example.myshopify.com/admin/api',
      apiToken: 'test-token',
      ...shop,
    };
    this.shops.set(full.id, full);
    return full;
  }

  async get(shopId: string): Promise<RecoveryShop | null> {
    return this.shops.get(shopId) ?? null;
  }
}

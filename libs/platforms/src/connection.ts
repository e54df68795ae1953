import type {
  CredentialCheck,
  PlatformSubscription,
  StoreAccess,
  StoreConnectionPort,
  WantedSubscription,
} from '@reclaim/ports';
import type { Platform } from '@reclaim/domain';
import { BigCommerceConnectionAdapter } from './bigcommerce/connection/bigcommerce-connection.adapter';
import type { StoreHttpOptions } from './common/store-http';
import { ShopifyConnectionAdapter } from './shopify/connection/shopify-connection.adapter';
import { WooCommerceConnectionAdapter } from './woocommerce/connection/woocommerce-connection.adapter';

export * from './shopify/connection/shopify-connection.adapter';
export * from './bigcommerce/connection/bigcommerce-connection.adapter';
export * from './woocommerce/connection/woocommerce-connection.adapter';

/** The appliance's single `StoreConnectionPort`, dispatching each call by the shop's platform. */
export class PlatformConnections implements StoreConnectionPort {
  private readonly adapters: Readonly<Record<Platform, StoreConnectionPort>>;

  constructor(options?: StoreHttpOptions) {
    this.adapters = {
      shopify: new ShopifyConnectionAdapter(options),
      bigcommerce: new BigCommerceConnectionAdapter(options),
      woocommerce: new WooCommerceConnectionAdapter(options),
    };
  }

  private of(access: StoreAccess): StoreConnectionPort {
    return this.adapters[access.platform];
  }

  wanted(access: StoreAccess, publicUrl: string): WantedSubscription[] {
    return this.of(access).wanted(access, publicUrl);
  }

  verify(access: StoreAccess): Promise<CredentialCheck> {
    return this.of(access).verify(access);
  }

  list(access: StoreAccess): Promise<PlatformSubscription[]> {
    return this.of(access).list(access);
  }

  create(access: StoreAccess, wanted: WantedSubscription): Promise<PlatformSubscription> {
    return this.of(access).create(access, wanted);
  }

  update(access: StoreAccess, id: string, wanted: WantedSubscription): Promise<PlatformSubscription> {
    return this.of(access).update(access, id, wanted);
  }

  remove(access: StoreAccess, id: string): Promise<void> {
    return this.of(access).remove(access, id);
  }
}

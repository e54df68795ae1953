import type { Platform } from '@reclaim/domain';
import type { PlatformWebhookAdapter } from '@reclaim/ports';
import { bigCommerceWebhookAdapter } from './bigcommerce';
import { shopifyWebhookAdapter } from './shopify';
import { wooCommerceWebhookAdapter } from './woocommerce';

export const platformAdapters: Readonly<Record<Platform, PlatformWebhookAdapter>> = {
  shopify: shopifyWebhookAdapter,
  bigcommerce: bigCommerceWebhookAdapter,
  woocommerce: wooCommerceWebhookAdapter,
};

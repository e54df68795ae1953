export * from './shopify-webhook.adapter';
export * from './shopify-mappers';

export * from './woocommerce-webhook.adapter';
export * from './woocommerce-mappers';
export * from './cartflows';

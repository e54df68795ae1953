export * from './common';
export * from './shopify';
export * from './woocommerce';
export * from './bigcommerce';
export * from './registry';

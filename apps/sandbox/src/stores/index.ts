export * from './catalogue';
export * from './store-http';
export * from './store-sandbox';
export { shopifyOperationOf } from './shopify-admin';
export { promotionAsCoupon } from './bigcommerce-promotions';

export * from './shopify-commerce.adapter';

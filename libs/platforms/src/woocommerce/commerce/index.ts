export * from './woocommerce-commerce.adapter';

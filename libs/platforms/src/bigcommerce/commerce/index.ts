export * from './bigcommerce-commerce.adapter';

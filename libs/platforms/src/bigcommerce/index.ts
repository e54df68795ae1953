export * from './standard-webhooks';
export * from './bigcommerce-webhook.adapter';
export * from './bigcommerce-api.client';
export * from './bigcommerce-api.mappers';

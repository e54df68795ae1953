export * from './klaviyo';

export * from './klaviyo';
export * from './klaviyo-enrichment';
export * from './klaviyo-engagement';

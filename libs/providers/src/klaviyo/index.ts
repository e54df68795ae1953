export * from './klaviyo';
export * from './klaviyo-enrichment';

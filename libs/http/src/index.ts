/**
 * Outside calls over HTTP: one transport (undici) and one retry loop for every adapter that talks
 * to a store API or a provider. It answers with the ports' typed errors through its callers.
 */
export * from './retry-after';
export * from './retries';
export * from './transport';
export * from './outbound-guard';

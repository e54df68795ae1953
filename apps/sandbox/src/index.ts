export { startProviderSandbox, type ProviderSandbox, DEFAULT_SANDBOX_CREDENTIALS } from './providers';
export { startStoreSandbox, type StoreSandbox, type CatalogueItem, SANDBOX_CREDENTIALS } from './stores';
export * from './sandbox-app';
export * from './appliance';
export * from './simulator';

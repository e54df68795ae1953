/**
 * The ports: the contracts between the application layer and the outside systems it uses. The
 * application depends on these, never on an adapter; adapters (libs/platforms, libs/providers)
 * implement them and know nothing else of the application. See docs/rfc for the layout.
 */
export * from './errors';
export * from './commerce';
export * from './catalog';
export * from './channel';
export * from './push';
export * from './ticket';
export * from './profile';
export * from './engagement';
export * from './webhook';
export * from './metrics';
export * from './store-connection';

export * from './rate-limiter';
export * from './http-client';
export * from './errors';
export * from './send-journal';
export * from './postgres-send-journal';

export * from './lossless-json';
export * from './money';
export * from './hmac';
export * from './http';
export * from './mapping';
export * from './device';
export * from './shop-domain';
export * from './resolve';

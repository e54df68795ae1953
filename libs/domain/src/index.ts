export * from './inbound/inbound-commands';
export * from './shared';
export * from './events';
export * from './commands';
export * from './cart';
export * from './customer';
export * from './order';
export * from './shop';

export * from './product.decider';
export type * from './product.messages';

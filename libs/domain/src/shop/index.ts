export * from './shop.decider';
export type * from './shop.messages';

export * from './cart.decider';
export type * from './cart.messages';

export * from './customer.decider';
export type * from './customer.messages';

export * from './order.decider';
export type * from './order.messages';

export * from './cart.decider';

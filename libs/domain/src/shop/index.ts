export * from './shop.decider';

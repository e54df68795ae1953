export * from './domain-commands';

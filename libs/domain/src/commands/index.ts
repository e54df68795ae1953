export * from './command-context';
export * from './domain-commands';

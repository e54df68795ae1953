export * from './contact';
export * from './decider';
export * from './duration';
export * from './money';
export * from './sealed-value';
export * from './time';
export * from './validation';

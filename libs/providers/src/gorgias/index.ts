export * from './gorgias';

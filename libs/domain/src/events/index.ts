export * from './envelope';
export * from './catalogue';
export * from './streams';
export * from './upcasters';

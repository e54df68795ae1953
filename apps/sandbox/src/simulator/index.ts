export * from './mime';
export * from './random';
export * from './simulator';
export * from './webhooks';

export * from './schema';
export * from './entities';
export * from './migrate';
export { ANALYST_ROLE, PRIVATE_SCHEMAS } from './migrations/1767225600001-analyst-role';
export * from './projections';
export * from './lift/lift';
export * from './lift/lift-query';
export * from './metrics/lag';
export * from './metrics/metrics';

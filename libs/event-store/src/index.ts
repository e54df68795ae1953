export * from './event-store.port';
export * from './errors';
export * from './postgres/postgres-event-store';
export { migrateEventStore, DEFAULT_SCHEMA as DEFAULT_EVENT_STORE_SCHEMA } from './postgres/schema';
export * from './subscriptions/checkpointed-subscription';
export * from './subscriptions/partitioned-subscription';
export {
  clearDeadLetters,
  countDeadLetters,
  describeError,
  listDeadLetters,
  retryDeadLetter,
  type BlockedKeyStatus,
  type DeadLetter,
  type DeadLetterCount,
} from './subscriptions/dead-letters';
export * from './eventstoredb/eventstoredb-event-store';

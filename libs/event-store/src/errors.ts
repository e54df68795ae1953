/**
 * Raised when an append re-uses event ids that are already stored but not as an exact replay of
 * one earlier append (partial overlap, another stream, another order). Not retryable.
 */
export class DuplicateEventIdError extends Error {
  constructor(
    readonly streamId: string,
    readonly eventIds: readonly string[],
  ) {
    super(`Event ids already stored and not an exact re-append on ${streamId}: ${eventIds.join(', ')}`);
    this.name = 'DuplicateEventIdError';
  }
}

/** The event store was closed; no more appends or subscriptions. */
export class EventStoreClosedError extends Error {
  constructor() {
    super('The event store is closed');
    this.name = 'EventStoreClosedError';
  }
}

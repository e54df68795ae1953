import { v5 as uuidv5 } from 'uuid';
import { foldEvents, upcastEvent, type Decider, type DomainEvent } from '@reclaim/domain';
import {
  WrongExpectedRevisionError,
  type EventMetadata,
  type EventStore,
  type RecordedEvent,
} from '@reclaim/event-store';
import { RECLAIM_ID_NAMESPACE } from '../ingestion/ids';

export interface RunDeciderOptions {
  /** Id of the causing event: event ids derive from it, so a retry appends the same ids. */
  readonly causationId: string;
  readonly metadata?: EventMetadata;
  /** Attempts on a version conflict (R3: a concurrent writer on the same stream). Default 8. */
  readonly maxAttempts?: number;
  /**
   * The stream as the caller already read it (a batch's one read of many streams): used for the
   * first attempt instead of a read. Stale is harmless: the append fails on its expected revision
   * and the retry reads the stream afresh.
   */
  readonly recorded?: readonly RecordedEvent[];
}

/**
 * Loads a stream, folds it (upcasting old schema versions), decides, and appends the new events
 * with the loaded revision as the expected one. On a conflict the whole cycle is retried on the
 * fresh state, so the decider's own rules (e.g. stale `updated_at`) settle the race.
 */
export async function runDecider<S, C, E extends DomainEvent>(
  store: EventStore,
  streamId: string,
  decider: Decider<S, C, E>,
  command: C,
  options: RunDeciderOptions,
): Promise<E[]> {
  const maxAttempts = options.maxAttempts ?? 8;
  for (let attempt = 1; ; attempt++) {
    const recorded = attempt === 1 && options.recorded ? options.recorded : await store.readStream(streamId);
    const state = foldEvents(
      decider,
      recorded.map((r) => upcastEvent<E>({ type: r.type, schemaVersion: r.schemaVersion, data: r.data })),
    );
    const events = decider.decide(command, state);
    if (events.length === 0) return [];
    const expected = recorded.length ? recorded[recorded.length - 1].revision : 'no_stream';
    const firstRevision = recorded.length ? recorded[recorded.length - 1].revision + 1n : 0n;
    try {
      await store.append(
        streamId,
        events.map((e, i) => ({
          id: uuidv5(`${options.causationId}|${streamId}|${firstRevision + BigInt(i)}`, RECLAIM_ID_NAMESPACE),
          type: e.type,
          schemaVersion: e.schemaVersion,
          data: e.data,
          metadata: { ...options.metadata, causationId: options.causationId },
        })),
        expected,
      );
      return events;
    } catch (err) {
      if (err instanceof WrongExpectedRevisionError && attempt < maxAttempts) continue;
      throw err;
    }
  }
}

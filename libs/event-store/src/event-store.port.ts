import { createHash } from 'node:crypto';
/**
 * The event store port. Two adapters implement it (postgres/ — the embedded default — and
 * eventstoredb/) and both pass one contract suite (contract/).
 *
 * Guarantees every adapter gives:
 * - `append` is atomic per call; each event carries a caller-supplied UUID `id`.
 * - Expected revision checks: a conflict throws `WrongExpectedRevisionError`.
 * - Appending the same event ids again at the same expected revision is idempotent (returns
 *   the original result), as EventStoreDB behaves.
 * - `readAll` / `subscribeToAll` deliver events in global order; a subscriber that resumes
 *   from a stored position never skips an event that committed before or after it read.
 */

/** Event names come from one catalogue (libs/domain); never a class name. */
export interface NewEvent<Type extends string = string, Data = unknown> {
  /** UUID chosen by the caller, stable across retries (idempotency). */
  readonly id: string;
  readonly type: Type;
  readonly schemaVersion: number;
  /** JSON-serialisable; ids are strings, money is decimal strings or minor units. */
  readonly data: Data;
  readonly metadata?: EventMetadata;
}

export interface EventMetadata {
  readonly correlationId?: string;
  readonly causationId?: string;
  readonly shopId?: string;
  readonly [key: string]: unknown;
}

/** A position in the global log. Postgres: commit == prepare == the global sequence number. */
export interface GlobalPosition {
  readonly commit: bigint;
  readonly prepare: bigint;
}

export const START: GlobalPosition = Object.freeze({ commit: -1n, prepare: -1n });

export interface RecordedEvent<Type extends string = string, Data = unknown> extends NewEvent<Type, Data> {
  readonly streamId: string;
  /** 0-based revision of this event in its stream. */
  readonly revision: bigint;
  readonly position: GlobalPosition;
  readonly recordedAt: Date;
}

/** `no_stream`: the stream must not exist; `stream_exists`: it must; a bigint: the revision of its last event. */
export type ExpectedRevision = 'any' | 'no_stream' | 'stream_exists' | bigint;

export interface AppendResult {
  /** Revision of the last event written (or found, for an idempotent retry). */
  readonly nextExpectedRevision: bigint;
  readonly position: GlobalPosition;
}

export interface ReadStreamOptions {
  /** Inclusive. Default 0. */
  readonly fromRevision?: bigint;
  readonly maxCount?: number;
}

export interface EventFilter {
  /** Only events whose `type` starts with one of these prefixes. */
  readonly typePrefixes?: readonly string[];
  /** Only events whose stream id starts with one of these prefixes. */
  readonly streamPrefixes?: readonly string[];
  /**
   * Only events whose stream falls in partition `index` of `count` ({@link streamPartition}):
   * a stream always maps to one partition, so per-stream order holds inside each.
   */
  readonly partition?: StreamPartition;
}

/** Partition `index` (0-based) of `count` partitions of the log by stream hash. */
export interface StreamPartition {
  readonly index: number;
  readonly count: number;
}

export interface ReadAllOptions {
  /** Exclusive: events strictly after this position. Default START. */
  readonly after?: GlobalPosition;
  readonly maxCount?: number;
  readonly filter?: EventFilter;
}

export interface SubscribeOptions {
  /** Exclusive: deliver events strictly after this position (e.g. the stored checkpoint). */
  readonly after?: GlobalPosition;
  readonly filter?: EventFilter;
  /** Largest batch handed to the consumer at once. */
  readonly batchSize?: number;
  readonly signal?: AbortSignal;
}

export interface EventStore {
  append(streamId: string, events: readonly NewEvent[], expectedRevision: ExpectedRevision): Promise<AppendResult>;
  /** Events of one stream in revision order; [] when it does not exist. */
  readStream(streamId: string, options?: ReadStreamOptions): Promise<RecordedEvent[]>;
  readAll(options?: ReadAllOptions): Promise<RecordedEvent[]>;
  /**
   * Events of several streams in one read (revision order within each; a stream that does not
   * exist maps to []). Optional: {@link readStreams} falls back to one `readStream` per stream.
   */
  readStreams?(streamIds: readonly string[]): Promise<Map<string, RecordedEvent[]>>;
  /**
   * Catch-up subscription to all events: first the history after `after`, then live events,
   * in global order, as batches. Ends when `signal` aborts. The consumer stores its own
   * checkpoint (the `position` of the last event it handled), in its own transaction.
   */
  subscribeToAll(options?: SubscribeOptions): AsyncIterable<readonly RecordedEvent[]>;
  /** Position of the newest event (START when empty), for lag metrics. Both adapters implement it. */
  headPosition?(): Promise<GlobalPosition>;
  /** Readiness probe. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export const EVENT_STORE = Symbol('EVENT_STORE');

/** Several streams at once: the adapter's one-read `readStreams` when it has one, else a read per stream. */
export async function readStreams(
  store: EventStore,
  streamIds: readonly string[],
): Promise<Map<string, RecordedEvent[]>> {
  const ids = [...new Set(streamIds)];
  if (ids.length === 0) return new Map();
  if (store.readStreams) return store.readStreams(ids);
  const read = await Promise.all(ids.map((id) => store.readStream(id)));
  return new Map(ids.map((id, i) => [id, read[i]]));
}

export class WrongExpectedRevisionError extends Error {
  constructor(
    readonly streamId: string,
    readonly expected: ExpectedRevision,
    readonly actual: bigint | 'no_stream',
  ) {
    super(`Wrong expected revision on ${streamId}: expected ${String(expected)}, actual ${String(actual)}`);
    this.name = 'WrongExpectedRevisionError';
  }
}

export function positionToString(p: GlobalPosition): string {
  return p.commit === p.prepare ? p.commit.toString() : `${p.commit}/${p.prepare}`;
}

export function parsePosition(s: string): GlobalPosition {
  const [c, p] = s.split('/');
  const commit = BigInt(c);
  return { commit, prepare: p === undefined ? commit : BigInt(p) };
}

export function comparePositions(a: GlobalPosition, b: GlobalPosition): number {
  if (a.commit !== b.commit) return a.commit < b.commit ? -1 : 1;
  if (a.prepare !== b.prepare) return a.prepare < b.prepare ? -1 : 1;
  return 0;
}

/**
 * The partition of a stream among `count`: the first 32 bits of the MD5 of its id (UTF-8), modulo
 * `count`. The same function in SQL ({@link streamPartitionSql}) lets PostgreSQL filter a
 * partition's events; the EventStoreDB adapter filters with this one. A stream always maps to one
 * partition, so each partition keeps per-stream order.
 */
export function streamPartition(streamId: string, count: number): number {
  if (count <= 1) return 0;
  return createHash('md5').update(streamId, 'utf8').digest().readUInt32BE(0) % count;
}

/** {@link streamPartition} as a SQL expression over the column `column` (`count` is SQL too: a literal or a parameter). */
export function streamPartitionSql(column: string, count: string): string {
  return `((('x' || substr(md5(${column}), 1, 8))::bit(32)::bigint) % ${count})`;
}

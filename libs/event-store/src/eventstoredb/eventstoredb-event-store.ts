import {
  ANY,
  AllStreamResolvedEvent,
  BACKWARDS,
  END,
  EventStoreDBClient,
  eventTypeFilter,
  excludeSystemEvents,
  Filter,
  jsonEvent,
  NO_STREAM,
  Position,
  ResolvedEvent,
  START as ESDB_START,
  STREAM_EXISTS,
  StreamNotFoundError,
  streamNameFilter,
  WrongExpectedVersionError,
} from '@eventstore/db-client';
import type { AppendExpectedRevision, JSONType } from '@eventstore/db-client';
import { EventStoreClosedError } from '../errors';
import {
  AppendResult,
  comparePositions,
  EventFilter,
  EventStore,
  ExpectedRevision,
  GlobalPosition,
  NewEvent,
  ReadAllOptions,
  ReadStreamOptions,
  RecordedEvent,
  START,
  SubscribeOptions,
  streamPartition,
  WrongExpectedRevisionError,
} from '../event-store.port';
import { validateAppend } from '../validation';

export interface EventStoreDBEventStoreOptions {
  /** e.g. `esdb://localhost:2113?tls=false`. Ignored when `client` is given. */
  readonly connectionString?: string;
  readonly client?: EventStoreDBClient;
}

/** The schema version travels in the event metadata under this key (EventStoreDB has no column for it). */
export const SCHEMA_VERSION_KEY = 'reclaimSchemaVersion';

const READ_PAGE = 500;

/**
 * The EventStoreDB adapter (the compose default). Expected revisions and idempotency are the
 * server's own; positions are EventStoreDB's {commit, prepare}; system events (`$…`) are hidden.
 */
export class EventStoreDBEventStore implements EventStore {
  readonly client: EventStoreDBClient;
  private readonly lifetime = new AbortController();
  private closed = false;

  constructor(options: EventStoreDBEventStoreOptions) {
    if (options.client) this.client = options.client;
    else if (options.connectionString) this.client = EventStoreDBClient.connectionString(options.connectionString);
    else throw new TypeError('EventStoreDBEventStore needs a client or a connectionString');
  }

  async append(
    streamId: string,
    events: readonly NewEvent[],
    expectedRevision: ExpectedRevision,
  ): Promise<AppendResult> {
    if (this.closed) throw new EventStoreClosedError();
    validateAppend(streamId, events);
    const data = events.map((e) =>
      jsonEvent({
        id: e.id.toLowerCase(),
        type: e.type,
        data: (e.data ?? null) as JSONType,
        metadata: { ...(e.metadata ?? {}), [SCHEMA_VERSION_KEY]: e.schemaVersion },
      }),
    );
    try {
      const r = await this.client.appendToStream(streamId, data, {
        expectedRevision: toEsdbExpected(expectedRevision),
      });
      const position = r.position ?? (await this.positionOfRevision(streamId, r.nextExpectedRevision));
      return { nextExpectedRevision: r.nextExpectedRevision, position };
    } catch (err) {
      if (err instanceof WrongExpectedVersionError) {
        const actual = err.actualVersion;
        throw new WrongExpectedRevisionError(
          streamId,
          expectedRevision,
          typeof actual === 'bigint' ? actual : 'no_stream',
        );
      }
      throw err;
    }
  }

  private async positionOfRevision(streamId: string, revision: bigint): Promise<GlobalPosition> {
    const [e] = await this.readStream(streamId, { fromRevision: revision, maxCount: 1 });
    if (!e) throw new Error(`EventStoreDB returned no position for ${streamId}@${revision}`);
    return e.position;
  }

  async readStream(streamId: string, options: ReadStreamOptions = {}): Promise<RecordedEvent[]> {
    const out: RecordedEvent[] = [];
    try {
      const read = this.client.readStream(streamId, {
        fromRevision: options.fromRevision ?? ESDB_START,
        ...(options.maxCount !== undefined ? { maxCount: options.maxCount } : {}),
      });
      for await (const resolved of read) {
        const e = toRecorded(resolved);
        if (e) out.push(e);
      }
    } catch (err) {
      if (err instanceof StreamNotFoundError) return [];
      throw err;
    }
    return out;
  }

  /**
   * This client version has no server-side filter on reads of $all, so reads page through $all and
   * filter here; subscriptions filter on the server.
   */
  async readAll(options: ReadAllOptions = {}): Promise<RecordedEvent[]> {
    const want = options.maxCount ?? Number.POSITIVE_INFINITY;
    const out: RecordedEvent[] = [];
    let floor = options.after ?? START; // exclusive
    let from: Position | typeof ESDB_START = floor.commit < 0n ? ESDB_START : floor;
    for (;;) {
      let count = 0;
      let last: Position | undefined;
      for await (const resolved of this.client.readAll({ fromPosition: from, maxCount: READ_PAGE })) {
        count++;
        if (resolved.event?.position) last = resolved.event.position;
        const e = toRecorded(resolved);
        if (!e || comparePositions(e.position, floor) <= 0 || !matches(e, options.filter)) continue;
        out.push(e);
        if (out.length >= want) return out;
      }
      if (count < READ_PAGE || !last || comparePositions(last, floor) <= 0) return out;
      // fromPosition is inclusive: the event at `last` comes again and is skipped by the floor.
      from = last;
      floor = last;
    }
  }

  async headPosition(): Promise<GlobalPosition> {
    for await (const resolved of this.client.readAll({ direction: BACKWARDS, fromPosition: END, maxCount: 100 })) {
      const e = toRecorded(resolved);
      if (e) return e.position;
    }
    return START;
  }

  subscribeToAll(options: SubscribeOptions = {}): AsyncIterable<readonly RecordedEvent[]> {
    const signal = options.signal ? AbortSignal.any([options.signal, this.lifetime.signal]) : this.lifetime.signal;
    const batchSize = Math.max(1, options.batchSize ?? 500);
    const after = options.after ?? START;
    const client = this.client;
    return {
      async *[Symbol.asyncIterator]() {
        if (signal.aborted) return;
        const subscription = client.subscribeToAll({
          fromPosition: after === START || after.commit < 0n ? ESDB_START : after,
          filter: serverFilter(options.filter),
        });
        const buffer: RecordedEvent[] = [];
        let failure: unknown;
        let ended = false;
        let wake: (() => void) | undefined;
        const poke = () => {
          const w = wake;
          wake = undefined;
          w?.();
        };
        subscription.on('data', (resolved: AllStreamResolvedEvent) => {
          const e = toRecorded(resolved);
          if (!e || comparePositions(e.position, after) <= 0 || !matches(e, options.filter)) return;
          buffer.push(e);
          if (buffer.length >= batchSize * 2) subscription.pause();
          poke();
        });
        subscription.on('error', (err: Error) => {
          failure = err;
          poke();
        });
        subscription.on('end', () => {
          ended = true;
          poke();
        });
        const onAbort = () => poke();
        signal.addEventListener('abort', onAbort);
        try {
          while (!signal.aborted) {
            if (buffer.length > 0) {
              const batch = buffer.splice(0, batchSize);
              if (subscription.isPaused() && buffer.length < batchSize) subscription.resume();
              yield batch;
              continue;
            }
            if (failure !== undefined) throw failure;
            if (ended) return;
            await new Promise<void>((resolve) => {
              wake = resolve;
            });
          }
        } finally {
          signal.removeEventListener('abort', onAbort);
          await subscription.unsubscribe().catch(() => undefined);
        }
      },
    };
  }

  async ping(): Promise<void> {
    for await (const _ of this.client.readAll({ maxCount: 1 })) break;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.lifetime.abort();
    await this.client.dispose();
  }
}

function toEsdbExpected(e: ExpectedRevision): AppendExpectedRevision {
  if (e === 'any') return ANY;
  if (e === 'no_stream') return NO_STREAM;
  if (e === 'stream_exists') return STREAM_EXISTS;
  return e;
}

function serverFilter(filter: EventFilter | undefined): Filter {
  if (filter?.typePrefixes?.length) return eventTypeFilter({ prefixes: [...filter.typePrefixes] });
  if (filter?.streamPrefixes?.length) return streamNameFilter({ prefixes: [...filter.streamPrefixes] });
  return excludeSystemEvents();
}

function matches(e: RecordedEvent, filter: EventFilter | undefined): boolean {
  if (filter?.typePrefixes?.length && !filter.typePrefixes.some((p) => e.type.startsWith(p))) return false;
  if (filter?.streamPrefixes?.length && !filter.streamPrefixes.some((p) => e.streamId.startsWith(p))) return false;
  if (filter?.partition && streamPartition(e.streamId, filter.partition.count) !== filter.partition.index) return false;
  return true;
}

function toRecorded(resolved: ResolvedEvent | AllStreamResolvedEvent): RecordedEvent | undefined {
  const e = resolved.event;
  if (!e || e.type.startsWith('$') || e.streamId.startsWith('$')) return undefined;
  if (!e.position) return undefined;
  const rawMeta = e.metadata;
  const meta: Record<string, unknown> =
    rawMeta && typeof rawMeta === 'object' && !(rawMeta instanceof Uint8Array) && !Array.isArray(rawMeta)
      ? { ...rawMeta }
      : {};
  const schemaVersion = typeof meta[SCHEMA_VERSION_KEY] === 'number' ? (meta[SCHEMA_VERSION_KEY] as number) : 1;
  delete meta[SCHEMA_VERSION_KEY];
  const data = e.isJson ? e.data : JSON.parse(Buffer.from(e.data as Uint8Array).toString('utf8'));
  return {
    id: e.id,
    type: e.type,
    schemaVersion,
    data,
    metadata: meta,
    streamId: e.streamId,
    revision: e.revision,
    position: { commit: e.position.commit, prepare: e.position.prepare },
    recordedAt: e.created,
  };
}

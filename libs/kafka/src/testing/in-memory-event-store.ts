import {
  comparePositions,
  START,
  WrongExpectedRevisionError,
  type AppendResult,
  type EventFilter,
  type EventStore,
  type ExpectedRevision,
  type NewEvent,
  type ReadAllOptions,
  type ReadStreamOptions,
  type RecordedEvent,
  type SubscribeOptions,
} from '@reclaim/event-store';

/**
 * An in-memory EventStore double for pure tests of subscribers (the relay). Global positions are
 * 0, 1, 2, …; live subscribers are woken on append. Idempotent retries are not modelled.
 */
export class InMemoryEventStore implements EventStore {
  private readonly log: RecordedEvent[] = [];
  private waiters: Array<() => void> = [];
  private closed = false;

  async append(streamId: string, events: readonly NewEvent[], expected: ExpectedRevision): Promise<AppendResult> {
    const current = this.log.filter((e) => e.streamId === streamId);
    const last = current.length === 0 ? undefined : current[current.length - 1].revision;
    const ok =
      expected === 'any' ||
      (expected === 'no_stream' && last === undefined) ||
      (expected === 'stream_exists' && last !== undefined) ||
      (typeof expected === 'bigint' && last === expected);
    if (!ok) throw new WrongExpectedRevisionError(streamId, expected, last ?? 'no_stream');
    let revision = last === undefined ? -1n : last;
    for (const e of events) {
      revision += 1n;
      const seq = BigInt(this.log.length);
      this.log.push({ ...e, streamId, revision, position: { commit: seq, prepare: seq }, recordedAt: new Date() });
    }
    const tail = this.log[this.log.length - 1];
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
    return { nextExpectedRevision: revision, position: tail?.position ?? START };
  }

  async readStream(streamId: string, options: ReadStreamOptions = {}): Promise<RecordedEvent[]> {
    const from = options.fromRevision ?? 0n;
    const events = this.log.filter((e) => e.streamId === streamId && e.revision >= from);
    return options.maxCount === undefined ? events : events.slice(0, options.maxCount);
  }

  async readAll(options: ReadAllOptions = {}): Promise<RecordedEvent[]> {
    const after = options.after ?? START;
    const events = this.log.filter((e) => comparePositions(e.position, after) > 0 && matches(e, options.filter));
    return options.maxCount === undefined ? events : events.slice(0, options.maxCount);
  }

  async *subscribeToAll(options: SubscribeOptions = {}): AsyncIterable<readonly RecordedEvent[]> {
    let after = options.after ?? START;
    const batchSize = options.batchSize ?? 100;
    const signal = options.signal;
    while (!signal?.aborted && !this.closed) {
      const batch = await this.readAll({ after, maxCount: batchSize, filter: options.filter });
      if (batch.length > 0) {
        after = batch[batch.length - 1].position;
        yield batch;
        continue;
      }
      await new Promise<void>((resolve) => {
        const wake = () => {
          signal?.removeEventListener('abort', wake);
          resolve();
        };
        this.waiters.push(wake);
        signal?.addEventListener('abort', wake, { once: true });
      });
    }
  }

  async ping(): Promise<void> {
    if (this.closed) throw new Error('closed');
  }

  async close(): Promise<void> {
    this.closed = true;
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }
}

function matches(e: RecordedEvent, filter: EventFilter | undefined): boolean {
  if (!filter) return true;
  if (filter.typePrefixes && !filter.typePrefixes.some((p) => e.type.startsWith(p))) return false;
  if (filter.streamPrefixes && !filter.streamPrefixes.some((p) => e.streamId.startsWith(p))) return false;
  return true;
}

import { Client, ClientConfig, Pool } from 'pg';
import { DuplicateEventIdError, EventStoreClosedError } from '../errors';
import {
  AppendResult,
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
  streamPartitionSql,
  WrongExpectedRevisionError,
} from '../event-store.port';
import { validateAppend } from '../validation';
import {
  appendBatchFunction,
  appendLockSql,
  assertSchemaName,
  CATEGORY_SQL,
  DEFAULT_SCHEMA,
  migrateEventStore,
  notifyChannel,
} from './schema';

export interface PostgresEventStoreOptions {
  readonly pool: Pool;
  /**
   * Connections for the group-commit writer (at most two batches in flight). Default `pool`. A
   * pool of its own keeps appends — the webhook hot path — from queueing behind readers and
   * long engine transactions for a connection.
   */
  readonly appendPool?: Pool;
  /** Default 'event_store'. */
  readonly schema?: string;
  readonly groupCommit?: {
    /** Most events written by one transaction (a single append larger than this goes alone). Default 1000. */
    readonly maxBatchEvents?: number;
    /** Extra wait to gather a batch when the queue is short. Default 0: batch whatever queued meanwhile. */
    readonly maxWaitMs?: number;
    /**
     * Gather, plan and send the next batch while one commits (it waits on the append lock inside the
     * database): at most 2 batches in flight, never two with a stream in common. Default true
     * (false: one batch at a time).
     */
    readonly pipelined?: boolean;
    /**
     * One-round-trip attempts of a batch against its assumed state before it falls back to holding
     * the append lock across round trips (BEGIN, lock, read, write, COMMIT). Default 2 (the assumed
     * state, then the actual one the first attempt returned); 0: always the locked path.
     */
    readonly optimisticAttempts?: number;
  };
  /**
   * Stream revisions remembered by the writer (LRU), so an append with `any` or a stale expected
   * revision is planned right the first time. Default 10,000 streams (~1.5 MB); 0 turns it off (every
   * append is then planned from its expected revision, and corrected by a second round trip).
   */
  readonly revisionCacheSize?: number;
  /** LISTEN/NOTIFY wake-ups for subscriptions (polling remains as a fallback). Default true. */
  readonly notify?: boolean;
  /** Polling interval of idle subscriptions. Default 500 ms. */
  readonly pollIntervalMs?: number;
}

interface PendingAppend {
  readonly streamId: string;
  readonly events: readonly NewEvent[];
  readonly expected: ExpectedRevision;
  /** JSON texts, serialised in the caller's append so a bad payload fails only that caller. */
  readonly data: readonly string[];
  readonly metadata: readonly string[];
  readonly resolve: (r: AppendResult) => void;
  readonly reject: (e: unknown) => void;
}

type Outcome = { ok: AppendResult } | { error: Error };

interface StoredId {
  readonly streamId: string;
  readonly revision: bigint;
  readonly position: bigint;
  /** Written earlier in the same batch: `position` is an offset from the batch's head. */
  readonly inBatch?: boolean;
}

/** The state a batch is planned against: stream revisions (-1: no stream) and stored ids. */
interface BatchState {
  readonly revisions: Map<string, bigint>;
  readonly stored: Map<string, StoredId>;
}

/** An outcome whose position (`relative`) is an offset from the head the batch is written after. */
type PlannedOutcome = Outcome & { readonly relative?: boolean };

interface Planned {
  readonly outcomes: PlannedOutcome[];
  /** The rows to insert, a JSON array for `json_to_recordset` (payload texts spliced in, not escaped). */
  readonly rows: string;
  /** Streams written and their revision after the batch. */
  readonly touched: Map<string, bigint>;
}

interface StateRow {
  kind: 'S' | 'E' | 'H';
  stream_id: string | null;
  revision: string | null;
  event_id: string | null;
  global_position: string | null;
}

interface EventRow {
  global_position: string;
  stream_id: string;
  revision: string;
  event_id: string;
  type: string;
  schema_version: number;
  data: unknown;
  metadata: Record<string, unknown>;
  recorded_at: Date;
}

const COLUMNS = 'global_position, stream_id, revision, event_id, type, schema_version, data, metadata, recorded_at';

/**
 * The PostgreSQL adapter. Positions are allocated under a transaction-scoped advisory lock held
 * until commit, so they become visible in allocation order (docs/rfc/0001-event-store-positions.md);
 * concurrent appends are group-committed: one transaction, one multi-row INSERT, one fsync, and the
 * next batch is gathered and waiting on the lock while one commits (pipelined).
 */
export class PostgresEventStore implements EventStore {
  readonly schema: string;
  private readonly pool: Pool;
  private readonly appendPool: Pool;
  private readonly maxBatchEvents: number;
  private readonly maxWaitMs: number;
  private readonly pipelineDepth: number;
  private readonly revisionCacheSize: number;
  private readonly optimisticAttempts: number;
  /** Stream → revision after the last batch that wrote or checked it (LRU, see `revisionCacheSize`). */
  private readonly revisions = new Map<string, bigint>();
  private readonly appendSql: string;
  private readonly notify: boolean;
  private readonly pollIntervalMs: number;
  private readonly queue: PendingAppend[] = [];
  private writer: Promise<void> | undefined;
  private closed = false;
  private readonly lifetime = new AbortController();
  private listener: Client | undefined;
  private listenerConnecting: Promise<void> | undefined;
  private listenerRetryAt = 0;
  private wakeGeneration = 0;
  private readonly waiters = new Set<() => void>();
  private readonly t: { events: string; streams: string };
  /**
   * Group-commit counters: batches attempted and appends carried (appends / batches = mean batch),
   * batches planned again because the assumed state was wrong, and batches that fell back to the lock.
   */
  readonly stats = { batches: 0, appends: 0, replans: 0, locked: 0 };

  constructor(options: PostgresEventStoreOptions) {
    this.pool = options.pool;
    this.appendPool = options.appendPool ?? options.pool;
    this.schema = assertSchemaName(options.schema ?? DEFAULT_SCHEMA);
    this.maxBatchEvents = Math.max(1, options.groupCommit?.maxBatchEvents ?? 1000);
    this.maxWaitMs = Math.max(0, options.groupCommit?.maxWaitMs ?? 0);
    this.pipelineDepth = (options.groupCommit?.pipelined ?? true) ? 2 : 1;
    this.revisionCacheSize = Math.max(0, options.revisionCacheSize ?? 10_000);
    this.optimisticAttempts = Math.max(0, options.groupCommit?.optimisticAttempts ?? 2);
    this.notify = options.notify ?? true;
    this.pollIntervalMs = Math.max(10, options.pollIntervalMs ?? 500);
    this.t = { events: `"${this.schema}".events`, streams: `"${this.schema}".streams` };
    this.appendSql = `SELECT kind, stream_id, revision::text, event_id::text, global_position::text
      FROM ${appendBatchFunction(this.schema)}($1::text[], $2::bigint[], $3::uuid[], $4::json, $5::boolean)`;
  }

  /** Creates the schema and tables when missing. Idempotent, safe to run concurrently. */
  static migrate(pool: Pool, schema: string = DEFAULT_SCHEMA): Promise<void> {
    return migrateEventStore(pool, schema);
  }

  // ---------------------------------------------------------------- append (group commit)

  append(streamId: string, events: readonly NewEvent[], expectedRevision: ExpectedRevision): Promise<AppendResult> {
    if (this.closed) return Promise.reject(new EventStoreClosedError());
    try {
      validateAppend(streamId, events);
      const data = events.map((e) => JSON.stringify(e.data ?? null));
      const metadata = events.map((e) => JSON.stringify(e.metadata ?? {}));
      return new Promise<AppendResult>((resolve, reject) => {
        this.queue.push({ streamId, events, expected: expectedRevision, data, metadata, resolve, reject });
        this.kick();
      });
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** Starts the single writer loop unless it runs; re-checks the queue after it stops (no lost wake-up). */
  private kick(): void {
    if (this.writer) return;
    this.writer = this.drain().finally(() => {
      this.writer = undefined;
      if (this.queue.length > 0) this.kick();
    });
  }

  /**
   * Pipelined group commit. A batch is gathered and planned while earlier ones commit, and sent as
   * one statement (one round trip: `append_batch_v1`, RFC 0020) as soon as it can be: at most
   * `pipelineDepth` batches in flight, and a batch that shares a stream with one in flight waits for
   * it (its plan depends on that commit). A batch in flight waits on the append lock inside the
   * database, so it starts the moment the previous commit is visible: no round trip in between.
   */
  private async drain(): Promise<void> {
    const inFlight = new Map<Promise<void>, ReadonlySet<string>>();
    while (this.queue.length > 0) {
      // Let callers just acknowledged queue their next append (they run in microtasks) before we gather.
      if (this.maxWaitMs > 0 && this.queuedEvents() < this.maxBatchEvents) await sleep(this.maxWaitMs);
      else await new Promise<void>((resolve) => setImmediate(resolve));
      if (inFlight.size >= this.pipelineDepth) {
        await Promise.race(inFlight.keys());
        continue;
      }
      const batch = this.gather([]);
      const streams = new Set(batch.map((b) => b.streamId));
      const overlapping = [...inFlight].filter(([, s]) => [...streams].some((id) => s.has(id))).map(([p]) => p);
      if (overlapping.length > 0) {
        await Promise.all(overlapping);
        this.gather(batch); // top up with what queued meanwhile
        for (const b of batch) streams.add(b.streamId);
      }
      const done: Promise<void> = this.commitBatch(batch).finally(() => inFlight.delete(done));
      inFlight.set(done, streams);
    }
    await Promise.all(inFlight.keys());
  }

  /** Moves queued appends into `batch` up to `maxBatchEvents` (a single larger append goes alone). */
  private gather(batch: PendingAppend[]): PendingAppend[] {
    let count = batch.reduce((n, p) => n + p.events.length, 0);
    while (this.queue.length > 0) {
      const next = this.queue[0];
      if (batch.length > 0 && count + next.events.length > this.maxBatchEvents) break;
      batch.push(next);
      count += next.events.length;
      this.queue.shift();
    }
    return batch;
  }

  private queuedEvents(): number {
    return this.queue.reduce((n, p) => n + p.events.length, 0);
  }

  /**
   * Settles every append of the batch. A batch-level failure (connection lost, a payload PostgreSQL
   * refuses, an ambiguous COMMIT) is retried append by append: idempotent event ids make a retry of
   * an append that did commit return its original result, so nothing is acknowledged twice or lost.
   */
  private async commitBatch(batch: PendingAppend[]): Promise<void> {
    this.stats.batches++;
    this.stats.appends += batch.length;
    let outcomes: Outcome[];
    try {
      outcomes = await this.writeBatch(batch);
    } catch (err) {
      // The batch's streams may or may not have been written: forget what we assumed about them.
      for (const item of batch) this.revisions.delete(item.streamId);
      if (batch.length === 1) {
        batch[0].reject(err);
        return;
      }
      for (const item of batch) await this.commitBatch([item]);
      return;
    }
    batch.forEach((item, i) => {
      const o = outcomes[i];
      if ('ok' in o) item.resolve(o.ok);
      else item.reject(o.error);
    });
  }

  /**
   * One round trip per batch in the common case: the batch is planned against the state the writer
   * assumes (stream revisions it wrote or read lately, else the caller's expected revision; ids not
   * stored), and `append_batch_v1` checks that assumption under the append lock and writes the
   * planned rows in the same statement (parameters, no SQL text built from the payloads). When the
   * assumption was wrong the function wrote nothing and returned the actual state: the batch is
   * planned again with it. If that fails too (other processes keep writing the same streams), the
   * batch falls back to holding the lock across round trips, which cannot miss.
   */
  private async writeBatch(batch: readonly PendingAppend[]): Promise<Outcome[]> {
    let state = this.assumedState(batch);
    for (let attempt = 0; attempt < this.optimisticAttempts; attempt++) {
      const planned = plan(batch, state);
      const { rows } = await this.appendPool.query<StateRow>(this.appendSql, this.appendParams(batch, state, planned));
      const head = rows.find((r) => r.kind === 'H');
      if (head !== undefined) {
        this.remember(state, planned);
        return settle(planned, BigInt(head.global_position!));
      }
      this.stats.replans++;
      state = this.stateFromRows(batch, rows);
    }
    return this.writeBatchLocked(batch);
  }

  /** The fallback: BEGIN, the append lock, the state read under it, then the same planned write. */
  private async writeBatchLocked(batch: readonly PendingAppend[]): Promise<Outcome[]> {
    this.stats.locked++;
    const client = await this.appendPool.connect();
    try {
      await client.query(`BEGIN; ${appendLockSql(this.schema)}`);
      const streamIds = [...new Set(batch.map((b) => b.streamId))];
      const eventIds = batch.flatMap((b) => b.events.map((e) => e.id.toLowerCase()));
      const { rows } = await client.query<StateRow>(
        `SELECT 'S' AS kind, stream_id, revision::text, NULL::text AS event_id, NULL::text AS global_position
           FROM ${this.t.streams} WHERE stream_id = ANY($1::text[])
         UNION ALL
         SELECT 'E', stream_id, revision::text, event_id::text, global_position::text
           FROM ${this.t.events} WHERE event_id = ANY($2::uuid[])`,
        [streamIds, eventIds],
      );
      const state = this.stateFromRows(batch, rows);
      const planned = plan(batch, state);
      const result = await client.query<StateRow>(this.appendSql, this.appendParams(batch, state, planned));
      const head = result.rows.find((r) => r.kind === 'H');
      if (head === undefined) throw new Error('append_batch_v1 found a state other than the one read under the lock');
      await client.query('COMMIT');
      client.release();
      this.remember(state, planned);
      return settle(planned, BigInt(head.global_position!));
    } catch (err) {
      // A connection that rolled back cleanly is healthy; destroy it only when ROLLBACK fails too.
      const healthy = await client.query('ROLLBACK').then(
        () => true,
        () => false,
      );
      client.release(!healthy);
      throw err;
    }
  }

  /**
   * What the writer assumes before reading anything: a stream's revision from the cache, else the
   * one the append expects (`no_stream` and `any`: no stream; `stream_exists`: unknown, assumed
   * missing); no id stored. Wrong guesses cost a second round trip, never a wrong outcome.
   */
  private assumedState(batch: readonly PendingAppend[]): BatchState {
    const revisions = new Map<string, bigint>();
    for (const item of batch) {
      if (revisions.has(item.streamId)) continue;
      const cached = this.revisions.get(item.streamId);
      const e = item.expected;
      revisions.set(item.streamId, cached ?? (typeof e === 'bigint' ? e : -1n));
    }
    return { revisions, stored: new Map() };
  }

  /** The actual state, from `append_batch_v1`'s mismatch rows or the locked read. */
  private stateFromRows(batch: readonly PendingAppend[], rows: readonly StateRow[]): BatchState {
    const revisions = new Map<string, bigint>(batch.map((b) => [b.streamId, -1n]));
    const stored = new Map<string, StoredId>();
    for (const r of rows) {
      if (r.kind === 'S') revisions.set(r.stream_id!, BigInt(r.revision!));
      else if (r.kind === 'E') {
        stored.set(r.event_id!.toLowerCase(), {
          streamId: r.stream_id!,
          revision: BigInt(r.revision!),
          position: BigInt(r.global_position!),
        });
      }
    }
    for (const [id, rev] of revisions) this.cacheRevision(id, rev);
    return { revisions, stored };
  }

  private appendParams(batch: readonly PendingAppend[], state: BatchState, planned: Planned): unknown[] {
    const streams = [...state.revisions.keys()];
    const unseen = batch.flatMap((b) => b.events.map((e) => e.id.toLowerCase())).filter((id) => !state.stored.has(id));
    return [streams, streams.map((s) => state.revisions.get(s)!.toString()), unseen, planned.rows, this.notify];
  }

  /** After a commit: the batch's streams are at the revisions it verified or wrote. */
  private remember(state: BatchState, planned: Planned): void {
    for (const [id, rev] of state.revisions) this.cacheRevision(id, planned.touched.get(id) ?? rev);
  }

  /** A bounded LRU of stream revisions (`revisionCacheSize` entries, the oldest dropped first). */
  private cacheRevision(streamId: string, revision: bigint): void {
    if (this.revisionCacheSize === 0) return;
    this.revisions.delete(streamId);
    this.revisions.set(streamId, revision);
    if (this.revisions.size > this.revisionCacheSize) {
      this.revisions.delete(this.revisions.keys().next().value as string);
    }
  }

  // ---------------------------------------------------------------- reads

  async readStream(streamId: string, options: ReadStreamOptions = {}): Promise<RecordedEvent[]> {
    const params: unknown[] = [streamId, (options.fromRevision ?? 0n).toString()];
    let limit = '';
    if (options.maxCount !== undefined) {
      params.push(options.maxCount);
      limit = ' LIMIT $3';
    }
    const { rows } = await this.pool.query<EventRow>(
      `SELECT ${COLUMNS} FROM ${this.t.events} WHERE stream_id = $1 AND revision >= $2 ORDER BY revision${limit}`,
      params,
    );
    return rows.map(toRecorded);
  }

  /** One query for all the streams (the engine loads a batch's carts and recoveries with it). */
  async readStreams(streamIds: readonly string[]): Promise<Map<string, RecordedEvent[]>> {
    const ids = [...new Set(streamIds)];
    const out = new Map<string, RecordedEvent[]>(ids.map((id) => [id, []]));
    if (ids.length === 0) return out;
    const { rows } = await this.pool.query<EventRow>(
      `SELECT ${COLUMNS} FROM ${this.t.events} WHERE stream_id = ANY($1::text[]) ORDER BY stream_id, revision`,
      [ids],
    );
    for (const r of rows) out.get(r.stream_id)?.push(toRecorded(r));
    return out;
  }

  async readAll(options: ReadAllOptions = {}): Promise<RecordedEvent[]> {
    return (await this.readAllWithHead(options)).events;
  }

  /**
   * One statement, one snapshot: the matching events after `after`, and the head position seen by
   * that same snapshot (so a filtered subscriber can move past events it does not want).
   */
  private async readAllWithHead(options: ReadAllOptions): Promise<{ events: RecordedEvent[]; head: bigint }> {
    const params: unknown[] = [(options.after ?? START).commit.toString()];
    let limit = '';
    if (options.maxCount !== undefined) {
      params.push(options.maxCount);
      limit = ` LIMIT $${params.length}`;
    }
    const { rows } = await this.pool.query<EventRow & { head: string }>(
      `WITH h AS (SELECT COALESCE(MAX(global_position), 0)::text AS head FROM ${this.t.events})
       SELECT h.head, e.* FROM h LEFT JOIN LATERAL (${matchingSql(this.t.events, options.filter, params, limit)}) e ON true`,
      params,
    );
    const head = BigInt(rows[0]?.head ?? '0');
    return { events: rows.filter((r) => r.global_position !== null).map(toRecorded), head };
  }

  /** The position of the last committed event (START when empty), for lag metrics. */
  async headPosition(): Promise<GlobalPosition> {
    const { rows } = await this.pool.query<{ head: string | null }>(
      `SELECT MAX(global_position)::text AS head FROM ${this.t.events}`,
    );
    const head = rows[0]?.head;
    return head === null || head === undefined ? START : { commit: BigInt(head), prepare: BigInt(head) };
  }

  // ---------------------------------------------------------------- subscriptions

  subscribeToAll(options: SubscribeOptions = {}): AsyncIterable<readonly RecordedEvent[]> {
    const signal = options.signal ? AbortSignal.any([options.signal, this.lifetime.signal]) : this.lifetime.signal;
    const batchSize = Math.max(1, options.batchSize ?? 500);
    const filter = options.filter;
    const after = (options.after ?? START).commit;
    return { [Symbol.asyncIterator]: () => this.follow(after, batchSize, filter, signal) };
  }

  private async *follow(
    from: bigint,
    batchSize: number,
    filter: EventFilter | undefined,
    signal: AbortSignal,
  ): AsyncGenerator<readonly RecordedEvent[]> {
    let after = from;
    if (this.notify) void this.ensureListener();
    while (!signal.aborted) {
      const generation = this.wakeGeneration;
      const { events, head } = await this.readAllWithHead({
        after: { commit: after, prepare: after },
        maxCount: batchSize,
        filter,
      });
      if (signal.aborted) return;
      if (events.length > 0) {
        after = events[events.length - 1].position.commit;
        yield events;
        if (events.length === batchSize) continue;
      }
      // Every event up to `head` committed and was visible to that read: none matching remains.
      if (head > after) after = head;
      if (generation === this.wakeGeneration) await this.waitForAppend(signal);
    }
  }

  private waitForAppend(signal: AbortSignal): Promise<void> {
    if (this.notify) void this.ensureListener();
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        this.waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, this.pollIntervalMs);
      signal.addEventListener('abort', done, { once: true });
      this.waiters.add(done);
    });
  }

  private wake(): void {
    this.wakeGeneration++;
    for (const w of [...this.waiters]) w();
  }

  private ensureListener(): Promise<void> {
    if (this.listener || this.listenerConnecting || this.closed || Date.now() < this.listenerRetryAt) {
      return this.listenerConnecting ?? Promise.resolve();
    }
    const config = (this.pool as unknown as { options: ClientConfig }).options;
    const client = new Client(config);
    const drop = () => {
      if (this.listener === client) this.listener = undefined;
      this.listenerRetryAt = Date.now() + 2000;
      client.end().catch(() => undefined);
    };
    client.on('error', drop);
    client.on('end', drop);
    client.on('notification', () => this.wake());
    this.listenerConnecting = client
      .connect()
      .then(() => client.query(`LISTEN "${notifyChannel(this.schema)}"`))
      .then(() => {
        if (this.closed) return void client.end().catch(() => undefined);
        this.listener = client;
        this.wake(); // appends committed while connecting must not wait for the next poll
      })
      .catch(drop)
      .finally(() => {
        this.listenerConnecting = undefined;
      });
    return this.listenerConnecting;
  }

  async ping(): Promise<void> {
    await this.pool.query('SELECT 1');
  }

  /** Flushes queued appends, ends subscriptions and the listener. The pool stays the caller's. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.lifetime.abort();
    this.wake();
    while (this.writer) await this.writer;
    await this.listenerConnecting;
    const l = this.listener;
    this.listener = undefined;
    if (l) await l.end().catch(() => undefined);
  }
}

/**
 * Evaluates the appends in order against `state`, tracked across the batch: expected revision
 * against the stream's revision, idempotency against stored and earlier-in-batch ids. Accepted
 * appends get positions as offsets 1, 2, … from the head they will be written after.
 */
function plan(batch: readonly PendingAppend[], state: BatchState): Planned {
  const revisions = new Map(state.revisions);
  const stored = new Map(state.stored);
  const touched = new Map<string, bigint>();
  const rows: string[] = [];
  const outcomes: PlannedOutcome[] = [];
  let offset = 0n;
  for (const item of batch) {
    const current = revisions.get(item.streamId) ?? -1n;
    const ids = item.events.map((e) => e.id.toLowerCase());
    const found = ids.map((id) => stored.get(id));
    if (found.some((f) => f !== undefined)) {
      outcomes.push(idempotentOutcome(item, found, current));
      continue;
    }
    if (!expectedMatches(item.expected, current)) {
      outcomes.push({
        error: new WrongExpectedRevisionError(item.streamId, item.expected, current < 0n ? 'no_stream' : current),
      });
      continue;
    }
    const stream = JSON.stringify(item.streamId);
    let revision = current;
    item.events.forEach((e, i) => {
      revision += 1n;
      offset += 1n;
      rows.push(
        `{"o":${offset},"s":${stream},"r":${revision},"id":"${ids[i]}","t":${JSON.stringify(e.type)},"v":${e.schemaVersion},"d":${item.data[i]},"m":${item.metadata[i]}}`,
      );
      stored.set(ids[i], { streamId: item.streamId, revision, position: offset, inBatch: true });
    });
    revisions.set(item.streamId, revision);
    touched.set(item.streamId, revision);
    outcomes.push({ ok: { nextExpectedRevision: revision, position: { commit: offset, prepare: offset } }, relative: true });
  }
  return { outcomes, rows: `[${rows.join(',')}]`, touched };
}

/** The outcomes once the batch committed after `head`: offsets become positions. */
function settle(planned: Planned, head: bigint): Outcome[] {
  return planned.outcomes.map((o) => {
    if (!('ok' in o) || !o.relative) return o;
    const position = head + o.ok.position.commit;
    return { ok: { nextExpectedRevision: o.ok.nextExpectedRevision, position: { commit: position, prepare: position } } };
  });
}

function expectedMatches(expected: ExpectedRevision, current: bigint): boolean {
  if (expected === 'any') return true;
  if (expected === 'no_stream') return current < 0n;
  if (expected === 'stream_exists') return current >= 0n;
  return current === expected;
}

/**
 * As EventStoreDB: re-appending exactly the events of one earlier append (same ids, same order, same
 * stream) at the expected revision they were first written with returns the original result.
 */
function idempotentOutcome(
  item: PendingAppend,
  found: readonly (StoredId | undefined)[],
  current: bigint,
): PlannedOutcome {
  const first = found[0];
  const exact =
    first !== undefined &&
    found.every((f, i) => f !== undefined && f.streamId === item.streamId && f.revision === first.revision + BigInt(i));
  if (!exact) {
    return {
      error: new DuplicateEventIdError(
        item.streamId,
        item.events.filter((_, i) => found[i]).map((e) => e.id),
      ),
    };
  }
  const e = item.expected;
  const ok =
    e === 'any' || e === 'stream_exists' || (e === 'no_stream' ? first.revision === 0n : e === first.revision - 1n);
  if (!ok) return { error: new WrongExpectedRevisionError(item.streamId, e, current < 0n ? 'no_stream' : current) };
  const last = found[found.length - 1]!;
  return {
    ok: { nextExpectedRevision: last.revision, position: { commit: last.position, prepare: last.position } },
    relative: last.inBatch === true,
  };
}

function escapeLike(prefix: string): string {
  return `${prefix.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/**
 * The events after `$1` matching `filter`, in global order, at most `limit`. Type prefixes that
 * name a category (`cart.`, `webhook.received`: the text before the first dot) are read through the
 * `(category, global_position)` index, one ordered range scan per category merged by position, so
 * a filtered read touches about `limit` rows per category however mixed the log is. A prefix
 * without a dot cannot name a category and falls back to a position-ordered scan with a LIKE filter.
 */
export function matchingSql(events: string, filter: EventFilter | undefined, params: unknown[], limit: string): string {
  const streamCond: string[] = [];
  if (filter?.streamPrefixes?.length) {
    params.push(filter.streamPrefixes.map(escapeLike));
    streamCond.push(`stream_id LIKE ANY($${params.length}::text[])`);
  }
  if (filter?.partition && filter.partition.count > 1) {
    params.push(filter.partition.count, filter.partition.index);
    streamCond.push(`${streamPartitionSql('stream_id', `$${params.length - 1}::int`)} = $${params.length}::int`);
  }
  const prefixes = filter?.typePrefixes ?? [];
  const scan = (conds: string[]) =>
    `SELECT ${COLUMNS} FROM ${events} WHERE ${['global_position > $1', ...conds, ...streamCond].join(' AND ')}
       ORDER BY global_position${limit}`;
  if (prefixes.length === 0) return scan([]);
  if (prefixes.some((p) => !p.includes('.'))) {
    params.push(prefixes.map(escapeLike));
    return scan([`type LIKE ANY($${params.length}::text[])`]);
  }
  const byCategory = new Map<string, string[]>();
  for (const p of prefixes) {
    const category = p.slice(0, p.indexOf('.'));
    byCategory.set(category, [...(byCategory.get(category) ?? []), p]);
  }
  const scans = [...byCategory].map(([category, ps]) => {
    params.push(category);
    const c = `${CATEGORY_SQL} = $${params.length}`;
    params.push(ps.map(escapeLike));
    return `(${scan([c, `type LIKE ANY($${params.length}::text[])`])})`;
  });
  return scans.length === 1 ? scans[0] : `${scans.join(' UNION ALL ')} ORDER BY global_position${limit}`;
}

function toRecorded(r: EventRow): RecordedEvent {
  const position = BigInt(r.global_position);
  return {
    id: r.event_id,
    type: r.type,
    schemaVersion: r.schema_version,
    data: r.data,
    metadata: r.metadata,
    streamId: r.stream_id,
    revision: BigInt(r.revision),
    position: { commit: position, prepare: position },
    recordedAt: r.recorded_at,
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

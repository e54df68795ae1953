import { Client, ClientConfig, Pool, QueryResult } from 'pg';
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
    /** Gather and start the next batch while one commits. Default true (false: one batch at a time). */
    readonly pipelined?: boolean;
  };
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
  private readonly pipelined: boolean;
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
  /** Group-commit counters (transactions attempted, appends carried): appends / batches = mean batch. */
  readonly stats = { batches: 0, appends: 0 };

  constructor(options: PostgresEventStoreOptions) {
    this.pool = options.pool;
    this.appendPool = options.appendPool ?? options.pool;
    this.schema = assertSchemaName(options.schema ?? DEFAULT_SCHEMA);
    this.maxBatchEvents = Math.max(1, options.groupCommit?.maxBatchEvents ?? 1000);
    this.maxWaitMs = Math.max(0, options.groupCommit?.maxWaitMs ?? 0);
    this.pipelined = options.groupCommit?.pipelined ?? true;
    this.notify = options.notify ?? true;
    this.pollIntervalMs = Math.max(10, options.pollIntervalMs ?? 500);
    this.t = { events: `"${this.schema}".events`, streams: `"${this.schema}".streams` };
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
   * Pipelined group commit: a batch is gathered and its first round trip (BEGIN, lock, state read)
   * sent as soon as the previous batch has sent its INSERT + COMMIT, so the next batch waits on the
   * advisory lock during the previous commit's fsync and plans the moment the lock is released.
   * The lock still serialises the transactions: at most two are in flight, in allocation order.
   */
  private async drain(): Promise<void> {
    const inFlight = new Set<Promise<void>>();
    while (this.queue.length > 0) {
      // Let callers just acknowledged queue their next append (they run in microtasks) before we gather.
      if (this.maxWaitMs > 0 && this.queuedEvents() < this.maxBatchEvents) await sleep(this.maxWaitMs);
      else await new Promise<void>((resolve) => setImmediate(resolve));
      const batch: PendingAppend[] = [];
      let count = 0;
      while (this.queue.length > 0) {
        const next = this.queue[0];
        if (batch.length > 0 && count + next.events.length > this.maxBatchEvents) break;
        batch.push(next);
        count += next.events.length;
        this.queue.shift();
      }
      let committing!: () => void;
      const handedOver = new Promise<void>((resolve) => (committing = resolve));
      const done = this.commitBatch(batch, committing).finally(() => {
        committing();
        inFlight.delete(done);
      });
      inFlight.add(done);
      await (this.pipelined ? handedOver : done);
    }
    await Promise.all(inFlight);
  }

  private queuedEvents(): number {
    return this.queue.reduce((n, p) => n + p.events.length, 0);
  }

  /**
   * Settles every append of the batch. A batch-level failure (connection lost, a payload PostgreSQL
   * refuses, an ambiguous COMMIT) is retried append by append: idempotent event ids make a retry of
   * an append that did commit return its original result, so nothing is acknowledged twice or lost.
   */
  private async commitBatch(batch: PendingAppend[], committing: () => void = () => undefined): Promise<void> {
    this.stats.batches++;
    this.stats.appends += batch.length;
    let outcomes: Outcome[];
    try {
      outcomes = await this.writeBatch(batch, committing);
    } catch (err) {
      committing();
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
   * Two round trips per batch, both simple-protocol multi-statement strings with escaped literals:
   * `BEGIN; lock; read state` then `INSERT …; COMMIT`. Each statement of the first gets its own
   * snapshot, so the state is read after the lock is granted.
   */
  private async writeBatch(batch: readonly PendingAppend[], committing: () => void): Promise<Outcome[]> {
    const client = await this.appendPool.connect();
    try {
      const streamIds = [...new Set(batch.map((b) => b.streamId))];
      const eventIds = batch.flatMap((b) => b.events.map((e) => e.id.toLowerCase()));
      const results = (await client.query(
        `BEGIN; ${appendLockSql(this.schema)};
         SELECT 'S' AS kind, stream_id, revision::text, NULL::text AS event_id, NULL::text AS global_position
           FROM ${this.t.streams} WHERE stream_id = ANY(${sqlArray(streamIds.map(sqlLiteral), 'text')})
         UNION ALL
         SELECT 'E', stream_id, revision::text, event_id::text, global_position::text
           FROM ${this.t.events} WHERE event_id = ANY(${sqlArray(eventIds.map(sqlLiteral), 'uuid')})
         UNION ALL
         SELECT 'H', NULL, NULL, NULL, COALESCE(MAX(global_position), 0)::text FROM ${this.t.events}`,
      )) as unknown as QueryResult<StateRow>[];
      const { outcomes, insert } = this.plan(batch, results[results.length - 1].rows);
      const commit = client.query(insert === undefined ? 'COMMIT' : `${insert}; COMMIT`);
      committing();
      await commit;
      client.release();
      return outcomes;
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

  /** Evaluates the appends in order against the state read under the lock, tracked across the batch. */
  private plan(batch: readonly PendingAppend[], rows: readonly StateRow[]): { outcomes: Outcome[]; insert?: string } {
    const revisions = new Map<string, bigint>();
    const stored = new Map<string, StoredId>();
    let head = 0n;
    for (const r of rows) {
      if (r.kind === 'S') revisions.set(r.stream_id!, BigInt(r.revision!));
      else if (r.kind === 'E') {
        stored.set(r.event_id!, {
          streamId: r.stream_id!,
          revision: BigInt(r.revision!),
          position: BigInt(r.global_position!),
        });
      } else head = BigInt(r.global_position!);
    }
    const esc = sqlLiteral;
    const cols = { pos: [] as string[], stream: [] as string[], rev: [] as string[], id: [] as string[] };
    const colType: string[] = [];
    const colVersion: string[] = [];
    const colData: string[] = [];
    const colMeta: string[] = [];
    const outcomes: Outcome[] = [];

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
      let revision = current;
      item.events.forEach((e, i) => {
        revision += 1n;
        head += 1n;
        cols.pos.push(head.toString());
        cols.stream.push(esc(item.streamId));
        cols.rev.push(revision.toString());
        cols.id.push(esc(ids[i]));
        colType.push(esc(e.type));
        colVersion.push(String(e.schemaVersion));
        colData.push(esc(item.data[i]));
        colMeta.push(esc(item.metadata[i]));
        stored.set(ids[i], { streamId: item.streamId, revision, position: head });
      });
      revisions.set(item.streamId, revision);
      outcomes.push({ ok: { nextExpectedRevision: revision, position: { commit: head, prepare: head } } });
    }
    if (cols.pos.length === 0) return { outcomes };

    const touched = [...new Set(batch.filter((_, i) => 'ok' in outcomes[i]).map((b) => b.streamId))];
    const insert = `WITH e AS (
        INSERT INTO ${this.t.events} (global_position, stream_id, revision, event_id, type, schema_version, data, metadata)
        SELECT * FROM unnest(${sqlArray(cols.pos, 'bigint')}, ${sqlArray(cols.stream, 'text')}, ${sqlArray(cols.rev, 'bigint')},
          ${sqlArray(cols.id, 'uuid')}, ${sqlArray(colType, 'text')}, ${sqlArray(colVersion, 'int')},
          ${sqlArray(colData, 'jsonb')}, ${sqlArray(colMeta, 'jsonb')})
      )
      INSERT INTO ${this.t.streams} (stream_id, revision)
      SELECT * FROM unnest(${sqlArray(touched.map(esc), 'text')}, ${sqlArray(
        touched.map((t) => revisions.get(t)!.toString()),
        'bigint',
      )})
      ON CONFLICT (stream_id) DO UPDATE SET revision = excluded.revision${
        this.notify ? `;\n      SELECT pg_notify('${notifyChannel(this.schema)}', '${head}')` : ''
      }`;
    return { outcomes, insert };
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
function idempotentOutcome(item: PendingAppend, found: readonly (StoredId | undefined)[], current: bigint): Outcome {
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
  return { ok: { nextExpectedRevision: last.revision, position: { commit: last.position, prepare: last.position } } };
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

/**
 * A string constant, as pg's `escapeLiteral` writes it (`E'…'` with doubled backslashes when there
 * are any, quotes doubled) but with native replaces instead of its character-by-character copy:
 * every event's JSON goes through it (docs/rfc/0002-webhook-hot-path.md).
 */
export function sqlLiteral(s: string): string {
  const quoted = s.includes("'") ? s.replace(/'/g, "''") : s;
  return s.includes('\\') ? ` E'${quoted.replace(/\\/g, '\\\\')}'` : `'${quoted}'`;
}

/** `ARRAY[…]::type[]` of already-escaped literals or numbers (an empty one is typed too). */
function sqlArray(items: readonly string[], type: string): string {
  return items.length === 0 ? `'{}'::${type}[]` : `ARRAY[${items.join(',')}]::${type}[]`;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

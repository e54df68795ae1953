import type { Pool, PoolClient } from 'pg';
import pino from 'pino';
import { comparePositions, START, type EventStore, type RecordedEvent } from '@reclaim/event-store/event-store.port';
import {
  blockedKeys,
  DEFAULT_DEAD_LETTER_SCHEMA,
  ensureDeadLetterTables,
} from '@reclaim/event-store/subscriptions/dead-letters';
import type { KafkaPublisher, OutboundMessage } from './publisher.port';
import { DEFAULT_TOPIC, toOutboundMessage } from './integration-event';
import { loadRelayCheckpoint, migrateRelaySchema, saveRelayCheckpoint } from './relay-checkpoint';

/** pino-compatible subset, so a pino logger (or nestjs-pino's) can be passed as is. */
export interface RelayLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface KafkaRelayOptions {
  readonly store: EventStore;
  readonly pool: Pool;
  readonly publisher: KafkaPublisher;
  /** Default `reclaim.events.v1`. */
  readonly topic?: string;
  /** Checkpoint and lock name. Default `kafka-relay:<topic>`. */
  readonly name?: string;
  /** Largest batch read from the store and sent in one produce call. Default 200. */
  readonly batchSize?: number;
  readonly logger?: RelayLogger;
  /** While another instance holds the relay lock, retry taking it this often. Default 5000 ms. */
  readonly standbyPollMs?: number;
  /** Backoff after a failed publish: starts here, doubles, capped by `maxRetryDelayMs`. Default 500 ms. */
  readonly retryDelayMs?: number;
  readonly maxRetryDelayMs?: number;
  /** Schema of the consumers' dead-letter registry (`subscription_blocked_keys`). Default `event_store`. */
  readonly deadLetterSchema?: string;
  /** Poison isolation of a stream whose event cannot be published (see the class comment). */
  readonly isolation?: {
    /** Attempts (the first failure included) before the stream is parked. Default 8. */
    readonly maxAttempts?: number;
    /** Back-off between attempts of a blocked stream. Defaults 1 s .. 5 min. */
    readonly backoff?: { readonly initialMs?: number; readonly maxMs?: number };
    /** How often blocked streams are looked at while some exist. Default 500 ms. */
    readonly pollMs?: number;
  };
}

interface Failure {
  readonly event: RecordedEvent;
  readonly error: unknown;
}

/**
 * Follows the event store from its checkpoint and publishes every event to Kafka, key = stream id.
 *
 * - One active relay per name: a Postgres session advisory lock, held on a dedicated connection for the
 *   whole run. Other instances wait in standby and take over when that connection ends.
 * - A batch is published, then (only once the broker acknowledged it, acks=all) the checkpoint is written.
 *   While the broker is unreachable (its probe fails too) the whole batch is retried with backoff; the
 *   checkpoint never passes an unacknowledged event.
 * - Poison isolation, like every durable consumer: an event that cannot be mapped, or that the broker
 *   refuses while it answers for the rest (too large, refused by a topic policy…), blocks only its
 *   stream (the Kafka key). It and every later event of that stream are held in the consumers' shared
 *   dead-letter registry (`subscription_blocked_keys` / `_events`, subscription = the relay's name),
 *   retried with backoff and, once `maxAttempts` is spent, parked: listed on the dashboard with its
 *   error and a retry action, counted in /metrics, `degraded` in /health. Other streams keep flowing.
 *   Per-stream order is kept: the held events are published in log order once the key is released.
 * - Delivery is at-least-once (a crash after the ack and before the checkpoint re-sends one batch; a
 *   batch split to find its poison may re-send what a failed attempt wrote); consumers dedupe by the
 *   `event-id` header.
 */
export class KafkaRelay {
  readonly topic: string;
  readonly name: string;
  private readonly batchSize: number;
  private readonly logger: RelayLogger;
  private readonly standbyPollMs: number;
  private readonly retryDelayMs: number;
  private readonly maxRetryDelayMs: number;
  private readonly schema: string;
  private readonly maxAttempts: number;
  private readonly keyBackoffMs: number;
  private readonly maxKeyBackoffMs: number;
  private readonly blockedPollMs: number;
  /** Streams held back (retrying or parked) — the relay's in-memory copy of its registry rows. */
  private blocked = new Set<string>();
  private lock: Promise<void> = Promise.resolve();

  constructor(private readonly opts: KafkaRelayOptions) {
    this.topic = opts.topic ?? DEFAULT_TOPIC;
    this.name = opts.name ?? `kafka-relay:${this.topic}`;
    this.batchSize = opts.batchSize ?? 200;
    if (!Number.isInteger(this.batchSize) || this.batchSize < 1)
      throw new RangeError('batchSize must be a positive integer');
    this.logger = opts.logger ?? pino({ name: 'kafka-relay', level: process.env.LOG_LEVEL ?? 'info' });
    this.standbyPollMs = opts.standbyPollMs ?? 5000;
    this.retryDelayMs = opts.retryDelayMs ?? 500;
    this.maxRetryDelayMs = opts.maxRetryDelayMs ?? 30_000;
    this.schema = opts.deadLetterSchema ?? DEFAULT_DEAD_LETTER_SCHEMA;
    this.maxAttempts = Math.max(1, opts.isolation?.maxAttempts ?? 8);
    this.keyBackoffMs = opts.isolation?.backoff?.initialMs ?? 1_000;
    this.maxKeyBackoffMs = Math.max(this.keyBackoffMs, opts.isolation?.backoff?.maxMs ?? 300_000);
    this.blockedPollMs = opts.isolation?.pollMs ?? 500;
  }

  /** Runs until `signal` aborts (resolves) or the lock connection fails (rejects). */
  async run(signal: AbortSignal): Promise<void> {
    await migrateRelaySchema(this.opts.pool);
    await ensureDeadLetterTables(this.opts.pool, this.schema);
    const lock = await this.acquireLock(signal);
    if (!lock) return;
    const inner = new AbortController();
    const onOuterAbort = () => inner.abort(signal.reason);
    signal.addEventListener('abort', onOuterAbort, { once: true });
    let lockError: unknown;
    const onLockError = (err: unknown) => {
      lockError = err;
      inner.abort(err);
    };
    lock.on('error', onLockError);
    try {
      this.blocked = await blockedKeys.load(this.opts.pool, this.schema, this.name);
      const retries = this.retryBlocked(inner.signal);
      try {
        await this.relay(inner.signal);
      } finally {
        inner.abort();
        await retries;
      }
      if (lockError !== undefined) throw lockError;
    } finally {
      signal.removeEventListener('abort', onOuterAbort);
      lock.off('error', onLockError);
      await this.releaseLock(lock, lockError !== undefined);
    }
  }

  private async relay(signal: AbortSignal): Promise<void> {
    const after = (await loadRelayCheckpoint(this.opts.pool, this.name)) ?? START;
    this.logger.info({ relay: this.name, topic: this.topic, after: String(after.commit) }, 'kafka relay started');
    for await (const batch of this.opts.store.subscribeToAll({ after, batchSize: this.batchSize, signal })) {
      if (signal.aborted) break;
      if (batch.length === 0) continue;
      const done = await this.exclusive(() => this.relayBatch(batch, signal));
      if (!done) break;
    }
    this.logger.info({ relay: this.name }, 'kafka relay stopped');
  }

  /** Serialises the batch loop and the retries of blocked streams (both decide what a stream may publish). */
  private exclusive<T>(work: () => Promise<T>): Promise<T> {
    const run = this.lock.then(work);
    this.lock = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  /**
   * Publishes a batch (minus the events of blocked streams), holds what is blocked and moves the
   * checkpoint past the batch. False if aborted before that.
   */
  private async relayBatch(batch: readonly RecordedEvent[], signal: AbortSignal): Promise<boolean> {
    let delay = this.retryDelayMs;
    for (let attempt = 1; ; attempt++) {
      if (signal.aborted) return false;
      const blocks = new Map<string, Failure>();
      const hold: RecordedEvent[] = [];
      const free: Array<{ event: RecordedEvent; message: OutboundMessage }> = [];
      for (const e of batch) {
        const key = e.streamId;
        if (this.blocked.has(key) || blocks.has(key)) {
          hold.push(e);
          continue;
        }
        try {
          free.push({ event: e, message: this.map(e) });
        } catch (err) {
          blocks.set(key, { event: e, error: err });
          hold.push(e);
        }
      }
      try {
        await this.publishIsolating(free, blocks, hold);
      } catch (err) {
        this.logger.error(
          { relay: this.name, attempt, count: free.length, err: errorSummary(err) },
          'kafka broker unavailable; retrying the same batch',
        );
        if (!(await sleep(delay, signal))) return false;
        delay = Math.min(delay * 2, this.maxRetryDelayMs);
        continue;
      }
      const last = batch[batch.length - 1].position;
      if (hold.length === 0) {
        await saveRelayCheckpoint(this.opts.pool, this.name, last);
        return true;
      }
      await this.inTransaction(async (tx) => {
        for (const [key, f] of blocks)
          await blockedKeys.block(tx, this.schema, this.name, key, f.event, f.error, this.nextAttempt(1));
        for (const e of hold) await blockedKeys.hold(tx, this.schema, this.name, e.streamId, e);
        await saveRelayCheckpoint(tx, this.name, last);
      });
      for (const [key, f] of blocks) {
        this.blocked.add(key);
        this.logger.warn(
          { relay: this.name, key, eventId: f.event.id, eventType: f.event.type, err: errorSummary(f.error) },
          'kafka relay: event could not be published; its stream waits, the rest flows',
        );
      }
      return true;
    }
  }

  /**
   * Publishes `free` in one call. When that fails and the broker answers its probe, the batch is sent
   * again, then split per stream (and a failing stream message by message) to find what the broker
   * refuses: the first refused event of a stream blocks it (added to `blocks`; it and the stream's
   * later events to `hold`). Throws when the broker does not answer (nothing is blamed on an event).
   */
  private async publishIsolating(
    free: ReadonlyArray<{ event: RecordedEvent; message: OutboundMessage }>,
    blocks: Map<string, Failure>,
    hold: RecordedEvent[],
  ): Promise<void> {
    if (free.length === 0) return;
    const all = free.map((f) => f.message);
    try {
      await this.opts.publisher.publish(this.topic, all);
      return;
    } catch (err) {
      await this.assertBrokerAnswers(err);
    }
    try {
      await this.opts.publisher.publish(this.topic, all);
      return;
    } catch (err) {
      await this.assertBrokerAnswers(err);
    }
    const byKey = new Map<string, Array<{ event: RecordedEvent; message: OutboundMessage }>>();
    for (const f of free) {
      const list = byKey.get(f.message.key) ?? [];
      list.push(f);
      byKey.set(f.message.key, list);
    }
    const failed: Array<{ key: string; failure: Failure; held: RecordedEvent[] }> = [];
    for (const [key, group] of byKey) {
      try {
        await this.opts.publisher.publish(
          this.topic,
          group.map((g) => g.message),
        );
        continue;
      } catch {
        // find the first message of the stream the broker refuses
      }
      for (let i = 0; i < group.length; i++) {
        try {
          await this.opts.publisher.publish(this.topic, [group[i].message]);
        } catch (err) {
          failed.push({
            key,
            failure: { event: group[i].event, error: err },
            held: group.slice(i).map((g) => g.event),
          });
          break;
        }
      }
    }
    if (failed.length === 0) return;
    await this.assertBrokerAnswers(failed[0].failure.error);
    for (const f of failed) {
      blocks.set(f.key, f.failure);
      hold.push(...f.held);
    }
    hold.sort((a, b) => comparePositions(a.position, b.position));
  }

  /** Rethrows `err` when the broker does not answer its probe: the failure is not the event's own. */
  private async assertBrokerAnswers(err: unknown): Promise<void> {
    try {
      await this.opts.publisher.probe(this.topic);
    } catch {
      throw err;
    }
  }

  private nextAttempt(attempt: number): Date {
    return new Date(Date.now() + this.backoffMs(attempt));
  }

  private readonly backoffMs = (attempt: number): number =>
    Math.min(this.maxKeyBackoffMs, this.keyBackoffMs * 2 ** Math.min(attempt - 1, 20));

  /** While streams are blocked: publishes the held events of the due ones, in log order. */
  private async retryBlocked(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      if (!(await sleep(this.blockedPollMs, signal))) return;
      if (this.blocked.size === 0) continue;
      try {
        await this.exclusive(() => this.retryDue(signal));
      } catch (err) {
        if (!signal.aborted)
          this.logger.error(
            { relay: this.name, err: errorSummary(err) },
            'kafka relay: retrying blocked streams failed',
          );
      }
    }
  }

  private async retryDue(signal: AbortSignal): Promise<void> {
    const { pool } = this.opts;
    const due = await blockedKeys.due(pool, this.schema, this.name, 20);
    for (const key of due) {
      if (signal.aborted) return;
      const outcome = await this.inTransaction(async (tx): Promise<'released' | 'failed' | 'unavailable'> => {
        const held = await blockedKeys.held(tx, this.schema, this.name, key);
        for (const e of held) {
          try {
            await this.opts.publisher.publish(this.topic, [this.map(e)]);
          } catch (err) {
            try {
              await this.opts.publisher.probe(this.topic);
            } catch {
              return 'unavailable';
            }
            const status = await blockedKeys.failed(
              tx,
              this.schema,
              this.name,
              key,
              e,
              err,
              this.maxAttempts,
              this.backoffMs,
            );
            const entry = { relay: this.name, key, eventId: e.id, eventType: e.type, err: errorSummary(err) };
            if (status === 'parked') this.logger.error(entry, 'kafka relay: event parked as a dead letter');
            else this.logger.warn(entry, 'kafka relay: blocked stream retried in vain');
            return 'failed';
          }
          await blockedKeys.release(tx, this.schema, this.name, e.id);
        }
        await blockedKeys.unblock(tx, this.schema, this.name, key);
        return 'released';
      });
      if (outcome === 'unavailable') return;
      if (outcome === 'released') {
        this.blocked.delete(key);
        this.logger.info({ relay: this.name, key }, 'kafka relay: held events published, stream released');
      }
    }
  }

  private async inTransaction<T>(work: (tx: PoolClient) => Promise<T>): Promise<T> {
    const tx = await this.opts.pool.connect();
    let broken = false;
    try {
      await tx.query('BEGIN');
      const result = await work(tx);
      await tx.query('COMMIT');
      return result;
    } catch (err) {
      await tx.query('ROLLBACK').catch(() => {
        broken = true;
      });
      throw err;
    } finally {
      tx.release(broken);
    }
  }

  private map(e: RecordedEvent): OutboundMessage {
    const { message, removedPaths } = toOutboundMessage(e);
    if (removedPaths.length > 0) {
      this.logger.warn(
        { relay: this.name, eventId: e.id, eventType: e.type, removedPaths },
        'clear-text personal data removed from an event before publishing',
      );
    }
    return message;
  }

  private async acquireLock(signal: AbortSignal): Promise<PoolClient | undefined> {
    let announced = false;
    while (!signal.aborted) {
      const client = await this.opts.pool.connect();
      let locked = false;
      try {
        const { rows } = await client.query<{ locked: boolean }>(
          `SELECT pg_try_advisory_lock(hashtext('kafka_relay'), hashtext($1)) AS locked`,
          [this.name],
        );
        locked = rows[0].locked;
      } finally {
        if (!locked) client.release();
      }
      if (locked) return client;
      if (!announced) {
        this.logger.info({ relay: this.name }, 'another instance holds the kafka relay lock; standing by');
        announced = true;
      }
      if (!(await sleep(this.standbyPollMs, signal))) break;
    }
    return undefined;
  }

  private async releaseLock(lock: PoolClient, broken: boolean): Promise<void> {
    if (broken) {
      lock.release(true);
      return;
    }
    try {
      await lock.query(`SELECT pg_advisory_unlock(hashtext('kafka_relay'), hashtext($1))`, [this.name]);
      lock.release();
    } catch {
      lock.release(true);
    }
  }
}

function errorSummary(err: unknown): { name: string; message: string } {
  return err instanceof Error ? { name: err.name, message: err.message } : { name: 'Error', message: String(err) };
}

/** Resolves true after `ms`, false as soon as `signal` aborts. */
function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const onAbort = () => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

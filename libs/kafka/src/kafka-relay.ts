import type { Pool, PoolClient } from 'pg';
import pino from 'pino';
import { START, type EventStore, type RecordedEvent } from '@reclaim/event-store/event-store.port';
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
}

/**
 * Follows the event store from its checkpoint and publishes every event to Kafka, key = stream id.
 *
 * - One active relay per name: a Postgres session advisory lock, held on a dedicated connection for the
 *   whole run. Other instances wait in standby and take over when that connection ends.
 * - A batch is published, then (only once the broker acknowledged it, acks=all) the checkpoint is written.
 *   A failed publish is retried with backoff; the checkpoint never passes an unacknowledged event.
 * - Delivery is at-least-once (a crash after the ack and before the checkpoint re-sends one batch);
 *   consumers dedupe by the `event-id` header.
 */
export class KafkaRelay {
  readonly topic: string;
  readonly name: string;
  private readonly batchSize: number;
  private readonly logger: RelayLogger;
  private readonly standbyPollMs: number;
  private readonly retryDelayMs: number;
  private readonly maxRetryDelayMs: number;

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
  }

  /** Runs until `signal` aborts (resolves) or the lock connection fails (rejects). */
  async run(signal: AbortSignal): Promise<void> {
    await migrateRelaySchema(this.opts.pool);
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
      await this.relay(inner.signal);
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
      const messages = batch.map((e) => this.map(e));
      const acked = await this.publishWithRetry(messages, signal);
      if (!acked) break;
      await saveRelayCheckpoint(this.opts.pool, this.name, batch[batch.length - 1].position);
    }
    this.logger.info({ relay: this.name }, 'kafka relay stopped');
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

  /** True once acknowledged; false if aborted before that. */
  private async publishWithRetry(messages: readonly OutboundMessage[], signal: AbortSignal): Promise<boolean> {
    let delay = this.retryDelayMs;
    for (let attempt = 1; ; attempt++) {
      if (signal.aborted) return false;
      try {
        await this.opts.publisher.publish(this.topic, messages);
        return true;
      } catch (err) {
        this.logger.error(
          { relay: this.name, attempt, count: messages.length, err: errorSummary(err) },
          'kafka publish failed; retrying the same batch',
        );
        if (!(await sleep(delay, signal))) return false;
        delay = Math.min(delay * 2, this.maxRetryDelayMs);
      }
    }
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

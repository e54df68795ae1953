import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import {
  CONNECTION_CHECK_INTERVAL_MS,
  DELIVERY_PROCESSOR,
  DeliveryProcessor,
  deliveryOrderingKey,
  EFFECTS_CHANNEL,
  EffectRunner,
  listenForWakeUps,
  RECOVERY_EVENTS,
  RECOVERY_EVENTS_FILTER,
  RECOVERY_FEED,
  RECOVERY_FEED_FILTER,
  TIMERS_CHANNEL,
  WakeLoop,
} from '@reclaim/application';
import {
  runCheckpointedSubscription,
  runPartitionedSubscription,
  type IsolationOptions,
  type RecordedEvent,
} from '@reclaim/event-store';
import { KafkaJsPublisher, KafkaRelay, parseBrokers } from '@reclaim/kafka';
import { platformAdapters } from '@reclaim/platforms';
import { READ_MODEL_PROJECTIONS, ReclaimMetrics, runProjection } from '@reclaim/read-models';
import type { Runtime } from './runtime';
import { RUNTIME } from './runtime.token';

/** Events per batch of the ingest and engine subscriptions (the read models use their own). */
const SUBSCRIPTION_BATCH_SIZE = 200;

/**
 * The background roles of this instance (ROLES): each is a durable, checkpointed subscription
 * that resumes where it stopped. They start after the HTTP server is ready and stop on shutdown.
 */
/** How often the engine evaluates the experiments of step variants (RFC 0016). */
const EXPERIMENT_EVALUATION_EVERY_MS = 60_000;

@Injectable()
export class WorkersService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('workers');
  private readonly abort = new AbortController();
  private readonly running: Promise<void>[] = [];

  private readonly intervals: string[] = [];
  /** The timer and effect loops (stopped and awaited on shutdown, so the pool is not closed under them). */
  private readonly loops: WakeLoop[] = [];

  constructor(
    @Inject(RUNTIME) private readonly runtime: Runtime,
    private readonly scheduler: SchedulerRegistry,
    private readonly metrics: ReclaimMetrics,
    @Inject(EffectRunner) private readonly effects: EffectRunner,
  ) {}

  onApplicationBootstrap(): void {
    const { roles } = this.runtime.config;
    if (roles.has('ingest')) {
      const processor = new DeliveryProcessor({
        store: this.runtime.store,
        shops: this.runtime.shops,
        vault: this.runtime.vault,
        adapters: platformAdapters,
        log: { warn: (o, m) => this.logger.warn({ ...o, msg: m }), info: (o, m) => this.logger.log({ ...o, msg: m }) },
      });
      this.start(DELIVERY_PROCESSOR, () =>
        runCheckpointedSubscription({
          name: DELIVERY_PROCESSOR,
          store: this.runtime.store,
          pool: this.runtime.pool,
          filter: { typePrefixes: ['webhook.received'] },
          batchSize: SUBSCRIPTION_BATCH_SIZE,
          signal: this.abort.signal,
          handle: processor.handle,
          isolation: this.isolation(deliveryOrderingKey),
          onError: (err, attempt) =>
            this.logger.warn({
              msg: 'delivery batch failed; retrying from the checkpoint',
              attempt,
              error: err instanceof Error ? err.message : String(err),
            }),
        }),
      );
    }
    if (roles.has('engine')) this.startEngine();
    if (roles.has('projector')) {
      // Read models (schema `read`): one checkpointed subscription per projection.
      for (const p of READ_MODEL_PROJECTIONS) {
        this.start(p.subscription, () =>
          runProjection(p, {
            store: this.runtime.store,
            pool: this.runtime.pool,
            vault: this.runtime.vault,
            signal: this.abort.signal,
            isolation: this.isolation(),
            onBatch: p.name === 'recoveries' ? (events) => this.metrics.recordRecoveryEvents(events) : undefined,
            onError: (err, attempt) =>
              this.logger.warn({
                msg: `${p.subscription} batch failed; retrying from the checkpoint`,
                attempt,
                error: err instanceof Error ? err.message : 'unknown',
              }),
          }),
        );
      }
    }
    if (roles.has('relay') && this.runtime.config.KAFKA_BROKERS) {
      this.start('kafka-relay', () => this.runRelay());
    }
  }

  /**
   * The recovery engine: the recovery feed (cart/customer/order facts → recovery streams) and the
   * recovery-events projector (timers, effect queue, indexes) as checkpointed subscriptions; due
   * timers and queued effects every TIMER_TICK (an interval registered with @nestjs/schedule).
   * Effects interrupted by a crash are released once at start and reconciled (R2).
   */
  private startEngine(): void {
    const { engine, store, pool, config } = this.runtime;
    // ENGINE_PARTITIONS partitions by stream hash, shared by every instance with the engine role.
    for (const [name, filter, handle] of [
      [RECOVERY_FEED, RECOVERY_FEED_FILTER, engine.feed.handle],
      [RECOVERY_EVENTS, RECOVERY_EVENTS_FILTER, engine.projector.handle],
    ] as const) {
      this.start(name, () =>
        runPartitionedSubscription({
          name,
          partitions: config.ENGINE_PARTITIONS,
          store,
          pool,
          filter,
          batchSize: SUBSCRIPTION_BATCH_SIZE,
          signal: this.abort.signal,
          handle,
          onCommitted: (events) => this.metrics.recordEngineEvents(name, events.length),
          isolation: this.isolation(),
          onOwnership: (owned) => {
            this.metrics.recordLayoutWait(name, false);
            this.metrics.recordPartitions(name, owned);
            this.logger.log({
              msg: `${name}: this instance runs partitions [${owned.join(', ')}] of ${config.ENGINE_PARTITIONS}`,
            });
          },
          onLayoutWait: (stored, wanted) => {
            this.metrics.recordLayoutWait(name, true);
            this.logger.warn({
              msg: `${name}: waiting for the instances running ${stored === 'unpartitioned' ? 'it unpartitioned' : `${stored} partitions`} to stop before re-splitting into ${wanted}`,
            });
          },
          onError: (err, attempt) =>
            this.logger.warn({
              msg: `${name} batch failed; retrying from the checkpoint`,
              attempt,
              error: err instanceof Error ? err.name : 'unknown',
            }),
        }),
      );
    }
    // Shop settings changes (a trigger's NOTIFY) drop the settings cache's entry of the shop.
    this.start('engine.settings-invalidation', () => engine.settings.follow(this.abort.signal));
    // A promoted model (any process's trainer NOTIFYs) drops the shop's cached live model.
    this.start('engine.models-invalidation', () => engine.models.live.follow(this.abort.signal));
    this.startModelTraining();
    this.startExperimentEvaluation();
    this.start('engine.recover-interrupted', async () => {
      const released = await this.effects.recoverInterrupted();
      if (released > 0) this.logger.warn({ msg: 'effects interrupted by a crash are reconciled', released });
    });
    if (this.runtime.config.STORE_ADAPTERS === 'on') this.startConnectionChecks();
    this.startEngagementPoll();
    // Timers run at their next due time and sends as soon as they are queued: NOTIFY from the
    // timer table and the effect queue wakes the loops; TIMER_TICK is only the fallback poll.
    const { clock } = engine;
    const fallbackMs = this.runtime.config.timerTickMs;
    const onError = (what: string) => (err: unknown) =>
      this.logger.warn({
        msg: `${what} failed; retried at the next wake-up`,
        error: err instanceof Error ? err.name : 'unknown',
      });
    // Engagement held for a send not recorded yet: applied once the engine index knows the send
    // (what a crash left behind), expired after ENGAGEMENT_HOLD; at most every 5 s.
    let lastSweep = 0;
    const effects = new WakeLoop({
      clock,
      fallbackMs,
      onError: onError('effect runner'),
      run: async () => {
        await this.effects.runOnce();
        if (Date.now() - lastSweep >= 5_000) {
          lastSweep = Date.now();
          await engine.heldEngagement.sweep();
        }
        return undefined;
      },
    });
    const timers = new WakeLoop({
      clock,
      fallbackMs,
      onError: onError('timer driver'),
      run: async () => {
        await engine.driver.tick();
        return engine.driver.nextDueAt();
      },
    });
    this.loops.push(timers, effects);
    this.start('engine.wake-ups', () =>
      listenForWakeUps(
        pool,
        [TIMERS_CHANNEL, EFFECTS_CHANNEL],
        (channel, payload) => {
          if (channel === EFFECTS_CHANNEL) return effects.wake();
          const due = Number(payload);
          timers.wake(Number.isFinite(due) && payload ? new Date(due) : undefined);
        },
        this.abort.signal,
      ),
    );
    timers.start();
    effects.start();
    this.logger.log(
      `engine timers at their due time, sends when queued (fallback poll every ${this.runtime.config.TIMER_TICK})`,
    );
  }

  /**
   * Klaviyo's opens, clicks and bounces of Reclaim's messages, read every KLAVIYO_ENGAGEMENT_POLL
   * (a `@nestjs/schedule` interval); a failed poll is counted on `engine.engagement_sources`
   * (`/metrics`, dashboard) and the next one resumes from the stored cursor.
   */
  private startEngagementPoll(): void {
    const poller = this.runtime.engine.engagementPoller;
    const every = this.runtime.config.klaviyoEngagementPollMs;
    if (poller === undefined || every <= 0) return;
    const name = `${poller.source}.engagement-poll`;
    const poll = () => {
      if (this.abort.signal.aborted) return;
      poller.pollOnce().catch(() => undefined); // counted and logged by the poller
    };
    this.scheduler.addInterval(name, setInterval(poll, every));
    this.intervals.push(name);
    poll();
  }

  /**
   * Every shop's recovery-score model is trained every SCORE_RETRAIN_INTERVAL (a `@nestjs/schedule`
   * interval) and once at start; each outcome (promoted, rejected, skipped, failed) is an event on
   * the shop's model stream, so failures show in `read.model_status`, `/metrics` and `/health`.
   * Two engine instances may train the same shop at once: the later append fails on the stream's
   * expected revision and is recorded as a failed training, the earlier one stands.
   */
  private startModelTraining(): void {
    const every = this.runtime.config.scoring.retrainMs;
    if (every <= 0) return;
    const name = 'models.retrain';
    let training = false;
    const run = async () => {
      if (training || this.abort.signal.aborted) return;
      training = true;
      try {
        for (const shop of await this.runtime.shops.list()) {
          if (this.abort.signal.aborted) break;
          const outcome = await this.runtime.engine.models.trainer.train(shop.id, 'schedule');
          if (outcome.kind === 'failed') {
            this.logger.warn({ msg: 'recovery-score training failed (see read.model_status)', shopId: shop.id });
          }
        }
      } catch (err) {
        this.logger.warn({
          msg: 'recovery-score training round failed',
          error: err instanceof Error ? err.message : 'unknown',
        });
      } finally {
        training = false;
      }
    };
    this.scheduler.addInterval(
      name,
      setInterval(() => void run(), every),
    );
    this.intervals.push(name);
    void run();
  }

  /**
   * Experiments of step variants (RFC 0016) are evaluated every minute: guardrails, posteriors and
   * adoption, each an event on the experiment's stream. Two engines evaluating at once: the later
   * append fails on the stream's expected revision and is tried again a minute later.
   */
  private startExperimentEvaluation(): void {
    const name = 'experiments.evaluate';
    let running = false;
    const run = async () => {
      if (running || this.abort.signal.aborted) return;
      running = true;
      try {
        await this.runtime.engine.experiments.evaluator.evaluateAll();
      } catch (err) {
        this.logger.warn({
          msg: 'experiment evaluation round failed',
          error: err instanceof Error ? err.message : 'unknown',
        });
      } finally {
        running = false;
      }
    };
    this.scheduler.addInterval(
      name,
      setInterval(() => void run(), EXPERIMENT_EVALUATION_EVERY_MS),
    );
    this.intervals.push(name);
  }

  /**
   * Every shop's connection (credentials, webhook subscriptions) is checked every
   * CONNECTION_CHECK_INTERVAL_MS: what was deleted, disabled or revoked on the platform shows in
   * `/health` and `/metrics` (`POST /api/shops/:id/connection/repair` fixes subscriptions).
   */
  private startConnectionChecks(): void {
    const name = 'shops.connection-check';
    let checking = false;
    const check = async () => {
      if (checking || this.abort.signal.aborted) return;
      checking = true;
      try {
        const { checked, problems } = await this.runtime.connections.checkAll();
        if (problems > 0) this.logger.warn({ msg: 'shop connections with problems (see /health)', checked, problems });
      } catch (err) {
        this.logger.warn({ msg: 'shop connection check failed', error: err instanceof Error ? err.name : 'unknown' });
      } finally {
        checking = false;
      }
    };
    this.scheduler.addInterval(
      name,
      setInterval(() => void check(), CONNECTION_CHECK_INTERVAL_MS),
    );
    this.intervals.push(name);
  }

  /**
   * Publishes every event to Kafka; one active relay per name across instances (advisory lock). A relay
   * that stops on an outside failure (broker unreachable at connect, database connection lost) is
   * started again with back-off from its checkpoint, never left stopped.
   */
  private async runRelay(): Promise<void> {
    const { config, store, pool, log } = this.runtime;
    const signal = this.abort.signal;
    for (let attempt = 1; !signal.aborted; attempt++) {
      const started = Date.now();
      try {
        const publisher = await KafkaJsPublisher.connect({
          brokers: parseBrokers(config.KAFKA_BROKERS as string),
          clientId: 'reclaim',
        });
        try {
          await publisher.ensureTopic({ topic: config.KAFKA_TOPIC });
          await new KafkaRelay({
            store,
            pool,
            publisher,
            topic: config.KAFKA_TOPIC,
            logger: log.child({ role: 'relay' }),
            // A stream whose event the broker refuses waits (parked after DEAD_LETTER_ATTEMPTS); the rest flows.
            isolation: {
              maxAttempts: config.DEAD_LETTER_ATTEMPTS,
              backoff: { initialMs: config.deadLetterBackoffMs, maxMs: Math.max(config.deadLetterBackoffMs, 300_000) },
            },
          }).run(signal);
        } finally {
          await publisher.close().catch(() => undefined);
        }
      } catch (err) {
        if (signal.aborted) return;
        if (Date.now() - started > 60_000) attempt = 1;
        const delayMs = Math.min(30_000, 500 * 2 ** Math.min(attempt - 1, 6));
        this.logger.error({
          msg: 'kafka relay stopped; starting it again from its checkpoint',
          attempt,
          delayMs,
          error: err instanceof Error ? err.message : String(err),
        });
        await new Promise<void>((resolve) => {
          const timer = setTimeout(done, delayMs);
          function done() {
            clearTimeout(timer);
            signal.removeEventListener('abort', done);
            resolve();
          }
          signal.addEventListener('abort', done, { once: true });
        });
      }
    }
  }

  async onApplicationShutdown(): Promise<void> {
    this.abort.abort();
    for (const name of this.intervals.splice(0)) {
      if (this.scheduler.doesExist('interval', name)) this.scheduler.deleteInterval(name);
    }
    await Promise.all(this.loops.splice(0).map((l) => l.stop()));
    await Promise.allSettled(this.running);
  }

  /**
   * Poison isolation of a durable consumer: an event it cannot apply holds back only its own key
   * (default: its stream), retried with back-off, parked as a dead letter after DEAD_LETTER_ATTEMPTS.
   */
  private isolation(keyOf?: (e: RecordedEvent) => string): IsolationOptions {
    const { config } = this.runtime;
    return {
      ...(keyOf ? { keyOf } : {}),
      maxAttempts: config.DEAD_LETTER_ATTEMPTS,
      backoff: { initialMs: config.deadLetterBackoffMs, maxMs: Math.max(config.deadLetterBackoffMs, 300_000) },
      onKey: (c) => {
        const entry = {
          msg:
            c.change === 'released'
              ? `${c.subscription}: blocked events applied, key released`
              : `${c.subscription}: event ${c.change === 'parked' ? 'parked as a dead letter' : 'could not be applied; its key waits, the rest flows'}`,
          subscription: c.subscription,
          key: c.key,
          change: c.change,
          ...(c.eventId ? { eventId: c.eventId } : {}),
          ...(c.error !== undefined ? { error: c.error instanceof Error ? c.error.message : String(c.error) } : {}),
        };
        if (c.change === 'parked') this.logger.error(entry);
        else if (c.change === 'released') this.logger.log(entry);
        else this.logger.warn(entry);
      },
    };
  }

  private start(name: string, run: () => Promise<void>): void {
    this.logger.log(`starting ${name}`);
    this.running.push(
      run().catch((err) => {
        if (!this.abort.signal.aborted)
          this.logger.error({ msg: `${name} stopped`, error: err instanceof Error ? err.message : String(err) });
      }),
    );
  }
}

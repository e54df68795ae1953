import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { DELIVERY_PROCESSOR, DeliveryProcessor } from '@reclaim/application';
import { runCheckpointedSubscription } from '@reclaim/event-store';
import { KafkaJsPublisher, KafkaRelay, parseBrokers } from '@reclaim/kafka';
import { platformAdapters } from '@reclaim/platforms';
import type { Runtime } from './runtime';
import { RUNTIME } from './runtime.token';

/**
 * The background roles of this instance (ROLES): each is a durable, checkpointed subscription
 * that resumes where it stopped. They start after the HTTP server is ready and stop on shutdown.
 */
@Injectable()
export class WorkersService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('workers');
  private readonly abort = new AbortController();
  private readonly running: Promise<void>[] = [];

  constructor(@Inject(RUNTIME) private readonly runtime: Runtime) {}

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
          batchSize: 200,
          signal: this.abort.signal,
          handle: processor.handle,
          onError: (err, attempt) =>
            this.logger.warn({
              msg: 'delivery batch failed; retrying from the checkpoint',
              attempt,
              error: err instanceof Error ? err.message : String(err),
            }),
        }),
      );
    }
    if (roles.has('relay') && this.runtime.config.KAFKA_BROKERS) {
      this.start('kafka-relay', () => this.runRelay());
    }
  }

  /** Publishes every event to Kafka; one active relay per name across instances (advisory lock). */
  private async runRelay(): Promise<void> {
    const { config, store, pool, log } = this.runtime;
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
      }).run(this.abort.signal);
    } finally {
      await publisher.close();
    }
  }

  async onApplicationShutdown(): Promise<void> {
    this.abort.abort();
    await Promise.allSettled(this.running);
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

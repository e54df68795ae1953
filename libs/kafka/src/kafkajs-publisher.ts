import { Kafka, Partitioners, logLevel, type Admin, type Producer, type SASLOptions } from 'kafkajs';
import type { ConnectionOptions } from 'node:tls';
import type { KafkaPublisher, OutboundMessage } from './publisher.port';
import { DEFAULT_TOPIC } from './integration-event';

export interface KafkaJsPublisherOptions {
  readonly brokers: readonly string[];
  readonly clientId?: string;
  readonly ssl?: boolean | ConnectionOptions;
  readonly sasl?: SASLOptions;
  /** Per-request timeout in ms. Default kafkajs' (30 s). */
  readonly requestTimeout?: number;
}

export interface EnsureTopicOptions {
  /** Default `reclaim.events.v1`. */
  readonly topic?: string;
  /** Default 6. Fixed for the topic's life: a key's partition depends on it. */
  readonly partitions?: number;
  /** Default -1: the brokers' `default.replication.factor` (use 3 on a 3-broker cluster). */
  readonly replicationFactor?: number;
  /** Sets `min.insync.replicas` on creation (2 with replication factor 3). */
  readonly minInsyncReplicas?: number;
}

/** Parses `KAFKA_BROKERS` (`host:port,host:port`). */
export function parseBrokers(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

/**
 * kafkajs adapter of the publisher port: an idempotent producer (no duplicates from its own retries
 * within a session), `acks: -1` (all in-sync replicas), one request in flight per broker (order kept
 * across retries), Java-compatible murmur2 partitioning by key.
 */
export class KafkaJsPublisher implements KafkaPublisher {
  private admin?: Promise<Admin>;

  private constructor(
    private readonly kafka: Kafka,
    private readonly producer: Producer,
  ) {}

  static async connect(opts: KafkaJsPublisherOptions): Promise<KafkaJsPublisher> {
    if (opts.brokers.length === 0) throw new Error('KafkaJsPublisher: no brokers given');
    const kafka = new Kafka({
      clientId: opts.clientId ?? 'reclaim-relay',
      brokers: [...opts.brokers],
      ssl: opts.ssl,
      sasl: opts.sasl,
      requestTimeout: opts.requestTimeout,
      logLevel: logLevel.WARN,
    });
    const producer = kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      createPartitioner: Partitioners.DefaultPartitioner,
    });
    await producer.connect();
    return new KafkaJsPublisher(kafka, producer);
  }

  async publish(topic: string, messages: readonly OutboundMessage[]): Promise<void> {
    if (messages.length === 0) return;
    await this.producer.send({
      topic,
      acks: -1,
      messages: messages.map((m) => ({ key: m.key, value: m.value, headers: { ...m.headers } })),
    });
  }

  async probe(topic: string): Promise<void> {
    this.admin ??= (async () => {
      const admin = this.kafka.admin();
      await admin.connect();
      return admin;
    })();
    let admin: Admin;
    try {
      admin = await this.admin;
    } catch (err) {
      this.admin = undefined;
      throw err;
    }
    await admin.fetchTopicMetadata({ topics: [topic] });
  }

  /** Creates the topic when missing (returns true), leaves an existing one alone (false). */
  async ensureTopic(opts: EnsureTopicOptions = {}): Promise<boolean> {
    const topic = opts.topic ?? DEFAULT_TOPIC;
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      const existing = await admin.listTopics();
      if (existing.includes(topic)) return false;
      const configEntries =
        opts.minInsyncReplicas === undefined
          ? []
          : [{ name: 'min.insync.replicas', value: String(opts.minInsyncReplicas) }];
      return await admin.createTopics({
        waitForLeaders: true,
        topics: [
          {
            topic,
            numPartitions: opts.partitions ?? 6,
            replicationFactor: opts.replicationFactor ?? -1,
            configEntries,
          },
        ],
      });
    } finally {
      await admin.disconnect();
    }
  }

  async close(): Promise<void> {
    const admin = this.admin;
    this.admin = undefined;
    if (admin) await admin.then((a) => a.disconnect()).catch(() => undefined);
    await this.producer.disconnect();
  }
}

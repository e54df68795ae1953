import { randomUUID } from 'node:crypto';
import { Kafka, logLevel, type Consumer } from 'kafkajs';
import { Pool } from 'pg';
import { GenericContainer, RandomPortGenerator, Wait, type StartedTestContainer } from 'testcontainers';
import { createTestDatabase, type TestDatabase } from '@reclaim/database';
import { describeWithDocker } from '@reclaim/testing';
import { KafkaRelay, type RelayLogger } from './kafka-relay';
import { KafkaJsPublisher } from './kafkajs-publisher';
import { loadRelayCheckpoint } from './relay-checkpoint';
import { InMemoryEventStore } from './testing';

/** Apache Kafka in KRaft mode, one combined broker/controller node, via GenericContainer. */
const KAFKA_IMAGE = 'apache/kafka:3.9.0';
const silent: RelayLogger = { info: () => undefined, warn: () => undefined, error: () => undefined };

interface Received {
  partition: number;
  key: string;
  eventId: string;
  headerId: string;
  seq: number;
}

async function until(cond: () => boolean | Promise<boolean>): Promise<void> {
  while (!(await cond())) await new Promise((r) => setTimeout(r, 20));
}

describeWithDocker('KafkaRelay against Apache Kafka (KRaft)', () => {
  let kafkaContainer: StartedTestContainer;
  let brokers: string[];
  let db: TestDatabase;
  let pool: Pool;

  beforeAll(async () => {
    const hostPort = await new RandomPortGenerator().generatePort();
    kafkaContainer = await new GenericContainer(KAFKA_IMAGE)
      .withExposedPorts({ container: 9092, host: hostPort })
      .withEnvironment({
        KAFKA_NODE_ID: '1',
        KAFKA_PROCESS_ROLES: 'broker,controller',
        KAFKA_LISTENERS: 'PLAINTEXT://0.0.0.0:9092,BROKER://0.0.0.0:9093,CONTROLLER://0.0.0.0:9094',
        KAFKA_ADVERTISED_LISTENERS: `PLAINTEXT://localhost:${hostPort},BROKER://localhost:9093`,
        KAFKA_LISTENER_SECURITY_PROTOCOL_MAP: 'PLAINTEXT:PLAINTEXT,BROKER:PLAINTEXT,CONTROLLER:PLAINTEXT',
        KAFKA_INTER_BROKER_LISTENER_NAME: 'BROKER',
        KAFKA_CONTROLLER_LISTENER_NAMES: 'CONTROLLER',
        KAFKA_CONTROLLER_QUORUM_VOTERS: '1@localhost:9094',
        KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR: '1',
        KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR: '1',
        KAFKA_TRANSACTION_STATE_LOG_MIN_ISR: '1',
        KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS: '0',
        KAFKA_AUTO_CREATE_TOPICS_ENABLE: 'false',
      })
      .withWaitStrategy(Wait.forLogMessage(/Kafka Server started/))
      .withStartupTimeout(120_000)
      .start();
    brokers = [`${kafkaContainer.getHost()}:${hostPort}`];
    db = await createTestDatabase('kafka_relay_containers');
    pool = new Pool({ connectionString: db.url, max: 6 });
  }, 180_000);

  afterAll(async () => {
    await pool?.end();
    await db?.drop();
    await kafkaContainer?.stop();
  });

  it('ensureTopic creates the topic with the requested partitions once', async () => {
    const publisher = await KafkaJsPublisher.connect({ brokers });
    try {
      expect(await publisher.ensureTopic({ topic: 'ensure-topic-test', partitions: 6, replicationFactor: 1 })).toBe(
        true,
      );
      expect(await publisher.ensureTopic({ topic: 'ensure-topic-test', partitions: 6, replicationFactor: 1 })).toBe(
        false,
      );
      const admin = new Kafka({ brokers, logLevel: logLevel.NOTHING }).admin();
      await admin.connect();
      const meta = await admin.fetchTopicMetadata({ topics: ['ensure-topic-test'] });
      await admin.disconnect();
      expect(meta.topics[0].partitions).toHaveLength(6);
    } finally {
      await publisher.close();
    }
  });

  it('publishes every event once per id across a relay kill and restart, keeping per-stream order', async () => {
    const topic = `reclaim.events.v1.${randomUUID().slice(0, 8)}`;
    const store = new InMemoryEventStore();
    const streams = 8;
    const perStream = 25;
    const ids: string[] = [];
    for (let i = 0; i < perStream; i++) {
      for (let s = 0; s < streams; s++) {
        const id = randomUUID();
        await store.append(
          `cart-shop-1-${s}`,
          [{ id, type: 'CartUpdated', schemaVersion: 1, data: { seq: i }, metadata: { shopId: 'shop-1' } }],
          'any',
        );
        ids.push(id);
      }
    }

    const setup = await KafkaJsPublisher.connect({ brokers, clientId: 'relay-setup' });
    await setup.ensureTopic({ topic, partitions: 6, replicationFactor: 1 });
    await setup.close();

    // First run: "killed" right after the broker acknowledged its 5th batch, before the checkpoint write.
    const batchSize = 16;
    const crashingPool = new Pool({ connectionString: db.url, max: 3 });
    let writes = 0;
    const realQuery = crashingPool.query.bind(crashingPool) as (...args: unknown[]) => Promise<unknown>;
    (crashingPool as unknown as { query: (...args: unknown[]) => Promise<unknown> }).query = (...args: unknown[]) => {
      if (typeof args[0] === 'string' && args[0].includes('INSERT INTO kafka_relay.checkpoints') && ++writes === 5) {
        return Promise.reject(new Error('relay killed'));
      }
      return realQuery(...args);
    };
    const firstPublisher = await KafkaJsPublisher.connect({ brokers, clientId: 'relay-1' });
    const first = new KafkaRelay({
      store,
      pool: crashingPool,
      publisher: firstPublisher,
      topic,
      name: topic,
      batchSize,
      logger: silent,
    });
    await expect(first.run(new AbortController().signal)).rejects.toThrow('relay killed');
    await firstPublisher.close();
    await crashingPool.end();
    expect((await loadRelayCheckpoint(pool, topic))?.commit).toBe(BigInt(4 * batchSize - 1));

    // Restart with a new producer session: resumes from the checkpoint.
    const secondPublisher = await KafkaJsPublisher.connect({ brokers, clientId: 'relay-2' });
    const second = new KafkaRelay({
      store,
      pool,
      publisher: secondPublisher,
      topic,
      name: topic,
      batchSize,
      logger: silent,
    });
    const ctl = new AbortController();
    const running = second.run(ctl.signal);
    await until(async () => (await loadRelayCheckpoint(pool, topic))?.commit === BigInt(ids.length - 1));

    const received: Received[] = [];
    const consumer: Consumer = new Kafka({ brokers, logLevel: logLevel.NOTHING }).consumer({
      groupId: `verify-${randomUUID()}`,
    });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ partition, message }) => {
        const value = JSON.parse(message.value?.toString() ?? 'null') as { id: string; data: { seq: number } };
        const headerId = message.headers?.['event-id']?.toString() ?? '';
        received.push({
          partition,
          key: message.key?.toString() ?? '',
          eventId: value.id,
          headerId,
          seq: value.data.seq,
        });
      },
    });
    await until(() => new Set(received.map((r) => r.eventId)).size === ids.length);
    await consumer.disconnect();
    ctl.abort();
    await running;
    await secondPublisher.close();

    // Every id arrived; duplicates are bounded by the one re-sent batch; a consumer deduping by id sees each once.
    const unique = new Map<string, Received>();
    for (const r of received) if (!unique.has(r.eventId)) unique.set(r.eventId, r);
    expect(new Set(unique.keys())).toEqual(new Set(ids));
    expect(received.every((r) => r.headerId === r.eventId)).toBe(true);
    expect(received.length).toBeLessThanOrEqual(ids.length + batchSize);
    // Per stream: one partition, and the first occurrences come in order 0, 1, 2, …
    const byKey = new Map<string, Received[]>();
    for (const r of unique.values()) byKey.set(r.key, [...(byKey.get(r.key) ?? []), r]);
    expect(byKey.size).toBe(streams);
    for (const list of byKey.values()) {
      expect(new Set(list.map((r) => r.partition)).size).toBe(1);
      expect(list.map((r) => r.seq)).toEqual(Array.from({ length: perStream }, (_, i) => i));
    }
  }, 180_000);
});

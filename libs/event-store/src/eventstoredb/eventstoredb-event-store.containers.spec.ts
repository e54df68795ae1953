import { GenericContainer, StartedTestContainer, Wait } from 'testcontainers';
import { describeWithDocker } from '@reclaim/testing';
import { eventStoreContract } from '../contract/event-store.contract';
import { EventStoreDBEventStore } from './eventstoredb-event-store';

const IMAGE = process.env.EVENTSTOREDB_IMAGE ?? 'eventstore/eventstore:24.10';

describeWithDocker('EventStoreDBEventStore (container)', () => {
  jest.setTimeout(180_000);
  eventStoreContract('EventStoreDBEventStore', async () => {
    const container: StartedTestContainer = await new GenericContainer(IMAGE)
      .withEnvironment({
        EVENTSTORE_INSECURE: 'true',
        EVENTSTORE_CLUSTER_SIZE: '1',
        EVENTSTORE_MEM_DB: 'true',
        EVENTSTORE_RUN_PROJECTIONS: 'None',
        KURRENTDB_INSECURE: 'true',
        KURRENTDB_CLUSTER_SIZE: '1',
        KURRENTDB_MEM_DB: 'true',
      })
      .withExposedPorts(2113)
      .withWaitStrategy(Wait.forHttp('/health/live', 2113).forStatusCode(204))
      .withStartupTimeout(120_000)
      .start();
    const store = new EventStoreDBEventStore({
      connectionString: `esdb://${container.getHost()}:${container.getMappedPort(2113)}?tls=false`,
    });
    return {
      store,
      async teardown() {
        await store.close();
        await container.stop();
      },
    };
  });
});

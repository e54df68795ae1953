export * from './publisher.port';
export * from './personal-data';
export * from './integration-event';
export * from './relay-checkpoint';
export * from './kafka-relay';
export * from './kafkajs-publisher';

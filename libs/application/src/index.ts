export * from './shops/secret-box';
export * from './shops/shop-registry';
export * from './ingestion/receive-webhook';
export * from './ingestion/ids';
export * from './ingestion/process-deliveries';
export * from './shared/run-decider';
export * from './recovery';
export * from './messages';

export * from './training-table';
export * from './training-csv';
export * from './model-stream';
export * from './model-trainer';
export * from './live-models';
export * from './backtest-log';
export * from './policy-backtest';

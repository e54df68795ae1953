export * from './in-memory-event-store';
export * from './recording-publisher';

import { NewEvent } from './event-store.port';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Checks an append's input before it reaches a batch, so one caller's bad input never fails others. */
export function validateAppend(streamId: string, events: readonly NewEvent[]): void {
  if (typeof streamId !== 'string' || streamId.length === 0) throw new TypeError('streamId must be a non-empty string');
  if (streamId.includes('\u0000')) throw new TypeError('streamId must not contain NUL');
  if (streamId.startsWith('$')) throw new TypeError(`streamId must not start with '$' (system streams): ${streamId}`);
  if (events.length === 0) throw new RangeError('append needs at least one event');
  const seen = new Set<string>();
  for (const e of events) {
    if (typeof e.id !== 'string' || !UUID.test(e.id)) throw new TypeError(`event id must be a UUID: ${String(e.id)}`);
    const id = e.id.toLowerCase();
    if (seen.has(id)) throw new TypeError(`event id appears twice in one append: ${e.id}`);
    seen.add(id);
    if (typeof e.type !== 'string' || e.type.length === 0 || e.type.includes('\u0000')) {
      throw new TypeError('event type must be a non-empty string without NUL');
    }
    if (!Number.isInteger(e.schemaVersion) || e.schemaVersion < 1) {
      throw new TypeError(`schemaVersion must be a positive integer (${e.type})`);
    }
  }
}

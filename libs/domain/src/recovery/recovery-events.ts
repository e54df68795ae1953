import type { DomainEvent } from '../events/envelope';
import { upcastEvent } from '../events/upcasters';
import type { RecoveryEvent, StoredRecoveryEvent } from './recovery.messages';

/** The envelope of a flat recovery event (`type` and `schemaVersion` on the envelope, the rest as data). */
export function toStoredRecoveryEvent(e: RecoveryEvent): StoredRecoveryEvent {
  const { type, schemaVersion, ...data } = e;
  return { type, schemaVersion, data } as StoredRecoveryEvent;
}

/**
 * The flat view of a stored (or recorded) recovery envelope, upcast to its type's current schema
 * version first, like every stream's events.
 */
export function fromStoredRecoveryEvent(e: Pick<DomainEvent, 'type' | 'schemaVersion' | 'data'>): RecoveryEvent {
  const current = upcastEvent({ type: e.type, schemaVersion: e.schemaVersion, data: e.data });
  return { ...(current.data as object), type: current.type, schemaVersion: current.schemaVersion } as RecoveryEvent;
}

export function isRecoveryEvent(e: Pick<DomainEvent, 'type'>): boolean {
  return e.type.startsWith('recovery.');
}

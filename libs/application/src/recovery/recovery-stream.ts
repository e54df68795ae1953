import {
  evolveRecovery,
  fromStoredRecoveryEvent,
  initialRecoveryState,
  upcastEvent,
  type RecoveryDecider,
  type RecoveryEvent,
  type RecoveryInput,
  type RecoveryState,
  type StoredRecoveryEvent,
} from '@reclaim/domain';
import type { EventStore, RecordedEvent } from '@reclaim/event-store';
import { runDecider } from '../shared/run-decider';

/**
 * Feeds one input into the recovery stream `recovery-<shop>-<cart>` (its stream id is the recovery
 * id): read, upcast, fold, decide, append with deterministic event ids derived from `causationId`,
 * exactly like every other decider's stream. Returns the new events in their flat view.
 */
export async function runRecovery(
  store: EventStore,
  pm: RecoveryDecider,
  recoveryId: string,
  input: RecoveryInput,
  causationId: string,
  shopId?: string,
): Promise<RecoveryEvent[]> {
  const events = await runDecider(store, recoveryId, pm, input, {
    causationId,
    ...(shopId !== undefined ? { metadata: { shopId } } : {}),
  });
  return events.map(fromStoredRecoveryEvent);
}

export interface LoadedRecovery {
  readonly state: RecoveryState;
  /** The flat view of each event (envelope fields and data side by side). */
  readonly events: readonly RecoveryEvent[];
  readonly recorded: readonly RecordedEvent[];
}

/**
 * Reads, upcasts and folds a recovery stream (optionally only up to and including `untilRevision`).
 * Folding needs no shop settings: `evolve` is the same for every configuration.
 */
export async function loadRecovery(
  store: EventStore,
  recoveryId: string,
  untilRevision?: bigint,
): Promise<LoadedRecovery> {
  const all = await store.readStream(recoveryId);
  const recorded = untilRevision === undefined ? all : all.filter((r) => r.revision <= untilRevision);
  const stored = recorded.map((r) =>
    upcastEvent<StoredRecoveryEvent>({ type: r.type, schemaVersion: r.schemaVersion, data: r.data }),
  );
  return {
    state: stored.reduce(evolveRecovery, initialRecoveryState()),
    events: stored.map(fromStoredRecoveryEvent),
    recorded,
  };
}

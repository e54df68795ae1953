import {
  evolveRecovery,
  fromStoredRecoveryEvent,
  initialRecoveryState,
  toStoredRecoveryEvent,
  type Decider,
  type RecoveryDecider,
  type RecoveryEvent,
  type RecoveryInput,
  type RecoveryState,
  type StoredRecoveryEvent,
} from '@reclaim/domain';
import type { EventStore, RecordedEvent } from '@reclaim/event-store';
import { runDecider } from '../shared/run-decider';

/** The process manager wrapped as a stream decider for `runDecider` (envelope in, envelope out). */
export function recoveryStreamDecider(pm: RecoveryDecider): Decider<RecoveryState, RecoveryInput, StoredRecoveryEvent> {
  return {
    initialState: () => pm.initialState,
    evolve: (state, e) => pm.evolve(state, fromStoredRecoveryEvent(e)),
    decide: (input, state) => pm.decide(input, state).map(toStoredRecoveryEvent),
  };
}

/**
 * Feeds one input into the recovery stream `recovery-<shop>-<cart>` (its stream id is the recovery
 * id): read, fold, decide, append with deterministic event ids derived from `causationId`.
 */
export async function runRecovery(
  store: EventStore,
  pm: RecoveryDecider,
  recoveryId: string,
  input: RecoveryInput,
  causationId: string,
  shopId?: string,
): Promise<RecoveryEvent[]> {
  const events = await runDecider(store, recoveryId, recoveryStreamDecider(pm), input, {
    causationId,
    ...(shopId !== undefined ? { metadata: { shopId } } : {}),
  });
  return events.map(fromStoredRecoveryEvent);
}

export interface LoadedRecovery {
  readonly state: RecoveryState;
  readonly events: readonly RecoveryEvent[];
  readonly recorded: readonly RecordedEvent[];
}

/** Reads, upcasts and folds a recovery stream (optionally only up to and including `untilRevision`). */
export async function loadRecovery(
  store: EventStore,
  recoveryId: string,
  untilRevision?: bigint,
): Promise<LoadedRecovery> {
  const all = await store.readStream(recoveryId);
  const recorded = untilRevision === undefined ? all : all.filter((r) => r.revision <= untilRevision);
  const events = recorded.map(fromStoredRecoveryEvent);
  return { state: events.reduce(evolveRecovery, initialRecoveryState), events, recorded };
}

import { deadLetterRetryRefusal, type RecoveryDecider } from '@reclaim/domain';
import type { EventStore } from '@reclaim/event-store';
import type { Clock } from '../clock';
import { parseRecoveryId } from '@reclaim/domain';
import { loadRecovery, runRecovery } from '../recovery-stream';
import type { ShopDeciders } from '../settings/shop-settings';

export interface RetryDeadLetterDeps {
  readonly store: EventStore;
  readonly clock: Clock;
  /** Per-shop process managers (shop settings); `pm` for every shop when absent. */
  readonly deciders?: ShopDeciders;
  readonly pm: RecoveryDecider;
}

export type RetryDeadLetterResult =
  | { readonly status: 'queued'; readonly resume: 'resend' | 'reconcile' }
  | { readonly status: 'refused'; readonly reason: string };

/**
 * Puts a dead-lettered step of a recovery back on the queue (the dashboard's retry action):
 * feeds `RetryDeadLetter` into the recovery stream. The decider schedules a retry timer (or, for an
 * unreconcilable step, a reconciliation) and the engine's timers and effect runner do the rest, with
 * the step's usual idempotency key. The causation id is the dead-letter event's id, so a repeated
 * request for the same dead letter appends nothing.
 */
export async function retryDeadLetter(
  deps: RetryDeadLetterDeps,
  recoveryId: string,
  step: number,
): Promise<RetryDeadLetterResult> {
  const ids = parseRecoveryId(recoveryId);
  if (ids === undefined) return { status: 'refused', reason: 'not a recovery id' };
  const loaded = await loadRecovery(deps.store, recoveryId);
  const refusal = deadLetterRetryRefusal(loaded.state, step);
  if (refusal !== undefined) return { status: 'refused', reason: refusal };
  let deadLetter: string | undefined;
  for (const r of loaded.recorded) {
    if (r.type === 'recovery.dead-lettered' && (r.data as { step?: number }).step === step) deadLetter = r.id;
  }
  if (deadLetter === undefined) return { status: 'refused', reason: `step ${step} has no dead-letter event` };
  await deps.clock.refresh?.();
  const pm = deps.deciders ? await deps.deciders.forShop(ids.shopId) : deps.pm;
  const events = await runRecovery(
    deps.store,
    pm,
    recoveryId,
    { type: 'RetryDeadLetter', step, at: deps.clock.now().toISOString() },
    `${deadLetter}:retry`,
    ids.shopId,
  );
  const retried = events.find((e) => e.type === 'recovery.dead-letter-retried');
  if (retried === undefined || retried.type !== 'recovery.dead-letter-retried') {
    // Decided against a newer state (a concurrent retry or outcome won the race).
    const now = await loadRecovery(deps.store, recoveryId);
    return { status: 'refused', reason: deadLetterRetryRefusal(now.state, step) ?? 'already queued' };
  }
  return { status: 'queued', resume: retried.resume };
}

/**
 * What every decision of the process manager uses: an emitter that envelopes each event and folds
 * it at once (later decisions see earlier ones), and what comes next for a running recovery.
 */
import type { RecoveryConfig } from './config';
import { CURRENT_SCHEMA_VERSIONS } from '../events/catalogue';
import type { EndReason, RecoveryEventBody, StoredRecoveryEvent, TimerPurpose } from './recovery.messages';
import { evolveRecovery, FINAL, type RecoveryState } from './recovery-state';
import { sendTimeWindow } from './send-time';
import { toIso, toMs } from './time';
import type { IsoTimestamp } from './types';

/** Accumulates events, evolving the state as it goes so later decisions see earlier ones. */
export class Emitter {
  readonly events: StoredRecoveryEvent[] = [];
  constructor(public state: RecoveryState) {}

  emit(body: RecoveryEventBody, recoveryId = this.state.recoveryId): void {
    const { type, ...data } = body;
    const event = {
      type,
      schemaVersion: CURRENT_SCHEMA_VERSIONS[type],
      data: { ...data, recoveryId },
    } as StoredRecoveryEvent;
    this.events.push(event);
    this.state = evolveRecovery(this.state, event);
  }

  timer(at: IsoTimestamp, dueAt: IsoTimestamp, purpose: TimerPurpose, step?: number): void {
    const timerId = `${this.state.recoveryId}/timer-${this.state.timerCount + 1}`;
    this.emit({
      type: 'recovery.timer-scheduled',
      at,
      timerId,
      dueAt,
      purpose,
      ...(step !== undefined ? { step } : {}),
    });
  }
}

export const later = (...times: (IsoTimestamp | undefined)[]): IsoTimestamp =>
  toIso(Math.max(...times.filter((t): t is IsoTimestamp => t !== undefined).map(toMs)));

/**
 * While a ticket the customer opened about this cart is open, a shop can have its recovery wait
 * (PAUSE_WHILE_TICKET_OPEN) instead of sending the help copy. The appliance's own ticket never pauses.
 */
export const ticketPaused = (config: RecoveryConfig, s: RecoveryState): boolean =>
  config.pauseWhileTicketOpen && (s.customerTickets ?? []).length > 0;

/** Schedules whatever comes next for a running, unpaused recovery. */
export function scheduleNext(config: RecoveryConfig, out: Emitter, at: IsoTimestamp): void {
  const s = out.state;
  if (s.status !== 'running' || s.awaitingAbandonment || ticketPaused(config, s) || s.sequence === undefined) return;
  const index = s.steps.findIndex((st) => !FINAL.includes(st.status));
  if (index === -1) {
    out.timer(at, toIso(toMs(at) + config.completeAfterLastStepMs), 'completion');
    return;
  }
  const step = s.steps[index];
  const definition = s.sequence.steps[index];
  if (step.status === 'pending') {
    const abandonedAt = s.abandonedAt ?? at;
    const chosen = s.sendTimes?.[index]?.chosenAt;
    // Send-time optimisation (RFC 0012): on the `on` arm a follow-up's timer fires at its window's
    // start, where the time is chosen from the customer's profile; once chosen, at that time.
    const planned =
      chosen !== undefined
        ? chosen
        : (definition.sendTime ?? s.sendTimeArm) === 'on' && index >= 1
          ? toIso(sendTimeWindow(abandonedAt, definition.delayMs, config.sendTime).from)
          : toIso(toMs(abandonedAt) + definition.delayMs);
    const dueAt = later(at, planned, step.notBefore);
    out.timer(at, dueAt, 'step', index);
  } else if (step.status === 'retrying') {
    out.timer(at, later(at, step.nextAt), 'retry', index);
  } else if (step.status === 'reconcile-wait') {
    out.timer(at, later(at, step.nextAt), 'reconcile', index);
  }
  // 'due' and 'reconciling' wait for an outcome from outside.
}

export function stepDue(out: Emitter, at: IsoTimestamp, index: number, dueAt: IsoTimestamp): void {
  const s = out.state;
  const definition = s.sequence?.steps[index];
  if (s.sequence === undefined || definition === undefined || s.mode === undefined) return;
  out.emit({
    type: 'recovery.step-due',
    at,
    step: index,
    attempt: (s.steps[index]?.attempts ?? 0) + 1,
    dueAt,
    sequenceId: s.sequence.id,
    sequenceVersion: s.sequence.version,
    definition,
    mode: s.mode,
  });
}

export function end(out: Emitter, at: IsoTimestamp, reason: EndReason, orderId?: string): void {
  out.emit({ type: 'recovery.ended', at, reason, ...(orderId !== undefined ? { orderId } : {}) });
}

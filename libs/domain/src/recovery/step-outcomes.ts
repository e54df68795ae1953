/**
 * What the process manager does with the outcome of a step (sent, failed, unknown, skipped,
 * deferred, stopped) and with a reconciliation's answer: retries within budget, dead letters,
 * late outcomes after the end, and the next timer.
 */
import type { RecoveryConfig } from './config';
import type { RecoveryInput, StepOutcomeResult } from './recovery.messages';
import { retryDelayMs } from './retry';
import { end, scheduleNext, type Emitter } from './recovery-schedule';
import { RecoveryInputError, toIso, toMs } from './time';
import { effectIdempotencyKey, type Channel, type IsoTimestamp } from './types';

function requireChannel(channel: Channel | undefined, kind: string): Channel {
  if (channel === undefined) throw new RecoveryInputError(`a '${kind}' outcome needs its channel`);
  return channel;
}

export function onOutcome(
  config: RecoveryConfig,
  out: Emitter,
  step: number,
  channel: Channel | undefined,
  at: IsoTimestamp,
  o: StepOutcomeResult,
): void {
  const s = out.state;
  const current = s.steps[step];
  if (s.status === 'ended') {
    if (current?.status === 'due') {
      out.emit({
        type: 'recovery.late-outcome',
        at,
        step,
        outcome: o.kind,
        ...(channel !== undefined ? { channel } : {}),
        ...(o.kind === 'sent' ? { messageId: o.messageId } : {}),
      });
    }
    return;
  }
  if (s.status !== 'running' || current === undefined || current.status !== 'due') return;
  switch (o.kind) {
    case 'sent': {
      const c = requireChannel(channel, o.kind);
      out.emit({
        type: 'recovery.message-sent',
        at,
        step,
        channel: c,
        messageId: o.messageId,
        ...(o.discountCode !== undefined ? { discountCode: o.discountCode } : {}),
        idempotencyKey: effectIdempotencyKey(s.recoveryId, step, c),
        reconciled: false,
        ...(o.sent !== undefined ? { sent: o.sent } : {}),
        ...(o.channelsSkipped !== undefined ? { channelsSkipped: o.channelsSkipped } : {}),
      });
      // Every discount the step would have carried and went out without is recorded with its reason (RFC 0017).
      if (o.sent?.discountWithheld !== undefined) {
        out.emit({
          type: 'recovery.discount-withheld',
          at,
          step,
          reason: o.sent.discountWithheld,
          percent: s.sequence?.steps[step]?.discountPercent ?? 0,
          ...(o.sent.discountWithheldDetail !== undefined ? { detail: o.sent.discountWithheldDetail } : {}),
        });
      }
      break;
    }
    case 'failed': {
      const c = requireChannel(channel, o.kind);
      const attempt = current.attempts;
      const retry = o.retryable && attempt < config.retryBudget;
      const error = o.error !== undefined ? { error: o.error } : {};
      if (retry) {
        const retryAt = toIso(toMs(at) + retryDelayMs(attempt, config, o.retryAfterMs));
        out.emit({
          type: 'recovery.message-failed',
          at,
          step,
          channel: c,
          attempt,
          retryable: true,
          retryAt,
          ...error,
        });
      } else {
        out.emit({
          type: 'recovery.message-failed',
          at,
          step,
          channel: c,
          attempt,
          retryable: o.retryable,
          ...error,
        });
        out.emit({
          type: 'recovery.dead-lettered',
          at,
          step,
          channel: c,
          attempts: attempt,
          reason: o.retryable ? 'retry-budget-exhausted' : 'not-retryable',
        });
      }
      break;
    }
    case 'unknown': {
      const c = requireChannel(channel, o.kind);
      const idempotencyKey = effectIdempotencyKey(s.recoveryId, step, c);
      out.emit({ type: 'recovery.outcome-unknown', at, step, channel: c, idempotencyKey });
      out.emit({
        type: 'recovery.reconciliation-requested',
        at,
        step,
        channel: c,
        idempotencyKey,
        attempt: current.reconciliations + 1,
      });
      return;
    }
    case 'skipped':
      out.emit({
        type: 'recovery.step-skipped',
        at,
        step,
        reason: o.reason,
        ...(channel ? { channel } : {}),
        ...(o.channelsSkipped !== undefined ? { channelsSkipped: o.channelsSkipped } : {}),
        ...(o.wouldSend !== undefined ? { wouldSend: o.wouldSend } : {}),
        ...(o.fatigue !== undefined ? { fatigue: o.fatigue } : {}),
        ...(o.responsiveness !== undefined ? { responsiveness: o.responsiveness } : {}),
        ...(o.channelChoice !== undefined ? { channelChoice: o.channelChoice } : {}),
      });
      break;
    case 'deferred':
      out.emit({
        type: 'recovery.step-deferred',
        at,
        step,
        until: o.until,
        reason: o.reason,
        ...(o.detail !== undefined ? { detail: o.detail } : {}),
        ...(channel ? { channel } : {}),
        ...(o.timeZone !== undefined ? { timeZone: o.timeZone } : {}),
        ...(o.timeZoneSource !== undefined ? { timeZoneSource: o.timeZoneSource } : {}),
      });
      break;
    case 'stopped':
      out.emit({ type: 'recovery.step-skipped', at, step, reason: o.reason, ...(channel ? { channel } : {}) });
      end(out, at, 'purchased');
      return;
  }
  scheduleNext(config, out, at);
}

/** A reconciliation answered: sent (recorded once), not sent (resent within budget) or still unknown. */
export function onReconciliation(
  config: RecoveryConfig,
  out: Emitter,
  input: Extract<RecoveryInput, { type: 'ReconciliationResult' }>,
): void {
  const state = out.state;
  const current = state.steps[input.step];
  if (current === undefined || current.status !== 'reconciling' || current.channel !== input.channel) return;
  const r = input.result;
  if (state.status === 'ended') {
    out.emit({
      type: 'recovery.late-outcome',
      at: input.at,
      step: input.step,
      channel: input.channel,
      outcome: r.kind === 'sent' ? 'sent' : 'unknown',
      ...(r.kind === 'sent' ? { messageId: r.messageId } : {}),
    });
    return;
  }
  const base = { at: input.at, step: input.step, channel: input.channel };
  const reconcileAgain = r.kind === 'unknown' && current.reconciliations < config.retryBudget;
  out.emit({
    type: 'recovery.reconciled',
    ...base,
    result: r.kind,
    ...(reconcileAgain ? { retryAt: toIso(toMs(input.at) + retryDelayMs(current.reconciliations, config)) } : {}),
  });
  if (r.kind === 'sent') {
    out.emit({
      type: 'recovery.message-sent',
      ...base,
      messageId: r.messageId,
      ...(r.discountCode !== undefined ? { discountCode: r.discountCode } : {}),
      idempotencyKey: effectIdempotencyKey(state.recoveryId, input.step, input.channel),
      reconciled: true,
    });
  } else if (r.kind === 'not-sent' && current.attempts >= config.retryBudget) {
    out.emit({
      type: 'recovery.dead-lettered',
      ...base,
      attempts: current.attempts,
      reason: 'retry-budget-exhausted',
    });
  } else if (r.kind === 'unknown' && !reconcileAgain) {
    out.emit({ type: 'recovery.dead-lettered', ...base, attempts: current.attempts, reason: 'unreconcilable' });
  }
  scheduleNext(config, out, input.at);
}

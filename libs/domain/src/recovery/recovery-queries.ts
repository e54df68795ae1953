/** Questions the application asks of a recovery's state (dead-letter retry, send facts). */
import type { RecoveryEvent } from './recovery.messages';
import type { SendCheckContext } from './pre-send';
import type { RecoveryState } from './recovery-state';
import type { SendTimeArm } from './send-time';
import { RecoveryInputError } from './time';

/**
 * The send-time arm a step runs on: its variant's `sendTime` when it sets one (RFC 0016), else the
 * recovery's arm (RFC 0012); undefined when neither applies.
 */
export function stepSendTimeArm(state: RecoveryState, step: number): SendTimeArm | undefined {
  return state.sequence?.steps[step]?.sendTime ?? state.sendTimeArm;
}

/**
 * Why `RetryDeadLetter` for this step would be ignored, or `undefined` when it would be accepted:
 * only a dead-lettered step (with its channel and reason known) of a running recovery, while no
 * other step is waiting for a provider outcome.
 */
export function deadLetterRetryRefusal(state: RecoveryState, step: number): string | undefined {
  if (state.status === 'idle') return 'no such recovery';
  if (state.status === 'ended') return `the recovery has ended (${state.endReason ?? 'ended'})`;
  if (state.status !== 'running') return `the recovery is ${state.status}`;
  const current = Number.isInteger(step) ? state.steps[step] : undefined;
  if (current === undefined) return `the recovery has no step ${step}`;
  if (current.status !== 'dead-lettered') return `step ${step} is ${current.status}, not dead-lettered`;
  if (current.channel === undefined || current.deadLetterReason === undefined) {
    return `step ${step} has no recorded channel`;
  }
  const busy = state.steps.findIndex((s) => s.status === 'due' || s.status === 'reconciling');
  if (busy !== -1) return `step ${busy} is waiting for a provider outcome; retry when it has one`;
  return undefined;
}

/**
 * What the process manager knows for `checkBeforeSend`; the application adds consent, caps,
 * customer history and the stock snapshot it reads at send time.
 */
export function sendFactsFromState(
  state: RecoveryState,
  due: Extract<RecoveryEvent, { type: 'recovery.step-due' }>,
): Pick<
  SendCheckContext,
  | 'recoveryId'
  | 'step'
  | 'mode'
  | 'dueAt'
  | 'abandonedAt'
  | 'startedAt'
  | 'purchased'
  | 'reach'
  | 'revokedChannels'
  | 'ticketOpen'
  | 'supportTickets'
  | 'currency'
  | 'items'
  | 'paymentStartedAt'
  | 'customerTimeZone'
  | 'shopTimeZone'
  | 'sendTimeAt'
  | 'lastStepIndex'
  | 'incentive'
> {
  const cart = state.cart;
  if (cart === undefined || state.startedAt === undefined || state.abandonedAt === undefined) {
    throw new RecoveryInputError('the recovery has not started');
  }
  return {
    recoveryId: state.recoveryId,
    step: due.definition,
    mode: due.mode,
    dueAt: due.dueAt,
    abandonedAt: state.abandonedAt,
    startedAt: state.startedAt,
    purchased: state.status === 'ended' && state.endReason === 'purchased',
    reach: cart.reach,
    revokedChannels: state.revoked,
    // The customer's own tickets about this cart, never the appliance's proactive one.
    ticketOpen: (state.customerTickets ?? []).length > 0,
    supportTickets: state.customerTickets ?? [],
    currency: cart.currency,
    items: cart.items,
    ...(cart.checkoutStage === 'payment' && state.lastActivityAt !== undefined
      ? { paymentStartedAt: state.lastActivityAt }
      : {}),
    ...(cart.timeZone !== undefined ? { customerTimeZone: cart.timeZone } : {}),
    shopTimeZone: state.shopTimeZone ?? 'UTC',
    ...(state.sendTimes?.[due.step] !== undefined ? { sendTimeAt: state.sendTimes[due.step].chosenAt } : {}),
    ...(state.sequence !== undefined ? { lastStepIndex: state.sequence.steps.length - 1 } : {}),
    ...(state.incentive !== undefined ? { incentive: state.incentive } : {}),
  };
}

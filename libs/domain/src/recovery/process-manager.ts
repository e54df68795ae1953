/**
 * The recovery process manager as a decider. Its state is its own stream `recovery-<shop>-<cart>`:
 * `decide(input, state) → events`, `evolve(state, event) → state`, `initialState`. Timers are
 * requested as `recovery.timer-scheduled` events; only the latest one is current, so a superseded
 * or duplicate `TimerFired` produces nothing.
 */
import { defaultRecoveryConfig, type RecoveryConfig } from './config';
import type {
  DeadLetterReason,
  EndReason,
  RecoveryEvent,
  RecoveryEventBody,
  RecoveryInput,
  StartContext,
  StepOutcomeResult,
  TimerPurpose,
} from './recovery.messages';
import { gte, isDecimalString } from './money';
import type { SendCheckContext, SendMode } from './pre-send';
import { isValidTimeZone, localParts } from './quiet-hours';
import { retryDelayMs } from './retry';
import { segment, type Segment } from './segments';
import { selectSequence, type SequenceStep } from './sequences';
import { RecoveryInputError, toIso, toMs } from './time';
import { effectIdempotencyKey, recoveryIdFor, type CartSnapshot, type Channel, type IsoTimestamp } from './types';

export type StepStatus =
  'pending' | 'due' | 'retrying' | 'reconciling' | 'reconcile-wait' | 'sent' | 'skipped' | 'dead-lettered' | 'late';

const FINAL: readonly StepStatus[] = ['sent', 'skipped', 'dead-lettered', 'late'];

export interface StepState {
  readonly status: StepStatus;
  /** Send attempts made (step-due events). */
  readonly attempts: number;
  readonly reconciliations: number;
  readonly channel?: Channel;
  /** Earliest time of the next retry / reconciliation. */
  readonly nextAt?: IsoTimestamp;
  /** Set by a deferral: the step is not due before this. */
  readonly notBefore?: IsoTimestamp;
  /** Why the step was dead-lettered (while it is). */
  readonly deadLetterReason?: DeadLetterReason;
}

export interface CurrentTimer {
  readonly timerId: string;
  readonly dueAt: IsoTimestamp;
  readonly purpose: TimerPurpose;
  readonly step?: number;
}

export interface RecoveryState {
  readonly status: 'idle' | 'watching' | 'running' | 'holdout' | 'ended';
  readonly recoveryId: string;
  readonly shopId?: string;
  readonly cartId?: string;
  readonly cart?: CartSnapshot;
  readonly lastActivityAt?: IsoTimestamp;
  /** New activity since the last abandonment: sends wait for the cart to be abandoned again. */
  readonly awaitingAbandonment: boolean;
  readonly startedAt?: IsoTimestamp;
  readonly abandonedAt?: IsoTimestamp;
  readonly mode?: SendMode;
  readonly shopTimeZone?: string;
  readonly segments: readonly Segment[];
  readonly sequence?: { readonly id: string; readonly version: number; readonly steps: readonly SequenceStep[] };
  readonly steps: readonly StepState[];
  readonly timer?: CurrentTimer;
  readonly timerCount: number;
  readonly ticketRequested: boolean;
  readonly openTicketId?: string;
  readonly revoked: readonly Channel[];
  readonly endReason?: EndReason;
  /** `opened:<step>:<channel>` / `clicked:<step>:<channel>` already recorded. */
  readonly engagement: readonly string[];
  readonly attributedOrders: readonly string[];
  readonly ticketSkipped: boolean;
}

export const initialState: RecoveryState = {
  status: 'idle',
  recoveryId: '',
  awaitingAbandonment: false,
  segments: [],
  steps: [],
  timerCount: 0,
  ticketRequested: false,
  revoked: [],
  engagement: [],
  attributedOrders: [],
  ticketSkipped: false,
};

function setStep(state: RecoveryState, index: number, patch: Partial<StepState>): RecoveryState {
  const steps = state.steps.map((s, i) => (i === index ? { ...s, ...patch } : s));
  return { ...state, steps };
}

export function evolve(state: RecoveryState, event: RecoveryEvent): RecoveryState {
  switch (event.type) {
    case 'recovery.activity-recorded': {
      const base = {
        ...state,
        recoveryId: event.recoveryId,
        shopId: event.shopId,
        cartId: event.cartId,
        cart: event.cart,
        lastActivityAt: event.at,
      };
      if (state.status === 'idle') return { ...base, status: 'watching' };
      if (state.status === 'holdout') return base;
      return { ...base, timer: undefined, awaitingAbandonment: state.status === 'running' };
    }
    case 'recovery.timer-scheduled': {
      const next = {
        ...state,
        timer: { timerId: event.timerId, dueAt: event.dueAt, purpose: event.purpose, step: event.step },
        timerCount: state.timerCount + 1,
      };
      if ((event.purpose === 'retry' || event.purpose === 'reconcile') && event.step !== undefined) {
        return setStep(next, event.step, { nextAt: event.dueAt });
      }
      return next;
    }
    case 'recovery.started':
      return {
        ...state,
        status: event.holdout ? 'holdout' : 'running',
        startedAt: event.at,
        abandonedAt: event.abandonedAt,
        mode: event.mode,
        shopTimeZone: event.shopTimeZone,
        awaitingAbandonment: false,
        timer: undefined,
      };
    case 'recovery.segmented':
      return { ...state, segments: event.segmentation.segments };
    case 'recovery.sequence-selected':
      return {
        ...state,
        sequence: { id: event.sequenceId, version: event.sequenceVersion, steps: event.steps },
        steps: event.steps.map(() => ({ status: 'pending', attempts: 0, reconciliations: 0 })),
      };
    case 'recovery.assigned-holdout':
      return state;
    case 'recovery.ticket-requested':
      return { ...state, ticketRequested: true };
    case 'recovery.ticket-opened':
      return { ...state, openTicketId: event.ticketId };
    case 'recovery.ticket-closed':
      return { ...state, openTicketId: undefined };
    case 'recovery.ticket-skipped':
      return { ...state, ticketSkipped: true };
    case 'recovery.message-opened':
    case 'recovery.message-clicked': {
      const key = `${event.type === 'recovery.message-opened' ? 'opened' : 'clicked'}:${event.step}:${event.channel}`;
      return { ...state, engagement: [...(state.engagement ?? []), key] };
    }
    case 'recovery.order-attributed':
      return { ...state, attributedOrders: [...(state.attributedOrders ?? []), event.orderId] };
    case 'recovery.step-due': {
      const current = state.steps[event.step];
      return setStep({ ...state, timer: undefined }, event.step, {
        status: 'due',
        attempts: (current?.attempts ?? 0) + 1,
      });
    }
    case 'recovery.step-skipped':
      return setStep(state, event.step, { status: 'skipped', channel: event.channel });
    case 'recovery.step-deferred': {
      // A deferral is not a send attempt: it must not eat into the retry budget.
      const attempts = Math.max(0, (state.steps[event.step]?.attempts ?? 0) - 1);
      return setStep(state, event.step, { status: 'pending', notBefore: event.until, attempts });
    }
    case 'recovery.message-sent':
      return setStep(state, event.step, { status: 'sent', channel: event.channel });
    case 'recovery.message-failed':
      return event.retryAt !== undefined
        ? setStep(state, event.step, { status: 'retrying', channel: event.channel, nextAt: event.retryAt })
        : setStep(state, event.step, { channel: event.channel });
    case 'recovery.outcome-unknown':
      return setStep(state, event.step, { status: 'reconciling', channel: event.channel });
    case 'recovery.reconciliation-requested': {
      const current = state.steps[event.step];
      return setStep({ ...state, timer: undefined }, event.step, {
        status: 'reconciling',
        reconciliations: (current?.reconciliations ?? 0) + 1,
      });
    }
    case 'recovery.reconciled':
      if (event.result === 'not-sent') return setStep(state, event.step, { status: 'retrying', nextAt: event.at });
      if (event.result === 'unknown') {
        return setStep(state, event.step, { status: 'reconcile-wait', nextAt: event.retryAt ?? event.at });
      }
      return state;
    case 'recovery.dead-lettered':
      return setStep(state, event.step, { status: 'dead-lettered', deadLetterReason: event.reason });
    case 'recovery.dead-letter-retried':
      // A fresh budget: the step is scheduled again by `scheduleNext` (retry or reconcile timer).
      return setStep(state, event.step, {
        status: event.resume === 'reconcile' ? 'reconcile-wait' : 'retrying',
        channel: event.channel,
        attempts: 0,
        reconciliations: 0,
        nextAt: event.at,
        deadLetterReason: undefined,
      });
    case 'recovery.paused':
      return {
        ...state,
        timer: undefined,
        awaitingAbandonment: state.awaitingAbandonment || event.reason === 'cart-activity',
      };
    case 'recovery.abandoned-again':
      return { ...state, awaitingAbandonment: false, abandonedAt: event.abandonedAt, timer: undefined };
    case 'recovery.resumed':
      return state;
    case 'recovery.channel-revoked':
      return state.revoked.includes(event.channel) ? state : { ...state, revoked: [...state.revoked, event.channel] };
    case 'recovery.late-outcome':
      return setStep(state, event.step, { status: 'late' });
    case 'recovery.ended':
      return { ...state, status: 'ended', endReason: event.reason, timer: undefined };
  }
}

/** Accumulates events, evolving the state as it goes so later decisions see earlier ones. */
class Emitter {
  readonly events: RecoveryEvent[] = [];
  constructor(public state: RecoveryState) {}

  emit(body: RecoveryEventBody, recoveryId = this.state.recoveryId): void {
    const event = { ...body, schemaVersion: 1, recoveryId } as RecoveryEvent;
    this.events.push(event);
    this.state = evolve(this.state, event);
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

const later = (...times: (IsoTimestamp | undefined)[]): IsoTimestamp =>
  toIso(Math.max(...times.filter((t): t is IsoTimestamp => t !== undefined).map(toMs)));

function reachableChannels(state: RecoveryState): Channel[] {
  const reach = state.cart?.reach;
  if (reach === undefined) return [];
  return (['email', 'sms'] as const).filter((c) => reach[c] && !state.revoked.includes(c));
}

export interface RecoveryDecider {
  readonly config: RecoveryConfig;
  readonly initialState: RecoveryState;
  decide(input: RecoveryInput, state: RecoveryState): RecoveryEvent[];
  evolve(state: RecoveryState, event: RecoveryEvent): RecoveryState;
}

export function createRecoveryDecider(config: RecoveryConfig = defaultRecoveryConfig): RecoveryDecider {
  const ticketPaused = (s: RecoveryState) => config.pauseWhileTicketOpen && s.openTicketId !== undefined;

  /** Schedules whatever comes next for a running, unpaused recovery. */
  function scheduleNext(out: Emitter, at: IsoTimestamp): void {
    const s = out.state;
    if (s.status !== 'running' || s.awaitingAbandonment || ticketPaused(s) || s.sequence === undefined) return;
    const index = s.steps.findIndex((st) => !FINAL.includes(st.status));
    if (index === -1) {
      out.timer(at, toIso(toMs(at) + config.completeAfterLastStepMs), 'completion');
      return;
    }
    const step = s.steps[index];
    const definition = s.sequence.steps[index];
    if (step.status === 'pending') {
      const dueAt = later(at, toIso(toMs(s.abandonedAt ?? at) + definition.delayMs), step.notBefore);
      out.timer(at, dueAt, 'step', index);
    } else if (step.status === 'retrying') {
      out.timer(at, later(at, step.nextAt), 'retry', index);
    } else if (step.status === 'reconcile-wait') {
      out.timer(at, later(at, step.nextAt), 'reconcile', index);
    }
    // 'due' and 'reconciling' wait for an outcome from outside.
  }

  function start(
    out: Emitter,
    at: IsoTimestamp,
    abandonedAt: IsoTimestamp,
    source: 'inactivity' | 'platform',
    ctx: StartContext | undefined,
  ): void {
    const s = out.state;
    if (s.status === 'running' && s.awaitingAbandonment) {
      out.emit({ type: 'recovery.abandoned-again', at, abandonedAt, source });
      if (!ticketPaused(out.state)) {
        out.emit({ type: 'recovery.resumed', at, cause: 're-abandoned' });
        scheduleNext(out, at);
      }
      return;
    }
    if (s.status !== 'watching' || s.cart === undefined) return;
    const cart = s.cart;
    if (reachableChannels(s).length === 0 || cart.items.length === 0) return;
    if (ctx === undefined) throw new RecoveryInputError('a start context is required to start a recovery');
    const random = ctx.random;
    if (!(random >= 0 && random < 1)) throw new RecoveryInputError('random must be in [0, 1)');
    const h = config.holdoutPercent / 100;
    const holdout = random < h;
    const rolloutDraw = h < 1 ? (random - h) / (1 - h) : 1;
    const mode: SendMode = config.shadowMode
      ? { kind: 'shadow', reason: 'shadow-mode' }
      : rolloutDraw < config.rolloutPercent / 100
        ? { kind: 'live' }
        : { kind: 'shadow', reason: 'outside-rollout' };
    out.emit({
      type: 'recovery.started',
      at,
      abandonedAt,
      source,
      cartValue: cart.value,
      currency: cart.currency,
      random,
      holdout,
      mode,
      shopTimeZone: ctx.shopTimeZone,
    });
    const zone = cart.timeZone !== undefined && isValidTimeZone(cart.timeZone) ? cart.timeZone : ctx.shopTimeZone;
    const segmentation = segment(
      ctx.customer,
      {
        value: cart.value,
        categories: [...new Set(cart.items.flatMap((i) => i.categories ?? []))].sort(),
        itemCount: cart.items.reduce((n, i) => n + i.quantity, 0),
        device: cart.device ?? 'unknown',
        ...(cart.trafficSource !== undefined ? { trafficSource: cart.trafficSource } : {}),
        ...(isValidTimeZone(zone) ? { hourOfDay: localParts(toMs(abandonedAt), zone).hour } : {}),
        ...(cart.checkoutStage !== undefined ? { checkoutStage: cart.checkoutStage } : {}),
      },
      config.segments,
    );
    out.emit({ type: 'recovery.segmented', at, segmentation });
    const sequence = selectSequence(segmentation.segments, cart, ctx.sequences);
    if (sequence === undefined) {
      out.emit({ type: 'recovery.ended', at, reason: 'completed' });
      return;
    }
    out.emit({
      type: 'recovery.sequence-selected',
      at,
      sequenceId: sequence.id,
      sequenceVersion: sequence.version,
      catalogueVersion: ctx.sequences.version,
      steps: sequence.steps,
    });
    if (holdout) {
      out.emit({ type: 'recovery.assigned-holdout', at, random, holdoutPercent: config.holdoutPercent });
      const lastDelay = sequence.steps[sequence.steps.length - 1]?.delayMs ?? 0;
      const dueAt = later(at, toIso(toMs(abandonedAt) + lastDelay + config.completeAfterLastStepMs));
      out.timer(at, dueAt, 'holdout-end');
      return;
    }
    if (
      mode.kind === 'live' &&
      !out.state.ticketRequested &&
      isDecimalString(cart.value) &&
      gte(cart.value, config.ticketThreshold)
    ) {
      out.emit({
        type: 'recovery.ticket-requested',
        at,
        idempotencyKey: `${s.recoveryId}:ticket`,
        cartValue: cart.value,
        currency: cart.currency,
      });
    }
    scheduleNext(out, at);
  }

  function stepDue(out: Emitter, at: IsoTimestamp, index: number, dueAt: IsoTimestamp): void {
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

  function end(out: Emitter, at: IsoTimestamp, reason: EndReason, orderId?: string): void {
    out.emit({ type: 'recovery.ended', at, reason, ...(orderId !== undefined ? { orderId } : {}) });
  }

  function requireChannel(channel: Channel | undefined, kind: string): Channel {
    if (channel === undefined) throw new RecoveryInputError(`a '${kind}' outcome needs its channel`);
    return channel;
  }

  function onOutcome(
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
        });
        break;
      case 'deferred':
        out.emit({
          type: 'recovery.step-deferred',
          at,
          step,
          until: o.until,
          reason: o.reason,
          ...(channel ? { channel } : {}),
        });
        break;
      case 'stopped':
        out.emit({ type: 'recovery.step-skipped', at, step, reason: o.reason, ...(channel ? { channel } : {}) });
        end(out, at, 'purchased');
        return;
    }
    scheduleNext(out, at);
  }

  function decide(input: RecoveryInput, state: RecoveryState): RecoveryEvent[] {
    const out = new Emitter(state);
    switch (input.type) {
      case 'CartActivity': {
        if (state.status === 'ended') break;
        if (state.lastActivityAt !== undefined && toMs(input.at) <= toMs(state.lastActivityAt)) break;
        const recoveryId = state.recoveryId || recoveryIdFor(input.shopId, input.cartId);
        if (state.status === 'running' && !state.awaitingAbandonment) {
          out.emit({ type: 'recovery.paused', at: input.at, reason: 'cart-activity' });
        }
        out.emit(
          {
            type: 'recovery.activity-recorded',
            at: input.at,
            shopId: input.shopId,
            cartId: input.cartId,
            cart: input.cart,
          },
          recoveryId,
        );
        if (out.state.status !== 'holdout' && reachableChannels(out.state).length > 0) {
          out.timer(input.at, toIso(toMs(input.at) + config.abandonAfterMs), 'abandonment');
        }
        break;
      }
      case 'CartAbandonedByPlatform': {
        if (state.status === 'idle' && input.cart !== undefined) {
          out.emit(
            {
              type: 'recovery.activity-recorded',
              at: input.at,
              shopId: input.shopId,
              cartId: input.cartId,
              cart: input.cart,
            },
            recoveryIdFor(input.shopId, input.cartId),
          );
        }
        start(out, input.at, input.at, 'platform', input.start);
        break;
      }
      case 'TimerFired': {
        const timer = state.timer;
        if (timer === undefined || timer.timerId !== input.timerId || state.status === 'ended') break;
        // R8: never treat a timer as due before its due time; ask for it again.
        if (toMs(input.now) < toMs(timer.dueAt)) {
          out.timer(input.now, timer.dueAt, timer.purpose, timer.step);
          break;
        }
        switch (timer.purpose) {
          case 'abandonment':
            start(out, input.now, timer.dueAt, 'inactivity', input.start);
            break;
          case 'step':
          case 'retry':
            if (timer.step !== undefined) stepDue(out, input.now, timer.step, timer.dueAt);
            break;
          case 'reconcile': {
            const step = timer.step === undefined ? undefined : state.steps[timer.step];
            if (timer.step === undefined || step?.channel === undefined) break;
            out.emit({
              type: 'recovery.reconciliation-requested',
              at: input.now,
              step: timer.step,
              channel: step.channel,
              idempotencyKey: effectIdempotencyKey(state.recoveryId, timer.step, step.channel),
              attempt: step.reconciliations + 1,
            });
            break;
          }
          case 'holdout-end':
            end(out, input.now, 'holdout-completed');
            break;
          case 'completion':
            end(out, input.now, 'completed');
            break;
        }
        break;
      }
      case 'StepOutcome':
        onOutcome(out, input.step, input.channel, input.at, input.outcome);
        break;
      case 'ReconciliationResult': {
        const current = state.steps[input.step];
        if (current === undefined || current.status !== 'reconciling' || current.channel !== input.channel) break;
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
          break;
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
        scheduleNext(out, input.at);
        break;
      }
      case 'CartPurchased':
        if (state.status !== 'idle' && state.status !== 'ended') end(out, input.at, 'purchased', input.orderId);
        break;
      case 'CartDeleted':
        if (state.status !== 'idle' && state.status !== 'ended') end(out, input.at, 'deleted');
        break;
      case 'ConsentRevoked': {
        if (state.status === 'idle' || state.status === 'ended') break;
        if (input.channel === 'all') {
          end(out, input.at, 'opted-out');
          break;
        }
        if (!state.revoked.includes(input.channel)) {
          out.emit({ type: 'recovery.channel-revoked', at: input.at, channel: input.channel });
        }
        if (reachableChannels(out.state).length === 0) end(out, input.at, 'opted-out');
        break;
      }
      case 'TicketOpened': {
        if (state.status === 'idle' || state.status === 'ended' || state.openTicketId === input.ticketId) break;
        out.emit({ type: 'recovery.ticket-opened', at: input.at, ticketId: input.ticketId });
        if (config.pauseWhileTicketOpen && state.status === 'running' && !state.awaitingAbandonment) {
          out.emit({ type: 'recovery.paused', at: input.at, reason: 'ticket-open' });
        }
        break;
      }
      case 'TicketSkipped': {
        if (state.status === 'idle' || !state.ticketRequested || state.ticketSkipped) break;
        if (state.openTicketId !== undefined) break;
        out.emit({ type: 'recovery.ticket-skipped', at: input.at, reason: input.reason });
        break;
      }
      case 'MessageEngagement': {
        // Recorded even after the recovery ended (a click can lead to the purchase that ended it).
        if (state.status === 'idle') break;
        const sent = state.steps[input.step];
        if (sent === undefined || (sent.status !== 'sent' && sent.status !== 'late')) break;
        if ((state.engagement ?? []).includes(`${input.kind}:${input.step}:${input.channel}`)) break;
        if (input.kind === 'opened') {
          out.emit({ type: 'recovery.message-opened', at: input.at, step: input.step, channel: input.channel });
        } else {
          out.emit({
            type: 'recovery.message-clicked',
            at: input.at,
            step: input.step,
            channel: input.channel,
            ...(input.targetHost !== undefined ? { targetHost: input.targetHost } : {}),
          });
        }
        break;
      }
      case 'OrderAttributed': {
        if (state.status === 'idle' || (state.attributedOrders ?? []).includes(input.orderId)) break;
        const { type: _type, ...body } = input;
        out.emit({ ...body, type: 'recovery.order-attributed' });
        break;
      }
      case 'RetryDeadLetter': {
        if (deadLetterRetryRefusal(state, input.step) !== undefined) break;
        const current = state.steps[input.step];
        if (current.channel === undefined || current.deadLetterReason === undefined) break;
        out.emit({
          type: 'recovery.dead-letter-retried',
          at: input.at,
          step: input.step,
          channel: current.channel,
          previousReason: current.deadLetterReason,
          previousAttempts: current.attempts,
          resume: current.deadLetterReason === 'unreconcilable' ? 'reconcile' : 'resend',
        });
        scheduleNext(out, input.at);
        break;
      }
      case 'TicketClosed': {
        if (state.status === 'ended' || state.openTicketId !== input.ticketId) break;
        out.emit({ type: 'recovery.ticket-closed', at: input.at, ticketId: input.ticketId });
        if (config.pauseWhileTicketOpen && state.status === 'running' && !state.awaitingAbandonment) {
          out.emit({ type: 'recovery.resumed', at: input.at, cause: 'ticket-closed' });
          scheduleNext(out, input.at);
        }
        break;
      }
    }
    return out.events;
  }

  return { config, initialState, decide, evolve };
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

/** Replays a stream. */
export function replay(events: readonly RecoveryEvent[], state: RecoveryState = initialState): RecoveryState {
  return events.reduce(evolve, state);
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
  | 'currency'
  | 'items'
  | 'paymentStartedAt'
  | 'customerTimeZone'
  | 'shopTimeZone'
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
    ticketOpen: state.openTicketId !== undefined,
    currency: cart.currency,
    items: cart.items,
    ...(cart.checkoutStage === 'payment' && state.lastActivityAt !== undefined
      ? { paymentStartedAt: state.lastActivityAt }
      : {}),
    ...(cart.timeZone !== undefined ? { customerTimeZone: cart.timeZone } : {}),
    shopTimeZone: state.shopTimeZone ?? 'UTC',
  };
}

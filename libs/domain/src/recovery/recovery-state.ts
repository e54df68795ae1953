/**
 * The recovery process manager's state and how each event of its stream changes it (`evolve`).
 * Events arrive enveloped (`type`, `schemaVersion`, `data`) and already upcast, like every stream's.
 */
import type { DeadLetterReason, EndReason, StoredRecoveryEvent, TimerPurpose } from './recovery.messages';
import type { SoldOutLine } from './alternatives';
import type { SendMode } from './pre-send';
import type { PolicyArm } from './policy-arm';
import type { RecoveryIncentive } from './incentives';
import type { Segment } from './segments';
import type { SendTimeArm, SendTimeReason } from './send-time';
import { applyVariant, type SequenceStep } from './sequences';
import { customerTicketKey } from './support-tickets';
import type { CartSnapshot, Channel, IsoTimestamp } from './types';

export type StepStatus =
  'pending' | 'due' | 'retrying' | 'reconciling' | 'reconcile-wait' | 'sent' | 'skipped' | 'dead-lettered' | 'late';

export const FINAL: readonly StepStatus[] = ['sent', 'skipped', 'dead-lettered', 'late'];

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

/** A sold-out line the shopper was told about, watched until the store reports it back. */
export interface BackInStockWatch {
  readonly lineId: string;
  readonly productId: string;
  readonly variantId?: string;
  /** watching → due (reported back) → notified (sent), or back to watching (still sold out), or closed. */
  readonly status: 'watching' | 'due' | 'notified' | 'closed';
  /** The shopper asked for it through the "notify me" link. */
  readonly requested?: boolean;
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
  /** The variant each step with variants runs, by step (RFC 0016). */
  readonly variants?: Readonly<Record<number, string>>;
  readonly steps: readonly StepState[];
  readonly timer?: CurrentTimer;
  readonly timerCount: number;
  readonly ticketRequested: boolean;
  /** The appliance's own (proactive) ticket for a high-value cart: for the agent, never for the copy. */
  readonly openTicketId?: string;
  /** The customer's own open tickets concerning this cart (`<source>:<id>`): help copy or a pause. */
  readonly customerTickets: readonly string[];
  readonly revoked: readonly Channel[];
  readonly endReason?: EndReason;
  /** `opened:<step>:<channel>` / `clicked:<step>:<channel>` already recorded. */
  readonly engagement: readonly string[];
  readonly attributedOrders: readonly string[];
  readonly ticketSkipped: boolean;
  /** The marketing platform's facts were recorded (`recovery.enriched`) or found unavailable. */
  readonly enrichment?: 'enriched' | 'unavailable';
  /** The latest `recovery.alternatives-checked` per step (what the store said about its sold-out lines). */
  readonly soldOutByStep?: Readonly<Record<number, readonly SoldOutLine[]>>;
  readonly watches?: readonly BackInStockWatch[];
  /** The send-time arm drawn at the start (RFC 0012); absent when the shop's switch was off, or for a holdout. */
  readonly sendTimeArm?: SendTimeArm;
  /** The policy arm drawn at the start (RFC 0021); absent when the shop ran no policy control arm, or for a holdout. */
  readonly policyArm?: PolicyArm;
  /** The send time chosen per follow-up (`recovery.send-time-chosen`) since the latest abandonment. */
  readonly sendTimes?: Readonly<
    Record<
      number,
      { readonly nominalAt: IsoTimestamp; readonly chosenAt: IsoTimestamp; readonly reason: SendTimeReason }
    >
  >;
  /** The store's categories of the cart's products recorded on this stream, by product id. */
  readonly productCategories?: Readonly<Record<string, readonly string[]>>;
  /** The incentive level chosen at the first discount step (`recovery.incentive-chosen`, RFC 0017). */
  readonly incentive?: RecoveryIncentive;
}

/** The state of an empty recovery stream. */
export const initialRecoveryState = (): RecoveryState => ({
  status: 'idle',
  recoveryId: '',
  awaitingAbandonment: false,
  segments: [],
  steps: [],
  timerCount: 0,
  ticketRequested: false,
  customerTickets: [],
  revoked: [],
  engagement: [],
  attributedOrders: [],
  ticketSkipped: false,
});

function setWatch(state: RecoveryState, lineId: string, status: BackInStockWatch['status']): RecoveryState {
  return { ...state, watches: (state.watches ?? []).map((w) => (w.lineId === lineId ? { ...w, status } : w)) };
}

function setStep(state: RecoveryState, index: number, patch: Partial<StepState>): RecoveryState {
  const steps = state.steps.map((s, i) => (i === index ? { ...s, ...patch } : s));
  return { ...state, steps };
}

export function evolveRecovery(state: RecoveryState, event: StoredRecoveryEvent): RecoveryState {
  switch (event.type) {
    case 'recovery.activity-recorded': {
      const base = {
        ...state,
        recoveryId: event.data.recoveryId,
        shopId: event.data.shopId,
        cartId: event.data.cartId,
        cart: event.data.cart,
        lastActivityAt: event.data.at,
      };
      if (state.status === 'idle') return { ...base, status: 'watching' };
      if (state.status === 'holdout') return base;
      return { ...base, timer: undefined, awaitingAbandonment: state.status === 'running' };
    }
    case 'recovery.timer-scheduled': {
      const next = {
        ...state,
        timer: {
          timerId: event.data.timerId,
          dueAt: event.data.dueAt,
          purpose: event.data.purpose,
          step: event.data.step,
        },
        timerCount: state.timerCount + 1,
      };
      if ((event.data.purpose === 'retry' || event.data.purpose === 'reconcile') && event.data.step !== undefined) {
        return setStep(next, event.data.step, { nextAt: event.data.dueAt });
      }
      return next;
    }
    case 'recovery.started':
      return {
        ...state,
        status: event.data.holdout ? 'holdout' : 'running',
        startedAt: event.data.at,
        abandonedAt: event.data.abandonedAt,
        mode: event.data.mode,
        shopTimeZone: event.data.shopTimeZone,
        awaitingAbandonment: false,
        timer: undefined,
      };
    case 'recovery.segmented':
      return { ...state, segments: event.data.segmentation.segments };
    case 'recovery.features-recorded':
    case 'recovery.scored':
    case 'recovery.score-unavailable':
    case 'recovery.routed':
      return state;
    case 'recovery.sequence-selected':
      return {
        ...state,
        sequence: { id: event.data.sequenceId, version: event.data.sequenceVersion, steps: event.data.steps },
        steps: event.data.steps.map(() => ({ status: 'pending', attempts: 0, reconciliations: 0 })),
      };
    case 'recovery.assigned-holdout':
      return state;
    case 'recovery.ticket-requested':
      return { ...state, ticketRequested: true };
    case 'recovery.ticket-opened':
      return { ...state, openTicketId: event.data.ticketId };
    case 'recovery.ticket-closed':
      return { ...state, openTicketId: undefined };
    case 'recovery.ticket-skipped':
      return { ...state, ticketSkipped: true };
    case 'recovery.support-checked':
      return state;
    case 'recovery.customer-ticket-opened': {
      const key = customerTicketKey(event.data.source, event.data.ticketId);
      const open = state.customerTickets ?? [];
      return open.includes(key) ? state : { ...state, customerTickets: [...open, key] };
    }
    case 'recovery.customer-ticket-closed': {
      const key = customerTicketKey(event.data.source, event.data.ticketId);
      return { ...state, customerTickets: (state.customerTickets ?? []).filter((k) => k !== key) };
    }
    case 'recovery.effect-deferred':
    case 'recovery.effect-parked':
      // History only: the request itself is retried by the engine.
      return state;
    case 'recovery.message-opened':
    case 'recovery.message-clicked':
    case 'recovery.message-replied': {
      const kind =
        event.type === 'recovery.message-opened'
          ? 'opened'
          : event.type === 'recovery.message-clicked'
            ? 'clicked'
            : 'replied';
      const key = `${kind}:${event.data.step}:${event.data.channel}`;
      return { ...state, engagement: [...(state.engagement ?? []), key] };
    }
    case 'recovery.delivery-reported':
      return {
        ...state,
        engagement: [
          ...(state.engagement ?? []),
          `delivery-${event.data.status}:${event.data.step}:${event.data.channel}`,
        ],
      };
    case 'recovery.order-attributed':
      return { ...state, attributedOrders: [...(state.attributedOrders ?? []), event.data.orderId] };
    case 'recovery.step-due': {
      const current = state.steps[event.data.step];
      return setStep({ ...state, timer: undefined }, event.data.step, {
        status: 'due',
        attempts: (current?.attempts ?? 0) + 1,
      });
    }
    case 'recovery.step-skipped':
      return setStep(state, event.data.step, { status: 'skipped', channel: event.data.channel });
    case 'recovery.step-deferred': {
      // A deferral is not a send attempt: it must not eat into the retry budget.
      const attempts = Math.max(0, (state.steps[event.data.step]?.attempts ?? 0) - 1);
      return setStep(state, event.data.step, { status: 'pending', notBefore: event.data.until, attempts });
    }
    case 'recovery.message-sent':
      return setStep(state, event.data.step, { status: 'sent', channel: event.data.channel });
    case 'recovery.message-failed':
      return event.data.retryAt !== undefined
        ? setStep(state, event.data.step, {
            status: 'retrying',
            channel: event.data.channel,
            nextAt: event.data.retryAt,
          })
        : setStep(state, event.data.step, { channel: event.data.channel });
    case 'recovery.outcome-unknown':
      return setStep(state, event.data.step, { status: 'reconciling', channel: event.data.channel });
    case 'recovery.reconciliation-requested': {
      const current = state.steps[event.data.step];
      return setStep({ ...state, timer: undefined }, event.data.step, {
        status: 'reconciling',
        reconciliations: (current?.reconciliations ?? 0) + 1,
      });
    }
    case 'recovery.reconciled':
      if (event.data.result === 'not-sent')
        return setStep(state, event.data.step, { status: 'retrying', nextAt: event.data.at });
      if (event.data.result === 'unknown') {
        return setStep(state, event.data.step, {
          status: 'reconcile-wait',
          nextAt: event.data.retryAt ?? event.data.at,
        });
      }
      return state;
    case 'recovery.dead-lettered':
      return setStep(state, event.data.step, { status: 'dead-lettered', deadLetterReason: event.data.reason });
    case 'recovery.dead-letter-retried':
      // A fresh budget: the step is scheduled again by `scheduleNext` (retry or reconcile timer).
      return setStep(state, event.data.step, {
        status: event.data.resume === 'reconcile' ? 'reconcile-wait' : 'retrying',
        channel: event.data.channel,
        attempts: 0,
        reconciliations: 0,
        nextAt: event.data.at,
        deadLetterReason: undefined,
      });
    case 'recovery.paused':
      return {
        ...state,
        timer: undefined,
        awaitingAbandonment: state.awaitingAbandonment || event.data.reason === 'cart-activity',
      };
    case 'recovery.abandoned-again': {
      // The nominal times moved with the abandonment: the choices of the steps not sent yet go.
      const kept = Object.entries(state.sendTimes ?? {}).filter(([i]) =>
        FINAL.includes(state.steps[Number(i)]?.status),
      );
      return {
        ...state,
        awaitingAbandonment: false,
        abandonedAt: event.data.abandonedAt,
        timer: undefined,
        ...(state.sendTimes !== undefined ? { sendTimes: Object.fromEntries(kept) } : {}),
      };
    }
    case 'recovery.send-time-assigned':
      return { ...state, sendTimeArm: event.data.arm };
    case 'recovery.policy-arm-assigned':
      return { ...state, policyArm: event.data.arm };
    case 'recovery.variant-assigned': {
      // The step runs as its variant sets it (RFC 0016); the assignment is kept for the history.
      const sequence = state.sequence;
      const step = sequence?.steps[event.data.step];
      if (sequence === undefined || step === undefined) return state;
      const steps = sequence.steps.map((st, i) =>
        i === event.data.step ? applyVariant(st, event.data.overrides) : st,
      );
      return {
        ...state,
        sequence: { ...sequence, steps },
        variants: { ...state.variants, [event.data.step]: event.data.variantId },
      };
    }
    case 'recovery.incentive-chosen':
      return {
        ...state,
        incentive: {
          step: event.data.step,
          percent: event.data.percent,
          mode: event.data.mode,
          propensity: event.data.propensity,
          reason: event.data.reason,
        },
      };
    case 'recovery.discount-withheld':
      return state;
    case 'recovery.send-time-chosen':
      return {
        ...state,
        sendTimes: {
          ...state.sendTimes,
          [event.data.step]: {
            nominalAt: event.data.nominalAt,
            chosenAt: event.data.chosenAt,
            reason: event.data.reason,
          },
        },
      };
    case 'recovery.resumed':
      return state;
    case 'recovery.channel-revoked':
      return state.revoked.includes(event.data.channel)
        ? state
        : { ...state, revoked: [...state.revoked, event.data.channel] };
    case 'recovery.late-outcome':
      return setStep(state, event.data.step, { status: 'late' });
    case 'recovery.enriched':
      return {
        ...state,
        enrichment: 'enriched',
        segments: [...state.segments, ...event.data.segmentsAdded.filter((x) => !state.segments.includes(x))],
      };
    case 'recovery.enrichment-unavailable':
      return { ...state, enrichment: 'unavailable' };
    case 'recovery.categories-recorded': {
      const known: Record<string, readonly string[]> = { ...state.productCategories };
      for (const p of event.data.products) if (p.found) known[p.productId] = p.categories;
      return { ...state, productCategories: known };
    }
    case 'recovery.categories-unavailable':
      return state;
    case 'recovery.alternatives-checked':
      return { ...state, soldOutByStep: { ...state.soldOutByStep, [event.data.step]: event.data.lines } };
    case 'recovery.back-in-stock-watched':
      return {
        ...state,
        watches: [
          ...(state.watches ?? []),
          {
            lineId: event.data.lineId,
            productId: event.data.productId,
            ...(event.data.variantId !== undefined ? { variantId: event.data.variantId } : {}),
            status: 'watching',
          },
        ],
      };
    case 'recovery.back-in-stock-requested':
      return {
        ...state,
        watches: (state.watches ?? []).map((w) =>
          w.lineId === event.data.lineId
            ? { ...w, requested: true, status: w.status === 'closed' ? 'watching' : w.status }
            : w,
        ),
      };
    case 'recovery.back-in-stock-due':
      return setWatch(state, event.data.lineId, 'due');
    case 'recovery.back-in-stock-sent':
      return setWatch(state, event.data.lineId, 'notified');
    case 'recovery.back-in-stock-skipped':
      return setWatch(state, event.data.lineId, event.data.reason === 'still-sold-out' ? 'watching' : 'closed');
    case 'recovery.back-in-stock-deferred':
      return state;
    case 'recovery.ended':
      return { ...state, status: 'ended', endReason: event.data.reason, timer: undefined };
  }
}

/** Replays a stream. */
export function replayRecovery(
  events: readonly StoredRecoveryEvent[],
  state: RecoveryState = initialRecoveryState(),
): RecoveryState {
  return events.reduce(evolveRecovery, state);
}

/** The channels the cart's contact allows and the shopper has not revoked. */
export function reachableChannels(state: RecoveryState): Channel[] {
  const reach = state.cart?.reach;
  if (reach === undefined) return [];
  return (['email', 'sms'] as const).filter((c) => reach[c] && !state.revoked.includes(c));
}

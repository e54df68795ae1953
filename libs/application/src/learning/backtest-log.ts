/**
 * The log a policy backtest replays (docs/policy-backtest.md): one shop's recoveries abandoned in a
 * window, each with what it recorded at its start (segments, cart value, the arm drawn and the
 * shares it was drawn with, the sequence, the send-time draw, the step variants) and at its
 * incentive choice (the arm drawn and the distribution it was drawn from), and its settled reward.
 *
 * Reward = net revenue of the recovery: the total of the order that ended it as `purchased` (any
 * cause, attributed or not, as the lift counts it) less the discount cost of its attributed orders
 * (the order's own discounts when it used the recovery's code, else revenue × p / (100 − p)); 0 when
 * not recovered. Counting only attributed revenue would give every recovery that sent nothing 0 by
 * construction and make any policy that sends more look better. A recovery counts once settled:
 * ended as purchased, or ended and the attribution window after its end has closed.
 */
import Decimal from 'decimal.js';
import {
  fromStoredRecoveryEvent,
  parseRecoveryId,
  type ArmSettings,
  type LoggedIncentive,
  type LoggedStart,
  type LoggedVariant,
  type RecordedScore,
  type OrderPlacedData,
  type SendTimeArm,
  type SendTimeDraw,
  type SequenceStep,
  type Segment,
} from '@reclaim/domain';
import { START, type EventStore, type GlobalPosition } from '@reclaim/event-store';

export interface BacktestRecovery {
  readonly recoveryId: string;
  readonly abandonedAt: string;
  readonly currency: string;
  /** The cart value as a number (the reward model's scale). */
  readonly cartValue: number;
  readonly start: LoggedStart;
  readonly recovered: boolean;
  readonly revenue: number;
  readonly discountCost: number;
  /** revenue − discount cost. */
  readonly reward: number;
}

export interface BacktestLog {
  /** Settled recoveries abandoned in the window with logged propensities, oldest first. */
  readonly recoveries: readonly BacktestRecovery[];
  /** Started in the window but not counted, by why. */
  readonly excluded: {
    /** Still running, or ended less than the attribution window ago without a purchase. */
    readonly unsettled: number;
    /** Started before the arm's propensity was logged (`recovery.started` v1/v2). */
    readonly propensityNotLogged: number;
  };
  readonly events: number;
}

export interface BacktestLogOptions {
  readonly shopId: string;
  /** Abandonment from (inclusive) … to (exclusive). */
  readonly from: Date;
  readonly to: Date;
  readonly now: Date;
  readonly attributionWindowMs: number;
  readonly pageSize?: number;
  /** Called after each page: events read so far and the position reached. */
  readonly onProgress?: (progress: { readonly events: number; readonly position: GlobalPosition }) => void;
}

interface Pending {
  abandonedAt?: string;
  currency?: string;
  cartValue?: string;
  arm?: LoggedStart['arm'];
  armSettings?: ArmSettings | null;
  segments?: readonly Segment[];
  sequence?: { id: string; version: number; steps: readonly SequenceStep[] };
  sendTime?: { arm: SendTimeArm; armPercent: number };
  policyArm?: LoggedStart['policyArm'];
  variants: LoggedVariant[];
  incentive?: LoggedIncentive;
  score?: RecordedScore;
  discountPercentByStep: Map<number, number>;
  attributed: { revenue: string; discountUsed: boolean; step: number; orderId: string }[];
  endedAt?: string;
  endReason?: string;
  orderId?: string;
}

const TYPES = [
  'recovery.started',
  'recovery.segmented',
  'recovery.sequence-selected',
  'recovery.send-time-assigned',
  'recovery.policy-arm-assigned',
  'recovery.variant-assigned',
  'recovery.incentive-chosen',
  'recovery.routed',
  'recovery.message-sent',
  'recovery.order-attributed',
  'recovery.ended',
  'order.placed',
];

const decimal = (s: string | undefined): Decimal => {
  try {
    return new Decimal(s ?? 0);
  } catch {
    return new Decimal(0);
  }
};

/** The discount an attributed order used (same rule as read.attribution's `discount_cost`). */
function discountCost(revenue: string, used: boolean, orderDiscounts: string | undefined, percent: number): Decimal {
  if (!used) return new Decimal(0);
  if (orderDiscounts !== undefined) return decimal(orderDiscounts);
  if (percent <= 0 || percent >= 100) return new Decimal(0);
  return decimal(revenue)
    .mul(percent)
    .div(100 - percent)
    .toDecimalPlaces(2);
}

/** Reads the log through `readAll` only (any store, or a reader of a log kept elsewhere). */
export async function readBacktestLog(store: Pick<EventStore, 'readAll'>, o: BacktestLogOptions): Promise<BacktestLog> {
  const pending = new Map<string, Pending>();
  const orders = new Map<string, OrderPlacedData>();
  let after: GlobalPosition = START;
  let events = 0;
  const pageSize = o.pageSize ?? 5_000;
  for (;;) {
    const page = await store.readAll({
      after,
      maxCount: pageSize,
      filter: { typePrefixes: TYPES, streamPrefixes: [`recovery-${o.shopId}-`, `order-${o.shopId}-`] },
    });
    for (const e of page) {
      if (e.type === 'order.placed') {
        const order = e.data as OrderPlacedData;
        orders.set(order.orderId, order);
        continue;
      }
      const ev = fromStoredRecoveryEvent(e);
      if (parseRecoveryId(ev.recoveryId)?.shopId !== o.shopId) continue;
      let r = pending.get(ev.recoveryId);
      if (r === undefined) {
        if (ev.type !== 'recovery.started') continue;
        r = { discountPercentByStep: new Map(), attributed: [], variants: [] };
        pending.set(ev.recoveryId, r);
      }
      switch (ev.type) {
        case 'recovery.started':
          if (r.abandonedAt !== undefined) break; // the first start is the cohort
          r.abandonedAt = ev.abandonedAt;
          r.currency = ev.currency;
          r.cartValue = ev.cartValue;
          r.arm = ev.arm;
          r.armSettings =
            ev.holdoutPercent === null || ev.rolloutPercent === null
              ? null
              : {
                  holdoutPercent: ev.holdoutPercent,
                  rolloutPercent: ev.rolloutPercent,
                  shadowMode: ev.mode.kind === 'shadow' && ev.mode.reason === 'shadow-mode',
                };
          break;
        case 'recovery.segmented':
          r.segments ??= ev.segmentation.segments;
          break;
        case 'recovery.sequence-selected':
          r.sequence ??= { id: ev.sequenceId, version: ev.sequenceVersion, steps: ev.steps };
          break;
        case 'recovery.send-time-assigned':
          r.sendTime ??= { arm: ev.arm, armPercent: ev.armPercent };
          break;
        case 'recovery.policy-arm-assigned':
          r.policyArm ??= { arm: ev.arm, controlPercent: ev.controlPercent };
          break;
        case 'recovery.variant-assigned':
          if (!r.variants.some((v) => v.step === ev.step)) {
            r.variants.push({
              step: ev.step,
              experimentId: ev.experimentId,
              variantId: ev.variantId,
              propensity: ev.propensity,
              mode: ev.mode,
              ...(ev.probabilities !== undefined ? { probabilities: ev.probabilities } : {}),
              overrides: ev.overrides,
            });
          }
          break;
        case 'recovery.routed':
          if (r.score === undefined) {
            if (ev.score !== undefined && ev.modelVersion !== undefined) {
              r.score = { kind: 'scored', score: ev.score, modelVersion: ev.modelVersion };
            } else if (ev.outcomesNeeded !== undefined) {
              r.score = { kind: 'unavailable', outcomesNeeded: ev.outcomesNeeded };
            }
          }
          break;
        case 'recovery.incentive-chosen':
          r.incentive ??= {
            step: ev.step,
            percent: ev.percent,
            mode: ev.mode,
            propensity: ev.propensity,
            segment: ev.segment,
            ...(ev.probabilities !== undefined ? { probabilities: ev.probabilities } : {}),
            ...(ev.posteriors !== undefined ? { posteriors: ev.posteriors } : {}),
          };
          break;
        case 'recovery.message-sent':
          r.discountPercentByStep.set(ev.step, ev.sent?.discount?.percent ?? 0);
          break;
        case 'recovery.order-attributed':
          if (!r.attributed.some((a) => a.orderId === ev.orderId)) {
            r.attributed.push({
              revenue: ev.revenue,
              discountUsed: ev.discountUsed,
              step: ev.step,
              orderId: ev.orderId,
            });
          }
          break;
        case 'recovery.ended':
          r.endedAt ??= ev.at;
          r.endReason ??= ev.reason;
          if (ev.orderId !== undefined) r.orderId ??= ev.orderId;
          break;
      }
    }
    events += page.length;
    if (page.length > 0) after = page[page.length - 1].position;
    o.onProgress?.({ events, position: after });
    if (page.length < pageSize) break;
  }

  // The send-time draw in force for a recovery that drew none (a holdout): the shop's at the
  // nearest recovery before it that could have drawn (not a holdout), else the nearest after.
  const started = [...pending.entries()]
    .filter(([, r]) => r.abandonedAt !== undefined)
    .sort(([a, x], [b, y]) =>
      x.abandonedAt! < y.abandonedAt! ? -1 : x.abandonedAt! > y.abandonedAt! ? 1 : a < b ? -1 : 1,
    );
  // A recovery on the policy control arm (RFC 0021) ran the fixed rules, not the shop's send-time draw.
  const drawOf = (r: Pending): SendTimeDraw | undefined =>
    r.arm === 'holdout' || r.policyArm?.arm === 'fixed-rules'
      ? undefined
      : r.sendTime
        ? { enabled: true, armPercent: r.sendTime.armPercent }
        : { enabled: false };
  const inForce: (SendTimeDraw | undefined)[] = started.map(([, r]) => drawOf(r));
  let last: SendTimeDraw | undefined;
  for (let i = 0; i < inForce.length; i++) inForce[i] = last = inForce[i] ?? last;
  let next: SendTimeDraw | undefined;
  for (let i = inForce.length - 1; i >= 0; i--) inForce[i] = next = inForce[i] ?? next;

  const from = o.from.getTime();
  const to = o.to.getTime();
  const now = o.now.getTime();
  const recoveries: BacktestRecovery[] = [];
  let unsettled = 0;
  let propensityNotLogged = 0;
  started.forEach(([recoveryId, r], i) => {
    const abandoned = Date.parse(r.abandonedAt!);
    if (!(abandoned >= from && abandoned < to)) return;
    const purchased = r.endReason === 'purchased';
    const settled = r.endedAt !== undefined && (purchased || Date.parse(r.endedAt) + o.attributionWindowMs <= now);
    if (!settled) {
      unsettled++;
      return;
    }
    if (r.armSettings === null || r.armSettings === undefined) {
      propensityNotLogged++;
      return;
    }
    const order = purchased && r.orderId !== undefined ? orders.get(r.orderId) : undefined;
    const revenue = order !== undefined ? decimal(order.total) : new Decimal(0);
    const cost = r.attributed.reduce(
      (sum, a) =>
        sum.plus(
          discountCost(
            a.revenue,
            a.discountUsed,
            orders.get(a.orderId)?.totalDiscounts,
            r.discountPercentByStep.get(a.step) ?? 0,
          ),
        ),
      new Decimal(0),
    );
    const start: LoggedStart = {
      segments: r.segments ?? [],
      cartValue: r.cartValue ?? '0',
      arm: r.arm ?? 'holdout',
      armSettings: r.armSettings,
      sequence: r.sequence ?? null,
      sendTimeDraw: r.sendTime
        ? { enabled: true, armPercent: r.sendTime.armPercent }
        : r.policyArm?.arm === 'fixed-rules'
          ? { enabled: false }
          : (inForce[i] ?? { enabled: false }),
      ...(r.sendTime ? { sendTimeArm: r.sendTime.arm } : {}),
      ...(r.variants.length > 0 ? { variants: r.variants } : {}),
      ...(r.incentive !== undefined ? { incentive: r.incentive } : {}),
      ...(r.score !== undefined ? { score: r.score } : {}),
      ...(r.policyArm !== undefined ? { policyArm: r.policyArm } : {}),
    };
    recoveries.push({
      recoveryId,
      abandonedAt: r.abandonedAt!,
      currency: r.currency ?? '',
      cartValue: decimal(r.cartValue).toNumber(),
      start,
      recovered: order !== undefined,
      revenue: revenue.toNumber(),
      discountCost: cost.toNumber(),
      reward: revenue.minus(cost).toNumber(),
    });
  });
  return { recoveries, excluded: { unsettled, propensityNotLogged }, events };
}

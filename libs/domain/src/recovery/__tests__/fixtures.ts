/**
 * Fixtures of the recovery process manager's tests: carts, start contexts and a driver that feeds
 * inputs one by one (`Run`). Assertions use the given/when/then of every decider (@reclaim/testing):
 * `DeciderSpecification.for(createRecoveryDecider()).given(run.log).when(…).thenMatches(…)`.
 */
import { defaultRecoveryConfig, recoveryConfig, type RecoveryConfigOverrides } from '../config';
import { createRecoveryDecider, type RecoveryDecider } from '../process-manager';
import { fromStoredRecoveryEvent } from '../recovery-events';
import type { RecoveryEvent, RecoveryInput, StartContext, StoredRecoveryEvent } from '../recovery.messages';
import { replayRecovery, type RecoveryState } from '../recovery-state';
import type { CustomerFeatures } from '../segments';
import { defaultSequences } from '../sequences';
import { toIso, toMs } from '../time';
import type { CartSnapshot, IsoTimestamp } from '../types';

export const SHOP = 'shop-1';
export const CART = 'cart-9007199254740993';
export const RID = `recovery-${SHOP}-${CART}`;
export const T0 = '2026-03-02T15:00:00.000Z';

export const at = (base: IsoTimestamp, ms: number): IsoTimestamp => toIso(toMs(base) + ms);

export const cart = (overrides: Partial<CartSnapshot> = {}): CartSnapshot => ({
  value: '80.00',
  currency: 'USD',
  items: [{ lineId: 'l1', productId: 'p1', quantity: 2, unitPrice: '40.00', categories: ['shoes'] }],
  reach: { email: true, sms: false },
  customerKey: 'cust-1',
  ...overrides,
});

export const newCustomer: CustomerFeatures = {
  ordersCount: 0,
  totalSpent: '0',
  previousAbandonments: 0,
  previousRecoveries: 0,
  discountOrdersCount: 0,
  categoriesBought: [],
};

export const start = (random = 0.5, customer: CustomerFeatures = newCustomer): StartContext => ({
  customer,
  sequences: defaultSequences(defaultRecoveryConfig),
  random,
  shopTimeZone: 'Europe/Berlin',
});

export const activity = (when: IsoTimestamp, c: CartSnapshot = cart()): RecoveryInput => ({
  type: 'CartActivity',
  shopId: SHOP,
  cartId: CART,
  at: when,
  cart: c,
});

/**
 * Drives a decider input by input, keeping the stream (`log`, enveloped as stored); `events` and
 * what `send`/`fire` return are the flat view of the same events. `fire()` fires the current timer.
 */
export class Run {
  readonly log: StoredRecoveryEvent[] = [];
  readonly decider: RecoveryDecider;

  constructor(overrides: RecoveryConfigOverrides = {}) {
    this.decider = createRecoveryDecider(recoveryConfig(overrides));
  }

  get events(): RecoveryEvent[] {
    return this.log.map(fromStoredRecoveryEvent);
  }

  get state(): RecoveryState {
    return replayRecovery(this.log);
  }

  send(input: RecoveryInput): RecoveryEvent[] {
    const emitted = this.decider.decide(input, this.state);
    this.log.push(...emitted);
    return emitted.map(fromStoredRecoveryEvent);
  }

  /** Fires the current timer at its due time (or `now`). */
  fire(now?: IsoTimestamp, ctx: StartContext = start()): RecoveryEvent[] {
    const timer = this.state.timer;
    if (timer === undefined) throw new Error('no current timer');
    return this.send({
      type: 'TimerFired',
      timerId: timer.timerId,
      dueAt: timer.dueAt,
      now: now ?? timer.dueAt,
      start: ctx,
    });
  }

  /** Activity at T0, then abandonment; leaves the step-0 timer current. */
  startAbandoned(c: CartSnapshot = cart(), ctx: StartContext = start()): this {
    this.send(activity(T0, c));
    this.fire(undefined, ctx);
    return this;
  }

  /** Fires the current (step) timer and reports the outcome `sent` for it. */
  sendStep(messageId: string): this {
    const due = this.fire().find((e) => e.type === 'recovery.step-due');
    if (due === undefined) throw new Error('no step became due');
    this.send({
      type: 'StepOutcome',
      step: due.step,
      channel: 'email',
      at: due.at,
      outcome: { kind: 'sent', messageId },
    });
    return this;
  }
}

export const types = (events: readonly { readonly type: string }[]) => events.map((e) => e.type);

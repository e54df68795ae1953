/** Tiny given/when/then helper for the recovery decider, plus shared fixtures. */
import { defaultRecoveryConfig, recoveryConfig, type RecoveryConfigOverrides } from '../config';
import type { RecoveryEvent, RecoveryInput, StartContext } from '../recovery.messages';
import { createRecoveryDecider, replay, type RecoveryDecider, type RecoveryState } from '../process-manager';
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

/** Drives a decider input by input, keeping the log; `fire()` fires the current timer. */
export class Run {
  readonly events: RecoveryEvent[] = [];
  readonly decider: RecoveryDecider;

  constructor(overrides: RecoveryConfigOverrides = {}) {
    this.decider = createRecoveryDecider(recoveryConfig(overrides));
  }

  get state(): RecoveryState {
    return replay(this.events);
  }

  send(input: RecoveryInput): RecoveryEvent[] {
    const emitted = this.decider.decide(input, this.state);
    this.events.push(...emitted);
    return emitted;
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

type Expected = Partial<RecoveryEvent> & { type: RecoveryEvent['type'] };

export function given(events: readonly RecoveryEvent[], decider: RecoveryDecider = createRecoveryDecider()) {
  const state = replay(events);
  return {
    when(input: RecoveryInput) {
      const decide = () => decider.decide(input, state);
      return {
        then(expected: readonly Expected[]): RecoveryEvent[] {
          const actual = decide();
          expect(actual).toEqual(expected.map((e) => expect.objectContaining(e)));
          return actual;
        },
        thenNothing(): void {
          expect(decide()).toEqual([]);
        },
        thenThrows(message: RegExp): void {
          expect(decide).toThrow(message);
        },
      };
    },
  };
}

export const types = (events: readonly RecoveryEvent[]) => events.map((e) => e.type);

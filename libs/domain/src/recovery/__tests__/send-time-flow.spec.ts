import { DeciderSpecification } from '@reclaim/testing';
import { recoveryConfig } from '../config';
import { checkBeforeSend } from '../pre-send';
import { createRecoveryDecider } from '../process-manager';
import { sendFactsFromState } from '../recovery-queries';
import type { RecoveryEvent, StartContext } from '../recovery.messages';
import { RecoveryInputError, HOUR } from '../time';
import type { SendTimeChoice } from '../send-time';
import { at, cart, Run, start, T0, types } from './fixtures';

const ON = { sendTime: { enabled: true, armPercent: 50 } };
const spec = DeciderSpecification.for(createRecoveryDecider(recoveryConfig(ON)));
const ABANDONED = at(T0, HOUR); // 16:00Z, Monday 17:00 in Berlin
const withDraw = (random: number, sendTimeRandom: number): StartContext => ({ ...start(random), sendTimeRandom });

/** Abandoned, step 0 sent; leaves step 1's timer current. */
function afterStep0(sendTimeRandom: number, random = 0.5): Run {
  const run = new Run(ON).startAbandoned(cart(), withDraw(random, sendTimeRandom));
  run.sendStep('msg-0');
  return run;
}

const evening: SendTimeChoice = {
  nominalAt: at(ABANDONED, 6 * HOUR),
  chosenAt: '2026-03-02T19:00:00.000Z',
  windowFrom: at(ABANDONED, 2 * HOUR),
  windowTo: at(ABANDONED, 10 * HOUR),
  reason: 'profile',
  timeZone: 'Europe/Berlin',
  timeZoneSource: 'address',
  evidence: {
    customerEvents: 10,
    priorStrength: 8,
    chosenHour: 20,
    chosenWeekday: 0,
    chosenHourShare: 0.6,
    nominalHour: 23,
    nominalWeekday: 0,
    nominalHourShare: 0.02,
  },
};

const stepDue = (events: readonly RecoveryEvent[]) =>
  events.find((e): e is Extract<RecoveryEvent, { type: 'recovery.step-due' }> => e.type === 'recovery.step-due');

describe('send-time optimisation in the recovery process manager (RFC 0012)', () => {
  it('the start draws the arm from its own number and records it with its propensity', () => {
    const run = new Run(ON);
    run.send({ type: 'CartActivity', shopId: 'shop-1', cartId: 'cart-9007199254740993', at: T0, cart: cart() });
    spec
      .given(run.log)
      .when({
        type: 'TimerFired',
        timerId: run.state.timer?.timerId ?? '',
        dueAt: ABANDONED,
        now: ABANDONED,
        start: withDraw(0.5, 0.2),
      })
      .thenMatches([
        { type: 'recovery.started', data: { holdout: false } },
        { type: 'recovery.send-time-assigned', data: { arm: 'on', propensity: 0.5, draw: 0.2, armPercent: 50 } },
        { type: 'recovery.segmented' },
        { type: 'recovery.features-recorded' },
        { type: 'recovery.sequence-selected' },
        { type: 'recovery.timer-scheduled', data: { purpose: 'step', step: 0, dueAt: ABANDONED } },
      ]);
  });

  it('a holdout recovery is untouched: no arm', () => {
    const run = new Run(ON).startAbandoned(cart(), withDraw(0.01, 0.2));
    expect(types(run.events)).not.toContain('recovery.send-time-assigned');
    expect(run.state.sendTimeArm).toBeUndefined();
  });

  it('the switch off: no arm, no draw needed', () => {
    const run = new Run().startAbandoned();
    expect(types(run.events)).not.toContain('recovery.send-time-assigned');
  });

  it('the switch on without a draw is refused, naming the field', () => {
    const run = new Run(ON);
    run.send({ type: 'CartActivity', shopId: 'shop-1', cartId: 'cart-9007199254740993', at: T0, cart: cart() });
    spec
      .given(run.log)
      .when({
        type: 'TimerFired',
        timerId: run.state.timer?.timerId ?? '',
        dueAt: ABANDONED,
        now: ABANDONED,
        start: start(0.5),
      })
      .thenThrows(RecoveryInputError, (e) => e.message.includes('sendTimeRandom'));
  });

  it("on arm: a follow-up's timer fires at its window's start; the choice is recorded, then the step waits for it", () => {
    const run = afterStep0(0.2);
    expect(run.state.timer).toMatchObject({ purpose: 'step', step: 1, dueAt: at(ABANDONED, 2 * HOUR) });
    const due = stepDue(run.fire());
    if (due === undefined) throw new Error('step 1 not due');
    spec
      .given(run.log)
      .when({ type: 'RecordSendTime', at: due.at, step: 1, choice: evening })
      .thenMatches([{ type: 'recovery.send-time-chosen', data: { step: 1, ...evening } }]);
    run.send({ type: 'RecordSendTime', at: due.at, step: 1, choice: evening });
    // Recorded once: a retried request does not choose again.
    expect(
      run.send({ type: 'RecordSendTime', at: due.at, step: 1, choice: { ...evening, chosenAt: evening.nominalAt } }),
    ).toEqual([]);
    const decision = checkBeforeSend({
      ...sendFactsFromState(run.state, due),
      consent: { email: { status: 'subscribed', source: 'shopify:checkout' } },
      ignoredRecoveryMessages: 0,
      stock: [],
      now: due.at,
    });
    expect(decision).toEqual({ decision: 'defer', until: evening.chosenAt, reason: 'send-time' });
    const deferred = run.send({
      type: 'StepOutcome',
      step: 1,
      at: due.at,
      outcome: { kind: 'deferred', until: evening.chosenAt, reason: 'send-time' },
    });
    expect(deferred).toMatchObject([
      { type: 'recovery.step-deferred', reason: 'send-time', until: evening.chosenAt },
      { type: 'recovery.timer-scheduled', step: 1, dueAt: evening.chosenAt },
    ]);
    // At the chosen time the step is sent.
    const again = stepDue(run.fire());
    if (again === undefined) throw new Error('step 1 not due again');
    expect(
      checkBeforeSend({
        ...sendFactsFromState(run.state, again),
        consent: { email: { status: 'subscribed', source: 'shopify:checkout' } },
        ignoredRecoveryMessages: 0,
        stock: [],
        now: again.at,
      }).decision,
    ).toBe('send');
  });

  it('off arm: the follow-up keeps its nominal timer; its record says so', () => {
    const run = afterStep0(0.7);
    expect(run.state.sendTimeArm).toBe('off');
    expect(run.state.timer).toMatchObject({ step: 1, dueAt: at(ABANDONED, 6 * HOUR) });
    const due = stepDue(run.fire());
    if (due === undefined) throw new Error('step 1 not due');
    const control: SendTimeChoice = {
      ...evening,
      chosenAt: evening.nominalAt,
      reason: 'control-arm',
      wouldChooseAt: evening.chosenAt,
    };
    spec
      .given(run.log)
      .when({ type: 'RecordSendTime', at: due.at, step: 1, choice: control })
      .thenMatches([
        { type: 'recovery.send-time-chosen', data: { reason: 'control-arm', chosenAt: evening.nominalAt } },
      ]);
    // The off arm never moves a message earlier than nominal.
    spec
      .given(run.log)
      .when({ type: 'RecordSendTime', at: due.at, step: 1, choice: evening })
      .thenThrows(RecoveryInputError, (e) => e.message.startsWith('choice.chosenAt'));
  });

  it('a choice earlier than the nominal minimum after abandonment is refused', () => {
    const run = afterStep0(0.2);
    const due = stepDue(run.fire());
    if (due === undefined) throw new Error('step 1 not due');
    spec
      .given(run.log)
      .when({
        type: 'RecordSendTime',
        at: due.at,
        step: 1,
        choice: { ...evening, chosenAt: at(ABANDONED, 30 * 60_000) },
      })
      .thenThrows(RecoveryInputError);
  });

  it('nothing is recorded for a step that is not due, or a recovery without an arm', () => {
    const run = afterStep0(0.2);
    spec.given(run.log).when({ type: 'RecordSendTime', at: ABANDONED, step: 1, choice: evening }).thenNothing();
    const plain = new Run().startAbandoned();
    plain.sendStep('msg-0');
    plain.fire();
    spec.given(plain.log).when({ type: 'RecordSendTime', at: ABANDONED, step: 1, choice: evening }).thenNothing();
  });

  it('a re-abandonment forgets the choices of the steps not sent yet', () => {
    const run = afterStep0(0.2);
    const due = stepDue(run.fire());
    if (due === undefined) throw new Error('step 1 not due');
    run.send({ type: 'RecordSendTime', at: due.at, step: 1, choice: evening });
    run.send({
      type: 'StepOutcome',
      step: 1,
      at: due.at,
      outcome: { kind: 'deferred', until: evening.chosenAt, reason: 'send-time' },
    });
    expect(run.state.sendTimes?.[1]).toBeDefined();
    run.send({
      type: 'CartActivity',
      shopId: 'shop-1',
      cartId: 'cart-9007199254740993',
      at: at(due.at, 60_000),
      cart: cart(),
    });
    run.fire(undefined, withDraw(0.5, 0.2));
    expect(run.state.sendTimes?.[1]).toBeUndefined();
    expect(run.state.sendTimes?.[0]).toBeUndefined();
  });
});

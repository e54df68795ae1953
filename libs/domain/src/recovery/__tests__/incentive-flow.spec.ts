import { checkBeforeSend, type SendDecision } from '../pre-send';
import { chooseIncentive, DEFAULT_INCENTIVE_SETTINGS } from '../incentives';
import { summarizeDecision } from '../outcomes';
import { sendFactsFromState } from '../recovery-queries';
import type { RecoveryEvent } from '../recovery.messages';
import type { CodeFarmingEvidence } from '../code-farming';
import type { RecoveryConfigOverrides } from '../config';
import { Run, types } from './fixtures';

const LEARNED = { incentives: { policy: 'learned' as const } };
const consent = { email: { status: 'subscribed' as const, source: 'shopify:checkout' } };

/** Abandoned, step 0 (no discount) sent, step 1 (5 % on the ladder) due. */
function atStep1(overrides: RecoveryConfigOverrides = LEARNED) {
  const run = new Run(overrides).startAbandoned();
  run.sendStep('msg-0');
  const due = run
    .fire()
    .find((e): e is Extract<RecoveryEvent, { type: 'recovery.step-due' }> => e.type === 'recovery.step-due');
  if (due === undefined || due.step !== 1) throw new Error('step 1 not due');
  return { run, due };
}

function decide(run: Run, due: Extract<RecoveryEvent, { type: 'recovery.step-due' }>, extra = {}) {
  const d = checkBeforeSend(
    { ...sendFactsFromState(run.state, due), consent, ignoredRecoveryMessages: 0, stock: [], now: due.at, ...extra },
    run.decider.config,
  );
  if (d.decision !== 'send') throw new Error(`expected a send, got ${d.decision}`);
  return d;
}

function sent(run: Run, step: number, at: string, d: SendDecision) {
  return run.send({
    type: 'StepOutcome',
    step,
    channel: 'email',
    at,
    outcome: { kind: 'sent', messageId: `m-${step}`, sent: summarizeDecision(d) },
  });
}

describe('incentives in the recovery process manager (RFC 0017)', () => {
  const ladder = [0, 5, 10, 15];

  it('a learned "none" is recorded with its propensity, and the message goes without a code: discount-withheld no-level-pays', () => {
    const { run, due } = atStep1();
    const choice = chooseIncentive({
      ladder,
      stepPercent: 5,
      cartValue: '80.00',
      segment: 'new',
      settings: run.decider.config.incentives,
      draw: 0.7,
    });
    const chosen = run.send({ type: 'ChooseIncentive', at: due.at, step: 1, choice });
    expect(chosen).toMatchObject([
      { type: 'recovery.incentive-chosen', step: 1, percent: 0, mode: 'exploit', propensity: 0.84 },
    ]);
    const d = decide(run, due);
    expect(d.discount).toBeUndefined();
    expect(d.discountWithheld).toBe('no-level-pays');
    const events = sent(run, 1, due.at, d);
    expect(events).toMatchObject([
      { type: 'recovery.message-sent', step: 1 },
      { type: 'recovery.discount-withheld', step: 1, reason: 'no-level-pays', percent: 5, detail: choice.reason },
      { type: 'recovery.timer-scheduled' },
    ]);
  });

  it('a chosen level is offered on every discount step of the recovery instead of the ladder', () => {
    const { run, due } = atStep1();
    const choice = {
      ...chooseIncentive({
        ladder,
        stepPercent: 5,
        cartValue: '80.00',
        segment: 'new',
        settings: run.decider.config.incentives,
        draw: 0.09,
      }),
    };
    // Draws in [0, 0.2) explore: fifth by fifth 0, 5, 10, 15 % and the ladder.
    expect(choice).toMatchObject({ percent: 10, mode: 'explore', propensity: 0.04 });
    run.send({ type: 'ChooseIncentive', at: due.at, step: 1, choice });
    expect(decide(run, due).discount?.percent).toBe(10);
    sent(run, 1, due.at, decide(run, due));
    const due2 = run
      .fire()
      .find((e): e is Extract<RecoveryEvent, { type: 'recovery.step-due' }> => e.type === 'recovery.step-due');
    if (due2 === undefined) throw new Error('step 2 not due');
    // Once per recovery: a second choice is ignored.
    expect(run.send({ type: 'ChooseIncentive', at: due2.at, step: 2, choice: { ...choice, percent: 15 } })).toEqual([]);
    expect(decide(run, due2).discount?.percent).toBe(10);
  });

  it('the learned policy’s ladder arm offers each discount step its own percent, as the fixed rules do', () => {
    const { run, due } = atStep1();
    const choice = chooseIncentive({
      ladder,
      stepPercent: 5,
      cartValue: '80.00',
      segment: 'new',
      settings: run.decider.config.incentives,
      draw: 0.19,
    });
    expect(choice).toMatchObject({ percent: 5, mode: 'ladder', propensity: 0.04 });
    expect(run.send({ type: 'ChooseIncentive', at: due.at, step: 1, choice })).toMatchObject([
      { type: 'recovery.incentive-chosen', mode: 'ladder', propensity: 0.04 },
    ]);
    expect(decide(run, due).discount?.percent).toBe(5);
    sent(run, 1, due.at, decide(run, due));
    const due2 = run
      .fire()
      .find((e): e is Extract<RecoveryEvent, { type: 'recovery.step-due' }> => e.type === 'recovery.step-due');
    if (due2 === undefined) throw new Error('step 2 not due');
    expect(decide(run, due2).discount?.percent).toBe(10);
  });

  it('the randomised 0 % arm is withheld as incentive-control', () => {
    const { run, due } = atStep1();
    const choice = chooseIncentive({
      ladder,
      stepPercent: 5,
      cartValue: '80.00',
      segment: 'new',
      settings: run.decider.config.incentives,
      draw: 0.01,
    });
    run.send({ type: 'ChooseIncentive', at: due.at, step: 1, choice });
    expect(decide(run, due).discountWithheld).toBe('incentive-control');
  });

  it('a code farmer gets the message without a code, whatever the policy, with the evidence in the detail', () => {
    const evidence: CodeFarmingEvidence = {
      codePurchases: [
        { recoveryId: 'r1', orderId: 'o1', code: 'C1', placedAt: '2026-01-01T00:00:00.000Z' },
        { recoveryId: 'r2', orderId: 'o2', code: 'C2', placedAt: '2026-02-01T00:00:00.000Z' },
      ],
      orders: 2,
      codeOrderShare: 1,
      windowDays: 180,
      minCodePurchases: 2,
      minCodeOrderShare: 0.5,
    };
    const { run, due } = atStep1({ incentives: { policy: 'fixed' } });
    const d = decide(run, due, { codeFarming: evidence });
    expect(d).toMatchObject({ decision: 'send', discountWithheld: 'code-farmer' });
    expect(d.discount).toBeUndefined();
    const events = sent(run, 1, due.at, d);
    expect(events[1]).toMatchObject({ type: 'recovery.discount-withheld', reason: 'code-farmer', percent: 5 });
    expect((events[1] as { detail?: string }).detail).toMatch(/2 purchases with a recovery code in 180 days/);
  });

  it('the anti-gaming cooldown is a withheld discount too', () => {
    const { run, due } = atStep1({ incentives: { policy: 'fixed' } });
    const d = decide(run, due, { lastDiscountRecoveryAt: '2026-02-20T00:00:00.000Z' });
    const events = sent(run, 1, due.at, d);
    expect(events[1]).toMatchObject({ type: 'recovery.discount-withheld', reason: 'recent-discount-recovery' });
  });

  it('the fixed ladder without a recorded choice keeps today’s behaviour', () => {
    const { run, due } = atStep1({ incentives: { policy: 'fixed' } });
    expect(decide(run, due).discount?.percent).toBe(5);
    expect(types(run.events)).not.toContain('recovery.incentive-chosen');
  });

  it('refuses a level outside the ladder or a bad propensity, naming the field', () => {
    const { run, due } = atStep1();
    const choice = chooseIncentive({
      ladder,
      stepPercent: 5,
      cartValue: '80.00',
      segment: 'new',
      settings: { ...DEFAULT_INCENTIVE_SETTINGS, policy: 'learned' },
      draw: 0.5,
    });
    expect(() =>
      run.send({ type: 'ChooseIncentive', at: due.at, step: 1, choice: { ...choice, percent: 20 } }),
    ).toThrow(/choice\.percent/);
    expect(() =>
      run.send({ type: 'ChooseIncentive', at: due.at, step: 1, choice: { ...choice, propensity: 0 } }),
    ).toThrow(/choice\.propensity/);
  });

  it('no choice at a step without a discount (step 0)', () => {
    const run = new Run(LEARNED).startAbandoned();
    const due = run.fire().find((e) => e.type === 'recovery.step-due');
    const choice = chooseIncentive({
      ladder,
      stepPercent: 0,
      cartValue: '80.00',
      segment: 'new',
      settings: run.decider.config.incentives,
      draw: 0.5,
    });
    expect(run.send({ type: 'ChooseIncentive', at: due!.at, step: 0, choice })).toEqual([]);
  });
});

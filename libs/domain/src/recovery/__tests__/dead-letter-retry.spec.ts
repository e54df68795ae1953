import { DeciderSpecification } from '@reclaim/testing';
import { deadLetterRetryRefusal } from '../recovery-queries';
import { HOUR } from '../time';
import { at, Run, T0, types } from './fixtures';
import { createRecoveryDecider } from '../process-manager';

/** The given/when/then of every decider, for the default recovery decider. */
const spec = DeciderSpecification.for(createRecoveryDecider());

const ABANDONED = at(T0, HOUR);
const LATER = at(ABANDONED, 2 * HOUR);

/** Step 0 became due and failed for good (e.g. no postal address): dead-lettered, step 1 scheduled. */
function deadLettered(): Run {
  const run = new Run().startAbandoned();
  run.fire();
  run.send({
    type: 'StepOutcome',
    step: 0,
    channel: 'email',
    at: ABANDONED,
    outcome: { kind: 'failed', retryable: false, error: 'RenderInputError' },
  });
  return run;
}

/** Step 0 sent, outcome unknown, reconciled "unknown" until the budget ran out. */
function unreconcilable(): Run {
  const run = new Run().startAbandoned();
  run.fire();
  run.send({ type: 'StepOutcome', step: 0, channel: 'email', at: ABANDONED, outcome: { kind: 'unknown' } });
  for (;;) {
    const events = run.send({
      type: 'ReconciliationResult',
      step: 0,
      channel: 'email',
      at: ABANDONED,
      result: { kind: 'unknown' },
    });
    if (events.some((e) => e.type === 'recovery.dead-lettered')) return run;
    run.fire();
  }
}

describe('RetryDeadLetter: an operator puts a dead-lettered step back on the queue', () => {
  it('a not-retryable dead letter is sent again with a fresh budget, before the next step', () => {
    const run = deadLettered();
    expect(run.state.steps[0]).toMatchObject({ status: 'dead-lettered', deadLetterReason: 'not-retryable' });
    expect(run.state.timer).toMatchObject({ purpose: 'step', step: 1 });

    spec
      .given(run.log)
      .when({ type: 'RetryDeadLetter', step: 0, at: LATER })
      .thenMatches([
        {
          type: 'recovery.dead-letter-retried',
          data: { step: 0, channel: 'email', previousReason: 'not-retryable', previousAttempts: 1, resume: 'resend' },
        },
        { type: 'recovery.timer-scheduled', data: { purpose: 'retry', step: 0, dueAt: LATER } },
      ]);

    run.send({ type: 'RetryDeadLetter', step: 0, at: LATER });
    expect(run.fire()).toEqual([expect.objectContaining({ type: 'recovery.step-due', step: 0, attempt: 1 })]);
    // Sent this time: the sequence carries on with step 1, scheduled again.
    const after = run.send({
      type: 'StepOutcome',
      step: 0,
      channel: 'email',
      at: LATER,
      outcome: { kind: 'sent', messageId: 'm-retried' },
    });
    expect(types(after)).toEqual(['recovery.message-sent', 'recovery.timer-scheduled']);
    expect(run.state.timer).toMatchObject({ purpose: 'step', step: 1 });
  });

  it('an unreconcilable dead letter is reconciled again, never resent blindly', () => {
    const run = unreconcilable();
    const events = run.send({ type: 'RetryDeadLetter', step: 0, at: LATER });
    expect(events).toEqual([
      expect.objectContaining({
        type: 'recovery.dead-letter-retried',
        previousReason: 'unreconcilable',
        resume: 'reconcile',
      }),
      expect.objectContaining({ type: 'recovery.timer-scheduled', purpose: 'reconcile', step: 0 }),
    ]);
    expect(run.fire()).toEqual([
      expect.objectContaining({ type: 'recovery.reconciliation-requested', step: 0, attempt: 1 }),
    ]);
  });

  it('is refused, with the reason, for a step that is not dead-lettered, a second time, or after the end', () => {
    const run = deadLettered();
    expect(deadLetterRetryRefusal(run.state, 1)).toBe('step 1 is pending, not dead-lettered');
    expect(deadLetterRetryRefusal(run.state, 7)).toBe('the recovery has no step 7');
    spec.given(run.log).when({ type: 'RetryDeadLetter', step: 1, at: LATER }).thenNothing();

    run.send({ type: 'RetryDeadLetter', step: 0, at: LATER });
    // A double click: the step is queued again already.
    expect(deadLetterRetryRefusal(run.state, 0)).toBe('step 0 is retrying, not dead-lettered');
    spec.given(run.log).when({ type: 'RetryDeadLetter', step: 0, at: LATER }).thenNothing();

    const ended = deadLettered();
    ended.send({ type: 'CartPurchased', orderId: 'o-1', at: LATER });
    expect(deadLetterRetryRefusal(ended.state, 0)).toBe('the recovery has ended (purchased)');
    spec.given(ended.log).when({ type: 'RetryDeadLetter', step: 0, at: LATER }).thenNothing();
  });

  it('waits while another step is waiting for its provider outcome', () => {
    const run = deadLettered();
    run.fire(); // step 1 due, in flight
    expect(deadLetterRetryRefusal(run.state, 0)).toBe(
      'step 1 is waiting for a provider outcome; retry when it has one',
    );
    spec.given(run.log).when({ type: 'RetryDeadLetter', step: 0, at: LATER }).thenNothing();
  });
});

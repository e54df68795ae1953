import { DeciderSpecification } from '@reclaim/testing';
import { DAY, HOUR, MINUTE } from '../time';
import { createRecoveryDecider } from '../process-manager';
import { activity, at, cart, RID, Run, start, T0, types } from './fixtures';

/** The given/when/then of every decider, for the default recovery decider. */
const spec = DeciderSpecification.for(createRecoveryDecider());

const ABANDONED = at(T0, HOUR);

// The recovery process manager's specification, part: purchase, duplicates, edits, opt-out, holdout.
describe('recovery process manager', () => {
  describe('purchase', () => {
    it('before abandonment: ends purchased, the abandonment timer is dead', () => {
      const run = new Run();
      run.send(activity(T0));
      expect(run.send({ type: 'CartPurchased', orderId: 'o-1', at: at(T0, MINUTE) })).toEqual([
        expect.objectContaining({ type: 'recovery.ended', reason: 'purchased', orderId: 'o-1' }),
      ]);
      spec
        .given(run.log)
        .when({ type: 'TimerFired', timerId: `${RID}/timer-1`, dueAt: ABANDONED, now: ABANDONED, start: start() })
        .thenNothing();
    });

    it.each([0, 1, 2, 3])('after step %i was sent: ends purchased, no further step ever', (sent) => {
      const run = new Run().startAbandoned();
      for (let i = 0; i <= sent; i++) run.sendStep(`m${i}`);
      const timer = run.state.timer!;
      run.send({ type: 'CartPurchased', orderId: 'o-1', at: timer.dueAt });
      spec
        .given(run.log)
        .when({ type: 'TimerFired', timerId: timer.timerId, dueAt: timer.dueAt, now: timer.dueAt })
        .thenNothing();
      expect(run.state.endReason).toBe('purchased');
    });

    it.each([0, 1, 2, 3])(
      'while step %i is being sent: the late "sent" is kept as a late outcome, never message-sent',
      (step) => {
        const run = new Run().startAbandoned();
        for (let i = 0; i < step; i++) run.sendStep(`m${i}`);
        run.fire();
        run.send({ type: 'CartPurchased', orderId: 'o-1', at: at(T0, 80 * DAY) });
        spec
          .given(run.log)
          .when({
            type: 'StepOutcome',
            step,
            channel: 'email',
            at: at(T0, 80 * DAY),
            outcome: { kind: 'sent', messageId: 'x' },
          })
          .thenMatches([{ type: 'recovery.late-outcome', data: { step, outcome: 'sent', messageId: 'x' } }]);
      },
    );

    it('R28: a pre-send stop (order in the grace window) skips the step and ends the recovery purchased', () => {
      const run = new Run().startAbandoned();
      run.fire();
      spec
        .given(run.log)
        .when({
          type: 'StepOutcome',
          step: 0,
          at: ABANDONED,
          outcome: { kind: 'stopped', reason: 'purchased-elsewhere' },
        })
        .thenMatches([
          { type: 'recovery.step-skipped', data: { step: 0, reason: 'purchased-elsewhere' } },
          { type: 'recovery.ended', data: { reason: 'purchased' } },
        ]);
    });
  });

  describe('duplicates', () => {
    it('given the step timer already fired, when the same timer fires again, then nothing happens', () => {
      const run = new Run().startAbandoned();
      const timer = run.state.timer!;
      run.fire();
      spec
        .given(run.log)
        .when({ type: 'TimerFired', timerId: timer.timerId, dueAt: timer.dueAt, now: at(timer.dueAt, MINUTE) })
        .thenNothing();
    });

    it('given an outcome recorded, when the same outcome arrives again, then nothing happens', () => {
      const run = new Run().startAbandoned().sendStep('m0');
      spec
        .given(run.log)
        .when({
          type: 'StepOutcome',
          step: 0,
          channel: 'email',
          at: ABANDONED,
          outcome: { kind: 'sent', messageId: 'm0' },
        })
        .thenNothing();
    });

    it('given an activity recorded, when the same delivery arrives again, then nothing happens', () => {
      const run = new Run();
      run.send(activity(T0));
      spec.given(run.log).when(activity(T0)).thenNothing();
    });
  });

  describe('cart edits after abandonment', () => {
    it('pauses, restarts the inactivity clock, and the superseded step timer does nothing', () => {
      const run = new Run().startAbandoned().sendStep('m0');
      const stepTimer = run.state.timer!;
      const edit = at(ABANDONED, 2 * HOUR);
      expect(run.send(activity(edit, cart({ value: '120.00' })))).toEqual([
        expect.objectContaining({ type: 'recovery.paused', reason: 'cart-activity' }),
        expect.objectContaining({ type: 'recovery.activity-recorded' }),
        expect.objectContaining({ type: 'recovery.timer-scheduled', purpose: 'abandonment', dueAt: at(edit, HOUR) }),
      ]);
      spec
        .given(run.log)
        .when({ type: 'TimerFired', timerId: stepTimer.timerId, dueAt: stepTimer.dueAt, now: stepTimer.dueAt })
        .thenNothing();
    });

    it('resumes on the next abandonment with the next step, counted from the new abandonment', () => {
      const run = new Run().startAbandoned().sendStep('m0');
      const edit = at(ABANDONED, 2 * HOUR);
      run.send(activity(edit));
      const reAbandoned = at(edit, HOUR);
      expect(run.fire()).toEqual([
        expect.objectContaining({ type: 'recovery.abandoned-again', abandonedAt: reAbandoned }),
        expect.objectContaining({ type: 'recovery.resumed', cause: 're-abandoned' }),
        expect.objectContaining({ type: 'recovery.timer-scheduled', step: 1, dueAt: at(reAbandoned, 6 * HOUR) }),
      ]);
    });
  });

  describe('opt-out and deletion', () => {
    it('opt-out mid-sequence ends the recovery; the pending step timer does nothing', () => {
      const run = new Run().startAbandoned().sendStep('m0');
      const timer = run.state.timer!;
      expect(types(run.send({ type: 'ConsentRevoked', channel: 'email', at: at(ABANDONED, HOUR) }))).toEqual([
        'recovery.channel-revoked',
        'recovery.ended',
      ]);
      expect(run.state.endReason).toBe('opted-out');
      spec
        .given(run.log)
        .when({ type: 'TimerFired', timerId: timer.timerId, dueAt: timer.dueAt, now: timer.dueAt })
        .thenNothing();
    });

    it('revoking SMS only keeps a recovery that can still email', () => {
      const run = new Run().startAbandoned(cart({ reach: { email: true, sms: true } }));
      spec
        .given(run.log)
        .when({ type: 'ConsentRevoked', channel: 'sms', at: ABANDONED })
        .thenMatches([{ type: 'recovery.channel-revoked', data: { channel: 'sms' } }]);
    });

    it('a deleted cart ends the recovery', () => {
      const run = new Run().startAbandoned();
      spec
        .given(run.log)
        .when({ type: 'CartDeleted', at: ABANDONED })
        .thenMatches([{ type: 'recovery.ended', data: { reason: 'deleted' } }]);
    });
  });

  describe('holdout, shadow mode and rollout', () => {
    it('holdout: assigned from the random input, recorded, receives nothing, completes as holdout', () => {
      const run = new Run();
      run.send(activity(T0));
      const events = run.fire(undefined, start(0.05));
      expect(types(events)).toEqual([
        'recovery.started',
        'recovery.segmented',
        'recovery.features-recorded',
        'recovery.sequence-selected',
        'recovery.assigned-holdout',
        'recovery.timer-scheduled',
      ]);
      expect(events[4]).toMatchObject({ random: 0.05, holdoutPercent: 10 });
      expect(run.state.timer).toMatchObject({ purpose: 'holdout-end', dueAt: at(ABANDONED, 72 * HOUR + 5 * DAY) });
      run.send(activity(at(ABANDONED, HOUR)));
      expect(types(run.fire())).toEqual(['recovery.ended']);
      expect(run.state.endReason).toBe('holdout-completed');
      expect(run.events.some((e) => e.type === 'recovery.step-due')).toBe(false);
    });

    it('holdout: a purchase is still recorded (for the measurement)', () => {
      const run = new Run();
      run.send(activity(T0));
      run.fire(undefined, start(0));
      spec
        .given(run.log)
        .when({ type: 'CartPurchased', orderId: 'o', at: at(ABANDONED, DAY) })
        .thenMatches([{ type: 'recovery.ended', data: { reason: 'purchased' } }]);
    });

    it('shadow mode: steps still become due, marked shadow, so every decision is recorded', () => {
      const run = new Run({ shadowMode: true }).startAbandoned();
      expect(run.fire()).toEqual([
        expect.objectContaining({ type: 'recovery.step-due', mode: { kind: 'shadow', reason: 'shadow-mode' } }),
      ]);
    });

    it.each([
      [0.1, 'live'],
      [0.549, 'live'],
      [0.55, 'shadow'],
      [0.99, 'shadow'],
    ] as const)('rollout 50%%: random %p runs %s', (random, kind) => {
      const run = new Run({ rolloutPercent: 50 }).startAbandoned(cart(), start(random));
      expect(run.state.mode?.kind).toBe(kind);
    });
  });
});

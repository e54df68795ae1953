import { DeciderSpecification } from '@reclaim/testing';
import { DAY, HOUR, MINUTE, RecoveryInputError } from '../time';
import { createRecoveryDecider } from '../process-manager';
import { recoveryConfig } from '../config';
import type { RecoveryEvent } from '../recovery.messages';
import { activity, at, cart, CART, newCustomer, RID, Run, SHOP, start, T0, types } from './fixtures';

/** The given/when/then of every decider, for the default recovery decider. */
const spec = DeciderSpecification.for(createRecoveryDecider());

const ABANDONED = at(T0, HOUR);

describe('recovery process manager', () => {
  describe('detection', () => {
    it('given nothing, when a reachable cart is active, then an abandonment check is scheduled ABANDON_AFTER later', () => {
      spec
        .given([])
        .when(activity(T0))
        .thenMatches([
          {
            type: 'recovery.activity-recorded',
            schemaVersion: 1,
            data: { recoveryId: RID, shopId: SHOP, cartId: CART },
          },
          {
            type: 'recovery.timer-scheduled',
            data: { timerId: `${RID}/timer-1`, dueAt: ABANDONED, purpose: 'abandonment' },
          },
        ]);
    });

    it('given a cart without any contact, when it is active, then no abandonment check is scheduled', () => {
      spec
        .given([])
        .when(activity(T0, cart({ reach: { email: false, sms: false } })))
        .thenMatches([{ type: 'recovery.activity-recorded' }]);
    });

    it('given an active cart, when the abandonment timer fires, then the recovery starts, is segmented and step 0 is scheduled', () => {
      const run = new Run();
      run.send(activity(T0));
      spec
        .given(run.log)
        .when({ type: 'TimerFired', timerId: `${RID}/timer-1`, dueAt: ABANDONED, now: ABANDONED, start: start(0.5) })
        .thenMatches([
          {
            type: 'recovery.started',
            data: { abandonedAt: ABANDONED, source: 'inactivity', holdout: false, mode: { kind: 'live' }, random: 0.5 },
          },
          { type: 'recovery.segmented' },
          { type: 'recovery.sequence-selected', data: { sequenceId: 'welcome', sequenceVersion: 1 } },
          { type: 'recovery.timer-scheduled', data: { purpose: 'step', step: 0, dueAt: ABANDONED } },
        ]);
    });

    it('records the segmentation with its inputs', () => {
      const run = new Run().startAbandoned();
      const segmented = run.events.find((e) => e.type === 'recovery.segmented');
      expect(segmented).toMatchObject({
        segmentation: {
          segments: ['new'],
          customer: newCustomer,
          cart: { value: '80.00', categories: ['shoes'], itemCount: 2, device: 'unknown', hourOfDay: 17 },
          thresholds: { highValueCart: '200' },
        },
      });
    });

    it('given a new activity, when the superseded abandonment timer fires, then nothing happens', () => {
      const run = new Run();
      run.send(activity(T0));
      run.send(activity(at(T0, 30 * MINUTE)));
      spec
        .given(run.log)
        .when({ type: 'TimerFired', timerId: `${RID}/timer-1`, dueAt: ABANDONED, now: ABANDONED, start: start() })
        .thenNothing();
    });

    it('given an active cart, when BigCommerce reports it abandoned, then the recovery starts at once', () => {
      const run = new Run();
      run.send(activity(T0));
      const now = at(T0, 10 * MINUTE);
      spec
        .given(run.log)
        .when({ type: 'CartAbandonedByPlatform', shopId: SHOP, cartId: CART, at: now, start: start() })
        .thenMatches([
          { type: 'recovery.started', data: { source: 'platform', abandonedAt: now } },
          { type: 'recovery.segmented' },
          { type: 'recovery.sequence-selected' },
          { type: 'recovery.timer-scheduled', data: { purpose: 'step', step: 0, dueAt: now } },
        ]);
    });

    it('given no stream, when BigCommerce reports an abandoned cart with its content, then it is recorded and started', () => {
      const events = spec
        .given([])
        .when({ type: 'CartAbandonedByPlatform', shopId: SHOP, cartId: CART, at: T0, cart: cart(), start: start() })
        .thenMatches([
          { type: 'recovery.activity-recorded' },
          { type: 'recovery.started' },
          { type: 'recovery.segmented' },
          { type: 'recovery.sequence-selected' },
          { type: 'recovery.timer-scheduled' },
        ]);
      expect(events.every((e) => e.data.recoveryId === RID)).toBe(true);
    });

    it('given a started recovery, when the platform reports it abandoned again, then nothing happens', () => {
      const run = new Run().startAbandoned();
      spec
        .given(run.log)
        .when({ type: 'CartAbandonedByPlatform', shopId: SHOP, cartId: CART, at: at(T0, 2 * HOUR), start: start() })
        .thenNothing();
    });

    it('given an abandonment timer, when it fires without a start context, then the input is rejected', () => {
      const run = new Run();
      run.send(activity(T0));
      spec
        .given(run.log)
        .when({ type: 'TimerFired', timerId: `${RID}/timer-1`, dueAt: ABANDONED, now: ABANDONED })
        .thenThrows(RecoveryInputError, (e) => /start context/.test(e.message));
    });
  });

  describe('steps', () => {
    it('given step 0 scheduled, when its timer fires, then the step is due with its definition and mode', () => {
      const run = new Run().startAbandoned();
      spec
        .given(run.log)
        .when({ type: 'TimerFired', timerId: `${RID}/timer-2`, dueAt: ABANDONED, now: at(ABANDONED, 5_000) })
        .thenMatches([
          {
            type: 'recovery.step-due',
            data: {
              step: 0,
              attempt: 1,
              dueAt: ABANDONED,
              sequenceId: 'welcome',
              mode: { kind: 'live' },
              definition: expect.objectContaining({ index: 0, discountPercent: 0, template: 'welcome-0' }),
            },
          },
        ]);
    });

    it('given a step due, when it was sent, then the next step is scheduled from abandonment (6h)', () => {
      const run = new Run().startAbandoned();
      run.fire();
      spec
        .given(run.log)
        .when({
          type: 'StepOutcome',
          step: 0,
          channel: 'email',
          at: at(ABANDONED, MINUTE),
          outcome: { kind: 'sent', messageId: 'm-0' },
        })
        .thenMatches([
          { type: 'recovery.message-sent', data: { step: 0, channel: 'email', idempotencyKey: `${RID}:step-0:email` } },
          { type: 'recovery.timer-scheduled', data: { purpose: 'step', step: 1, dueAt: at(ABANDONED, 6 * HOUR) } },
        ]);
    });

    it('runs the default sequence 0h, 6h, 24h, 72h and completes after the last step', () => {
      const run = new Run().startAbandoned().sendStep('m0').sendStep('m1').sendStep('m2').sendStep('m3');
      const dues = run.events.filter((e) => e.type === 'recovery.step-due');
      expect(dues.map((e) => e.dueAt)).toEqual([
        ABANDONED,
        at(ABANDONED, 6 * HOUR),
        at(ABANDONED, 24 * HOUR),
        at(ABANDONED, 72 * HOUR),
      ]);
      expect(dues.map((e) => e.definition.discountPercent)).toEqual([0, 5, 10, 15]);
      expect(run.state.timer).toMatchObject({ purpose: 'completion' });
      expect(types(run.fire())).toEqual(['recovery.ended']);
      expect(run.state).toMatchObject({ status: 'ended', endReason: 'completed' });
    });

    it('given a step skipped by the pre-send checks, then the skip is recorded and the next step scheduled', () => {
      const run = new Run().startAbandoned();
      run.fire();
      spec
        .given(run.log)
        .when({
          type: 'StepOutcome',
          step: 0,
          at: ABANDONED,
          outcome: { kind: 'skipped', reason: 'all-out-of-stock' },
        })
        .thenMatches([
          { type: 'recovery.step-skipped', data: { step: 0, reason: 'all-out-of-stock' } },
          { type: 'recovery.timer-scheduled', data: { purpose: 'step', step: 1 } },
        ]);
    });

    it('given a step deferred by quiet hours, then the same step is scheduled again at the allowed time', () => {
      const run = new Run().startAbandoned();
      run.fire();
      const until = at(ABANDONED, 9 * HOUR);
      spec
        .given(run.log)
        .when({
          type: 'StepOutcome',
          step: 0,
          channel: 'sms',
          at: ABANDONED,
          outcome: { kind: 'deferred', until, reason: 'quiet-hours' },
        })
        .thenMatches([
          { type: 'recovery.step-deferred', data: { step: 0, until, reason: 'quiet-hours' } },
          { type: 'recovery.timer-scheduled', data: { purpose: 'step', step: 0, dueAt: until } },
        ]);
    });

    it('R8: given a timer fired before its due time (clock skew), then it is requested again, nothing becomes due', () => {
      const run = new Run().startAbandoned().sendStep('m0');
      const timer = run.state.timer!;
      spec
        .given(run.log)
        .when({ type: 'TimerFired', timerId: timer.timerId, dueAt: timer.dueAt, now: at(timer.dueAt, -10 * MINUTE) })
        .thenMatches([{ type: 'recovery.timer-scheduled', data: { dueAt: timer.dueAt, purpose: 'step', step: 1 } }]);
    });
  });

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
        'recovery.sequence-selected',
        'recovery.assigned-holdout',
        'recovery.timer-scheduled',
      ]);
      expect(events[3]).toMatchObject({ random: 0.05, holdoutPercent: 10 });
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

  describe('crash between send and record (R2)', () => {
    const unknownAfterSend = () => {
      const run = new Run().startAbandoned();
      run.fire();
      run.send({ type: 'StepOutcome', step: 0, channel: 'email', at: ABANDONED, outcome: { kind: 'unknown' } });
      return run;
    };

    it('an unknown outcome requests reconciliation and schedules nothing to send', () => {
      const run = new Run().startAbandoned();
      run.fire();
      spec
        .given(run.log)
        .when({ type: 'StepOutcome', step: 0, channel: 'email', at: ABANDONED, outcome: { kind: 'unknown' } })
        .thenMatches([
          { type: 'recovery.outcome-unknown', data: { idempotencyKey: `${RID}:step-0:email` } },
          { type: 'recovery.reconciliation-requested', data: { step: 0, channel: 'email', attempt: 1 } },
        ]);
    });

    it('a late duplicate outcome or timer while reconciling does not resend', () => {
      const run = unknownAfterSend();
      expect(run.state.timer).toBeUndefined();
      spec
        .given(run.log)
        .when({ type: 'StepOutcome', step: 0, channel: 'email', at: ABANDONED, outcome: { kind: 'unknown' } })
        .thenNothing();
      spec
        .given(run.log)
        .when({ type: 'TimerFired', timerId: `${RID}/timer-2`, dueAt: ABANDONED, now: ABANDONED })
        .thenNothing();
    });

    it('reconciled as sent: recorded as sent, no resend, next step scheduled', () => {
      spec
        .given(unknownAfterSend().log)
        .when({
          type: 'ReconciliationResult',
          step: 0,
          channel: 'email',
          at: ABANDONED,
          result: { kind: 'sent', messageId: 'm' },
        })
        .thenMatches([
          { type: 'recovery.reconciled', data: { result: 'sent' } },
          { type: 'recovery.message-sent', data: { step: 0, reconciled: true } },
          { type: 'recovery.timer-scheduled', data: { purpose: 'step', step: 1 } },
        ]);
    });

    it('only "not sent" permits a resend, with the same idempotency key, as attempt 2', () => {
      const run = unknownAfterSend();
      run.send({
        type: 'ReconciliationResult',
        step: 0,
        channel: 'email',
        at: ABANDONED,
        result: { kind: 'not-sent' },
      });
      expect(run.state.timer).toMatchObject({ purpose: 'retry', step: 0, dueAt: ABANDONED });
      expect(run.fire()).toEqual([expect.objectContaining({ type: 'recovery.step-due', step: 0, attempt: 2 })]);
    });

    it('still unknown: asks again later, then dead-letters after the budget', () => {
      const run = unknownAfterSend();
      for (let i = 0; i < 4; i++) {
        run.send({
          type: 'ReconciliationResult',
          step: 0,
          channel: 'email',
          at: ABANDONED,
          result: { kind: 'unknown' },
        });
        expect(run.fire()).toEqual([
          expect.objectContaining({ type: 'recovery.reconciliation-requested', attempt: i + 2 }),
        ]);
      }
      expect(
        types(
          run.send({
            type: 'ReconciliationResult',
            step: 0,
            channel: 'email',
            at: ABANDONED,
            result: { kind: 'unknown' },
          }),
        ),
      ).toEqual(['recovery.reconciled', 'recovery.dead-lettered', 'recovery.timer-scheduled']);
      expect(run.events.filter((e) => e.type === 'recovery.step-due')).toHaveLength(1);
    });
  });

  describe('retries (R7)', () => {
    it('honours Retry-After when longer than the backoff', () => {
      const run = new Run().startAbandoned();
      run.fire();
      spec
        .given(run.log)
        .when({
          type: 'StepOutcome',
          step: 0,
          channel: 'email',
          at: ABANDONED,
          outcome: { kind: 'failed', retryable: true, retryAfterMs: 30 * MINUTE },
        })
        .thenMatches([
          { type: 'recovery.message-failed', data: { attempt: 1, retryAt: at(ABANDONED, 30 * MINUTE) } },
          { type: 'recovery.timer-scheduled', data: { purpose: 'retry', step: 0, dueAt: at(ABANDONED, 30 * MINUTE) } },
        ]);
    });

    it('backs off exponentially and dead-letters when the budget (5) is spent, then moves on', () => {
      const run = new Run().startAbandoned();
      const retryAts: string[] = [];
      let last: RecoveryEvent[] = [];
      for (let attempt = 1; attempt <= 5; attempt++) {
        const due = run.fire();
        expect(due).toEqual([expect.objectContaining({ type: 'recovery.step-due', attempt })]);
        last = run.send({
          type: 'StepOutcome',
          step: 0,
          channel: 'email',
          at: due[0].at,
          outcome: { kind: 'failed', retryable: true, error: '503' },
        });
        const failed = last.find((e) => e.type === 'recovery.message-failed');
        if (failed?.retryAt !== undefined) retryAts.push(failed.retryAt);
      }
      expect(retryAts).toEqual([
        at(ABANDONED, MINUTE),
        at(ABANDONED, 3 * MINUTE),
        at(ABANDONED, 7 * MINUTE),
        at(ABANDONED, 15 * MINUTE),
      ]);
      expect(last).toEqual([
        expect.objectContaining({ type: 'recovery.message-failed', attempt: 5 }),
        expect.objectContaining({ type: 'recovery.dead-lettered', attempts: 5, reason: 'retry-budget-exhausted' }),
        expect.objectContaining({ type: 'recovery.timer-scheduled', step: 1 }),
      ]);
    });

    it('a non-retryable failure is dead-lettered at once', () => {
      const run = new Run().startAbandoned();
      run.fire();
      spec
        .given(run.log)
        .when({
          type: 'StepOutcome',
          step: 0,
          channel: 'email',
          at: ABANDONED,
          outcome: { kind: 'failed', retryable: false },
        })
        .thenMatches([
          { type: 'recovery.message-failed', data: { retryable: false } },
          { type: 'recovery.dead-lettered', data: { reason: 'not-retryable', attempts: 1 } },
          { type: 'recovery.timer-scheduled', data: { step: 1 } },
        ]);
    });
  });

  describe('tickets', () => {
    const big = cart({ value: '250.00', items: [{ lineId: 'l', productId: 'p', quantity: 1, unitPrice: '250.00' }] });

    it('a cart at or above TICKET_THRESHOLD requests one ticket (premium sequence)', () => {
      const run = new Run();
      run.send(activity(T0, big));
      expect(types(run.fire())).toEqual([
        'recovery.started',
        'recovery.segmented',
        'recovery.sequence-selected',
        'recovery.ticket-requested',
        'recovery.timer-scheduled',
      ]);
      expect(run.events.find((e) => e.type === 'recovery.ticket-requested')).toMatchObject({
        idempotencyKey: `${RID}:ticket`,
      });
      expect(run.state.sequence?.id).toBe('premium');
    });

    it('only one ticket per cart, even across a pause and re-abandonment', () => {
      const run = new Run();
      run.send(activity(T0, big));
      run.fire();
      run.send(activity(at(ABANDONED, MINUTE), big));
      run.fire();
      expect(run.events.filter((e) => e.type === 'recovery.ticket-requested')).toHaveLength(1);
    });

    it('with pauseWhileTicketOpen, an open ticket pauses sends and closing it resumes them', () => {
      const run = new Run({ pauseWhileTicketOpen: true }).startAbandoned(big).sendStep('m0');
      expect(types(run.send({ type: 'TicketOpened', ticketId: 't-1', at: at(ABANDONED, HOUR) }))).toEqual([
        'recovery.ticket-opened',
        'recovery.paused',
      ]);
      expect(run.state.timer).toBeUndefined();
      expect(run.send({ type: 'TicketClosed', ticketId: 't-1', at: at(ABANDONED, 2 * HOUR) })).toEqual([
        expect.objectContaining({ type: 'recovery.ticket-closed' }),
        expect.objectContaining({ type: 'recovery.resumed', cause: 'ticket-closed' }),
        expect.objectContaining({ type: 'recovery.timer-scheduled', step: 1, dueAt: at(ABANDONED, 6 * HOUR) }),
      ]);
    });

    it('without the option, an open ticket is only recorded', () => {
      const run = new Run().startAbandoned(big);
      spec
        .given(run.log)
        .when({ type: 'TicketOpened', ticketId: 't-1', at: ABANDONED })
        .thenMatches([{ type: 'recovery.ticket-opened', data: { ticketId: 't-1' } }]);
    });
  });

  it('keeps the sequence version it started with', () => {
    const run = new Run().startAbandoned();
    const decider = createRecoveryDecider(recoveryConfig({ followUpDelaysMs: [HOUR] }));
    run.sendStep('m0');
    DeciderSpecification.for(decider)
      .given(run.log)
      .when({
        type: 'TimerFired',
        timerId: run.state.timer!.timerId,
        dueAt: run.state.timer!.dueAt,
        now: run.state.timer!.dueAt,
      })
      .thenMatches([{ type: 'recovery.step-due', data: { step: 1, dueAt: at(ABANDONED, 6 * HOUR) } }]);
  });
});

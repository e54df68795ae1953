import { DeciderSpecification } from '@reclaim/testing';
import { HOUR, MINUTE, RecoveryInputError } from '../time';
import { createRecoveryDecider } from '../process-manager';
import { activity, at, cart, CART, newCustomer, RID, Run, SHOP, start, T0, types } from './fixtures';

/** The given/when/then of every decider, for the default recovery decider. */
const spec = DeciderSpecification.for(createRecoveryDecider());

const ABANDONED = at(T0, HOUR);

// The recovery process manager's specification, part: detection and steps.
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
          { type: 'recovery.features-recorded', data: { featureSchema: 1 } },
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

    it('records the features known at abandonment, from the same facts as the segmentation', () => {
      const run = new Run().startAbandoned();
      const recorded = run.events.find((e) => e.type === 'recovery.features-recorded');
      expect(recorded).toMatchObject({
        featureSchema: 1,
        features: {
          cart_value: '80.00',
          item_count: 2,
          categories: 'shoes',
          returning: false,
          orders_count: 0,
          device: 'unknown',
          local_hour: 17,
          days_since_last_purchase: null,
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
          { type: 'recovery.features-recorded', data: { featureSchema: 1 } },
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
          { type: 'recovery.features-recorded', data: { featureSchema: 1 } },
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

    it('given a step deferred because the store API is unreachable, then the deferral keeps its detail and the step is scheduled again', () => {
      const run = new Run().startAbandoned();
      run.fire();
      const until = at(ABANDONED, 2 * MINUTE);
      const detail = 'store API unreachable (getaddrinfo ENOTFOUND shop.example.invalid)';
      spec
        .given(run.log)
        .when({
          type: 'StepOutcome',
          step: 0,
          at: ABANDONED,
          outcome: { kind: 'deferred', until, reason: 'store-unavailable', detail },
        })
        .thenMatches([
          { type: 'recovery.step-deferred', data: { step: 0, until, reason: 'store-unavailable', detail } },
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
});

import { DeciderSpecification } from '@reclaim/testing';
import { HOUR, MINUTE } from '../time';
import { createRecoveryDecider } from '../process-manager';
import { recoveryConfig } from '../config';
import type { RecoveryEvent } from '../recovery.messages';
import { activity, at, cart, RID, Run, T0, types } from './fixtures';

/** The given/when/then of every decider, for the default recovery decider. */
const spec = DeciderSpecification.for(createRecoveryDecider());

const ABANDONED = at(T0, HOUR);

// The recovery process manager's specification, part: crashes, retries, tickets, versions.
describe('recovery process manager', () => {
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
        'recovery.features-recorded',
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

    const lookup = (atIso: string, concerning: { ticketId: string }[], trigger: 'send' | 'webhook' = 'webhook') =>
      ({
        type: 'RecordSupportLookup',
        at: atIso,
        source: 'zendesk',
        trigger,
        result: {
          kind: 'found',
          openTickets: concerning.length,
          concerning: concerning.map((c) => ({ ...c, concern: 'product' as const, productIds: ['p'] })),
        },
      }) as const;

    it("the appliance's own ticket never switches the copy nor pauses, even with pauseWhileTicketOpen", () => {
      const run = new Run({ pauseWhileTicketOpen: true }).startAbandoned(big).sendStep('m0');
      expect(types(run.send({ type: 'TicketOpened', ticketId: 't-1', at: at(ABANDONED, HOUR) }))).toEqual([
        'recovery.ticket-opened',
      ]);
      expect(run.state.timer).toMatchObject({ step: 1 });
      expect(run.state.customerTickets).toEqual([]);
      expect(types(run.send({ type: 'TicketClosed', ticketId: 't-1', at: at(ABANDONED, 2 * HOUR) }))).toEqual([
        'recovery.ticket-closed',
      ]);
    });

    it("with pauseWhileTicketOpen, the customer's own ticket pauses sends and its closing resumes them", () => {
      const run = new Run({ pauseWhileTicketOpen: true }).startAbandoned(big).sendStep('m0');
      expect(types(run.send(lookup(at(ABANDONED, HOUR), [{ ticketId: '35436' }])))).toEqual([
        'recovery.support-checked',
        'recovery.customer-ticket-opened',
        'recovery.paused',
      ]);
      expect(run.state.timer).toBeUndefined();
      expect(run.state.customerTickets).toEqual(['zendesk:35436']);
      expect(run.send(lookup(at(ABANDONED, 2 * HOUR), []))).toEqual([
        expect.objectContaining({ type: 'recovery.support-checked', outcome: 'found', openTickets: 0 }),
        expect.objectContaining({ type: 'recovery.customer-ticket-closed', ticketId: '35436', source: 'zendesk' }),
        expect.objectContaining({ type: 'recovery.resumed', cause: 'ticket-closed' }),
        expect.objectContaining({ type: 'recovery.timer-scheduled', step: 1, dueAt: at(ABANDONED, 6 * HOUR) }),
      ]);
    });

    it('a paused step at send time is deferred, and sent after the ticket closes', () => {
      const run = new Run({ pauseWhileTicketOpen: true }).startAbandoned(big);
      run.fire();
      run.send(lookup(ABANDONED, [{ ticketId: '9' }], 'send'));
      run.send({
        type: 'StepOutcome',
        step: 0,
        at: ABANDONED,
        outcome: { kind: 'deferred', until: ABANDONED, reason: 'support-ticket-open' },
      });
      expect(run.state.steps[0].status).toBe('pending');
      expect(run.state.timer).toBeUndefined();
      const resumed = run.send(lookup(at(ABANDONED, HOUR), []));
      expect(resumed.at(-1)).toMatchObject({ type: 'recovery.timer-scheduled', step: 0, dueAt: at(ABANDONED, HOUR) });
    });

    it('without the option, the customer ticket is recorded and nothing pauses', () => {
      const run = new Run().startAbandoned(big).sendStep('m0');
      expect(types(run.send(lookup(at(ABANDONED, HOUR), [{ ticketId: '1' }])))).toEqual([
        'recovery.support-checked',
        'recovery.customer-ticket-opened',
      ]);
      expect(run.state.timer).toMatchObject({ step: 1 });
    });

    it('a lookup that failed is recorded with its reason and changes nothing', () => {
      const run = new Run().startAbandoned(big);
      run.send(lookup(ABANDONED, [{ ticketId: '1' }]));
      spec
        .given(run.log)
        .when({
          type: 'RecordSupportLookup',
          at: at(ABANDONED, HOUR),
          source: 'gorgias',
          trigger: 'send',
          step: 1,
          result: { kind: 'unavailable', reason: 'timeout' },
        })
        .thenMatches([
          { type: 'recovery.support-checked', data: { outcome: 'unavailable', reason: 'timeout', step: 1 } },
        ]);
    });

    it("one desk's answer never closes the other desk's tickets; a repeated answer adds nothing", () => {
      const run = new Run().startAbandoned(big);
      run.send(lookup(ABANDONED, [{ ticketId: '1' }]));
      expect(
        types(
          run.send({
            type: 'RecordSupportLookup',
            at: ABANDONED,
            source: 'gorgias',
            trigger: 'send',
            result: { kind: 'found', openTickets: 0, concerning: [] },
          }),
        ),
      ).toEqual(['recovery.support-checked']);
      expect(types(run.send(lookup(ABANDONED, [{ ticketId: '1' }])))).toEqual(['recovery.support-checked']);
      expect(run.state.customerTickets).toEqual(['zendesk:1']);
    });

    it('is not recorded before the recovery started', () => {
      const run = new Run();
      run.send(activity(T0, big));
      spec
        .given(run.log)
        .when(lookup(T0, [{ ticketId: '1' }]))
        .thenNothing();
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

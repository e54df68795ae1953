import type { RecoveryEvent } from '../recovery.messages';
import { outcomeFromCheck, sentOutcome } from '../outcomes';
import { checkBeforeSend, type SendCheckContext } from '../pre-send';
import { sendFactsFromState } from '../recovery-queries';
import { HOUR } from '../time';
import { activity, at, cart, Run, T0 } from './fixtures';

const ABANDONED = at(T0, HOUR);

/** What the application adds to the process manager's facts at send time. */
const sendTimeFacts = (): Omit<SendCheckContext, keyof ReturnType<typeof sendFactsFromState> | 'now'> => ({
  consent: { email: { status: 'subscribed', source: 'shopify:checkout', at: '2026-01-01T00:00:00.000Z' } },
  ignoredRecoveryMessages: 0,
  stock: [{ lineId: 'l1', available: true, currentUnitPrice: '35.00' }],
});

function dueStep(run: Run): Extract<RecoveryEvent, { type: 'recovery.step-due' }> {
  const due = run.fire().find((e) => e.type === 'recovery.step-due');
  if (due === undefined) throw new Error('no step due');
  return due;
}

describe('step-due → checkBeforeSend → outcome, end to end in the domain', () => {
  it('live: the message-sent event records what was sent and the consent relied on', () => {
    const run = new Run().startAbandoned();
    const due = dueStep(run);
    const decision = checkBeforeSend({ ...sendFactsFromState(run.state, due), ...sendTimeFacts(), now: due.at });
    expect(decision.decision).toBe('send');
    if (decision.decision !== 'send') return;
    const events = run.send({
      type: 'StepOutcome',
      step: due.step,
      channel: decision.channel,
      at: due.at,
      outcome: sentOutcome(decision, 'msg-1'),
    });
    expect(events[0]).toMatchObject({
      type: 'recovery.message-sent',
      idempotencyKey: decision.idempotencyKey,
      sent: {
        cartValue: '70.00',
        priceChanged: true,
        consentUsed: { channel: 'email', basis: 'subscribed', source: 'shopify:checkout' },
      },
    });
  });

  it('shadow: the step is skipped as shadow-mode with the decision that would have been sent', () => {
    const run = new Run({ shadowMode: true }).startAbandoned();
    const due = dueStep(run);
    const result = checkBeforeSend({ ...sendFactsFromState(run.state, due), ...sendTimeFacts(), now: due.at });
    const outcome = outcomeFromCheck(result);
    expect(outcome).toBeDefined();
    const events = run.send({ type: 'StepOutcome', step: due.step, at: due.at, outcome: outcome! });
    expect(events[0]).toMatchObject({
      type: 'recovery.step-skipped',
      reason: 'shadow-mode',
      wouldSend: { channel: 'email', template: { kind: 'sales', id: 'welcome-0' }, cartValue: '70.00' },
    });
    expect(run.events.some((e) => e.type === 'recovery.message-sent')).toBe(false);
  });

  it('a purchase during a payment grace window stops the recovery (R28)', () => {
    const run = new Run();
    run.send(activity(T0, cart({ checkoutStage: 'payment' })));
    run.fire();
    const due = dueStep(run);
    const result = checkBeforeSend({
      ...sendFactsFromState(run.state, due),
      ...sendTimeFacts(),
      now: due.at,
      customerLastOrderAt: at(ABANDONED, 30_000),
    });
    run.send({ type: 'StepOutcome', step: due.step, at: due.at, outcome: outcomeFromCheck(result)! });
    expect(run.state).toMatchObject({ status: 'ended', endReason: 'purchased' });
  });

  it('an SMS step in quiet hours is deferred to the allowed local time and comes due then', () => {
    // Abandoned 16:00Z; the premium sequence asks for SMS. Step 1 (6h) is due at 22:00Z, which is 07:00 in Tokyo:
    // quiet until 08:00 JST (23:00Z).
    const big = cart({
      value: '300.00',
      items: [{ lineId: 'l1', productId: 'p1', quantity: 1, unitPrice: '300.00' }],
      reach: { email: true, sms: true },
      timeZone: 'Asia/Tokyo',
    });
    const run = new Run().startAbandoned(big).sendStep('m0');
    const due = dueStep(run);
    expect(due).toMatchObject({ step: 1, dueAt: at(ABANDONED, 6 * HOUR) });
    const result = checkBeforeSend({
      ...sendFactsFromState(run.state, due),
      ...sendTimeFacts(),
      consent: { sms: { status: 'subscribed', source: 'shopify:sms', at: '2026-01-01T00:00:00.000Z' } },
      now: due.at,
    });
    expect(result).toEqual({
      decision: 'defer',
      until: '2026-03-02T23:00:00.000Z',
      reason: 'quiet-hours',
      channel: 'sms',
      timeZone: 'Asia/Tokyo',
      timeZoneSource: 'address',
    });
    const deferred = run.send({
      type: 'StepOutcome',
      step: 1,
      channel: 'sms',
      at: due.at,
      outcome: outcomeFromCheck(result)!,
    });
    // The deferral names the zone it was read in and where that came from (the customer history's reason).
    expect(deferred).toContainEqual(
      expect.objectContaining({
        type: 'recovery.step-deferred',
        reason: 'quiet-hours',
        timeZone: 'Asia/Tokyo',
        timeZoneSource: 'address',
      }),
    );
    expect(run.state.timer).toMatchObject({ purpose: 'step', step: 1, dueAt: '2026-03-02T23:00:00.000Z' });
    // A deferral is not a send attempt.
    expect(dueStep(run)).toMatchObject({ step: 1, attempt: 1, dueAt: '2026-03-02T23:00:00.000Z' });
  });
});

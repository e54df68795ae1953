import fc from 'fast-check';
import type { RecoveryEvent, RecoveryInput, StepOutcomeResult } from '../recovery.messages';
import { isInsideWindow, nextAllowedTime } from '../quiet-hours';
import { DAY, HOUR, MINUTE, toIso, toMs } from '../time';
import type { Channel } from '../types';
import { activity, cart, CART, Run, SHOP, start, T0 } from './fixtures';

type Action =
  | { kind: 'activity'; advanceMs: number; sms: boolean }
  | { kind: 'fire'; skewMs: number; random: number }
  | { kind: 'fire-old'; pick: number }
  | { kind: 'outcome'; step: number | 'due'; channel: Channel; result: StepOutcomeResult }
  | { kind: 'repeat' }
  | { kind: 'reconcile'; step: number; channel: Channel; result: 'sent' | 'not-sent' | 'unknown' }
  | { kind: 'purchase' }
  | { kind: 'delete' }
  | { kind: 'revoke'; channel: Channel | 'all' }
  | { kind: 'ticket'; open: boolean }
  | { kind: 'platform'; random: number };

/** Uniform in [0, 1) (fc.double is biased towards 0, which would put every run in the holdout). */
const draw = fc.integer({ min: 0, max: 999 }).map((n) => n / 1000);
const channel = fc.constantFrom<Channel>('email', 'sms');
const outcome: fc.Arbitrary<StepOutcomeResult> = fc.oneof(
  fc.string({ minLength: 1, maxLength: 4 }).map((id) => ({ kind: 'sent' as const, messageId: `m-${id}` })),
  fc.record({
    kind: fc.constant('failed' as const),
    retryable: fc.boolean(),
    retryAfterMs: fc.option(fc.integer({ min: 0, max: 2 * HOUR }), { nil: undefined }),
  }),
  fc.constant({ kind: 'unknown' as const }),
  fc.constant({ kind: 'skipped' as const, reason: 'all-out-of-stock' as const }),
  fc.integer({ min: 0, max: 12 * HOUR }).map((ms) => ({
    kind: 'deferred' as const,
    until: toIso(toMs(T0) + 2 * HOUR + ms),
    reason: 'quiet-hours' as const,
  })),
  fc.constant({ kind: 'stopped' as const, reason: 'purchased-elsewhere' as const }),
);

const action: fc.Arbitrary<Action> = fc.oneof(
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('activity' as const),
      advanceMs: fc.integer({ min: 0, max: 3 * HOUR }),
      sms: fc.boolean(),
    }),
  },
  {
    weight: 10,
    arbitrary: fc.record({
      kind: fc.constant('fire' as const),
      skewMs: fc.integer({ min: -10 * MINUTE, max: 10 * MINUTE }),
      random: draw,
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('fire-old' as const), pick: fc.nat() }) },
  {
    weight: 12,
    arbitrary: fc.record({
      kind: fc.constant('outcome' as const),
      step: fc.oneof(
        { weight: 4, arbitrary: fc.constant('due' as const) },
        { weight: 1, arbitrary: fc.integer({ min: 0, max: 4 }) },
      ),
      channel,
      result: outcome,
    }),
  },
  { weight: 2, arbitrary: fc.constant({ kind: 'repeat' as const }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('reconcile' as const),
      step: fc.integer({ min: 0, max: 3 }),
      channel,
      result: fc.constantFrom('sent' as const, 'not-sent' as const, 'unknown' as const),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ kind: 'purchase' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'delete' as const }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('revoke' as const),
      channel: fc.constantFrom<Channel | 'all'>('email', 'sms', 'all'),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('ticket' as const), open: fc.boolean() }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('platform' as const),
      random: draw,
    }),
  },
);

/** Plays the actions against the decider; returns the whole log. */
function play(actions: readonly Action[], pauseWhileTicketOpen: boolean): RecoveryEvent[] {
  const run = new Run({ pauseWhileTicketOpen, holdoutPercent: 10, rolloutPercent: 100 });
  let now = toMs(T0);
  const seenTimers: { timerId: string; dueAt: string }[] = [];
  let last: RecoveryInput | undefined;
  const send = (input: RecoveryInput) => {
    last = input;
    run.send(input);
    const t = run.state.timer;
    if (t) seenTimers.push({ timerId: t.timerId, dueAt: t.dueAt });
  };
  send(activity(toIso(now), cart({ reach: { email: true, sms: true } })));
  for (const a of actions) {
    const iso = toIso(now);
    switch (a.kind) {
      case 'activity':
        now += a.advanceMs + 1;
        send(activity(toIso(now), cart({ reach: { email: true, sms: a.sms } })));
        break;
      case 'fire': {
        const t = run.state.timer;
        if (!t) break;
        now = Math.max(now, toMs(t.dueAt) + a.skewMs);
        send({ type: 'TimerFired', timerId: t.timerId, dueAt: t.dueAt, now: toIso(now), start: start(a.random) });
        break;
      }
      case 'fire-old': {
        const t = seenTimers[a.pick % Math.max(1, seenTimers.length)];
        if (t) send({ type: 'TimerFired', timerId: t.timerId, dueAt: t.dueAt, now: iso, start: start() });
        break;
      }
      case 'outcome': {
        const dueIndex = run.state.steps.findIndex((s) => s.status === 'due');
        const step = a.step === 'due' ? Math.max(0, dueIndex) : a.step;
        send({ type: 'StepOutcome', step, channel: a.channel, at: iso, outcome: a.result });
        break;
      }
      case 'repeat':
        if (last) send(last);
        break;
      case 'reconcile': {
        const result =
          a.result === 'sent'
            ? { kind: 'sent' as const, messageId: 'r' }
            : { kind: a.result as 'not-sent' | 'unknown' };
        send({ type: 'ReconciliationResult', step: a.step, channel: a.channel, at: iso, result });
        break;
      }
      case 'purchase':
        send({ type: 'CartPurchased', orderId: 'o-1', at: iso });
        break;
      case 'delete':
        send({ type: 'CartDeleted', at: iso });
        break;
      case 'revoke':
        send({ type: 'ConsentRevoked', channel: a.channel, at: iso });
        break;
      case 'ticket':
        // The customer's own ticket about the cart opens or closes (the appliance's own never pauses).
        send({
          type: 'RecordSupportLookup',
          at: iso,
          source: 'zendesk',
          trigger: 'webhook',
          result: {
            kind: 'found',
            openTickets: a.open ? 1 : 0,
            concerning: a.open ? [{ ticketId: 't-1', concern: 'product', productIds: ['p'] }] : [],
          },
        });
        break;
      case 'platform':
        send({ type: 'CartAbandonedByPlatform', shopId: SHOP, cartId: CART, at: iso, start: start(a.random) });
        break;
    }
  }
  return run.events;
}

describe('recovery invariants (property-based)', () => {
  it('for any interleaving: at most one message-sent per (step, channel), none after the end, never early', () => {
    fc.assert(
      fc.property(fc.array(action, { maxLength: 80 }), fc.boolean(), (actions, pause) => {
        const events = play(actions, pause);
        const sent = new Set<string>();
        const sentSteps = new Set<number>();
        let ended = false;
        for (const e of events) {
          if (ended) expect(e.type).toBe('recovery.late-outcome');
          if (e.type === 'recovery.ended') ended = true;
          if (e.type === 'recovery.message-sent') {
            const key = `${e.step}/${e.channel}`;
            expect(sent.has(key)).toBe(false);
            expect(sentSteps.has(e.step)).toBe(false);
            sent.add(key);
            sentSteps.add(e.step);
          }
          if (e.type === 'recovery.step-due') {
            expect(toMs(e.at)).toBeGreaterThanOrEqual(toMs(e.dueAt));
            expect(sentSteps.has(e.step)).toBe(false);
          }
        }
        const holdout = events.some((e) => e.type === 'recovery.assigned-holdout');
        if (holdout) expect(events.some((e) => e.type === 'recovery.step-due')).toBe(false);
      }),
      { numRuns: 400 },
    );
  });

  it('the generated interleavings do reach sends, reconciliations, dead letters and purchases (not vacuous)', () => {
    const logs = fc.sample(fc.tuple(fc.array(action, { maxLength: 80 }), fc.boolean()), { numRuns: 500, seed: 42 });
    const seen = new Set(logs.flatMap(([actions, pause]) => play(actions, pause).map((e) => e.type)));
    for (const type of [
      'recovery.message-sent',
      'recovery.reconciliation-requested',
      'recovery.dead-lettered',
      'recovery.paused',
      'recovery.assigned-holdout',
      'recovery.late-outcome',
      'recovery.ended',
    ] as const) {
      expect(seen).toContain(type);
    }
  });

  it('an outcome-unknown step is never due again without a "not-sent" reconciliation', () => {
    fc.assert(
      fc.property(fc.array(action, { maxLength: 80 }), (actions) => {
        const events = play(actions, false);
        const uncertain = new Set<number>();
        for (const e of events) {
          if (e.type === 'recovery.outcome-unknown') uncertain.add(e.step);
          if (e.type === 'recovery.reconciled' && e.result === 'not-sent') uncertain.delete(e.step);
          if (e.type === 'recovery.step-due') expect(uncertain.has(e.step)).toBe(false);
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('quiet hours (property-based)', () => {
  const zones = ['America/New_York', 'Europe/Berlin', 'Asia/Kolkata', 'Australia/Lord_Howe', 'Pacific/Chatham', 'UTC'];
  it('the next allowed time is inside the window, not before now, and within a day', () => {
    const window = { fromMinute: 8 * 60, toMinute: 21 * 60 };
    fc.assert(
      fc.property(
        fc.integer({ min: Date.UTC(2025, 0, 1), max: Date.UTC(2028, 0, 1) }),
        fc.constantFrom(...zones),
        (ms, zone) => {
          const next = nextAllowedTime(ms, zone, window);
          expect(next).toBeGreaterThanOrEqual(ms);
          expect(next - ms).toBeLessThanOrEqual(DAY);
          expect(isInsideWindow(next, zone, window)).toBe(true);
          if (next > ms) expect(isInsideWindow(next - MINUTE, zone, window)).toBe(false);
        },
      ),
      { numRuns: 500 },
    );
  });
});

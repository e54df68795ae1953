import { checkBeforeSend } from '../pre-send';
import { sentOutcome } from '../outcomes';
import { sendFactsFromState } from '../recovery-queries';
import type { RecoveryEvent } from '../recovery.messages';
import type { SoldOutLine } from '../alternatives';
import { engagementStatus } from '../process-manager';
import { cart, Run, types } from './fixtures';

const twoLines = cart({
  value: '100.00',
  items: [
    { lineId: 'l1', productId: 'p1', variantId: 'v1', quantity: 2, unitPrice: '40.00' },
    { lineId: 'l2', productId: 'p2', quantity: 1, unitPrice: '20.00' },
  ],
});

const soldOutL1: SoldOutLine = {
  lineId: 'l1',
  productId: 'p1',
  variantId: 'v1',
  quantity: 2,
  lookup: 'none',
  considered: [],
};

/** Step 0 due; the store answers l1 sold out without an alternative; the message announcing it goes out. */
function announced(): Run {
  const run = new Run().startAbandoned(twoLines);
  const due = run
    .fire()
    .find((e): e is Extract<RecoveryEvent, { type: 'recovery.step-due' }> => e.type === 'recovery.step-due');
  if (due === undefined) throw new Error('no step due');
  expect(types(run.send({ type: 'RecordAlternatives', at: due.at, step: 0, lines: [soldOutL1] }))).toEqual([
    'recovery.alternatives-checked',
  ]);
  const decision = checkBeforeSend({
    ...sendFactsFromState(run.state, due),
    consent: { email: { status: 'subscribed', source: 'shopify:checkout' } },
    ignoredRecoveryMessages: 0,
    stock: [{ lineId: 'l1', available: false }],
    now: due.at,
  });
  if (decision.decision !== 'send') throw new Error(`expected a send, got ${decision.decision}`);
  expect(decision.leftOut).toEqual(['l1']);
  const events = run.send({
    type: 'StepOutcome',
    step: 0,
    channel: 'email',
    at: due.at,
    outcome: sentOutcome(decision, 'msg-0'),
  });
  expect(types(events)).toEqual([
    'recovery.message-sent',
    'recovery.timer-scheduled',
    'recovery.back-in-stock-watched',
  ]);
  expect(events[2]).toMatchObject({ step: 0, lineId: 'l1', productId: 'p1', variantId: 'v1' });
  return run;
}

describe('back in stock: a line announced as sold out is watched, and one message follows its restock', () => {
  it('watches only lines the sent message named as sold out', () => {
    const run = announced();
    expect(run.state.watches).toEqual([{ lineId: 'l1', productId: 'p1', variantId: 'v1', status: 'watching' }]);
  });

  it('the store reporting the watched variant back asks for the message; other products and variants do not', () => {
    const run = announced();
    const at = '2026-03-03T09:00:00.000Z';
    expect(run.send({ type: 'RestockReported', at, productId: 'p2', available: true, variants: [] })).toEqual([]);
    expect(
      run.send({ type: 'RestockReported', at, productId: 'p1', variants: [{ variantId: 'v1', available: false }] }),
    ).toEqual([]);
    expect(run.send({ type: 'RestockReported', at, productId: 'p1', available: false, variants: [] })).toEqual([]);
    const due = run.send({
      type: 'RestockReported',
      at,
      productId: 'p1',
      variants: [
        { variantId: 'v9', available: false },
        { variantId: 'v1', available: true },
      ],
    });
    expect(due).toEqual([
      expect.objectContaining({ type: 'recovery.back-in-stock-due', lineId: 'l1', productId: 'p1' }),
    ]);
    // Asked once: a second report while the message is due asks nothing more.
    expect(run.send({ type: 'RestockReported', at, productId: 'p1', available: true, variants: [] })).toEqual([]);
  });

  it('still sold out keeps watching; sent ends the watch; a skip for consent closes it', () => {
    const run = announced();
    const at = '2026-03-03T09:00:00.000Z';
    run.send({ type: 'RestockReported', at, productId: 'p1', available: true, variants: [] });
    expect(
      types(
        run.send({
          type: 'BackInStockOutcome',
          at,
          lineId: 'l1',
          outcome: { kind: 'skipped', reason: 'still-sold-out' },
        }),
      ),
    ).toEqual(['recovery.back-in-stock-skipped']);
    expect(run.state.watches?.[0]?.status).toBe('watching');
    run.send({ type: 'RestockReported', at, productId: 'p1', available: true, variants: [] });
    expect(
      run.send({
        type: 'BackInStockOutcome',
        at,
        lineId: 'l1',
        outcome: { kind: 'deferred', until: '2026-03-03T10:00:00.000Z', reason: 'quiet-hours' },
      }),
    ).toEqual([expect.objectContaining({ type: 'recovery.back-in-stock-deferred', reason: 'quiet-hours' })]);
    expect(run.state.watches?.[0]?.status).toBe('due');
    const sent = run.send({
      type: 'BackInStockOutcome',
      at,
      lineId: 'l1',
      outcome: { kind: 'sent', step: 1000, channel: 'email', messageId: 'msg-bis' },
    });
    expect(sent).toEqual([
      expect.objectContaining({ type: 'recovery.back-in-stock-sent', step: 1000, messageId: 'msg-bis' }),
    ]);
    expect(run.state.watches?.[0]?.status).toBe('notified');
    // Never twice.
    expect(run.send({ type: 'RestockReported', at, productId: 'p1', available: true, variants: [] })).toEqual([]);

    const other = announced();
    other.send({ type: 'RestockReported', at, productId: 'p1', available: true, variants: [] });
    other.send({ type: 'BackInStockOutcome', at, lineId: 'l1', outcome: { kind: 'skipped', reason: 'unsubscribed' } });
    expect(other.state.watches?.[0]?.status).toBe('closed');
  });

  it('no message after the cart was bought', () => {
    const run = announced();
    run.send({ type: 'CartPurchased', orderId: 'o1', at: '2026-03-03T08:00:00.000Z' });
    expect(
      run.send({
        type: 'RestockReported',
        at: '2026-03-03T09:00:00.000Z',
        productId: 'p1',
        available: true,
        variants: [],
      }),
    ).toEqual([]);
  });

  it('a cart found all sold out sends nothing now, and watches its lines for their return', () => {
    const run = new Run().startAbandoned(twoLines);
    const due = run.fire().find((e) => e.type === 'recovery.step-due');
    if (due === undefined) throw new Error('no step due');
    const l2: SoldOutLine = { lineId: 'l2', productId: 'p2', quantity: 1, lookup: 'none', considered: [] };
    run.send({ type: 'RecordAlternatives', at: due.at, step: 0, lines: [soldOutL1, l2] });
    const events = run.send({
      type: 'StepOutcome',
      step: 0,
      at: due.at,
      outcome: { kind: 'skipped', reason: 'all-out-of-stock' },
    });
    expect(
      events.filter((e) => e.type === 'recovery.back-in-stock-watched').map((e) => 'lineId' in e && e.lineId),
    ).toEqual(['l1', 'l2']);
    // A skip for any other reason watches nothing.
    const other = new Run().startAbandoned(twoLines);
    other.fire();
    other.send({ type: 'RecordAlternatives', at: due.at, step: 0, lines: [soldOutL1] });
    const noConsent = other.send({
      type: 'StepOutcome',
      step: 0,
      at: due.at,
      outcome: { kind: 'skipped', reason: 'no-consent' },
    });
    expect(types(noConsent)).not.toContain('recovery.back-in-stock-watched');
  });

  it('opens and clicks of the sent back-in-stock message are recorded (numbered 1000 + watch)', () => {
    const run = announced();
    const at = '2026-03-03T09:00:00.000Z';
    const click = { type: 'MessageEngagement', kind: 'clicked', step: 1000, channel: 'email', at } as const;
    run.send({ type: 'RestockReported', at, productId: 'p1', available: true, variants: [] });
    expect(engagementStatus(run.state, click)).toBe('awaiting-send');
    run.send({
      type: 'BackInStockOutcome',
      at,
      lineId: 'l1',
      outcome: { kind: 'sent', step: 1000, channel: 'email', messageId: 'msg-bis' },
    });
    expect(engagementStatus(run.state, click)).toBe('applies');
    expect(types(run.send(click))).toEqual(['recovery.message-clicked']);
    expect(engagementStatus(run.state, click)).toBe('duplicate');
  });

  it('"notify me" is recorded once and opens again a watch that had ended', () => {
    const run = announced();
    const at = '2026-03-03T09:00:00.000Z';
    run.send({ type: 'RestockReported', at, productId: 'p1', available: true, variants: [] });
    run.send({ type: 'BackInStockOutcome', at, lineId: 'l1', outcome: { kind: 'skipped', reason: 'frequency-cap' } });
    expect(run.state.watches?.[0]?.status).toBe('closed');
    const asked = run.send({ type: 'BackInStockRequested', at, step: 0, lineId: 'l1' });
    expect(asked).toEqual([expect.objectContaining({ type: 'recovery.back-in-stock-requested', lineId: 'l1' })]);
    expect(run.state.watches?.[0]).toMatchObject({ status: 'watching', requested: true });
    expect(run.send({ type: 'BackInStockRequested', at, step: 0, lineId: 'l1' })).toEqual([]);
    expect(run.send({ type: 'BackInStockRequested', at, step: 0, lineId: 'l9' })).toEqual([]);
  });
});

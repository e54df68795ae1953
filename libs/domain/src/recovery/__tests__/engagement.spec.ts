import { checkBeforeSend } from '../pre-send';
import { sendFactsFromState } from '../recovery-queries';
import { engagementStatus } from '../process-manager';
import { HOUR } from '../time';
import { at, cart, Run, T0, types } from './fixtures';

const CLICK = at(T0, 2 * HOUR);

describe('engagement, attribution and skipped tickets on the recovery stream', () => {
  it('records the first open and click of a sent step only, also after the recovery ended', () => {
    const run = new Run().startAbandoned().sendStep('msg-1');
    const open = { type: 'MessageEngagement', kind: 'opened', step: 0, channel: 'email', at: CLICK } as const;
    expect(types(run.send(open))).toEqual(['recovery.message-opened']);
    expect(run.send(open)).toEqual([]);
    run.send({ type: 'CartPurchased', orderId: 'o-1', at: at(CLICK, 1000) });
    const click = { ...open, kind: 'clicked', targetHost: 'shop.example' } as const;
    expect(run.send(click)).toEqual([
      expect.objectContaining({ type: 'recovery.message-clicked', targetHost: 'shop.example' }),
    ]);
    expect(run.send(click)).toEqual([]);
    // A step that was never sent has nothing to open.
    expect(run.send({ ...open, step: 1 })).toEqual([]);
  });

  it('says an engagement awaits its send until the send is recorded, then applies once (opens, clicks, delivery statuses)', () => {
    const run = new Run().startAbandoned();
    const click = { type: 'MessageEngagement', kind: 'clicked', step: 0, channel: 'email', at: CLICK } as const;
    const delivered = { type: 'DeliveryReported', step: 0, channel: 'email', status: 'delivered', at: CLICK } as const;
    expect(engagementStatus(run.state, click)).toBe('awaiting-send');
    run.fire();
    // Due, the provider accepted, the outcome not fed back yet: nothing recorded, it must be held.
    expect(engagementStatus(run.state, delivered)).toBe('awaiting-send');
    expect(run.send(click)).toEqual([]);
    expect(run.send(delivered)).toEqual([]);
    run.send({
      type: 'StepOutcome',
      step: 0,
      channel: 'email',
      at: CLICK,
      outcome: { kind: 'sent', messageId: 'm-0' },
    });
    expect(engagementStatus(run.state, click)).toBe('applies');
    expect(types(run.send(click))).toEqual(['recovery.message-clicked']);
    expect(run.send(delivered)).toEqual([
      expect.objectContaining({ type: 'recovery.delivery-reported', status: 'delivered', step: 0, channel: 'email' }),
    ]);
    expect(engagementStatus(run.state, click)).toBe('duplicate');
    expect(engagementStatus(run.state, delivered)).toBe('duplicate');
    expect(run.send(delivered)).toEqual([]);
    // Another status of the same message is its own record, with the provider's code.
    expect(run.send({ ...delivered, status: 'undelivered', errorCode: '30005' })).toEqual([
      expect.objectContaining({ type: 'recovery.delivery-reported', status: 'undelivered', errorCode: '30005' }),
    ]);
  });

  it('attributes an order once, with revenue and the discount used', () => {
    const run = new Run().startAbandoned().sendStep('msg-1');
    const input = {
      type: 'OrderAttributed',
      orderId: 'o-1',
      step: 0,
      channel: 'email',
      messageId: 'msg-1',
      clickedAt: CLICK,
      placedAt: at(CLICK, 60_000),
      revenue: '249.00',
      currency: 'USD',
      discountUsed: false,
      at: at(CLICK, 60_000),
    } as const;
    expect(run.send(input)).toEqual([
      expect.objectContaining({
        type: 'recovery.order-attributed',
        orderId: 'o-1',
        revenue: '249.00',
        messageId: 'msg-1',
      }),
    ]);
    expect(run.send(input)).toEqual([]);
  });

  it('records a requested ticket as skipped once, and never an unrequested one', () => {
    const small = new Run().startAbandoned(cart({ value: '20.00' }));
    expect(small.send({ type: 'TicketSkipped', reason: 'no-ticket-provider', at: CLICK })).toEqual([]);
    const big = new Run().startAbandoned(cart({ value: '500.00' }));
    expect(types(big.events)).toContain('recovery.ticket-requested');
    expect(types(big.send({ type: 'TicketSkipped', reason: 'no-ticket-provider', at: CLICK }))).toEqual([
      'recovery.ticket-skipped',
    ]);
    expect(big.send({ type: 'TicketSkipped', reason: 'no-ticket-provider', at: CLICK })).toEqual([]);
  });

  it('skips a channel without a provider with channel-unavailable and uses the next one', () => {
    const run = new Run().startAbandoned(cart({ reach: { email: true, sms: true } }));
    const due = run.fire().find((e) => e.type === 'recovery.step-due');
    if (due === undefined || due.type !== 'recovery.step-due') throw new Error('no step due');
    const ctx = {
      ...sendFactsFromState(run.state, due),
      step: { ...due.definition, channels: ['email', 'sms'] as const },
      consent: {
        email: { status: 'subscribed' as const, source: 'shopify:checkout' },
        sms: { status: 'subscribed' as const, source: 'shopify:checkout' },
      },
      ignoredRecoveryMessages: 0,
      stock: [],
      now: due.at,
    };
    const withSms = checkBeforeSend(ctx);
    expect(withSms).toMatchObject({ decision: 'send', channel: 'sms' });
    const without = checkBeforeSend({ ...ctx, unavailableChannels: ['sms'] });
    expect(without).toMatchObject({
      decision: 'send',
      channel: 'email',
      channelsSkipped: [{ channel: 'sms', reason: 'channel-unavailable' }],
    });
    const none = checkBeforeSend({ ...ctx, unavailableChannels: ['sms', 'email'] });
    expect(none).toMatchObject({ decision: 'skip', reason: 'channel-unavailable' });
  });
});

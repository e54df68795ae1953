import { recoveryConfig } from '../config';
import { checkBeforeSend, type SendCheckContext } from '../pre-send';
import type { SequenceStep } from '../sequences';
import { DAY, HOUR, MINUTE } from '../time';
import { at, RID } from './fixtures';

const ABANDONED = '2026-03-02T15:00:00.000Z';
const NOW = '2026-03-02T16:00:00.000Z'; // 17:00 in Berlin, 11:00 in New York

const step = (overrides: Partial<SequenceStep> = {}): SequenceStep => ({
  index: 0,
  delayMs: 0,
  channels: ['email'],
  discountPercent: 0,
  template: 'welcome-0',
  helpTemplate: 'help-0',
  ...overrides,
});

const ctx = (overrides: Partial<SendCheckContext> = {}): SendCheckContext => ({
  recoveryId: RID,
  step: step(),
  mode: { kind: 'live' },
  now: NOW,
  dueAt: NOW,
  abandonedAt: ABANDONED,
  startedAt: ABANDONED,
  purchased: false,
  reach: { email: true, sms: false },
  revokedChannels: [],
  consent: { email: { status: 'subscribed', source: 'shopify:checkout', at: '2026-01-01T00:00:00.000Z' } },
  ignoredRecoveryMessages: 0,
  ticketOpen: false,
  shopTimeZone: 'Europe/Berlin',
  currency: 'USD',
  items: [
    { lineId: 'l1', productId: 'p1', quantity: 2, unitPrice: '40.00' },
    { lineId: 'l2', productId: 'p2', quantity: 1, unitPrice: '19.99' },
  ],
  stock: [],
  ...overrides,
});

const smsStep = step({ channels: ['email', 'sms'] });
const smsConsent = { status: 'subscribed' as const, source: 'shopify:sms-checkbox', at: '2026-02-01T00:00:00.000Z' };

describe('checkBeforeSend', () => {
  it('sends by email with the consent relied on, the idempotency key and the cart value', () => {
    expect(checkBeforeSend(ctx())).toEqual({
      decision: 'send',
      channel: 'email',
      idempotencyKey: `${RID}:step-0:email`,
      items: [
        expect.objectContaining({ lineId: 'l1', priceChanged: false }),
        expect.objectContaining({ lineId: 'l2', priceChanged: false }),
      ],
      cartValue: '99.99',
      currency: 'USD',
      template: { kind: 'sales', id: 'welcome-0' },
      consentUsed: {
        channel: 'email',
        basis: 'subscribed',
        source: 'shopify:checkout',
        at: '2026-01-01T00:00:00.000Z',
      },
      leftOut: [],
      channelsSkipped: [],
    });
  });

  describe('1. purchase', () => {
    it('stops when our events say purchased, before any other check', () => {
      expect(checkBeforeSend(ctx({ purchased: true, consent: {}, now: at(NOW, -HOUR) }))).toEqual({
        decision: 'stop',
        reason: 'purchased',
      });
    });

    it('stops on an order of the customer since abandonment, including the grace window before it', () => {
      expect(checkBeforeSend(ctx({ customerLastOrderAt: at(ABANDONED, -5 * MINUTE) }))).toEqual({
        decision: 'stop',
        reason: 'purchased-elsewhere',
      });
      expect(checkBeforeSend(ctx({ customerLastOrderAt: at(ABANDONED, -DAY) })).decision).toBe('send');
    });

    it('R8: never before the due time', () => {
      expect(checkBeforeSend(ctx({ dueAt: at(NOW, 10 * MINUTE) }))).toEqual({
        decision: 'defer',
        until: at(NOW, 10 * MINUTE),
        reason: 'not-yet-due',
      });
    });

    it('R28: waits out PURCHASE_GRACE after the shopper reached payment', () => {
      expect(checkBeforeSend(ctx({ paymentStartedAt: at(NOW, -2 * MINUTE) }))).toEqual({
        decision: 'defer',
        until: at(NOW, 8 * MINUTE),
        reason: 'awaiting-order-webhook',
      });
    });
  });

  describe('2. consent (R27) and channel (R13)', () => {
    it('subscribers-only (default): no recorded email consent, no send', () => {
      expect(checkBeforeSend(ctx({ consent: {} }))).toMatchObject({ decision: 'skip', reason: 'no-consent' });
    });

    it('unless-opted-out: sends, recording the policy it relied on', () => {
      const result = checkBeforeSend(
        ctx({ consent: { email: { status: 'not-subscribed' } } }),
        recoveryConfig({ emailConsentPolicy: 'unless-opted-out' }),
      );
      expect(result).toMatchObject({
        decision: 'send',
        consentUsed: { channel: 'email', basis: 'not-opted-out', source: 'policy:unless-opted-out' },
      });
    });

    it.each(['unsubscribed', 'bounced', 'complained'] as const)(
      '%s email: skipped with that reason, whatever the policy',
      (status) => {
        const result = checkBeforeSend(
          ctx({ consent: { email: { status } } }),
          recoveryConfig({ emailConsentPolicy: 'unless-opted-out' }),
        );
        expect(result).toMatchObject({ decision: 'skip', reason: status });
      },
    );

    it('a channel revoked during the recovery is not used', () => {
      expect(checkBeforeSend(ctx({ revokedChannels: ['email'] }))).toMatchObject({
        decision: 'skip',
        reason: 'channel-opted-out',
      });
    });

    it('missing email: skipped with a recorded reason', () => {
      expect(checkBeforeSend(ctx({ reach: { email: false, sms: false } }))).toEqual({
        decision: 'skip',
        reason: 'no-email-address',
        channelsSkipped: [{ channel: 'email', reason: 'no-email-address' }],
      });
    });

    it('SMS when the step asks for it, SMS consent is recorded and the phone is valid', () => {
      const result = checkBeforeSend(
        ctx({ step: smsStep, reach: { email: true, sms: true }, consent: { sms: smsConsent } }),
      );
      expect(result).toMatchObject({
        decision: 'send',
        channel: 'sms',
        idempotencyKey: `${RID}:step-0:sms`,
        consentUsed: { channel: 'sms', basis: 'subscribed', source: 'shopify:sms-checkbox' },
      });
    });

    it('SMS always needs recorded SMS consent, even under unless-opted-out: falls back to email, reason recorded', () => {
      const result = checkBeforeSend(
        ctx({ step: smsStep, reach: { email: true, sms: true }, consent: { email: { status: 'not-subscribed' } } }),
        recoveryConfig({ emailConsentPolicy: 'unless-opted-out' }),
      );
      expect(result).toMatchObject({
        decision: 'send',
        channel: 'email',
        channelsSkipped: [{ channel: 'sms', reason: 'no-consent' }],
      });
    });

    it('an SMS-only step with a non-E.164 phone is skipped as invalid-phone', () => {
      const result = checkBeforeSend(ctx({ step: step({ channels: ['sms'] }), consent: { sms: smsConsent } }));
      expect(result).toMatchObject({ decision: 'skip', reason: 'invalid-phone' });
    });
  });

  describe('3. caps, fatigue, tickets', () => {
    it('defers until 16h after the last message of another recovery', () => {
      expect(checkBeforeSend(ctx({ lastOtherRecoveryMessageAt: at(NOW, -10 * HOUR) }))).toEqual({
        decision: 'defer',
        until: at(NOW, 6 * HOUR),
        reason: 'frequency-cap',
      });
      expect(checkBeforeSend(ctx({ lastOtherRecoveryMessageAt: at(NOW, -17 * HOUR) })).decision).toBe('send');
    });

    it('one active recovery per customer: the later one is skipped', () => {
      const earlier = { recoveryId: 'recovery-shop-1-other', startedAt: at(ABANDONED, -HOUR) };
      const later = { recoveryId: 'recovery-shop-1-other', startedAt: at(ABANDONED, HOUR) };
      expect(checkBeforeSend(ctx({ otherActiveRecovery: earlier }))).toEqual({
        decision: 'skip',
        reason: 'another-recovery-active',
      });
      expect(checkBeforeSend(ctx({ otherActiveRecovery: later })).decision).toBe('send');
    });

    it('consent is checked before the cap', () => {
      const result = checkBeforeSend(ctx({ consent: {}, lastOtherRecoveryMessageAt: at(NOW, -HOUR) }));
      expect(result).toMatchObject({ decision: 'skip', reason: 'no-consent' });
    });

    it('a fatigued customer (ignored the last 3) gets only the first 2 steps', () => {
      expect(checkBeforeSend(ctx({ ignoredRecoveryMessages: 3, step: step({ index: 1 }) })).decision).toBe('send');
      expect(checkBeforeSend(ctx({ ignoredRecoveryMessages: 3, step: step({ index: 2 }) }))).toEqual({
        decision: 'skip',
        reason: 'engagement-fatigue',
        fatigue: expect.objectContaining({ fatigued: true, ignored: 3, threshold: 3, maxSteps: 2 }),
      });
    });

    it("fatigue from the engagement history: the recovery's own ignored steps never drop its last step", () => {
      const own = [0, 1, 2].map((i) => ({
        recoveryId: RID,
        step: i,
        channel: 'email' as const,
        sentAt: at(NOW, -(3 - i) * DAY),
      }));
      const last = step({ index: 3, discountPercent: 15 });
      expect(checkBeforeSend(ctx({ step: last, engagement: { messages: own } })).decision).toBe('send');
      const counting = recoveryConfig({ fatigue: { countOwnSteps: true } });
      expect(checkBeforeSend(ctx({ step: last, engagement: { messages: own } }), counting)).toEqual({
        decision: 'skip',
        reason: 'engagement-fatigue',
        fatigue: {
          fatigued: true,
          ignored: 3,
          threshold: 3,
          windowDays: 30,
          maxSteps: 2,
          countOwnSteps: true,
          ownIgnored: 3,
          machineOpens: 0,
        },
      });
      const off = recoveryConfig({ fatigue: { countOwnSteps: true, enabled: false } });
      expect(checkBeforeSend(ctx({ step: last, engagement: { messages: own } }), off).decision).toBe('send');
    });

    it("the customer's own open ticket switches to the help template, naming the ticket", () => {
      expect(checkBeforeSend(ctx({ ticketOpen: true, supportTickets: ['zendesk:35436'] }))).toMatchObject({
        template: { kind: 'help', id: 'help-0', supportTickets: ['zendesk:35436'] },
      });
      expect(checkBeforeSend(ctx({ ticketOpen: false }))).toMatchObject({ template: { kind: 'sales' } });
    });

    it('with pauseWhileTicketOpen the step waits for the ticket instead of sending help copy', () => {
      const now = ctx({}).now;
      expect(checkBeforeSend(ctx({ ticketOpen: true }), recoveryConfig({ pauseWhileTicketOpen: true }))).toEqual({
        decision: 'defer',
        until: now,
        reason: 'support-ticket-open',
      });
      expect(checkBeforeSend(ctx({}), recoveryConfig({ pauseWhileTicketOpen: true })).decision).toBe('send');
    });
  });

  describe('4. quiet hours', () => {
    const sms = (now: string, customerTimeZone?: string) =>
      checkBeforeSend(
        ctx({
          now,
          dueAt: now,
          step: step({ channels: ['sms'] }),
          reach: { email: true, sms: true },
          consent: { sms: smsConsent },
          ...(customerTimeZone ? { customerTimeZone } : {}),
        }),
      );

    it("SMS at 22:00 in the customer's zone is deferred to 08:00 local, never dropped", () => {
      // 2026-03-03T03:00Z is 22:00 on 2 March in New York (EST).
      expect(sms('2026-03-03T03:00:00.000Z', 'America/New_York')).toEqual({
        decision: 'defer',
        until: '2026-03-03T13:00:00.000Z',
        reason: 'quiet-hours',
        channel: 'sms',
        timeZone: 'America/New_York',
        timeZoneSource: 'address',
      });
    });

    it("uses the shop's zone when the customer's is unknown or invalid, and says so", () => {
      // 05:30Z is 06:30 in Berlin: quiet; 00:30 in New York would be quiet too but the rule is the shop's zone.
      const shopDefault = { timeZone: 'Europe/Berlin', timeZoneSource: 'shop-default' };
      expect(sms('2026-03-03T05:30:00.000Z')).toMatchObject({ until: '2026-03-03T07:00:00.000Z', ...shopDefault });
      expect(sms('2026-03-03T05:30:00.000Z', 'Mars/Olympus')).toMatchObject({
        until: '2026-03-03T07:00:00.000Z',
        ...shopDefault,
      });
    });

    it('the same instant is allowed in one zone and quiet in another', () => {
      // 15:00Z is 10:00 in New York, 07:00 in Los Angeles and midnight in Tokyo.
      expect(sms('2026-03-03T15:00:00.000Z', 'America/New_York').decision).toBe('send');
      expect(sms('2026-03-03T15:00:00.000Z', 'America/Los_Angeles')).toMatchObject({
        until: '2026-03-03T16:00:00.000Z',
      });
      expect(sms('2026-03-03T15:00:00.000Z', 'Asia/Tokyo')).toMatchObject({ until: '2026-03-03T23:00:00.000Z' });
    });

    it('email has no quiet hours by default, and honours them when configured', () => {
      const night = '2026-03-03T02:00:00.000Z'; // 03:00 in Berlin
      expect(checkBeforeSend(ctx({ now: night, dueAt: night })).decision).toBe('send');
      const config = recoveryConfig({ sendWindows: { email: { fromMinute: 9 * 60, toMinute: 20 * 60 } } });
      expect(checkBeforeSend(ctx({ now: night, dueAt: night }), config)).toMatchObject({
        decision: 'defer',
        until: '2026-03-03T08:00:00.000Z',
        reason: 'quiet-hours',
      });
    });
  });

  describe('5. stock and price', () => {
    it('leaves out-of-stock lines out and recomputes the value', () => {
      expect(checkBeforeSend(ctx({ stock: [{ lineId: 'l2', available: false }] }))).toMatchObject({
        decision: 'send',
        cartValue: '80.00',
        leftOut: ['l2'],
        items: [expect.objectContaining({ lineId: 'l1' })],
      });
    });

    it('replaces an out-of-stock line by its given alternative', () => {
      const alternative = { lineId: 'alt', productId: 'p9', quantity: 1, unitPrice: '25.00' };
      expect(checkBeforeSend(ctx({ stock: [{ lineId: 'l2', available: false, alternative }] }))).toMatchObject({
        cartValue: '105.00',
        items: [
          expect.objectContaining({ lineId: 'l1' }),
          expect.objectContaining({ lineId: 'alt', replacesLineId: 'l2' }),
        ],
      });
    });

    it('skips when everything is out of stock', () => {
      const stock = [
        { lineId: 'l1', available: false },
        { lineId: 'l2', available: false },
      ];
      expect(checkBeforeSend(ctx({ stock }))).toEqual({ decision: 'skip', reason: 'all-out-of-stock' });
    });

    it('shows changed prices as current and recomputes the value in decimals', () => {
      const result = checkBeforeSend(ctx({ stock: [{ lineId: 'l1', available: true, currentUnitPrice: '35.10' }] }));
      expect(result).toMatchObject({
        cartValue: '90.19',
        items: [
          expect.objectContaining({ unitPrice: '35.10', priceChanged: true }),
          expect.objectContaining({ priceChanged: false }),
        ],
      });
    });

    it('R12: a malformed price never produces a send or a discount', () => {
      const result = checkBeforeSend(
        ctx({
          step: step({ discountPercent: 10 }),
          stock: [{ lineId: 'l1', available: true, currentUnitPrice: '12,50' }],
        }),
      );
      expect(result).toEqual({ decision: 'skip', reason: 'invalid-price-data' });
    });

    it('formats the value in the currency minor units', () => {
      const items = [{ lineId: 'l1', productId: 'p1', quantity: 3, unitPrice: '1000' }];
      expect(checkBeforeSend(ctx({ currency: 'JPY', items }))).toMatchObject({ cartValue: '3000' });
    });
  });

  describe('discounts', () => {
    it("offers the step's percent with a 7-day expiry and an idempotency key", () => {
      expect(checkBeforeSend(ctx({ step: step({ discountPercent: 10 }) }))).toMatchObject({
        discount: { percent: 10, expiresAt: at(NOW, 7 * DAY), idempotencyKey: `${RID}:step-0:email:discount` },
      });
    });

    it('anti-gaming: withheld from a customer recovered with a discount in the last 30 days', () => {
      const recent = checkBeforeSend(
        ctx({ step: step({ discountPercent: 10 }), lastDiscountRecoveryAt: at(NOW, -10 * DAY) }),
      );
      expect(recent).toMatchObject({ decision: 'send', discountWithheld: 'recent-discount-recovery' });
      expect(recent).not.toHaveProperty('discount');
      const old = checkBeforeSend(
        ctx({ step: step({ discountPercent: 10 }), lastDiscountRecoveryAt: at(NOW, -31 * DAY) }),
      );
      expect(old).toMatchObject({ discount: { percent: 10 } });
    });

    it('no discount on a 0% step', () => {
      expect(checkBeforeSend(ctx())).not.toHaveProperty('discount');
    });
  });

  describe('shadow mode and rollout', () => {
    it('shadow: the full decision is recorded, nothing is sent', () => {
      const result = checkBeforeSend(ctx({ mode: { kind: 'shadow', reason: 'shadow-mode' } }));
      expect(result).toMatchObject({
        decision: 'skip',
        reason: 'shadow-mode',
        wouldSend: { decision: 'send', channel: 'email', cartValue: '99.99' },
      });
    });

    it('outside the rollout share: skipped as outside-rollout', () => {
      const result = checkBeforeSend(ctx({ mode: { kind: 'shadow', reason: 'outside-rollout' } }));
      expect(result).toMatchObject({ decision: 'skip', reason: 'outside-rollout' });
    });

    it('shadow mode still records the earlier checks (consent)', () => {
      const result = checkBeforeSend(ctx({ consent: {}, mode: { kind: 'shadow', reason: 'shadow-mode' } }));
      expect(result).toMatchObject({ decision: 'skip', reason: 'no-consent' });
    });
  });
});

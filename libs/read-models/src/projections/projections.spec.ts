import type { RecordedEvent } from '@reclaim/event-store';
import { applyCartEvent } from './carts';
import { applyCustomerEvent } from './customers';
import { parseRecoveryId } from '@reclaim/domain';
import { ATTRIBUTION, MESSAGES, ORDERS, RECOVERIES, SCORES, SEGMENTS } from '../schema';
import { applyRecoveryEvent, discountCost } from './recoveries';
import { alreadyApplied, RowSet } from './rows';

let pos = 0n;
function recorded(type: string, data: Record<string, unknown>): RecordedEvent {
  pos += 1n;
  return {
    id: `e${pos}`,
    type,
    schemaVersion: 1,
    data,
    streamId: 's',
    revision: 0n,
    position: { commit: pos, prepare: pos },
    recordedAt: new Date(0),
  };
}

const shopId = '6b1f3c2e-6d1a-4a57-9a3e-2f4a6c1b9d10';

describe('projection reducers', () => {
  it('a purchased cart stays purchased whatever activity or deletion follows', () => {
    const activity = (at: string) =>
      recorded('cart.activity-recorded', {
        shopId,
        cartId: 'c1',
        platform: 'shopify',
        platformUpdatedAt: at,
        source: 'checkout',
        reach: { email: true, sms: false },
        lineItems: [{}, {}],
        currency: 'USD',
        subtotal: '10.00',
        total: '12.50',
      });
    let row = applyCartEvent(undefined, activity('2026-01-01T00:00:00.000Z'));
    expect(row).toMatchObject({
      status: 'active',
      item_count: 2,
      total: '12.50',
      first_seen_at: '2026-01-01T00:00:00.000Z',
    });
    row = applyCartEvent(
      row,
      recorded('cart.purchased', { shopId, cartId: 'c1', orderId: 'o1', placedAt: '2026-01-02T00:00:00.000Z' }),
    );
    row = applyCartEvent(row, activity('2026-01-03T00:00:00.000Z'));
    row = applyCartEvent(
      row,
      recorded('cart.deleted', { shopId, cartId: 'c1', platformUpdatedAt: '2026-01-04T00:00:00.000Z' }),
    );
    expect(row).toMatchObject({ status: 'purchased', order_id: 'o1', first_seen_at: '2026-01-01T00:00:00.000Z' });
  });

  it('keeps the latest consent by its own time and erases the profile on redaction', () => {
    const consent = (state: string, at: string) =>
      recorded('customer.consent-changed', {
        shopId,
        customerKey: 'e-k',
        platform: 'shopify',
        channel: 'email',
        state,
        source: 's',
        consentUpdatedAt: at,
      });
    let row = applyCustomerEvent(undefined, consent('subscribed', '2026-01-02T00:00:00.000Z'));
    row = applyCustomerEvent(row, consent('unsubscribed', '2026-01-01T00:00:00.000Z'));
    expect(row.email_consent).toBe('subscribed');
    row = applyCustomerEvent(
      row,
      recorded('customer.redacted', {
        shopId,
        customerKey: 'e-k',
        platform: 'shopify',
        orderIds: [],
        redactedAt: '2026-01-05T00:00:00.000Z',
      }),
    );
    expect(row).toMatchObject({ email_consent: null, email_consent_at: null, redacted_at: '2026-01-05T00:00:00.000Z' });
  });

  it('skips an event the row already reflects', () => {
    const e = recorded('cart.deleted', { shopId, cartId: 'c1', platformUpdatedAt: '2026-01-01T00:00:00.000Z' });
    expect(alreadyApplied({ position: String(e.position.commit) }, e)).toBe(true);
    expect(alreadyApplied({ position: String(e.position.commit - 1n) }, e)).toBe(false);
    expect(alreadyApplied(undefined, e)).toBe(false);
  });

  it('splits recovery ids and prices discounts in decimals', () => {
    expect(parseRecoveryId(`recovery-${shopId}-cart-a-b`)).toEqual({ shopId, cartId: 'cart-a-b' });
    expect(parseRecoveryId('recovery-x')).toBeUndefined();
    expect(discountCost('90.00', true, '10.00', 10)).toBe('10');
    expect(discountCost('90.00', true, null, 10)).toBe('10');
    expect(discountCost('0.3', true, undefined, 25)).toBe('0.1');
    expect(discountCost('90.00', false, '10.00', 10)).toBe('0');
  });

  it('marks a step blocked from its first outside failure, keeps it while it comes due again, clears it on any other outcome', () => {
    const t = {
      recoveries: new RowSet(RECOVERIES, { complete: true }),
      messages: new RowSet(MESSAGES, { complete: true, groupBy: 'recovery_id' }),
      segments: new RowSet(SEGMENTS, { complete: true }),
      scores: new RowSet(SCORES, { complete: true }),
      orders: new RowSet(ORDERS, { complete: true }),
      attribution: new RowSet(ATTRIBUTION, { complete: true }),
    };
    const recoveryId = `recovery-${shopId}-c9`;
    const apply = (type: string, data: Record<string, unknown>) => {
      const e = recorded(type, { recoveryId, ...data });
      applyRecoveryEvent(t, { ...e, streamId: recoveryId });
      return t.messages.get({ recovery_id: recoveryId, step: 0 });
    };
    const due = {
      step: 0,
      attempt: 1,
      dueAt: '2026-01-01T00:00:00.000Z',
      mode: { kind: 'live' },
      definition: { template: 'w-0', discountPercent: 0 },
    };
    apply('recovery.step-due', { ...due, at: '2026-01-01T00:00:00.000Z' });
    const detail = 'store API unreachable (getaddrinfo ENOTFOUND api.example.invalid)';
    const deferral = (at: string) =>
      apply('recovery.step-deferred', {
        step: 0,
        at,
        until: '2026-01-02T00:00:00.000Z',
        reason: 'store-unavailable',
        detail,
      });
    expect(deferral('2026-01-01T00:00:01.000Z')).toMatchObject({
      blocked_since: '2026-01-01T00:00:01.000Z',
      detail,
      status: 'deferred',
    });
    expect(apply('recovery.step-due', { ...due, at: '2026-01-01T00:01:01.000Z' })).toMatchObject({
      status: 'due',
      blocked_since: '2026-01-01T00:00:01.000Z',
    });
    expect(deferral('2026-01-01T00:01:02.000Z')).toMatchObject({
      blocked_since: '2026-01-01T00:00:01.000Z',
      deferrals: 2,
    });
    // A retryable send failure continues the block; the send ends it.
    expect(
      apply('recovery.message-failed', {
        step: 0,
        channel: 'email',
        at: '2026-01-01T00:05:00.000Z',
        attempt: 1,
        retryable: true,
        retryAt: '2026-01-01T00:10:00.000Z',
        error: 'RetryableProviderError:ECONNREFUSED',
      }),
    ).toMatchObject({ blocked_since: '2026-01-01T00:00:01.000Z', detail: 'RetryableProviderError:ECONNREFUSED' });
    expect(
      apply('recovery.message-sent', {
        step: 0,
        channel: 'email',
        at: '2026-01-01T00:10:00.000Z',
        messageId: 'm-1',
        idempotencyKey: `${recoveryId}:step-0:email`,
        reconciled: false,
      }),
    ).toMatchObject({ status: 'sent', blocked_since: null, detail: null });
    // The shop's own rules (quiet hours) are not an outside error.
    expect(
      apply('recovery.step-deferred', {
        step: 0,
        at: '2026-01-01T00:11:00.000Z',
        until: '2026-01-01T08:00:00.000Z',
        reason: 'quiet-hours',
      }),
    ).toMatchObject({ blocked_since: null });
  });

  it('back-in-stock messages are rows of read.messages (kind back-in-stock, 1000 + watch) from the watch to the send', () => {
    const t = {
      recoveries: new RowSet(RECOVERIES, { complete: true }),
      messages: new RowSet(MESSAGES, { complete: true, groupBy: 'recovery_id' }),
      segments: new RowSet(SEGMENTS, { complete: true }),
      scores: new RowSet(SCORES, { complete: true }),
      orders: new RowSet(ORDERS, { complete: true }),
      attribution: new RowSet(ATTRIBUTION, { complete: true }),
    };
    const recoveryId = `recovery-${shopId}-c10`;
    const apply = (type: string, data: Record<string, unknown>) => {
      const e = recorded(type, { recoveryId, ...data });
      applyRecoveryEvent(t, { ...e, streamId: recoveryId });
    };
    const row = (step: number) => t.messages.get({ recovery_id: recoveryId, step });
    apply('recovery.back-in-stock-watched', { at: '2026-01-01T00:00:00.000Z', step: 0, lineId: 'l1', productId: 'p1' });
    apply('recovery.back-in-stock-watched', { at: '2026-01-01T00:00:00.000Z', step: 0, lineId: 'l2', productId: 'p2' });
    expect(row(1000)).toMatchObject({ kind: 'back-in-stock', line_id: 'l1', status: 'watching', channel: null });
    expect(row(1001)).toMatchObject({ kind: 'back-in-stock', line_id: 'l2', status: 'watching' });
    // l2: reported back, the store says it is not: still watched, the reason says why.
    apply('recovery.back-in-stock-due', { at: '2026-01-02T00:00:00.000Z', lineId: 'l2', productId: 'p2' });
    expect(row(1001)).toMatchObject({ status: 'due', due_at: '2026-01-02T00:00:00.000Z' });
    apply('recovery.back-in-stock-skipped', { at: '2026-01-02T00:00:01.000Z', lineId: 'l2', reason: 'still-sold-out' });
    expect(row(1001)).toMatchObject({ status: 'watching', reason: 'still-sold-out' });
    // l1: back; the store is down (blocked), then quiet hours (not an outside error), then sent and opened.
    apply('recovery.back-in-stock-due', { at: '2026-01-03T00:00:00.000Z', lineId: 'l1', productId: 'p1' });
    apply('recovery.back-in-stock-deferred', {
      at: '2026-01-03T00:00:01.000Z',
      lineId: 'l1',
      until: '2026-01-03T00:05:00.000Z',
      reason: 'store-unavailable',
    });
    expect(row(1000)).toMatchObject({ status: 'deferred', blocked_since: '2026-01-03T00:00:01.000Z', deferrals: 1 });
    apply('recovery.back-in-stock-deferred', {
      at: '2026-01-03T00:05:01.000Z',
      lineId: 'l1',
      until: '2026-01-03T08:00:00.000Z',
      reason: 'quiet-hours',
    });
    expect(row(1000)).toMatchObject({ status: 'deferred', reason: 'quiet-hours', blocked_since: null, deferrals: 2 });
    apply('recovery.back-in-stock-sent', {
      at: '2026-01-03T08:00:00.000Z',
      lineId: 'l1',
      step: 1000,
      channel: 'email',
      messageId: 'bis-1',
    });
    apply('recovery.message-opened', {
      at: '2026-01-03T09:00:00.000Z',
      step: 1000,
      channel: 'email',
      messageId: 'bis-1',
    });
    expect(row(1000)).toMatchObject({
      kind: 'back-in-stock',
      status: 'sent',
      channel: 'email',
      message_id: 'bis-1',
      sent_at: '2026-01-03T08:00:00.000Z',
      opened_at: '2026-01-03T09:00:00.000Z',
      template_id: 'back-in-stock',
    });
    expect(t.recoveries.get({ recovery_id: recoveryId })).toMatchObject({ messages_sent: 1 });
    // Another line's watch, skipped for good (the customer opted out of e-mail).
    apply('recovery.back-in-stock-due', { at: '2026-01-04T00:00:00.000Z', lineId: 'l2', productId: 'p2' });
    apply('recovery.back-in-stock-skipped', { at: '2026-01-04T00:00:01.000Z', lineId: 'l2', reason: 'no-consent' });
    expect(row(1001)).toMatchObject({ status: 'skipped', reason: 'no-consent' });
    expect(row(1001)?.sent_at).toBeUndefined();
  });
});

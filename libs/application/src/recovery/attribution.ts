/**
 * Last-click attribution (ATTRIBUTION_WINDOW): the latest click on one of this customer's recovery
 * messages at or before the order is recorded on that recovery's stream as
 * `recovery.order-attributed`, with the revenue and whether the message's discount was used.
 * Clicks are read from the recovery streams themselves (the log), not from a projection.
 */
import {
  attributeOrder,
  type AttributableMessage,
  type OrderPlacedData,
  type RecoveryDecider,
  type RecoveryEvent,
  type RecoveryInput,
} from '@reclaim/domain';
import type { EventStore } from '@reclaim/event-store';
import type { Queryable } from './db';
import { engineIndex } from './engine-index';
import { loadRecovery, runRecovery } from './recovery-stream';

export type ClickedMessage = AttributableMessage & { discountCode?: string };

export class OrderAttribution {
  constructor(
    private readonly store: EventStore,
    private readonly pmFor: (shopId: string) => Promise<RecoveryDecider>,
  ) {}

  async attribute(tx: Queryable, d: OrderPlacedData & { customerKey: string }, causationId: string): Promise<void> {
    const recoveryIds = await engineIndex.recoveriesOf(tx, d.shopId, d.customerKey);
    if (recoveryIds.length === 0) return;
    const messages: ClickedMessage[] = [];
    for (const recoveryId of recoveryIds) {
      const { events } = await loadRecovery(this.store, recoveryId);
      messages.push(...clickedMessages(recoveryId, events));
    }
    const pm = await this.pmFor(d.shopId);
    const input = attributionInput(d, messages, pm.config.attributionWindowMs);
    if (input === undefined) return;
    await runRecovery(this.store, pm, input.recoveryId, input.input, `${causationId}:attribution`, d.shopId);
  }
}

/**
 * The order's last-click attribution among the customer's clicked messages: the recovery to credit
 * and its `OrderAttributed` input (undefined when no click falls in the window).
 */
export function attributionInput(
  d: OrderPlacedData,
  messages: readonly ClickedMessage[],
  attributionWindowMs: number,
): { readonly recoveryId: string; readonly input: RecoveryInput } | undefined {
  const found = attributeOrder(messages, { orderId: d.orderId, placedAt: d.placedAt }, attributionWindowMs);
  if (found === undefined) return undefined;
  const message = messages.find((m) => m.messageId === found.messageId && m.recoveryId === found.recoveryId);
  const discountCode = message?.discountCode;
  const used =
    discountCode !== undefined && d.discountCodes.some((c) => c.toUpperCase() === discountCode.toUpperCase());
  return {
    recoveryId: found.recoveryId,
    input: {
      type: 'OrderAttributed',
      orderId: d.orderId,
      step: found.step,
      channel: found.channel,
      messageId: found.messageId,
      clickedAt: found.clickedAt,
      placedAt: d.placedAt,
      revenue: d.total,
      currency: d.currency,
      ...(discountCode !== undefined ? { discountCode } : {}),
      discountUsed: used,
      ...(d.landingSite !== undefined ? { landingSite: d.landingSite.slice(0, 2048) } : {}),
      at: d.placedAt,
    },
  };
}

/** Every click on a sent message of one recovery, with the message it belongs to. */
export function clickedMessages(recoveryId: string, events: readonly RecoveryEvent[]): ClickedMessage[] {
  const out: ClickedMessage[] = [];
  const sent = new Map<string, { messageId: string; at: string; discountCode?: string }>();
  for (const ev of events) {
    if (ev.type === 'recovery.message-sent' || (ev.type === 'recovery.late-outcome' && ev.messageId)) {
      const messageId = ev.type === 'recovery.message-sent' ? ev.messageId : (ev.messageId as string);
      sent.set(`${ev.step}:${ev.channel}`, {
        messageId,
        at: ev.at,
        ...(ev.type === 'recovery.message-sent' && ev.discountCode !== undefined
          ? { discountCode: ev.discountCode }
          : {}),
      });
    } else if (ev.type === 'recovery.back-in-stock-sent') {
      sent.set(`${ev.step}:${ev.channel}`, { messageId: ev.messageId, at: ev.at });
    } else if (ev.type === 'recovery.message-clicked') {
      const m = sent.get(`${ev.step}:${ev.channel}`);
      if (m === undefined) continue;
      out.push({
        messageId: m.messageId,
        recoveryId,
        step: ev.step,
        channel: ev.channel,
        sentAt: m.at,
        clickedAt: ev.at,
        ...(m.discountCode !== undefined ? { discountCode: m.discountCode } : {}),
      });
    }
  }
  return out;
}

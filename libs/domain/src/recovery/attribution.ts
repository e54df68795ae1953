import { toMs } from './time';
import type { Channel, IsoTimestamp } from './types';

export interface AttributableMessage {
  readonly messageId: string;
  readonly recoveryId: string;
  readonly step: number;
  readonly channel: Channel;
  readonly sentAt: IsoTimestamp;
  readonly clickedAt?: IsoTimestamp;
}

export interface AttributableOrder {
  readonly orderId: string;
  readonly placedAt: IsoTimestamp;
}

export interface Attribution {
  readonly orderId: string;
  readonly messageId: string;
  readonly recoveryId: string;
  readonly step: number;
  readonly channel: Channel;
  readonly clickedAt: IsoTimestamp;
}

/** Last click wins: the latest click at or before the order and no more than `windowMs` before it. */
export function attributeOrder(
  messages: readonly AttributableMessage[],
  order: AttributableOrder,
  windowMs: number,
): Attribution | undefined {
  const placed = toMs(order.placedAt);
  let best: { message: AttributableMessage; clicked: number } | undefined;
  for (const message of messages) {
    if (message.clickedAt === undefined) continue;
    const clicked = toMs(message.clickedAt);
    if (clicked > placed || placed - clicked > windowMs) continue;
    if (best === undefined || clicked > best.clicked) best = { message, clicked };
  }
  if (best === undefined) return undefined;
  const { message } = best;
  return {
    orderId: order.orderId,
    messageId: message.messageId,
    recoveryId: message.recoveryId,
    step: message.step,
    channel: message.channel,
    clickedAt: message.clickedAt as IsoTimestamp,
  };
}

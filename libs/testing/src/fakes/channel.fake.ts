import type { ChannelLookupResult, ChannelMessage, ChannelPort } from '@reclaim/ports';
import { errorBefore, FaultPlan, timeoutAfter } from './faults';

export interface DeliveredMessage extends ChannelMessage {
  readonly messageId: string;
}

/**
 * An e-mail / SMS provider double. Dedupes by idempotency key like the real providers (a second
 * send with a known key returns the first message id and delivers nothing), records every call,
 * and injects failures through `faults`. `hangAfterDelivery` simulates a process killed between
 * the provider call and recording its outcome (R2): the message is delivered, the call never returns.
 */
export class FakeChannel implements ChannelPort {
  /** Messages that reached the recipient (one per idempotency key). */
  readonly delivered: DeliveredMessage[] = [];
  /** Every `send` call, failed ones included. */
  readonly calls: ChannelMessage[] = [];
  readonly lookups: string[] = [];
  readonly faults = new FaultPlan();
  private readonly byKey = new Map<string, DeliveredMessage>();
  private hang: { promise: Promise<never>; release: () => void } | undefined;
  private counter = 0;

  constructor(readonly name = 'fake') {}

  /** The next successful delivery never answers, until `release()` (which then rejects the hung call). */
  hangAfterDelivery(): { release: () => void } {
    let release!: () => void;
    const promise = new Promise<never>((_, reject) => {
      release = () => reject(new Error('simulated crash: the caller is gone'));
    });
    promise.catch(() => undefined);
    this.hang = { promise, release };
    return { release };
  }

  async send(message: ChannelMessage): Promise<{ messageId: string }> {
    this.calls.push(message);
    const fault = this.faults.next();
    const before = fault ? errorBefore(fault) : undefined;
    if (before) throw before;
    const known = this.byKey.get(message.idempotencyKey);
    const delivered = known ?? { ...message, messageId: `${this.name}-msg-${++this.counter}` };
    if (!known) {
      this.byKey.set(message.idempotencyKey, delivered);
      this.delivered.push(delivered);
    }
    if (fault?.kind === 'timeout-after') throw timeoutAfter();
    if (this.hang) {
      const { promise } = this.hang;
      this.hang = undefined;
      return promise;
    }
    return { messageId: delivered.messageId };
  }

  async lookup(idempotencyKey: string): Promise<ChannelLookupResult> {
    this.lookups.push(idempotencyKey);
    const known = this.byKey.get(idempotencyKey);
    return known ? { status: 'sent', messageId: known.messageId } : { status: 'not-sent' };
  }

  deliveredTo(to: string): DeliveredMessage[] {
    return this.delivered.filter((m) => m.to === to);
  }
}

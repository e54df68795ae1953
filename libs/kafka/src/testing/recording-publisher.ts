import type { KafkaPublisher, OutboundMessage } from '../publisher.port';

export interface PublishedRecord extends OutboundMessage {
  readonly topic: string;
}

/**
 * A fake publisher that records what it was asked to publish.
 * - `failNext(n)`: the broker is unreachable for the next n publish calls (they reject before recording
 *   anything, and `probe` rejects while some remain).
 * - `refuseWhen(predicate)`: the broker answers but refuses any call holding a matching message (as
 *   Kafka refuses a whole produce request with a message over `max.message.bytes`); `probe` resolves.
 * - `onPublish` runs after a successful call (e.g. to abort the relay between the ack and the checkpoint).
 */
export class RecordingPublisher implements KafkaPublisher {
  readonly records: PublishedRecord[] = [];
  calls = 0;
  probes = 0;
  closed = false;
  private failures = 0;
  private refuse?: (message: OutboundMessage) => boolean;
  onPublish?: (messages: readonly OutboundMessage[]) => void;

  failNext(n: number): void {
    this.failures = n;
  }

  refuseWhen(predicate: ((message: OutboundMessage) => boolean) | undefined): void {
    this.refuse = predicate;
  }

  async publish(topic: string, messages: readonly OutboundMessage[]): Promise<void> {
    this.calls += 1;
    if (this.failures > 0) {
      this.failures -= 1;
      throw new Error('broker did not acknowledge (simulated)');
    }
    const refused = this.refuse && messages.find((m) => this.refuse?.(m));
    if (refused)
      throw new Error(`MESSAGE_TOO_LARGE: the broker refused event ${refused.headers['event-id']} (simulated)`);
    for (const m of messages) this.records.push({ topic, ...m });
    this.onPublish?.(messages);
  }

  async probe(): Promise<void> {
    this.probes += 1;
    if (this.failures > 0) throw new Error('broker unreachable (simulated)');
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

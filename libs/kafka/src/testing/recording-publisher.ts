import type { KafkaPublisher, OutboundMessage } from '../publisher.port';

export interface PublishedRecord extends OutboundMessage {
  readonly topic: string;
}

/**
 * A fake publisher that records what it was asked to publish. `failNext(n)` makes the next n calls
 * reject before recording anything (a broker that did not acknowledge); `onPublish` runs after a
 * successful call (e.g. to abort the relay between the ack and the checkpoint write).
 */
export class RecordingPublisher implements KafkaPublisher {
  readonly records: PublishedRecord[] = [];
  calls = 0;
  closed = false;
  private failures = 0;
  onPublish?: (messages: readonly OutboundMessage[]) => void;

  failNext(n: number): void {
    this.failures = n;
  }

  async publish(topic: string, messages: readonly OutboundMessage[]): Promise<void> {
    this.calls += 1;
    if (this.failures > 0) {
      this.failures -= 1;
      throw new Error('broker did not acknowledge (simulated)');
    }
    for (const m of messages) this.records.push({ topic, ...m });
    this.onPublish?.(messages);
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

/**
 * The Kafka publisher port. The relay depends on this interface only; `KafkaJsPublisher` is the real
 * adapter and `RecordingPublisher` (testing/) the in-memory double.
 */
export interface OutboundMessage {
  /** Partition key: the event's stream id, so one cart's events stay in one partition, in order. */
  readonly key: string;
  /** UTF-8 JSON of the integration event (see docs/kafka.md). */
  readonly value: string;
  readonly headers: Readonly<Record<string, string>>;
}

export interface KafkaPublisher {
  /**
   * Resolves only once the broker acknowledged every message (acks=all). Rejects otherwise, in which
   * case some messages may or may not have been written: the caller re-sends (at-least-once).
   */
  publish(topic: string, messages: readonly OutboundMessage[]): Promise<void>;
  /**
   * Resolves when the broker answers for `topic` (its metadata can be read); rejects otherwise. The relay
   * asks after a failed publish: a broker that answers while refusing one message means that message is
   * at fault (it is isolated); one that does not answer means the failure is the system's (retry all).
   */
  probe(topic: string): Promise<void>;
  close(): Promise<void>;
}

export const KAFKA_PUBLISHER = Symbol('KAFKA_PUBLISHER');

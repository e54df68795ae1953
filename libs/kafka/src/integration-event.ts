import { positionToString, type RecordedEvent } from '@reclaim/event-store/event-store.port';
import type { OutboundMessage } from './publisher.port';
import { SEALED_VALUE_ALGORITHMS, scrubPersonalData } from './personal-data';

export const DEFAULT_TOPIC = 'reclaim.events.v1';

/** Kafka header names (values are UTF-8 strings). */
export const HEADERS = {
  eventId: 'event-id',
  eventType: 'event-type',
  schemaVersion: 'schema-version',
  shopId: 'shop-id',
  contentType: 'content-type',
} as const;

/**
 * The value of every message on `reclaim.events.v1` (JSON Schema: `INTEGRATION_EVENT_SCHEMA`,
 * docs/kafka.md). `data` is the event's own payload (its schema is chosen by `type` + `schemaVersion`)
 * with personal data sealed or removed. Event metadata other than the three ids below is not published.
 */
export interface IntegrationEvent {
  readonly id: string;
  readonly type: string;
  readonly schemaVersion: number;
  readonly streamId: string;
  /** Revision in its stream, decimal string (may exceed 2^53). */
  readonly revision: string;
  /** Position in the global log, `commit` or `commit/prepare`, decimal strings. */
  readonly position: string;
  readonly recordedAt: string;
  readonly shopId: string | null;
  readonly correlationId: string | null;
  readonly causationId: string | null;
  readonly data: unknown;
}

export interface MappedMessage {
  readonly message: OutboundMessage;
  /** Paths removed from `data` because they held clear-text personal data (never the values). */
  readonly removedPaths: readonly string[];
}

function metaString(e: RecordedEvent, key: 'shopId' | 'correlationId' | 'causationId'): string | null {
  const v = e.metadata?.[key];
  return typeof v === 'string' && v.length > 0 ? v : null;
}

export function toIntegrationEvent(e: RecordedEvent): { event: IntegrationEvent; removedPaths: readonly string[] } {
  const { value, removed } = scrubPersonalData(e.data);
  const event: IntegrationEvent = {
    id: e.id,
    type: e.type,
    schemaVersion: e.schemaVersion,
    streamId: e.streamId,
    revision: e.revision.toString(),
    position: positionToString(e.position),
    recordedAt: e.recordedAt.toISOString(),
    shopId: metaString(e, 'shopId'),
    correlationId: metaString(e, 'correlationId'),
    causationId: metaString(e, 'causationId'),
    data: value === undefined ? null : value,
  };
  return { event, removedPaths: removed };
}

export function toOutboundMessage(e: RecordedEvent): MappedMessage {
  const { event, removedPaths } = toIntegrationEvent(e);
  const headers: Record<string, string> = {
    [HEADERS.eventId]: event.id,
    [HEADERS.eventType]: event.type,
    [HEADERS.schemaVersion]: String(event.schemaVersion),
    [HEADERS.contentType]: 'application/json',
  };
  if (event.shopId !== null) headers[HEADERS.shopId] = event.shopId;
  return { message: { key: event.streamId, value: JSON.stringify(event), headers }, removedPaths };
}

const sealedValueSchema = {
  type: 'object',
  description: 'Ciphertext of a personal value; unreadable once the subject key is shredded.',
  required: ['$sealed', 'subject', 'iv', 'ct', 'tag'],
  additionalProperties: false,
  properties: {
    $sealed: { enum: [...SEALED_VALUE_ALGORITHMS] },
    subject: { type: 'string' },
    iv: { type: 'string' },
    ct: { type: 'string' },
    tag: { type: 'string' },
    key: { type: 'string', pattern: '^[0-9a-f]{16}$', description: 'Id of the subject key (v2 algorithms).' },
  },
} as const;

/**
 * JSON Schema (draft 2020-12) of the message value. Per-type payload schemas extend it by constraining
 * `data` for one `type` + `schemaVersion` (see `integrationEventSchemaFor`).
 */
export const INTEGRATION_EVENT_SCHEMA = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: 'https://reclaim.invalid/schemas/kafka/integration-event.v1.json',
  title: 'Reclaim integration event (reclaim.events.v1)',
  type: 'object',
  required: [
    'id',
    'type',
    'schemaVersion',
    'streamId',
    'revision',
    'position',
    'recordedAt',
    'shopId',
    'correlationId',
    'causationId',
    'data',
  ],
  additionalProperties: false,
  properties: {
    id: { type: 'string', format: 'uuid', description: 'Event id: the deduplication key for consumers.' },
    type: { type: 'string', minLength: 1, description: 'Event type from the domain catalogue.' },
    schemaVersion: { type: 'integer', minimum: 1 },
    streamId: { type: 'string', minLength: 1, description: 'Also the Kafka message key.' },
    revision: { type: 'string', pattern: '^[0-9]+$' },
    position: { type: 'string', pattern: '^-?[0-9]+(/-?[0-9]+)?$' },
    recordedAt: { type: 'string', format: 'date-time' },
    shopId: { type: ['string', 'null'] },
    correlationId: { type: ['string', 'null'] },
    causationId: { type: ['string', 'null'] },
    data: {},
  },
  $defs: { sealedValue: sealedValueSchema },
} as const;

/** A per-type schema: the envelope with `type`/`schemaVersion` fixed and `data` constrained. */
export function integrationEventSchemaFor(
  type: string,
  schemaVersion: number,
  dataSchema: Record<string, unknown>,
): Record<string, unknown> {
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: `https://reclaim.invalid/schemas/kafka/${encodeURIComponent(type)}.v${schemaVersion}.json`,
    title: `${type} v${schemaVersion} on reclaim.events.v1`,
    type: 'object',
    allOf: [{ $ref: INTEGRATION_EVENT_SCHEMA.$id }],
    properties: {
      type: { const: type },
      schemaVersion: { const: schemaVersion },
      data: dataSchema,
    },
  };
}

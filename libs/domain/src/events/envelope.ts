/**
 * The envelope every stored event has (`type`, `schemaVersion`, `data`) and the field groups that
 * many events share.
 */
import type { ConsentState, IsoTimestamp, Platform } from '../inbound/inbound-types';
import type { TimeAnomaly } from '../shared/time';

/** An event as deciders produce it; the application adds the id and metadata when appending. */
export interface DomainEvent<Type extends string = string, Data = unknown> {
  readonly type: Type;
  readonly schemaVersion: number;
  readonly data: Data;
}

export interface Caused {
  readonly shopId: string;
  readonly causationId: string;
  readonly receivedAt: IsoTimestamp;
}

/** Ordering time of a platform change after normalisation (see shared/time.ts). */
export interface PlatformTimed {
  readonly platform: Platform;
  /** Effective (normalised) platform time used for ordering. */
  readonly platformUpdatedAt: IsoTimestamp;
  /** Set when the platform's own time was unknown, invalid or too far ahead and was replaced. */
  readonly platformTimeAnomaly?: TimeAnomaly;
}

export interface RecordedConsent {
  readonly state: ConsentState;
  readonly optInLevel?: string;
  /** Where the consent was collected, e.g. "shopify:checkout". */
  readonly source: string;
  /** When the consent was given or withdrawn (normalised); orders consent changes. */
  readonly consentUpdatedAt: IsoTimestamp;
}

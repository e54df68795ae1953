import type {
  ChangeMarketingConsentCommand,
  CustomerCodeFarmingDetected,
  CustomerCommand,
  CustomerConsentChanged,
  CustomerDataRequested,
  CustomerEvent,
  CustomerRedacted,
  CustomerUpserted,
  RecordCodeFarmingCommand,
  RedactCustomerCommand,
  RequestCustomerDataCommand,
  UpsertCustomerCommand,
} from './customer.messages';
import { event } from '../events/catalogue';
import type { ConsentSnapshot, ConsentState, IsoTimestamp, Platform } from '../inbound/inbound-types';
import { NO_REACH, type ContactReach } from '../shared/contact';
import { InvalidCommandError, rememberCausation, type Decider } from '../shared/decider';
import type { SealedValue } from '../shared/sealed-value';
import { effectivePlatformTime, isAfter } from '../shared/time';
import { validCurrency, validId, validOptionalMoney, validTimestamp } from '../shared/validation';

export type MarketingChannel = 'email' | 'sms';

/** The consent a send relies on (R27): state, where it was collected, when, and which delivery recorded it. */
export interface ConsentEvidence {
  readonly state: ConsentState;
  readonly optInLevel?: string;
  readonly source: string;
  readonly consentUpdatedAt: IsoTimestamp;
  readonly recordedAt: IsoTimestamp;
  readonly causationId: string;
}

export type CustomerStatus = 'none' | 'known' | 'redacted';

export interface CustomerState {
  readonly status: CustomerStatus;
  readonly customerKey?: string;
  readonly platform?: Platform;
  readonly platformCustomerId?: string;
  readonly contact?: SealedValue;
  readonly reach: ContactReach;
  readonly consent: { readonly email?: ConsentEvidence; readonly sms?: ConsentEvidence };
  readonly ordersCount?: number;
  readonly totalSpent?: string;
  readonly currency?: string;
  readonly tags: readonly string[];
  /** IANA zone from the customer's address, when known. */
  readonly timeZone?: string;
  /** Earliest of the platform's creation time and our first record. */
  readonly firstSeenAt?: IsoTimestamp;
  readonly lastPlatformUpdatedAt?: IsoTimestamp;
  readonly redactedAt?: IsoTimestamp;
  readonly dataRequests: number;
  readonly seenCausationIds: readonly string[];
  /** The latest code-farming detection (RFC 0017): when, and how many code purchases it counted. */
  readonly codeFarming?: { readonly detectedAt: IsoTimestamp; readonly codePurchases: number };
}

export const initialCustomerState = (): CustomerState => ({
  status: 'none',
  reach: NO_REACH,
  consent: {},
  tags: [],
  dataRequests: 0,
  seenCausationIds: [],
});

/** True when the customer's latest recorded consent on the channel is `subscribed`. */
export function hasMarketingConsent(state: CustomerState, channel: MarketingChannel): boolean {
  return state.status === 'known' && state.consent[channel]?.state === 'subscribed';
}

function validConsentState(s: ConsentSnapshot | undefined, field: string): void {
  const allowed: readonly ConsentState[] = [
    'subscribed',
    'unsubscribed',
    'not_subscribed',
    'pending',
    'redacted',
    'invalid',
  ];
  if (s !== undefined && !allowed.includes(s.state)) throw new InvalidCommandError('unknown consent state', field);
}

/**
 * Consent observations are ordered by the consent's own time (`updatedAt`, else the platform's
 * update time). Every strictly newer observation is recorded, even one repeating the current
 * state: it moves the ordering time forward, so a stale "subscribed" delivered late cannot undo
 * an opt-out that was confirmed after it, whatever order deliveries arrive in. Older or equally
 * old observations are not news and record nothing.
 */
function consentChange(
  c: UpsertCustomerCommand | ChangeMarketingConsentCommand,
  s: CustomerState,
  channel: MarketingChannel,
  consent: ConsentSnapshot | undefined,
  fallbackAt: string,
  defaultSource: string,
): CustomerConsentChanged[] {
  if (!consent) return [];
  const at = consent.updatedAt ? effectivePlatformTime(consent.updatedAt, c.receivedAt).at : fallbackAt;
  const current = s.status === 'redacted' ? undefined : s.consent[channel];
  if (current && !isAfter(at, current.consentUpdatedAt)) return [];
  return [
    event<CustomerConsentChanged>('customer.consent-changed', {
      shopId: c.shopId,
      causationId: c.causationId,
      receivedAt: validTimestamp(c.receivedAt, 'receivedAt'),
      customerKey: c.customerKey,
      platform: c.platform,
      channel,
      state: consent.state,
      ...(consent.optInLevel !== undefined ? { optInLevel: consent.optInLevel } : {}),
      source: consent.source ?? defaultSource,
      consentUpdatedAt: at,
      ...(current ? { previousState: current.state } : {}),
    }),
  ];
}

function decideUpsert(c: UpsertCustomerCommand, s: CustomerState): CustomerEvent[] {
  validId(c.customerKey, 'customerKey');
  const totalSpent = validOptionalMoney(c.totalSpent, 'totalSpent');
  const currency = c.currency === undefined ? undefined : validCurrency(c.currency);
  if (c.ordersCount !== undefined && (!Number.isSafeInteger(c.ordersCount) || c.ordersCount < 0)) {
    throw new InvalidCommandError('must be a non-negative integer', 'ordersCount');
  }
  validConsentState(c.emailConsent, 'emailConsent.state');
  validConsentState(c.smsConsent, 'smsConsent.state');
  const time = effectivePlatformTime(c.platformUpdatedAt, c.receivedAt);
  // A profile update from before the redaction (e.g. a retried delivery) must not re-create data.
  if (s.status === 'redacted' && s.redactedAt !== undefined && !isAfter(time.at, s.redactedAt)) return [];
  const events: CustomerEvent[] = [];
  if (s.status !== 'known' || isAfter(time.at, s.lastPlatformUpdatedAt)) {
    const createdAt = c.createdAt ? effectivePlatformTime(c.createdAt, c.receivedAt) : undefined;
    events.push(
      event<CustomerUpserted>('customer.upserted', {
        shopId: c.shopId,
        causationId: c.causationId,
        receivedAt: validTimestamp(c.receivedAt, 'receivedAt'),
        platform: c.platform,
        platformUpdatedAt: time.at,
        ...(time.anomaly ? { platformTimeAnomaly: time.anomaly } : {}),
        customerKey: c.customerKey,
        ...(c.customer.platformCustomerId !== undefined ? { platformCustomerId: c.customer.platformCustomerId } : {}),
        ...(c.contact !== undefined ? { contact: c.contact } : {}),
        reach: c.reach,
        ...(c.ordersCount !== undefined ? { ordersCount: c.ordersCount } : {}),
        ...(totalSpent !== undefined ? { totalSpent } : {}),
        ...(currency !== undefined ? { currency } : {}),
        tags: [...(c.tags ?? [])],
        ...(c.timeZone !== undefined ? { timeZone: c.timeZone } : {}),
        ...(createdAt && !createdAt.anomaly ? { createdAt: createdAt.at } : {}),
      }),
    );
  }
  // Consent is ordered on its own clock, so even a stale profile update may carry news about it.
  const afterRedaction = s.status === 'redacted' ? { ...s, status: 'known' as const, consent: {} } : s;
  events.push(
    ...consentChange(c, afterRedaction, 'email', c.emailConsent, time.at, `${c.platform}:customer`),
    ...consentChange(c, afterRedaction, 'sms', c.smsConsent, time.at, `${c.platform}:customer`),
  );
  return events;
}

function decideConsent(c: ChangeMarketingConsentCommand, s: CustomerState): CustomerEvent[] {
  validId(c.customerKey, 'customerKey');
  if (c.channel !== 'email' && c.channel !== 'sms') throw new InvalidCommandError('must be email or sms', 'channel');
  validConsentState(c.consent, 'consent.state');
  const time = effectivePlatformTime(c.platformUpdatedAt, c.receivedAt);
  // After a redaction only a new profile upsert can re-create data.
  if (s.status === 'redacted') return [];
  return consentChange(c, s, c.channel, c.consent, time.at, `${c.platform}:consent`);
}

function decideRedact(c: RedactCustomerCommand, s: CustomerState): CustomerEvent[] {
  validId(c.customerKey, 'customerKey');
  const time = effectivePlatformTime(c.platformUpdatedAt, c.receivedAt);
  // Already redacted and nothing re-created since: a repeated request adds nothing.
  if (s.status === 'redacted') return [];
  // Recorded even for an unknown customer: the application still shreds keys and scrubs read
  // models, and older profile updates arriving later are refused.
  return [
    event<CustomerRedacted>('customer.redacted', {
      shopId: c.shopId,
      causationId: c.causationId,
      receivedAt: validTimestamp(c.receivedAt, 'receivedAt'),
      customerKey: c.customerKey,
      platform: c.platform,
      orderIds: [...c.orderIds],
      redactedAt: time.at,
    }),
  ];
}

function decideDataRequest(c: RequestCustomerDataCommand): CustomerEvent[] {
  validId(c.customerKey, 'customerKey');
  const time = effectivePlatformTime(c.platformUpdatedAt, c.receivedAt);
  return [
    event<CustomerDataRequested>('customer.data-requested', {
      shopId: c.shopId,
      causationId: c.causationId,
      receivedAt: validTimestamp(c.receivedAt, 'receivedAt'),
      customerKey: c.customerKey,
      platform: c.platform,
      ...(c.dataRequestId !== undefined ? { dataRequestId: c.dataRequestId } : {}),
      orderIds: [...c.orderIds],
      requestedAt: time.at,
    }),
  ];
}

export function decideCustomer(command: CustomerCommand, state: CustomerState): CustomerEvent[] {
  if (state.seenCausationIds.includes(command.causationId)) return [];
  switch (command.type) {
    case 'UpsertCustomer':
      return decideUpsert(command, state);
    case 'ChangeMarketingConsent':
      return decideConsent(command, state);
    case 'RedactCustomer':
      return decideRedact(command, state);
    case 'RequestCustomerData':
      return decideDataRequest(command);
    case 'RecordCodeFarming':
      return decideCodeFarming(command, state);
  }
}

/** Recorded when new: a detection that counts no more code purchases than the last one adds nothing. */
function decideCodeFarming(c: RecordCodeFarmingCommand, state: CustomerState): CustomerEvent[] {
  validId(c.customerKey, 'customerKey');
  validTimestamp(c.receivedAt, 'receivedAt');
  if (state.status === 'redacted') return [];
  const purchases = c.evidence.codePurchases.length;
  if (purchases === 0) throw new InvalidCommandError('must not be empty', 'evidence.codePurchases');
  if (state.codeFarming !== undefined && state.codeFarming.codePurchases >= purchases) return [];
  return [
    event<CustomerCodeFarmingDetected>('customer.code-farming-detected', {
      shopId: c.shopId,
      causationId: c.causationId,
      receivedAt: c.receivedAt,
      customerKey: c.customerKey,
      detectedAt: c.receivedAt,
      evidence: c.evidence,
    }),
  ];
}

function earliest(a: string | undefined, b: string | undefined): string | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return isAfter(a, b) ? b : a;
}

export function evolveCustomer(state: CustomerState, e: CustomerEvent): CustomerState {
  const s: CustomerState = {
    ...state,
    seenCausationIds: rememberCausation(state.seenCausationIds, e.data.causationId),
  };
  switch (e.type) {
    case 'customer.upserted': {
      const d = e.data;
      const fresh = s.status !== 'known';
      return {
        ...s,
        status: 'known',
        customerKey: d.customerKey,
        platform: d.platform,
        platformCustomerId: d.platformCustomerId ?? (fresh ? undefined : s.platformCustomerId),
        contact: d.contact ?? (fresh ? undefined : s.contact),
        reach: d.contact !== undefined || fresh ? d.reach : s.reach,
        consent: s.status === 'redacted' ? {} : s.consent,
        ordersCount: d.ordersCount ?? (fresh ? undefined : s.ordersCount),
        totalSpent: d.totalSpent ?? (fresh ? undefined : s.totalSpent),
        currency: d.currency ?? (fresh ? undefined : s.currency),
        tags: d.tags,
        timeZone: d.timeZone ?? (fresh ? undefined : s.timeZone),
        firstSeenAt: earliest(fresh ? undefined : s.firstSeenAt, earliest(d.createdAt, d.receivedAt)),
        lastPlatformUpdatedAt: d.platformUpdatedAt,
      };
    }
    case 'customer.consent-changed': {
      const d = e.data;
      const consent: ConsentEvidence = {
        state: d.state,
        ...(d.optInLevel !== undefined ? { optInLevel: d.optInLevel } : {}),
        source: d.source,
        consentUpdatedAt: d.consentUpdatedAt,
        recordedAt: d.receivedAt,
        causationId: d.causationId,
      };
      return {
        ...s,
        status: s.status === 'none' ? 'known' : s.status,
        customerKey: d.customerKey,
        consent: { ...s.consent, [d.channel]: consent },
      };
    }
    case 'customer.redacted':
      // Everything personal or derived from the profile is forgotten; only the redaction time
      // (to refuse older updates) and the count of data requests (an audit fact) remain.
      return {
        ...initialCustomerState(),
        seenCausationIds: s.seenCausationIds,
        status: 'redacted',
        customerKey: e.data.customerKey,
        platform: e.data.platform,
        redactedAt: e.data.redactedAt,
        dataRequests: s.dataRequests,
      };
    case 'customer.data-requested':
      return { ...s, customerKey: e.data.customerKey, dataRequests: s.dataRequests + 1 };
    case 'customer.code-farming-detected':
      return {
        ...s,
        customerKey: e.data.customerKey,
        codeFarming: { detectedAt: e.data.detectedAt, codePurchases: e.data.evidence.codePurchases.length },
      };
  }
}

export const customerDecider: Decider<CustomerState, CustomerCommand, CustomerEvent> = {
  decide: decideCustomer,
  evolve: evolveCustomer,
  initialState: initialCustomerState,
};

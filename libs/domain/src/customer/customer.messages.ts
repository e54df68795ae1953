/**
 * The customer stream's vocabulary (`customer-<shop>-<customer key>`): inbound commands, domain
 * commands (contact sealed, always naming the stream's customer key) and events.
 */
import type { DomainCommandOf } from '../commands/command-context';
import type { Caused, DomainEvent, PlatformTimed, RecordedConsent } from '../events/envelope';
import type {
  ConsentSnapshot,
  ConsentState,
  ContactDetails,
  CustomerReference,
  DecimalString,
  InboundCommandBase,
  IsoTimestamp,
  Platform,
} from '../inbound/inbound-types';
import type { ContactReach } from '../shared/contact';
import type { SealedValue } from '../shared/sealed-value';
import type { CodeFarmingEvidence } from '../recovery/code-farming';

// ---------------------------------------------------------------- inbound commands (from a webhook)

export interface UpsertCustomer extends InboundCommandBase {
  readonly type: 'UpsertCustomer';
  readonly customer: CustomerReference;
  readonly contact: ContactDetails;
  readonly ordersCount?: number;
  readonly totalSpent?: DecimalString;
  readonly currency?: string;
  readonly tags?: readonly string[];
  /** IANA zone from the customer's (default) address (never the address itself). */
  readonly timeZone?: string;
  readonly emailConsent?: ConsentSnapshot;
  readonly smsConsent?: ConsentSnapshot;
  readonly createdAt?: IsoTimestamp;
}

export interface ChangeMarketingConsent extends InboundCommandBase {
  readonly type: 'ChangeMarketingConsent';
  readonly customer: CustomerReference;
  readonly contact: ContactDetails;
  readonly channel: 'email' | 'sms';
  readonly consent: ConsentSnapshot;
}

/** GDPR/compliance: erase a customer's personal data (Shopify customers/redact). */
export interface RedactCustomer extends InboundCommandBase {
  readonly type: 'RedactCustomer';
  readonly customer: CustomerReference;
  readonly contact: ContactDetails;
  readonly orderIds: readonly string[];
}

/** GDPR/compliance: export what we hold about a customer (Shopify customers/data_request). */
export interface RequestCustomerData extends InboundCommandBase {
  readonly type: 'RequestCustomerData';
  readonly customer: CustomerReference;
  readonly contact: ContactDetails;
  readonly dataRequestId?: string;
  readonly orderIds: readonly string[];
}

// ---------------------------------------------------------------- domain commands

/** Customer commands always name the stream's customer key. */
export type UpsertCustomerCommand = DomainCommandOf<UpsertCustomer> & { readonly customerKey: string };
export type ChangeMarketingConsentCommand = DomainCommandOf<ChangeMarketingConsent> & { readonly customerKey: string };
export type RedactCustomerCommand = DomainCommandOf<RedactCustomer> & { readonly customerKey: string };
export type RequestCustomerDataCommand = DomainCommandOf<RequestCustomerData> & { readonly customerKey: string };

/**
 * The engine found the customer farming recovery codes (RFC 0017): recorded on their stream with
 * the evidence, before the step that withholds the code. `causationId` is the step's request.
 */
export interface RecordCodeFarmingCommand {
  readonly type: 'RecordCodeFarming';
  readonly shopId: string;
  readonly customerKey: string;
  readonly causationId: string;
  readonly receivedAt: IsoTimestamp;
  readonly evidence: CodeFarmingEvidence;
}

export type CustomerCommand =
  | UpsertCustomerCommand
  | ChangeMarketingConsentCommand
  | RedactCustomerCommand
  | RequestCustomerDataCommand
  | RecordCodeFarmingCommand;

// ---------------------------------------------------------------- events

export interface CustomerUpsertedData extends Caused, PlatformTimed {
  readonly customerKey: string;
  readonly platformCustomerId?: string;
  readonly contact?: SealedValue;
  readonly reach: ContactReach;
  readonly ordersCount?: number;
  readonly totalSpent?: DecimalString;
  readonly currency?: string;
  readonly tags: readonly string[];
  /** IANA zone from the customer's address (optional, added without a version bump). */
  readonly timeZone?: string;
  /** The platform's account creation time, when sent (normalised). */
  readonly createdAt?: IsoTimestamp;
}
/** The customer's profile was created or changed on the platform (or re-created after a redaction). */
export type CustomerUpserted = DomainEvent<'customer.upserted', CustomerUpsertedData>;

export interface CustomerConsentChangedData extends Caused, RecordedConsent {
  readonly customerKey: string;
  readonly platform: Platform;
  readonly channel: 'email' | 'sms';
  readonly previousState?: ConsentState;
}
/** Marketing consent for one channel changed; the latest by `consentUpdatedAt` wins (R27). */
export type CustomerConsentChanged = DomainEvent<'customer.consent-changed', CustomerConsentChangedData>;

export interface CustomerRedactedData extends Caused {
  readonly customerKey: string;
  readonly platform: Platform;
  readonly orderIds: readonly string[];
  /** Effective time of the redaction request; profile updates older than this cannot re-create data. */
  readonly redactedAt: IsoTimestamp;
}
/** Erase the customer (R29): the application shreds the subject keys and scrubs read models. */
export type CustomerRedacted = DomainEvent<'customer.redacted', CustomerRedactedData>;

export interface CustomerDataRequestedData extends Caused {
  readonly customerKey: string;
  readonly platform: Platform;
  readonly dataRequestId?: string;
  readonly orderIds: readonly string[];
  readonly requestedAt: IsoTimestamp;
}
/** The customer asked for their data (R29): the application produces an export. */
export type CustomerDataRequested = DomainEvent<'customer.data-requested', CustomerDataRequestedData>;

export interface CustomerCodeFarmingDetectedData extends Caused {
  readonly customerKey: string;
  /** When the pattern was found (the engine's clock). */
  readonly detectedAt: IsoTimestamp;
  /** The pattern's evidence: the code purchases (recovery, order, code, time), orders and thresholds. */
  readonly evidence: CodeFarmingEvidence;
}
/** Repeated abandon → recovery code → purchase with the code: the customer gets no more codes. */
export type CustomerCodeFarmingDetected = DomainEvent<
  'customer.code-farming-detected',
  CustomerCodeFarmingDetectedData
>;

export type CustomerEvent =
  CustomerUpserted | CustomerConsentChanged | CustomerRedacted | CustomerDataRequested | CustomerCodeFarmingDetected;

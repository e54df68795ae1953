import type { ContactDetails, IsoTimestamp } from '../inbound/inbound-types';
import type { ContactReach } from '../shared/contact';
import type { SealedValue } from '../shared/sealed-value';

/**
 * Domain commands are the inbound commands after the application has (1) sealed the clear-text
 * `contact` with libs/privacy and (2) added what only it knows: the shop, the delivery that
 * caused the command and when it arrived. Deciders never see clear-text personal data.
 */
export interface CommandContext {
  /** The shop (tenant) UUID. */
  readonly shopId: string;
  /** Id of the causing event (the `webhook.received` event of the delivery, or `order.placed`). */
  readonly causationId: string;
  /** When Reclaim received the delivery (our clock, ISO-8601). */
  readonly receivedAt: IsoTimestamp;
}

/** The personal-data part replaced by non-personal facts and a sealed value. */
export interface SealedContact {
  readonly contact?: SealedValue;
  /** Which channels could reach this shopper (sms = a valid E.164 phone). */
  readonly reach: ContactReach;
  /** Deterministic customer key from libs/privacy `subjectFor` (`e-…`, `t-…`, `p-…`). */
  readonly customerKey?: string;
}

/** Maps an inbound command to its domain form. */
export type DomainCommandOf<C extends { readonly type: string }> = C extends { readonly contact: ContactDetails }
  ? Omit<C, 'contact'> & SealedContact & CommandContext
  : C & CommandContext;

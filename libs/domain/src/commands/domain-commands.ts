import type {
  ChangeMarketingConsent,
  CompleteCheckout,
  ContactDetails,
  DeleteCart,
  InboundCommand,
  IsoTimestamp,
  PlaceOrder,
  RecordCartActivity,
  RedactCustomer,
  RedactShop,
  ReportCartAbandoned,
  RequestCustomerData,
  UpsertCustomer,
} from '../inbound/inbound-commands';
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
export type DomainCommandOf<C extends InboundCommand> = C extends { readonly contact: ContactDetails }
  ? Omit<C, 'contact'> & SealedContact & CommandContext
  : C & CommandContext;

export type RecordCartActivityCommand = DomainCommandOf<RecordCartActivity>;
export type ReportCartAbandonedCommand = DomainCommandOf<ReportCartAbandoned>;
export type CompleteCheckoutCommand = DomainCommandOf<CompleteCheckout>;
export type DeleteCartCommand = DomainCommandOf<DeleteCart>;
export type PlaceOrderCommand = DomainCommandOf<PlaceOrder>;
/** Customer commands always name the stream's customer key. */
export type UpsertCustomerCommand = DomainCommandOf<UpsertCustomer> & { readonly customerKey: string };
export type ChangeMarketingConsentCommand = DomainCommandOf<ChangeMarketingConsent> & { readonly customerKey: string };
export type RedactCustomerCommand = DomainCommandOf<RedactCustomer> & { readonly customerKey: string };
export type RequestCustomerDataCommand = DomainCommandOf<RequestCustomerData> & { readonly customerKey: string };
export type RedactShopCommand = DomainCommandOf<RedactShop>;

/**
 * Not from a webhook: issued by the application for each cart linked by an `order.placed`
 * event (causationId = that event's id).
 */
export interface MarkCartPurchasedCommand extends CommandContext {
  readonly kind: 'MarkCartPurchased';
  readonly cartId: string;
  readonly orderId: string;
  readonly placedAt: IsoTimestamp;
}

export type CartCommand =
  | RecordCartActivityCommand
  | ReportCartAbandonedCommand
  | CompleteCheckoutCommand
  | MarkCartPurchasedCommand
  | DeleteCartCommand;

export type CustomerCommand =
  UpsertCustomerCommand | ChangeMarketingConsentCommand | RedactCustomerCommand | RequestCustomerDataCommand;

export type OrderCommand = PlaceOrderCommand;
export type ShopCommand = RedactShopCommand;

export type DomainCommand = CartCommand | CustomerCommand | OrderCommand | ShopCommand;

/**
 * The order stream's vocabulary (`order-<shop>-<order>`): inbound command, domain command, event.
 */
import type { DomainCommandOf } from '../commands/command-context';
import type { Caused, DomainEvent, PlatformTimed } from '../events/envelope';
import type {
  CartLineItem,
  ContactDetails,
  CustomerReference,
  DecimalString,
  InboundCommandBase,
  IsoTimestamp,
} from '../inbound/inbound-types';
import type { ContactReach } from '../shared/contact';
import type { SealedValue } from '../shared/sealed-value';

// ---------------------------------------------------------------- inbound command (from a webhook)

export interface PlaceOrder extends InboundCommandBase {
  readonly type: 'PlaceOrder';
  readonly orderId: string;
  /** The cart/checkout this order came from, when the platform says (Shopify checkout_token / cart_token). */
  readonly cartIds: readonly string[];
  readonly customer: CustomerReference;
  readonly contact: ContactDetails;
  readonly currency: string;
  readonly total: DecimalString;
  readonly subtotal?: DecimalString;
  readonly totalDiscounts?: DecimalString;
  readonly discountCodes: readonly string[];
  readonly financialStatus?: string;
  readonly placedAt: IsoTimestamp;
  readonly landingSite?: string;
  readonly referrer?: string;
  /** The customer's IANA zone from the order's address (never the address itself). */
  readonly timeZone?: string;
  readonly lineItems: readonly CartLineItem[];
}

// ---------------------------------------------------------------- domain command

export type PlaceOrderCommand = DomainCommandOf<PlaceOrder>;
export type OrderCommand = PlaceOrderCommand;

// ---------------------------------------------------------------- event

export interface OrderPlacedData extends Caused, PlatformTimed {
  readonly orderId: string;
  readonly cartIds: readonly string[];
  readonly platformCustomerId?: string;
  readonly customerKey?: string;
  readonly contact?: SealedValue;
  readonly reach: ContactReach;
  readonly currency: string;
  readonly total: DecimalString;
  readonly subtotal?: DecimalString;
  readonly totalDiscounts?: DecimalString;
  readonly discountCodes: readonly string[];
  readonly financialStatus?: string;
  readonly placedAt: IsoTimestamp;
  readonly landingSite?: string;
  readonly referrer?: string;
  /** IANA zone from the order's address (optional, added without a version bump). */
  readonly timeZone?: string;
  readonly lineItems: readonly CartLineItem[];
}
/** An order was placed (once per order id); the application marks each linked cart purchased. */
export type OrderPlaced = DomainEvent<'order.placed', OrderPlacedData>;

export type OrderEvent = OrderPlaced;

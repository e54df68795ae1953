/**
 * What the platform adapters (libs/platforms/<store>) turn a verified webhook into: one inbound
 * command of the aggregate it concerns. Each command is declared with its aggregate's other
 * messages (`<aggregate>/<aggregate>.messages.ts`); the shared shapes are in ./inbound-types.ts.
 * Every command, inbound, domain or recovery, is discriminated by `type`.
 */
import type { CompleteCheckout, DeleteCart, RecordCartActivity, ReportCartAbandoned } from '../cart/cart.messages';
import type {
  ChangeMarketingConsent,
  RedactCustomer,
  RequestCustomerData,
  UpsertCustomer,
} from '../customer/customer.messages';
import type { PlaceOrder } from '../order/order.messages';
import type { ReportProductStock } from '../product/product.messages';
import type { RedactShop } from '../shop/shop.messages';

export type InboundCommand =
  | RecordCartActivity
  | ReportCartAbandoned
  | CompleteCheckout
  | DeleteCart
  | PlaceOrder
  | UpsertCustomer
  | ChangeMarketingConsent
  | RedactCustomer
  | RequestCustomerData
  | RedactShop
  | ReportProductStock;

export type InboundCommandType = InboundCommand['type'];

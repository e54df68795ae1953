import type { CartLineItem, ContactDetails, PlaceOrder, UpsertCustomer } from '@reclaim/domain';
import {
  addressLine,
  arrOf,
  boolOf,
  idOf,
  intOf,
  JsonObject,
  moneyField,
  objOf,
  optionalIdOf,
  optionalMoneyField,
  optionalTimestampOf,
  PayloadFieldError,
  singleCurrency,
  strOf,
  timestampOf,
  timeZoneOfAddress,
} from '../common';
import Decimal from 'decimal.js';

/** Order statuses that mean the shopper bought (payment taken or promised). */
export const WOOCOMMERCE_PURCHASED_STATUSES: readonly string[] = ['processing', 'completed', 'on-hold'];

/** WooCommerce's `*_gmt` fields carry no offset; they are UTC. */
export function wooModifiedAt(p: JsonObject, receivedAt: Date): string {
  return (
    optionalTimestampOf(p['date_modified_gmt'], 'date_modified_gmt', { assumeUtc: true }) ??
    optionalTimestampOf(p['date_created_gmt'], 'date_created_gmt', { assumeUtc: true }) ??
    receivedAt.toISOString()
  );
}

function wooContact(billing: JsonObject | undefined, ip?: string): ContactDetails {
  return {
    email: strOf(billing?.['email']),
    phone: strOf(billing?.['phone']),
    firstName: strOf(billing?.['first_name']),
    lastName: strOf(billing?.['last_name']),
    address:
      billing === undefined
        ? undefined
        : addressLine(['address_1', 'address_2', 'city', 'state', 'postcode', 'country'].map((k) => strOf(billing[k]))),
    ip,
  };
}

function wooLineItems(list: unknown): CartLineItem[] {
  return arrOf(list).map((raw, i) => {
    const f = `line_items[${i}]`;
    const li = objOf(raw);
    if (li === undefined) throw new PayloadFieldError(f, 'line item is not an object');
    const quantity = intOf(li['quantity'], `${f}.quantity`);
    // `subtotal` is the line before coupons; `price` is a float in the REST payload, so derive the unit price from it.
    const subtotal = moneyField(li['subtotal'], `${f}.subtotal`);
    const unitPrice = quantity > 0 ? new Decimal(subtotal).dividedBy(quantity).toDecimalPlaces(4).toFixed() : subtotal;
    const image = objOf(li['image']);
    return {
      lineId: idOf(li['id'], `${f}.id`),
      productId: idOf(li['product_id'], `${f}.product_id`),
      variantId: optionalIdOf(li['variation_id'], `${f}.variation_id`),
      sku: strOf(li['sku']),
      title: strOf(li['name']) ?? '',
      imageUrl: strOf(image?.['src']),
      quantity,
      unitPrice,
    };
  });
}

/** The zone of the first of the addresses that tells one (shipping before billing). */
function wooTimeZone(...addresses: (JsonObject | undefined)[]): string | undefined {
  for (const a of addresses) {
    if (a === undefined) continue;
    const zone = timeZoneOfAddress({ country: strOf(a['country']), region: strOf(a['state']), city: strOf(a['city']) });
    if (zone !== undefined) return zone;
  }
  return undefined;
}

/** order.created / order.updated (the REST v3 order resource). */
export function mapWooOrder(p: JsonObject, shopCurrency: string, receivedAt: Date): PlaceOrder {
  const currency = singleCurrency([strOf(p['currency'])], shopCurrency);
  if (!currency.ok) throw new PayloadFieldError('currency', currency.reason);
  const lineItems = wooLineItems(p['line_items']);
  const subtotal = lineItems.reduce(
    (sum, li) => sum.plus(new Decimal(li.unitPrice).times(li.quantity)),
    new Decimal(0),
  );
  return {
    type: 'PlaceOrder',
    platform: 'woocommerce',
    platformUpdatedAt: wooModifiedAt(p, receivedAt),
    orderId: idOf(p['id'], 'id'),
    cartIds: [],
    customer: { platformCustomerId: optionalIdOf(p['customer_id'], 'customer_id') },
    contact: wooContact(objOf(p['billing']), strOf(p['customer_ip_address'])),
    currency: currency.value,
    total: moneyField(p['total'], 'total'),
    subtotal: subtotal.toFixed(),
    totalDiscounts: optionalMoneyField(p['discount_total'], 'discount_total'),
    discountCodes: arrOf(p['coupon_lines'])
      .map((c) => strOf(objOf(c)?.['code']))
      .filter((c): c is string => c !== undefined),
    financialStatus: strOf(p['status']),
    timeZone: wooTimeZone(objOf(p['shipping']), objOf(p['billing'])),
    placedAt:
      optionalTimestampOf(p['date_paid_gmt'], 'date_paid_gmt', { assumeUtc: true }) ??
      timestampOf(p['date_created_gmt'], 'date_created_gmt', { assumeUtc: true }),
    lineItems,
  };
}

/** customer.created / customer.updated (the REST v3 customer resource). */
export function mapWooCustomer(p: JsonObject, receivedAt: Date): UpsertCustomer {
  const billing = objOf(p['billing']);
  const contact = wooContact(billing);
  const payingCustomer = boolOf(p['is_paying_customer']);
  return {
    type: 'UpsertCustomer',
    platform: 'woocommerce',
    platformUpdatedAt: wooModifiedAt(p, receivedAt),
    customer: { platformCustomerId: idOf(p['id'], 'id') },
    contact: {
      ...contact,
      email: strOf(p['email']) ?? contact.email,
      firstName: strOf(p['first_name']) ?? contact.firstName,
      lastName: strOf(p['last_name']) ?? contact.lastName,
    },
    tags: payingCustomer === true ? ['paying_customer'] : undefined,
    timeZone: wooTimeZone(objOf(p['shipping']), billing),
    createdAt: optionalTimestampOf(p['date_created_gmt'], 'date_created_gmt', { assumeUtc: true }),
  };
}

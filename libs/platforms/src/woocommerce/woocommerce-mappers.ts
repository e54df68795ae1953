import type {
  CartLineItem,
  CheckoutStage,
  ContactDetails,
  PlaceOrder,
  RecordCartActivity,
  ReportProductStock,
  UpsertCustomer,
} from '@reclaim/domain';
import {
  addressLine,
  arrOf,
  boolOf,
  deviceFromUserAgent,
  idOf,
  intOf,
  JsonObject,
  moneyField,
  objOf,
  optionalCountOf,
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

/**
 * Orders the shopper created at checkout but did not pay: `pending` (submitted, payment not taken,
 * e.g. left at the payment provider), `failed` (the payment failed) and `checkout-draft` (the block
 * checkout's draft while the shopper fills in the form). They are the cart a recovery reminds of.
 */
export const WOOCOMMERCE_UNPAID_STATUSES: readonly string[] = ['pending', 'failed', 'checkout-draft'];

/** The cart key of an unpaid order: the same order paid later marks it purchased. */
export function wooOrderCartId(orderId: string): string {
  return `order-${orderId}`;
}

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

const ATTRIBUTION_PREFIX = '_wc_order_attribution_';

/** The order attribution meta (WooCommerce ≥ 8.5, `_wc_order_attribution_*`) by key without the prefix. */
export function wooOrderAttribution(p: JsonObject): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of arrOf(p['meta_data'])) {
    const m = objOf(raw);
    const key = strOf(m?.['key']);
    const value = strOf(m?.['value']);
    if (key?.startsWith(ATTRIBUTION_PREFIX) && value !== undefined && value.trim() !== '') {
      out[key.slice(ATTRIBUTION_PREFIX.length)] = value.trim();
    }
  }
  return out;
}

const WOO_DEVICES: Record<string, 'mobile' | 'tablet' | 'desktop'> = {
  mobile: 'mobile',
  tablet: 'tablet',
  desktop: 'desktop',
};

/** The shopper's device: the attribution's `device_type` (Mobile / Tablet / Desktop), else its or the order's user agent. */
export function wooDevice(p: JsonObject, attribution = wooOrderAttribution(p)): string | undefined {
  const typed = attribution['device_type']?.toLowerCase();
  if (typed !== undefined && WOO_DEVICES[typed] !== undefined) return WOO_DEVICES[typed];
  return deviceFromUserAgent(attribution['user_agent'] ?? strOf(p['customer_user_agent']));
}

function hostOf(url: string | undefined): string | undefined {
  if (url === undefined) return undefined;
  try {
    return new URL(url).hostname.replace(/^www\./, '').slice(0, 128) || undefined;
  } catch {
    return undefined;
  }
}

/**
 * Where the shopper came from, from the order attribution: `utm_source`, else the referrer's host,
 * else the source type (`typein` is a direct visit; `organic`, `referral`, `admin`, `mobile_app`
 * as they are); 'unknown' when the order carries no attribution (older WooCommerce, or turned off).
 */
export function wooTrafficSource(attribution: Record<string, string>): string {
  const utm = attribution['utm_source'];
  if (utm !== undefined) return utm.slice(0, 64).toLowerCase();
  const host = hostOf(attribution['referrer']);
  if (host !== undefined) return host;
  const type = attribution['source_type']?.toLowerCase();
  if (type === 'typein') return 'direct';
  return type !== undefined ? type.slice(0, 32) : 'unknown';
}

/**
 * How far the shopper got: a submitted but unpaid order (`pending`, `failed`) reached payment; a
 * draft with a shipping rate chosen, payment; with a shipping address, shipping; with a billing
 * e-mail or phone, contact; else the cart.
 */
export function wooCheckoutStage(p: JsonObject): CheckoutStage {
  const status = strOf(p['status']) ?? '';
  if (status === 'pending' || status === 'failed') return 'payment';
  if (arrOf(p['shipping_lines']).length > 0) return 'payment';
  const shipping = objOf(p['shipping']);
  if (shipping !== undefined && ['address_1', 'city', 'postcode'].some((k) => strOf(shipping[k]) !== undefined))
    return 'shipping';
  const billing = objOf(p['billing']);
  if (strOf(billing?.['email']) !== undefined || strOf(billing?.['phone']) !== undefined) return 'contact';
  return 'cart';
}

/**
 * An unpaid order (`WOOCOMMERCE_UNPAID_STATUSES`) as the cart it is: its lines, totals, the stage
 * it reached and the device and traffic source of its order attribution.
 */
export function mapWooUnpaidOrder(p: JsonObject, shopCurrency: string, receivedAt: Date): RecordCartActivity {
  const currency = singleCurrency([strOf(p['currency'])], shopCurrency);
  if (!currency.ok) throw new PayloadFieldError('currency', currency.reason);
  const lineItems = wooLineItems(p['line_items']);
  const subtotal = lineItems
    .reduce((sum, li) => sum.plus(new Decimal(li.unitPrice).times(li.quantity)), new Decimal(0))
    .toFixed();
  const attribution = wooOrderAttribution(p);
  return {
    type: 'RecordCartActivity',
    platform: 'woocommerce',
    platformUpdatedAt: wooModifiedAt(p, receivedAt),
    cartId: wooOrderCartId(idOf(p['id'], 'id')),
    source: 'checkout',
    customer: { platformCustomerId: optionalIdOf(p['customer_id'], 'customer_id') },
    contact: wooContact(objOf(p['billing']), strOf(p['customer_ip_address'])),
    lineItems,
    currency: currency.value,
    subtotal,
    total: moneyField(p['total'], 'total'),
    checkoutUrl: strOf(p['payment_url']),
    landingSite: attribution['session_entry'],
    referrer: attribution['referrer'],
    device: wooDevice(p, attribution),
    trafficSource: wooTrafficSource(attribution),
    checkoutStage: wooCheckoutStage(p),
    timeZone: wooTimeZone(objOf(p['shipping']), objOf(p['billing'])),
  };
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
    // The same order, if it was recorded unpaid before, is the cart it buys.
    cartIds: [wooOrderCartId(idOf(p['id'], 'id'))],
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

/**
 * WooCommerce `product.updated` (the REST product resource; a variation carries its `parent_id`):
 * in stock when published, purchasable and `instock` or `onbackorder`.
 */
export function mapWooProductStock(p: JsonObject, receivedAt: Date): ReportProductStock {
  const available =
    (strOf(p['status']) ?? 'publish') === 'publish' &&
    p['purchasable'] !== false &&
    ['instock', 'onbackorder'].includes(strOf(p['stock_status']) ?? '');
  const id = idOf(p['id'], 'id');
  const parent = optionalIdOf(p['parent_id'], 'parent_id');
  const quantity = optionalCountOf(p['stock_quantity']);
  const at =
    optionalTimestampOf(p['date_modified_gmt'], 'date_modified_gmt', { assumeUtc: true }) ?? receivedAt.toISOString();
  if (parent !== undefined && parent !== '0') {
    return {
      type: 'ReportProductStock',
      platform: 'woocommerce',
      platformUpdatedAt: at,
      productId: parent,
      variants: [{ variantId: id, available, ...(quantity !== undefined ? { quantity } : {}) }],
    };
  }
  return {
    type: 'ReportProductStock',
    platform: 'woocommerce',
    platformUpdatedAt: at,
    productId: id,
    available,
    variants: [],
  };
}

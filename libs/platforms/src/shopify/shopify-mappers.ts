import Decimal from 'decimal.js';
import type {
  CartLineItem,
  CheckoutStage,
  ConsentSnapshot,
  ConsentState,
  ContactDetails,
  InboundCommand,
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
  timeZoneOfAddress,
  type AddressPlace,
} from '../common';

const CONSENT_STATES: readonly ConsentState[] = [
  'subscribed',
  'unsubscribed',
  'not_subscribed',
  'pending',
  'redacted',
  'invalid',
];

/** Shopify's `*_marketing_consent` object → snapshot; `undefined` when absent or its state is null. */
export function consentSnapshot(v: unknown, field: string, source: string): ConsentSnapshot | undefined {
  const o = objOf(v);
  if (o === undefined) return undefined;
  const state = strOf(o['state'])?.toLowerCase();
  if (state === undefined) return undefined;
  if (!CONSENT_STATES.includes(state as ConsentState))
    throw new PayloadFieldError(`${field}.state`, `unknown consent state "${state.slice(0, 40)}"`);
  const collectedFrom = strOf(o['consent_collected_from'])?.toLowerCase();
  return {
    state: state as ConsentState,
    optInLevel: strOf(o['opt_in_level']) ?? undefined,
    updatedAt: optionalTimestampOf(o['consent_updated_at'], `${field}.consent_updated_at`),
    source: collectedFrom !== undefined ? `shopify:${collectedFrom}` : source,
  };
}

function acceptsMarketing(v: unknown, source: string): ConsentSnapshot | undefined {
  const b = boolOf(v);
  return b === undefined ? undefined : { state: b ? 'subscribed' : 'not_subscribed', optInLevel: 'unknown', source };
}

function lineItems(
  list: unknown,
  field: string,
): { items: CartLineItem[]; currencies: (string | undefined)[]; lineTotals: string[] } {
  const items: CartLineItem[] = [];
  const currencies: (string | undefined)[] = [];
  const lineTotals: string[] = [];
  arrOf(list).forEach((raw, i) => {
    const f = `${field}[${i}]`;
    const li = objOf(raw);
    if (li === undefined) throw new PayloadFieldError(f, 'line item is not an object');
    const lineId =
      strOf(li['key']) ??
      optionalIdOf(li['id'], `${f}.id`) ??
      optionalIdOf(li['variant_id'], `${f}.variant_id`) ??
      String(i);
    const productId = optionalIdOf(li['product_id'], `${f}.product_id`);
    const quantity = intOf(li['quantity'], `${f}.quantity`);
    const unitPrice = moneyField(li['price'] ?? li['original_price'], `${f}.price`);
    const image = li['image_url'] ?? li['image'];
    const imageUrl = strOf(image) ?? strOf(objOf(image)?.['src']);
    const priceSet = objOf(li['price_set']);
    currencies.push(strOf(objOf(priceSet?.['presentment_money'])?.['currency_code']));
    const linePrice = optionalMoneyField(li['line_price'], `${f}.line_price`);
    lineTotals.push(linePrice ?? new Decimal(unitPrice).times(quantity).toFixed());
    items.push({
      lineId,
      productId: productId ?? `custom:${lineId}`,
      variantId: optionalIdOf(li['variant_id'], `${f}.variant_id`),
      sku: strOf(li['sku']),
      title: strOf(li['title']) ?? strOf(li['presentment_title']) ?? strOf(li['name']) ?? '',
      variantTitle: strOf(li['variant_title']) ?? strOf(li['presentment_variant_title']),
      imageUrl,
      productUrl: strOf(li['url']),
      quantity,
      unitPrice,
    });
  });
  return { items, currencies, lineTotals };
}

function contactOf(p: JsonObject): ContactDetails {
  const customer = objOf(p['customer']);
  const billing = objOf(p['billing_address']);
  const shipping = objOf(p['shipping_address']);
  const addr = billing ?? shipping ?? objOf(customer?.['default_address']);
  const client = objOf(p['client_details']);
  return {
    email: strOf(p['email']) ?? strOf(p['contact_email']) ?? strOf(customer?.['email']),
    phone: strOf(p['phone']) ?? strOf(p['sms_marketing_phone']) ?? strOf(customer?.['phone']) ?? strOf(addr?.['phone']),
    firstName: strOf(customer?.['first_name']) ?? strOf(billing?.['first_name']) ?? strOf(shipping?.['first_name']),
    lastName: strOf(customer?.['last_name']) ?? strOf(billing?.['last_name']) ?? strOf(shipping?.['last_name']),
    address:
      addr === undefined
        ? undefined
        : addressLine(
            [addr['address1'], addr['address2'], addr['city'], addr['province'], addr['zip'], addr['country']].map(
              strOf,
            ),
          ),
    ip: strOf(p['browser_ip']) ?? strOf(client?.['browser_ip']),
  };
}

/** A Shopify address's place (country / province codes and names, city, coordinates when geocoded). */
function shopifyPlace(a: JsonObject | undefined): AddressPlace | undefined {
  if (a === undefined) return undefined;
  const coordinate = (v: unknown) => (typeof v === 'number' ? v : typeof v === 'string' ? Number(v) : undefined);
  return {
    country: strOf(a['country_code']) ?? strOf(a['country']),
    region: strOf(a['province_code']),
    regionName: strOf(a['province']),
    city: strOf(a['city']),
    latitude: coordinate(a['latitude']),
    longitude: coordinate(a['longitude']),
  };
}

/** The shopper's zone from the checkout's / order's shipping, billing or the customer's default address. */
function checkoutTimeZone(p: JsonObject): string | undefined {
  const customer = objOf(p['customer']);
  for (const a of [p['shipping_address'], p['billing_address'], customer?.['default_address']]) {
    const zone = timeZoneOfAddress(shopifyPlace(objOf(a)));
    if (zone !== undefined) return zone;
  }
  return undefined;
}

/**
 * How far the shopper got in Shopify's checkout (information → shipping → payment), from what the
 * checkout carries: a payment gateway chosen, or a shipping rate chosen (`shipping_line`,
 * `shipping_lines`), means the payment step; a shipping address means the shipping step; an e-mail
 * or phone, the contact step; else only the cart.
 */
export function shopifyCheckoutStage(p: JsonObject): CheckoutStage {
  const present = (v: unknown) => strOf(v) !== undefined;
  if (present(p['gateway']) || present(p['payment_gateway'])) return 'payment';
  const line = objOf(p['shipping_line']);
  if ((line !== undefined && Object.keys(line).length > 0) || arrOf(p['shipping_lines']).length > 0) return 'payment';
  const shipping = objOf(p['shipping_address']);
  if (shipping !== undefined && ['address1', 'city', 'zip'].some((k) => present(shipping[k]))) return 'shipping';
  const customer = objOf(p['customer']);
  if (present(p['email']) || present(p['phone']) || present(p['sms_marketing_phone']) || present(customer?.['email']))
    return 'contact';
  return 'cart';
}

/**
 * A `utm_source` the storefront kept as a cart attribute (`note_attributes` `utm_source` or
 * `_utm_source`, as attribution snippets and apps store it), used when the landing page carries
 * none. Shopify's 2026-07 checkout sample has `landing_site` and `referring_site` null, no
 * `client_details`, and `source_name` "web" — the sales channel, not where the shopper came from —
 * so nothing there says the source or device; the recovery records them as unknown with that reason.
 */
export function shopifyUtmAttribute(p: JsonObject): string | undefined {
  const landing = strOf(p['landing_site']);
  if (landing !== undefined && /[?&]utm_source=[^&]/.test(landing)) return undefined;
  for (const a of arrOf(p['note_attributes'])) {
    const o = objOf(a);
    const name = strOf(o?.['name'])?.toLowerCase();
    const value = strOf(o?.['value'])?.trim();
    if ((name === 'utm_source' || name === '_utm_source') && value) return value.slice(0, 64).toLowerCase();
  }
  return undefined;
}

function updatedAt(p: JsonObject, receivedAt: Date): string {
  return (
    optionalTimestampOf(p['updated_at'], 'updated_at') ??
    optionalTimestampOf(p['created_at'], 'created_at') ??
    receivedAt.toISOString()
  );
}

function zeroSubtotalCheck(items: readonly CartLineItem[], subtotal: string, field: string): void {
  if (items.length > 0 && new Decimal(subtotal).isZero() && items.some((i) => !new Decimal(i.unitPrice).isZero())) {
    throw new PayloadFieldError(field, 'zero subtotal although line items have prices');
  }
}

/** checkouts/create|update: cart activity, plus CompleteCheckout when `completed_at` is set. */
export function mapShopifyCheckout(p: JsonObject, shopCurrency: string, receivedAt: Date): InboundCommand[] {
  const token = optionalIdOf(p['token'], 'token');
  const cartToken = optionalIdOf(p['cart_token'], 'cart_token');
  const cartId = cartToken ?? token ?? idOf(p['id'], 'token');
  const { items, currencies, lineTotals } = lineItems(p['line_items'], 'line_items');
  const currency = singleCurrency(
    [strOf(p['presentment_currency']) ?? strOf(p['currency']), ...currencies],
    shopCurrency,
  );
  if (!currency.ok) throw new PayloadFieldError('currency', currency.reason);
  const subtotal =
    optionalMoneyField(p['subtotal_price'], 'subtotal_price') ??
    lineTotals.reduce((a, b) => a.plus(b), new Decimal(0)).toFixed();
  zeroSubtotalCheck(items, subtotal, 'subtotal_price');
  const total = optionalMoneyField(p['total_price'], 'total_price') ?? subtotal;
  const customer = objOf(p['customer']);
  const client = objOf(p['client_details']);
  const platformUpdatedAt = updatedAt(p, receivedAt);
  const activity: RecordCartActivity = {
    type: 'RecordCartActivity',
    platform: 'shopify',
    platformUpdatedAt,
    cartId,
    cartToken,
    source: 'checkout',
    customer: { platformCustomerId: optionalIdOf(customer?.['id'], 'customer.id') },
    contact: contactOf(p),
    lineItems: items,
    currency: currency.value,
    subtotal,
    total,
    checkoutUrl: strOf(p['abandoned_checkout_url']),
    landingSite: strOf(p['landing_site']),
    referrer: strOf(p['referring_site']),
    ...((source) => (source !== undefined ? { trafficSource: source } : {}))(shopifyUtmAttribute(p)),
    device: deviceFromUserAgent(strOf(client?.['user_agent'])),
    checkoutStage: shopifyCheckoutStage(p),
    locale: strOf(p['customer_locale']),
    timeZone: checkoutTimeZone(p),
    emailConsent:
      consentSnapshot(customer?.['email_marketing_consent'], 'customer.email_marketing_consent', 'shopify:checkout') ??
      acceptsMarketing(p['buyer_accepts_marketing'], 'shopify:checkout'),
    smsConsent:
      consentSnapshot(customer?.['sms_marketing_consent'], 'customer.sms_marketing_consent', 'shopify:checkout') ??
      acceptsMarketing(p['buyer_accepts_sms_marketing'], 'shopify:checkout'),
  };
  const completedAt = optionalTimestampOf(p['completed_at'], 'completed_at');
  if (completedAt === undefined) return [activity];
  return [
    activity,
    {
      type: 'CompleteCheckout',
      platform: 'shopify',
      platformUpdatedAt,
      cartId,
      orderId: optionalIdOf(p['order_id'], 'order_id') ?? optionalIdOf(objOf(p['order'])?.['id'], 'order.id'),
      completedAt,
    },
  ];
}

/** carts/create|update: the storefront cart (no currency or totals of its own: derived from the lines). */
export function mapShopifyCart(p: JsonObject, shopCurrency: string, receivedAt: Date): RecordCartActivity {
  const cartId = optionalIdOf(p['token'], 'token') ?? idOf(p['id'], 'id');
  const { items, currencies, lineTotals } = lineItems(p['line_items'], 'line_items');
  const currency = singleCurrency([strOf(p['currency']), ...currencies], shopCurrency);
  if (!currency.ok) throw new PayloadFieldError('currency', currency.reason);
  const subtotal = lineTotals.reduce((a, b) => a.plus(b), new Decimal(0)).toFixed();
  zeroSubtotalCheck(items, subtotal, 'line_items');
  return {
    type: 'RecordCartActivity',
    platform: 'shopify',
    platformUpdatedAt: updatedAt(p, receivedAt),
    cartId,
    cartToken: cartId,
    source: 'cart',
    checkoutStage: 'cart',
    customer: { platformCustomerId: optionalIdOf(objOf(p['customer'])?.['id'], 'customer.id') },
    contact: contactOf(p),
    lineItems: items,
    currency: currency.value,
    subtotal,
    total: subtotal,
  };
}

/** orders/create, orders/paid. */
export function mapShopifyOrder(p: JsonObject, shopCurrency: string, receivedAt: Date): PlaceOrder {
  const orderId = idOf(p['id'], 'id');
  const cartIds = [
    optionalIdOf(p['cart_token'], 'cart_token'),
    optionalIdOf(p['checkout_token'], 'checkout_token'),
  ].filter((v, i, all): v is string => v !== undefined && all.indexOf(v) === i);
  const { items, currencies } = lineItems(p['line_items'], 'line_items');
  const currency = singleCurrency(
    [strOf(p['presentment_currency']) ?? strOf(p['currency']), ...currencies],
    shopCurrency,
  );
  if (!currency.ok) throw new PayloadFieldError('currency', currency.reason);
  const customer = objOf(p['customer']);
  return {
    type: 'PlaceOrder',
    platform: 'shopify',
    platformUpdatedAt: updatedAt(p, receivedAt),
    orderId,
    cartIds,
    customer: { platformCustomerId: optionalIdOf(customer?.['id'], 'customer.id') },
    contact: contactOf(p),
    currency: currency.value,
    total: moneyField(p['total_price'], 'total_price'),
    subtotal: optionalMoneyField(p['subtotal_price'], 'subtotal_price'),
    totalDiscounts: optionalMoneyField(p['total_discounts'], 'total_discounts'),
    discountCodes: arrOf(p['discount_codes'])
      .map((d) => strOf(objOf(d)?.['code']))
      .filter((c): c is string => c !== undefined),
    financialStatus: strOf(p['financial_status']),
    placedAt:
      optionalTimestampOf(p['processed_at'], 'processed_at') ??
      optionalTimestampOf(p['created_at'], 'created_at') ??
      receivedAt.toISOString(),
    timeZone: checkoutTimeZone(p),
    landingSite: strOf(p['landing_site']),
    referrer: strOf(p['referring_site']),
    lineItems: items,
  };
}

/** customers/create|update. */
export function mapShopifyCustomer(p: JsonObject, receivedAt: Date): UpsertCustomer {
  const tags = strOf(p['tags']);
  const currency = strOf(p['currency']);
  return {
    type: 'UpsertCustomer',
    platform: 'shopify',
    platformUpdatedAt: updatedAt(p, receivedAt),
    customer: { platformCustomerId: idOf(p['id'], 'id') },
    contact: {
      email: strOf(p['email']),
      phone: strOf(p['phone']) ?? strOf(objOf(p['default_address'])?.['phone']),
      firstName: strOf(p['first_name']),
      lastName: strOf(p['last_name']),
      address: ((a) =>
        a === undefined
          ? undefined
          : addressLine([a['address1'], a['address2'], a['city'], a['province'], a['zip'], a['country']].map(strOf)))(
        objOf(p['default_address']),
      ),
    },
    ordersCount:
      p['orders_count'] === undefined || p['orders_count'] === null
        ? undefined
        : intOf(p['orders_count'], 'orders_count'),
    totalSpent: optionalMoneyField(p['total_spent'], 'total_spent'),
    currency: currency === undefined ? undefined : currency.toUpperCase(),
    tags:
      tags === undefined
        ? undefined
        : tags
            .split(',')
            .map((t) => t.trim())
            .filter((t) => t !== ''),
    timeZone: timeZoneOfAddress(shopifyPlace(objOf(p['default_address']))),
    emailConsent: consentSnapshot(p['email_marketing_consent'], 'email_marketing_consent', 'shopify:customer'),
    smsConsent: consentSnapshot(p['sms_marketing_consent'], 'sms_marketing_consent', 'shopify:customer'),
    createdAt: optionalTimestampOf(p['created_at'], 'created_at'),
  };
}

export function idList(v: unknown, field: string): string[] {
  return arrOf(v).map((x, i) => idOf(x, `${field}[${i}]`));
}

/**
 * Shopify `products/update` (the REST product resource): a variant can be bought when its
 * inventory is not tracked (`inventory_management` null), it keeps selling (`inventory_policy:
 * continue`) or it has units; a product that is not `active` can be bought in no variant.
 */
export function mapShopifyProductStock(p: JsonObject, receivedAt: Date): ReportProductStock {
  const active = (strOf(p['status']) ?? 'active') === 'active';
  const variants = arrOf(p['variants']).map((raw, i) => {
    const v = objOf(raw) ?? {};
    const quantity = optionalCountOf(v['inventory_quantity']);
    const tracked = strOf(v['inventory_management']) !== undefined;
    const available =
      active && (!tracked || strOf(v['inventory_policy']) === 'continue' || (quantity !== undefined && quantity > 0));
    return {
      variantId: idOf(v['id'], `variants[${i}].id`),
      available,
      ...(quantity !== undefined ? { quantity } : {}),
    };
  });
  return {
    type: 'ReportProductStock',
    platform: 'shopify',
    platformUpdatedAt: optionalTimestampOf(p['updated_at'], 'updated_at') ?? receivedAt.toISOString(),
    productId: idOf(p['id'], 'id'),
    available: variants.some((v) => v.available),
    variants,
  };
}

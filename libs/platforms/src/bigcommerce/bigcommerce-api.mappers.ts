import Decimal from 'decimal.js';
import type {
  CartLineItem,
  CheckoutStage,
  DeleteCart,
  PlaceOrder,
  RecordCartActivity,
  UpsertCustomer,
  ShippingChoice,
} from '@reclaim/domain';
import type { MappingResult } from '@reclaim/ports';
import {
  addressLine,
  safeMap,
  isObject,
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
  rootObject,
  singleCurrency,
  strOf,
  timeZoneOfAddress,
} from '../common';

/** BigCommerce v2 dates are RFC 2822 ("Tue, 05 Mar 2019 21:40:11 +0000"); v3 dates are ISO-8601. */
export function bigCommerceDateOf(v: unknown, field: string): string | undefined {
  const s = strOf(v);
  if (s === undefined) return undefined;
  if (/^\d{4}-\d{2}-\d{2}T/.test(s)) return optionalTimestampOf(s, field);
  if (!/^[A-Za-z]{3}, \d{1,2} [A-Za-z]{3} \d{4} \d{2}:\d{2}:\d{2} [+-]\d{4}$/.test(s)) {
    throw new PayloadFieldError(field, 'not an RFC 2822 or ISO-8601 date');
  }
  const ms = Date.parse(s);
  if (!Number.isFinite(ms)) throw new PayloadFieldError(field, 'unparseable date');
  return new Date(ms).toISOString();
}

function cartItems(list: unknown, field: string, custom: boolean): CartLineItem[] {
  return arrOf(list).map((raw, i) => {
    const f = `${field}[${i}]`;
    const li = objOf(raw);
    if (li === undefined) throw new PayloadFieldError(f, 'line item is not an object');
    const lineId = idOf(li['id'], `${f}.id`);
    const options = arrOf(li['options'])
      .map((o) => {
        const opt = objOf(o);
        const name = strOf(opt?.['name']);
        const value = strOf(opt?.['value']);
        return name !== undefined && value !== undefined ? `${name}: ${value}` : undefined;
      })
      .filter((s): s is string => s !== undefined);
    return {
      lineId,
      productId: custom ? `custom:${lineId}` : idOf(li['product_id'], `${f}.product_id`),
      variantId: custom ? undefined : optionalIdOf(li['variant_id'], `${f}.variant_id`),
      sku: strOf(li['sku']),
      title: strOf(li['name']) ?? '',
      variantTitle: options.length > 0 ? options.join(', ') : undefined,
      imageUrl: strOf(li['image_url']),
      productUrl: strOf(li['url']),
      quantity: intOf(li['quantity'], `${f}.quantity`),
      unitPrice: moneyField(li['sale_price'] ?? li['list_price'], `${f}.sale_price`),
    };
  });
}

/**
 * How far the shopper got. From the cart's checkout (`GET /v3/checkouts/{id}`) when the store gave
 * it: a consignment with a chosen shipping option → payment; with a shipping address → shipping; a
 * billing e-mail → contact. Else from the cart: an e-mail or a signed-in customer (`customer_id` > 0)
 * → contact, else only the cart.
 */
export function bigCommerceStage(cart: JsonObject, checkout?: JsonObject): CheckoutStage {
  if (checkout !== undefined) {
    const consignments = arrOf(checkout['consignments']).map((c) => objOf(c) ?? {});
    if (consignments.some((c) => objOf(c['selected_shipping_option']) !== undefined)) return 'payment';
    const addressed = (a: JsonObject | undefined) =>
      a !== undefined && ['address1', 'city', 'postal_code'].some((k) => strOf(a[k]) !== undefined);
    if (consignments.some((c) => addressed(objOf(c['shipping_address']) ?? objOf(c['address'])))) return 'shipping';
    if (strOf(objOf(checkout['billing_address'])?.['email']) !== undefined) return 'contact';
  }
  const customerId = optionalIdOf(cart['customer_id'], 'data.customer_id');
  if (strOf(cart['email']) !== undefined || (customerId !== undefined && customerId !== '0')) return 'contact';
  return 'cart';
}

/**
 * The shipping option chosen in the cart's checkout (a consignment's `selected_shipping_option`):
 * its `description` and `transit_time` ("1-2 business days") as BigCommerce states them; undefined
 * when none is chosen or it says neither.
 */
export function bigCommerceShipping(checkout: JsonObject | undefined): ShippingChoice | undefined {
  if (checkout === undefined) return undefined;
  for (const c of arrOf(checkout['consignments'])) {
    const option = objOf(objOf(c)?.['selected_shipping_option']);
    if (option === undefined) continue;
    const method = strOf(option['description']);
    const estimate = strOf(option['transit_time']);
    if (method === undefined && estimate === undefined) continue;
    return {
      ...(method !== undefined ? { method: method.slice(0, 200) } : {}),
      ...(estimate !== undefined ? { estimate: estimate.slice(0, 200) } : {}),
    };
  }
  return undefined;
}

/** `GET /v3/carts/{id}` body (`{ data: Cart }`) → RecordCartActivity. Throws `PayloadFieldError`. */
export function mapBigCommerceCart(body: unknown, ctx: { shopCurrency: string; receivedAt: Date }): RecordCartActivity {
  const cart = objOf(rootObject(body)['data']);
  if (cart === undefined) throw new PayloadFieldError('data', 'cart response has no data object', 'invalid');
  const items = objOf(cart['line_items']) ?? {};
  const lineItems = [
    ...cartItems(items['physical_items'], 'data.line_items.physical_items', false),
    ...cartItems(items['digital_items'], 'data.line_items.digital_items', false),
    ...cartItems(items['custom_items'], 'data.line_items.custom_items', true),
  ];
  const currency = singleCurrency([strOf(objOf(cart['currency'])?.['code'])], ctx.shopCurrency);
  if (!currency.ok) throw new PayloadFieldError('data.currency.code', currency.reason);
  const subtotal = moneyField(cart['base_amount'], 'data.base_amount');
  if (
    lineItems.length > 0 &&
    new Decimal(subtotal).isZero() &&
    lineItems.some((l) => !new Decimal(l.unitPrice).isZero())
  ) {
    throw new PayloadFieldError('data.base_amount', 'zero subtotal although line items have prices');
  }
  const redirect = objOf(cart['redirect_urls']);
  return {
    type: 'RecordCartActivity',
    platform: 'bigcommerce',
    platformUpdatedAt:
      bigCommerceDateOf(cart['updated_time'], 'data.updated_time') ??
      bigCommerceDateOf(cart['created_time'], 'data.created_time') ??
      ctx.receivedAt.toISOString(),
    cartId: idOf(cart['id'], 'data.id'),
    source: 'cart',
    customer: { platformCustomerId: optionalIdOf(cart['customer_id'], 'data.customer_id') },
    contact: { email: strOf(cart['email']) },
    lineItems,
    currency: currency.value,
    subtotal,
    total: moneyField(cart['cart_amount'], 'data.cart_amount'),
    checkoutUrl: strOf(redirect?.['checkout_url']) ?? strOf(redirect?.['cart_url']),
    checkoutStage: bigCommerceStage(cart, objOf(objOf(rootObject(body)['checkout'])?.['data'])),
    ...((shipping) => (shipping !== undefined ? { shipping } : {}))(
      bigCommerceShipping(objOf(objOf(rootObject(body)['checkout'])?.['data'])),
    ),
    // BigCommerce's cart and checkout APIs carry no referrer, landing page or user agent.
    trafficSource: 'unknown',
  };
}

/** A cart the API no longer has (`BigCommerceNotFoundError` on `getCart`). */
export function bigCommerceCartGone(cartId: string, receivedAt: Date): DeleteCart {
  return { type: 'DeleteCart', platform: 'bigcommerce', platformUpdatedAt: receivedAt.toISOString(), cartId };
}

function billingContact(b: JsonObject | undefined): PlaceOrder['contact'] {
  return {
    email: strOf(b?.['email']),
    phone: strOf(b?.['phone']),
    firstName: strOf(b?.['first_name']),
    lastName: strOf(b?.['last_name']),
    address:
      b === undefined
        ? undefined
        : addressLine(['street_1', 'street_2', 'city', 'state', 'zip', 'country'].map((k) => strOf(b[k]))),
  };
}

/** `GET /v2/orders/{id}` (+ its `/products`) → PlaceOrder. */
export function mapBigCommerceOrder(
  input: { order: unknown; products: readonly unknown[] },
  ctx: { shopCurrency: string; receivedAt: Date },
): PlaceOrder {
  const o = rootObject(input.order);
  const currency = singleCurrency([strOf(o['currency_code']), strOf(o['default_currency_code'])], ctx.shopCurrency);
  if (!currency.ok) throw new PayloadFieldError('currency_code', currency.reason);
  const cartId = optionalIdOf(o['cart_id'], 'cart_id');
  const lineItems: CartLineItem[] = input.products.map((raw, i) => {
    const f = `products[${i}]`;
    const p = objOf(raw);
    if (p === undefined) throw new PayloadFieldError(f, 'product is not an object');
    return {
      lineId: idOf(p['id'], `${f}.id`),
      productId: idOf(p['product_id'], `${f}.product_id`),
      variantId: optionalIdOf(p['variant_id'], `${f}.variant_id`),
      sku: strOf(p['sku']),
      title: strOf(p['name']) ?? '',
      quantity: intOf(p['quantity'], `${f}.quantity`),
      unitPrice: moneyField(p['base_price'] ?? p['price_ex_tax'], `${f}.base_price`),
    };
  });
  const created = bigCommerceDateOf(o['date_created'], 'date_created') ?? ctx.receivedAt.toISOString();
  return {
    type: 'PlaceOrder',
    platform: 'bigcommerce',
    platformUpdatedAt: bigCommerceDateOf(o['date_modified'], 'date_modified') ?? created,
    orderId: idOf(o['id'], 'id'),
    cartIds: cartId === undefined ? [] : [cartId],
    customer: { platformCustomerId: optionalIdOf(o['customer_id'], 'customer_id') },
    contact: { ...billingContact(objOf(o['billing_address'])), ip: strOf(o['ip_address']) },
    timeZone: ((b) =>
      b === undefined
        ? undefined
        : timeZoneOfAddress({
            country: strOf(b['country_iso2']) ?? strOf(b['country']),
            region: strOf(b['state']),
            city: strOf(b['city']),
          }))(objOf(o['billing_address'])),
    currency: currency.value,
    total: moneyField(o['total_inc_tax'], 'total_inc_tax'),
    subtotal: optionalMoneyField(o['subtotal_ex_tax'], 'subtotal_ex_tax'),
    totalDiscounts: optionalMoneyField(o['discount_amount'], 'discount_amount'),
    discountCodes: [],
    financialStatus: strOf(o['payment_status']) ?? strOf(o['status']),
    placedAt: created,
    lineItems,
  };
}

/** One customer from `GET /v3/customers?id:in=` → UpsertCustomer. */
export function mapBigCommerceCustomer(customer: unknown, ctx: { receivedAt: Date }): UpsertCustomer {
  const c = rootObject(customer);
  const acceptsAbandonedCartEmails = boolOf(c['accepts_product_review_abandoned_cart_emails']);
  return {
    type: 'UpsertCustomer',
    platform: 'bigcommerce',
    platformUpdatedAt:
      bigCommerceDateOf(c['date_modified'], 'date_modified') ??
      bigCommerceDateOf(c['date_created'], 'date_created') ??
      ctx.receivedAt.toISOString(),
    customer: { platformCustomerId: idOf(c['id'], 'id') },
    contact: {
      email: strOf(c['email']),
      phone: strOf(c['phone']),
      firstName: strOf(c['first_name']),
      lastName: strOf(c['last_name']),
    },
    emailConsent:
      acceptsAbandonedCartEmails === undefined
        ? undefined
        : {
            state: acceptsAbandonedCartEmails ? 'subscribed' : 'not_subscribed',
            optInLevel: 'unknown',
            source: 'bigcommerce:accepts_product_review_abandoned_cart_emails',
          },
    createdAt: bigCommerceDateOf(c['date_created'], 'date_created'),
    // v3 customers with `include=addresses`: the first address that tells a zone.
    timeZone: arrOf(c['addresses'])
      .map(objOf)
      .map((a) =>
        a === undefined
          ? undefined
          : timeZoneOfAddress({
              country: strOf(a['country_code']) ?? strOf(a['country']),
              region: strOf(a['state_or_province']),
              city: strOf(a['city']),
            }),
      )
      .find((z) => z !== undefined),
  };
}

/** Maps a `BigCommerceApiClient.get` result for `type` to commands; never throws. */
export function mapBigCommerceResource(
  type: 'cart' | 'order' | 'customer',
  body: unknown,
  ctx: { shopCurrency: string; receivedAt?: Date },
): MappingResult {
  const receivedAt = ctx.receivedAt ?? new Date();
  return safeMap(() => {
    if (type === 'cart')
      return {
        outcome: 'commands',
        commands: [mapBigCommerceCart(body, { shopCurrency: ctx.shopCurrency, receivedAt })],
      };
    if (type === 'order') {
      const o = isObject(body) ? body : {};
      const products = Array.isArray(o['products']) ? o['products'] : [];
      return {
        outcome: 'commands',
        commands: [
          mapBigCommerceOrder({ order: o['order'], products }, { shopCurrency: ctx.shopCurrency, receivedAt }),
        ],
      };
    }
    return { outcome: 'commands', commands: [mapBigCommerceCustomer(body, { receivedAt })] };
  });
}
